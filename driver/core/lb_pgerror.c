/* PostgreSQL's refusals: classification and the driver's explanations (see lb_pgerror.h). */
#include "lb_pgerror.h"

#include "auth/lb_auth.h"

#include <stdio.h>
#include <string.h>

static int contains_any(const char *msg, const char *const *phrases)
{
    for (int i = 0; phrases[i]; i++)
        if (strcasestr(msg, phrases[i]))
            return 1;
    return 0;
}

int lb_pgerror_is_auth(const char *msg)
{
    static const char *const phrases[] = {"authentication failed", "password authentication", NULL};
    return contains_any(msg, phrases);
}

int lb_pgerror_is_waking(const char *msg)
{
    static const char *const phrases[] = {"connection refused", "server closed the connection",
                                          "connection reset", "could not receive data", "connect to compute",
                                          "compute node", "compute is starting", "the database system is starting up",
                                          NULL};
    return !lb_pgerror_is_auth(msg) && strstr(msg, "does not exist") == NULL && contains_any(msg, phrases);
}

/* The last occurrence of needle in s, or NULL. */
static const char *last(const char *s, const char *needle)
{
    const char *found = NULL;
    for (const char *p = s; (p = strstr(p, needle)) != NULL; p++)
        found = p;
    return found;
}

void lb_pgerror_reason(const char *msg, char *buf, size_t size)
{
    if (size == 0)
        return;
    static const char *const markers[] = {"FATAL:", "ERROR:", "failed:"};
    const char *start = msg;
    for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++) {
        const char *m = last(msg, markers[i]);
        if (m) {
            start = m + strlen(markers[i]);
            break;
        }
    }
    while (*start == ' ' || *start == '\t')
        start++;
    size_t n = strcspn(start, "\r\n");
    while (n > 0 && (start[n - 1] == ' ' || start[n - 1] == '\t'))
        n--;
    if (n > size - 1)
        n = size - 1;
    memcpy(buf, start, n);
    buf[n] = '\0';
    lb_text_sanitize(buf);
}

lb_result lb_pgerror_explain(const char *msg, const lb_settings *s, lb_error *err)
{
    const char *id = lb_settings_get(s, LB_KEY_CLIENT_ID), *uid = lb_settings_get(s, LB_KEY_UID);
    id = id ? id : "";
    uid = uid ? uid : id;
    char why[120];
    lb_pgerror_reason(msg, why, sizeof(why));
    int person = s->auth_type == LB_AUTH_PAT || s->auth_type == LB_AUTH_DATABRICKS_CLI;
    if (strstr(msg, "role \"") && strstr(msg, "does not exist"))
        return lb_error_set(err, LB_ERR_PG_LOGIN,
                            "%s: create the OAuth role \"%.64s\" in the Lakebase SQL editor with SELECT "
                            "databricks_create_role('%.64s', '%s'); a password role made in the UI "
                            "does not accept OAuth credentials.", why, uid, person ? uid : id,
                            person ? "USER" : "SERVICE_PRINCIPAL");
    if (strstr(msg, "database \"") && strstr(msg, "does not exist"))
        return lb_error_set(err, LB_ERR_PG_DATABASE,
                            "%s: Database \"%.64s\" does not exist on this endpoint; check Database (the default "
                            "is databricks_postgres).", why, lb_settings_get(s, LB_KEY_DATABASE));
    if (strstr(msg, "certificate verify failed") || strstr(msg, "does not match host name") ||
        strstr(msg, "root certificate file")) {
        const char *root = lb_settings_get(s, LB_KEY_SSL_ROOT_CERT);
        return lb_error_set(err, LB_ERR_PG_TLS,
                            "%s: PostgreSQL's TLS certificate was not accepted (SSLmode=%s, CA bundle %.100s%s): "
                            "the server at %.64s:%d %s, and no credential was sent to it. If it is your endpoint, "
                            "set SSLRootCert to the CA bundle that signed its certificate (and Servername to the "
                            "name in it); SSLmode=require would send the credential to any server.",
                            why, lb_settings_get(s, LB_KEY_SSLMODE), root ? root : "(none)",
                            s->source[LB_KEY_SSL_ROOT_CERT] == LB_SRC_DEFAULT ? ", the system CA bundle" : "",
                            lb_settings_get(s, LB_KEY_SERVER), s->port,
                            strstr(msg, "host name") ? "has a certificate for another host name"
                                                     : "has a certificate that these CAs did not sign");
    }
    if (lb_pgerror_is_auth(msg) && strcmp(uid, id) != 0)
        return lb_error_set(err, LB_ERR_PG_LOGIN,
                            "%s: UID \"%.64s\" is not the service principal's client id (an OAuth credential logs "
                            "in only as the role named by the client id); set UID to %.64s, or leave it out.",
                            why, uid, id);
    if (lb_pgerror_is_auth(msg))
        return lb_error_set(err, LB_ERR_PG_LOGIN,
                            "%s: PostgreSQL refused a credential the workspace had just issued. The role must be "
                            "an OAuth role created with databricks_create_role('%.64s', 'SERVICE_PRINCIPAL'), and "
                            "DatabricksHost must be the workspace that owns the Lakebase project.", why, id);
    return LB_OK;
}

lb_result lb_pgerror_wake_timeout(const char *msg, const char *state_seen, long long waited_ms, lb_error *err)
{
    char why[120];
    lb_pgerror_reason(msg, why, sizeof(why));
    return lb_error_set(err, LB_ERR_PG_WAKE,
                        "%s: the Lakebase compute did not accept connections within WakeTimeout (%lld ms; the "
                        "endpoint's state: %.40s); it may still be waking from scale-to-zero. Retry, or raise "
                        "WakeTimeout (seconds).", why, waited_ms, state_seen);
}
