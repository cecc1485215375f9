/* lakebase-odbc test: the connect, step by step, then the documentation's verification
 * query. The settings, workspace token and credential steps run the core's connect plan
 * (lb_plan_settings, lb_plan_credential: the same code and timings as the driver's);
 * then a real connect through the driver manager and the driver, as an application
 * makes it, and SELECT current_user, current_database(). A failure prints the failing
 * step with the core's message (what to fix) and the diagnostics the application gets. */
#include "tool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/lb_auth.h"
#include "lb_buf.h"
#include "lb_connect.h"
#include "lb_log.h"
#include "tool_dm.h"

static const char *origin_name(lb_cache_origin o)
{
    return o == LB_FROM_MEMORY ? "from the memory cache" : o == LB_FROM_FILE ? "from the file cache" : "fetched";
}

/* From the driver's log of the connect: its info line ("connect: ok in N ms (settings ...;
 * workspace token ...; credential ...; PostgreSQL N ms)"), the part in parentheses, the
 * driver's own timings; and its warnings (a secret in an odbc.ini others can read), which are
 * passed on. split is left empty when the line is not there (the wording is the driver's). */
static void driver_log(const lb_tool_out *out, const char *path, char *split, size_t size)
{
    split[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    char line[2048];
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        const char *ok = strstr(line, "connect: ok in ");
        const char *open = ok ? strchr(ok, '(') : NULL;
        const char *close = open ? strrchr(open, ')') : NULL;
        const char *warning = strstr(line, "warning: ");
        if (close && strstr(open, "PostgreSQL "))
            snprintf(split, size, "the driver: %.*s", (int)(close - open - 1), open + 1);
        else if (warning)
            lb_tool_warn(out, "the driver says: %s", warning + strlen("warning: "));
    }
    fclose(f);
}

/* The driver manager's view of a failure the plan already explained. */
static void application_view(lb_tool_out *out, const char *connstr)
{
    lb_tool_dm dm;
    if (lb_tool_dm_connect(&dm, connstr) == 0) {
        lb_tool_say(out, "     (the driver itself connected: the tool and the driver disagree)");
    } else {
        if (out->json && dm.diag_json) {
            json_object_object_add(out->doc, "diagnostics", dm.diag_json);
            dm.diag_json = NULL;
        } else {
            lb_tool_say(out, "     what the application sees:");
            for (char *line = dm.diags, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                    *next++ = '\0';
                lb_tool_say(out, "       %s", line);
            }
        }
    }
    lb_tool_dm_close(&dm);
}

