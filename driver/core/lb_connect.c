/* The connect flow (see lb_connect.h). */
#include "lb_connect.h"

#include <stdlib.h>
#include <string.h>

#include "lb_buf.h"
#include "lb_oauth.h"

void lb_plan_free(lb_plan *plan)
{
    lb_secret_free(plan->psql_connstr);
    free(plan->out_connstr);
    memset(plan, 0, sizeof(*plan));
}

char *lb_build_psql_connstr(const lb_settings *s, const lb_kvlist *input, const char *credential)
{
    lb_buf b;
    lb_buf_init(&b, 0);
    if (s->dsn)
        lb_connstr_append(&b, "DSN", s->dsn, 0);
    for (size_t i = 0; input && i < input->count; i++) {
        const char *key = input->items[i].key;
        if (lb_key_is_owned(key))
            continue;
        /* The first occurrence wins: pass each key on once. */
        if (lb_kvlist_get(input, key) != input->items[i].value)
            continue;
        lb_connstr_append(&b, key, input->items[i].value, 0);
    }
    lb_connstr_append(&b, "Servername", lb_settings_get(s, LB_KEY_SERVER), 0);
    lb_connstr_append(&b, "Port", lb_settings_get(s, LB_KEY_PORT), 0);
    lb_connstr_append(&b, "Database", lb_settings_get(s, LB_KEY_DATABASE), 0);
    lb_connstr_append(&b, "UID", lb_settings_get(s, LB_KEY_UID), 0);
    lb_connstr_append(&b, "SSLmode", lb_settings_get(s, LB_KEY_SSLMODE), 0);
    /* Braced: psqlODBC percent-decodes an unbraced password. */
    lb_connstr_append(&b, "PWD", credential, 1);
    char *out = b.overflow ? NULL : lb_buf_steal(&b);
    lb_buf_free_secret(&b);
    return out;
}

char *lb_build_output_connstr(const lb_kvlist *input)
{
    lb_buf b;
    lb_buf_init(&b, 0);
    for (size_t i = 0; input && i < input->count; i++)
        if (!lb_key_is_secret(input->items[i].key))
            lb_connstr_append(&b, input->items[i].key, input->items[i].value, 0);
    char *out = b.overflow ? NULL : lb_buf_steal(&b);
    lb_buf_free(&b);
    return out;
}

lb_result lb_plan_connection(const lb_kvlist *input, const lb_sources *sources, lb_plan *plan,
                             lb_error *err)
{
    memset(plan, 0, sizeof(*plan));
    lb_settings s;
    lb_result rc = lb_settings_resolve(input, sources, &s, err);
    if (rc != LB_OK)
        return rc;

    lb_http_opts http = {.cafile = lb_settings_get(&s, LB_KEY_CAFILE)};
    const char *host = lb_settings_get(&s, LB_KEY_HOST);
    lb_token token = {0};
    lb_credential cred = {0};
    rc = lb_oauth_m2m_token(&http, host, lb_settings_get(&s, LB_KEY_CLIENT_ID),
                            lb_settings_get(&s, LB_KEY_CLIENT_SECRET), &token, err);
    if (rc == LB_OK)
        rc = lb_lakebase_credential(&http, host, token.access_token, lb_settings_get(&s, LB_KEY_ENDPOINT),
                                    &cred, err);
    if (rc == LB_OK) {
        plan->psql_connstr = lb_build_psql_connstr(&s, input, cred.token);
        plan->out_connstr = lb_build_output_connstr(input);
        if (plan->psql_connstr == NULL || plan->out_connstr == NULL) {
            lb_plan_free(plan);
            rc = lb_error_set(err, LB_ERR_NOMEM, "HY001", "[Lakebase] Out of memory.");
        }
    }
    lb_token_clear(&token);
    lb_credential_clear(&cred);
    lb_settings_free(&s);
    return rc;
}
