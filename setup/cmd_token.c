/* lakebase-odbc token: finds the target and obtains a fresh database credential (no
 * credential cache: the expiry shown is the workspace's answer) with the driver's own
 * connect plan (lb_connect.h), and prints the identity, the endpoint, the PostgreSQL host and the expiry.
 * The credential itself only with --show-token, and then with a warning on standard error. */
#include "tool.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lb_buf.h"
#include "lb_connect.h"
#include "lb_lakebase.h"
#include "lb_log.h"
#include "auth/lb_auth.h"

int lb_tool_cmd_token(lb_tool_out *out, int argc, char **argv)
{
    lb_tool_conn_opts o;
    int show = 0;
    if (lb_tool_conn_args(out, &o, argc, argv, "--show-token", &show) != 0)
        return TOOL_EXIT_USAGE;
    lb_tool_conn_warn_args(out, &o);

    lb_error err;
    lb_error_init(&err);
    lb_tool_session ts;
    lb_plan *plan = &ts.plan;
    lb_credential cred = {0};
    int status = TOOL_EXIT_FAIL;
    if (lb_tool_session_open(&ts, &o, 0, &err) != LB_OK) {
        lb_tool_step(out, 0, "settings", -1, "%s", err.message);
        lb_tool_fail(out, "%s", err.message);
        goto done;
    }
    const lb_settings *s = &plan->settings;
    lb_tool_step(out, 1, "settings", plan->settings_ms, "resolved%s%s", s->dsn ? " with DSN " : "", s->dsn ? s->dsn : "");
    long long t0 = lb_now_ms();
    if (lb_plan_target(plan, &err) != LB_OK) {
        lb_tool_step(out, 0, "target", lb_now_ms() - t0, "%s", err.message);
        lb_tool_fail(out, "%s", err.message);
        goto done;
    }
    lb_tool_step(out, 1, "target", plan->target_ms, "%s %s at %s (Servername from %s)", lb_plan_target_kind(plan),
                 lb_plan_target_name(plan), lb_tool_setting(s, LB_KEY_SERVER),
                 lb_tool_source_name(s->source[LB_KEY_SERVER]));
    long long token_before = plan->token_ms;
    t0 = lb_now_ms();
    if (lb_plan_resolve_user(plan, &err) != LB_OK || lb_plan_fetch_credential(plan, &cred, &err) != LB_OK) {
        lb_tool_step(out, 0, "credential", lb_now_ms() - t0, "%s", err.message);
        lb_tool_fail(out, "%s", err.message);
        goto done;
    }
    lb_tool_step(out, 1, "credential", lb_now_ms() - t0 - (plan->token_ms - token_before),
                 "database credential for %s %s (workspace token %lld ms)", lb_plan_target_kind(plan),
                 lb_plan_target_name(plan), plan->token_ms);

    char expires[64] = "unknown";
    if (cred.expire_time) {
        struct tm tm;
        gmtime_r(&cred.expire_time, &tm);
        strftime(expires, sizeof(expires), "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    long long left = cred.expire_time ? (long long)(cred.expire_time - time(NULL)) : -1;
    /* Who the credential stands for: the service principal, else the person (their user name). */
    const char *auth = lb_auth_type_name((lb_auth_type)s->auth_type);
    const char *id = lb_settings_get(s, LB_KEY_CLIENT_ID) ? lb_settings_get(s, LB_KEY_CLIENT_ID)
                                                          : lb_tool_setting(s, LB_KEY_UID),
               *endpoint = lb_plan_target_name(plan),
               *host = lb_tool_setting(s, LB_KEY_SERVER), *user = lb_tool_setting(s, LB_KEY_UID);
    if (out->json) {
        json_object_object_add(out->doc, "auth_type", json_object_new_string(auth));
        json_object_object_add(out->doc, "identity", json_object_new_string(id));
        json_object_object_add(out->doc, "user", json_object_new_string(user));
        json_object_object_add(out->doc, "endpoint", json_object_new_string(endpoint));
        json_object_object_add(out->doc, "host", json_object_new_string(host));
        json_object_object_add(out->doc, "port", json_object_new_int(s->port));
        json_object_object_add(out->doc, "expires", cred.expire_time ? json_object_new_string(expires) : NULL);
        json_object_object_add(out->doc, "expires_in", left >= 0 ? json_object_new_int64(left) : NULL);
    } else {
        lb_tool_say(out, "identity   %s (AuthType %s; PostgreSQL user %s)", id, auth, user);
        lb_tool_say(out, "%-10s %s", lb_plan_target_kind(plan), endpoint);
        lb_tool_say(out, "host       %s:%d", host, s->port);
        lb_tool_say(out, "expires    %s (in %lld s)", expires, left);
    }
    if (show) {
        lb_tool_warn(out, "printing the database credential: it logs in as %s until %s; do not paste it anywhere", user,
                     expires);
        if (out->json)
            json_object_object_add(out->doc, "token", json_object_new_string(cred.token));
        else
            lb_tool_say(out, "token      %s", cred.token);
    } else {
        lb_tool_say(out, "(the credential is not shown: add --show-token to print it)");
    }
    status = TOOL_EXIT_OK;
done:
    lb_credential_clear(&cred);
    lb_tool_session_free(&ts);
    return status;
}