int lb_tool_cmd_test(lb_tool_out *out, int argc, char **argv)
{
    lb_tool_conn_opts o;
    if (lb_tool_conn_args(out, &o, argc, argv, NULL, NULL) != 0)
        return TOOL_EXIT_USAGE;
    lb_tool_conn_warn_args(out, &o);

    lb_error err;
    lb_error_init(&err);
    lb_tool_session ts;
    lb_plan *plan = &ts.plan;
    lb_buf *connstr = &ts.connstr;
    int status = TOOL_EXIT_FAIL;
    if (lb_tool_session_open(&ts, &o, 0, &err) != LB_OK) {
        lb_tool_step(out, 0, "settings", -1, "%s", err.message);
        lb_tool_fail(out, "%s", err.message);
        if (connstr->len > 0) /* the connection string was made: the settings were refused */
            application_view(out, connstr->data);
        goto done;
    }
    const lb_settings *s = &plan->settings;
    lb_tool_step(out, 1, "settings", plan->settings_ms, "resolved%s%s", s->dsn ? " with DSN " : "", s->dsn ? s->dsn : "");
    lb_tool_conn_print_settings(out, s);
    lb_auth_type auth = (lb_auth_type)s->auth_type;
    lb_key secret_key = lb_settings_get(s, LB_KEY_CLIENT_SECRET_FILE) ? LB_KEY_CLIENT_SECRET_FILE : LB_KEY_CLIENT_SECRET;
    if (auth == LB_AUTH_OAUTH_M2M)
        lb_tool_step(out, 1, "auth", -1, "AuthType %s (%s): the service principal %s (ClientID from %s, secret from %s)",
                     lb_auth_type_name(auth), s->auth_why, lb_tool_setting(s, LB_KEY_CLIENT_ID),
                     lb_tool_source_name(s->source[LB_KEY_CLIENT_ID]), lb_tool_source_name(s->source[secret_key]));
    else
        lb_tool_step(out, 1, "auth", -1, "AuthType %s (%s)", lb_auth_type_name(auth), s->auth_why);

    if (lb_plan_target(plan, &err) != LB_OK) {
        lb_tool_step(out, 0, "target", plan->target_ms, "%s %s: %s", lb_plan_target_kind(plan),
                     lb_plan_target_name(plan), err.message);
        lb_tool_fail(out, "%s", err.message);
        application_view(out, connstr->data);
        goto done;
    }
    lb_tool_step(out, 1, "target", plan->target_ms, "%s %s at %s (Servername from %s)", lb_plan_target_kind(plan),
                 lb_plan_target_name(plan), lb_tool_setting(s, LB_KEY_SERVER),
                 lb_tool_source_name(s->source[LB_KEY_SERVER]));
    if (lb_plan_credential(plan, &err) != LB_OK) {
        lb_tool_step(out, 0, "credential", plan->token_ms + plan->credential_ms,
                     "workspace token and database credential for %s: %s", lb_plan_target_name(plan),
                     err.message);
        lb_tool_fail(out, "%s", err.message);
        application_view(out, connstr->data);
        goto done;
    }
    lb_tool_step(out, 1, "token", plan->token_ms, "workspace OAuth token %s (%s)", origin_name(plan->token_origin),
                 lb_tool_setting(s, LB_KEY_HOST));
    lb_tool_step(out, 1, "credential", plan->credential_ms, "database credential %s for %s",
                 origin_name(plan->credential_origin), lb_plan_target_name(plan));
    lb_tool_step(out, 1, "host", -1, "PostgreSQL at %s:%d (Servername from %s), database %s, user %s, SSLmode %s",
                 lb_tool_setting(s, LB_KEY_SERVER), s->port, lb_tool_source_name(s->source[LB_KEY_SERVER]),
                 lb_tool_setting(s, LB_KEY_DATABASE), lb_tool_setting(s, LB_KEY_UID), lb_tool_setting(s, LB_KEY_SSLMODE));

    /* With the user's logging off, the driver logs this one connect at info level into a
     * private file, for its own split of the time (PostgreSQL's part). */
    char log_path[] = "/tmp/lakebase-odbc-test-XXXXXX";
    int log_fd = plan->settings.log_level == LB_LOG_OFF ? mkstemp(log_path) : -1;
    if (log_fd >= 0) {
        close(log_fd);
        lb_connstr_append(connstr, "LogLevel", "info", 0);
        lb_connstr_append(connstr, "LogFile", log_path, 0);
    }
    lb_tool_dm dm;
    long long t0 = lb_now_ms();
    int rc = lb_tool_dm_connect(&dm, connstr->data);
    long long connect_ms = lb_now_ms() - t0;
    char split[256] = "";
    if (log_fd >= 0) {
        driver_log(out, log_path, split, sizeof(split));
        unlink(log_path);
    }
    if (rc != 0) {
        lb_tool_step(out, 0, "connect", connect_ms, "through the driver manager: %s", dm.first_text);
        lb_tool_fail(out, "%s", dm.first_text);
        if (out->json && dm.diag_json) {
            json_object_object_add(out->doc, "diagnostics", dm.diag_json);
            dm.diag_json = NULL;
        } else {
            lb_tool_say(out, "     diagnostics:\n%s", dm.diags);
        }
        lb_tool_dm_close(&dm);
        goto done;
    }
    lb_tool_step(out, 1, "connect", connect_ms, "through the driver manager and the driver (its own credential%s%s)",
                 split[0] ? "; " : "", split);
    char user[256] = "", db[256] = "";
    t0 = lb_now_ms();
    rc = lb_tool_dm_identity(&dm, user, sizeof(user), db, sizeof(db));
    long long query_ms = lb_now_ms() - t0;
    if (rc != 0) {
        lb_tool_step(out, 0, "query", query_ms, "SELECT current_user, current_database(): %s", dm.first_text);
        lb_tool_fail(out, "%s", dm.first_text);
    } else {
        lb_tool_step(out, 1, "query", query_ms, "SELECT current_user, current_database()");
        lb_tool_say(out, "current_user       %s%s%s", lb_tool_bold(out), user, lb_tool_reset(out));
        lb_tool_say(out, "current_database() %s", db);
        if (out->json) {
            json_object_object_add(out->doc, "current_user", json_object_new_string(user));
            json_object_object_add(out->doc, "current_database", json_object_new_string(db));
        }
        if (strcmp(user, lb_tool_setting(s, LB_KEY_CLIENT_ID)) != 0)
            lb_tool_say(out, "note: current_user is not the client id: UID names another role");
        status = TOOL_EXIT_OK;
    }
    lb_tool_dm_close(&dm);
done:
    lb_tool_session_free(&ts);
    return status;
}
