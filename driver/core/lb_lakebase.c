/* Lakebase database credentials (see lb_lakebase.h). */
#include "lb_lakebase.h"

#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_buf.h"
#include "lb_json.h"
#include "lb_secmem.h"

void lb_credential_clear(lb_credential *c)
{
    lb_secret_free(c->token);
    memset(c, 0, sizeof(*c));
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int lb_parse_rfc3339(const char *s, time_t *out)
{
    int Y, M, D, h, m, sec;
    if (strlen(s) < 20 || digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' ||
        digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || digits(s + 11, 2, &h) ||
        s[13] != ':' || digits(s + 14, 2, &m) || s[16] != ':' || digits(s + 17, 2, &sec))
        return -1;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
        return -1;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        while (isdigit((unsigned char)*p))
            p++;
    }
    long offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return -1;
        offset = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    if (*p != '\0')
        return -1;
    struct tm tm = {0};
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    struct tm back;
    if (t == (time_t)-1 || gmtime_r(&t, &back) == NULL || back.tm_mday != D || back.tm_mon != M - 1)
        return -1; /* 31 February, say: timegm would roll it over */
    *out = t - offset;
    return 0;
}

lb_result lb_credential_parse(const char *body, size_t len, const char *expiry_field, lb_credential *out,
                              lb_error *err)
{
    memset(out, 0, sizeof(*out));
    struct json_object *obj = lb_json_parse_object(body, len);
    const char *tok = lb_json_string(obj, "token");
    const char *exp = lb_json_string(obj, expiry_field);
    lb_result rc = LB_OK;
    time_t t = 0;
    if (tok == NULL || tok[0] == '\0') {
        rc = lb_error_set(err, LB_ERR_PROTOCOL, "The database credential answer %s.",
                          obj == NULL ? "is not a JSON object" : "has no token");
    } else if (strlen(tok) > 16384) {
        rc = lb_error_set(err, LB_ERR_PROTOCOL,
                          "The database credential is %zu bytes long, more than a password can be.",
                          strlen(tok));
    } else if (exp != NULL && lb_parse_rfc3339(exp, &t) != 0) {
        rc = lb_error_set(err, LB_ERR_PROTOCOL,
                          "The database credential's %s \"%.40s\" is not an RFC 3339 time.", expiry_field, exp);
    } else if ((out->token = lb_secmem_dup(tok)) == NULL) {
        rc = lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    } else {
        out->expire_time = t;
    }
    lb_json_put_wiped(obj);
    return rc;
}

lb_result lb_lakebase_parse_credential(const char *body, size_t len, lb_credential *out, lb_error *err)
{
    return lb_credential_parse(body, len, "expire_time", out, err);
}

lb_result lb_target_failure(const lb_api_target *t, long status, const char *why, lb_error *err)
{
    switch (status) {
    case 401:
        return lb_error_set(err, LB_ERR_AUTH,
                            "The workspace did not accept the OAuth token for the %s for %s %s (HTTP 401, %s). "
                            "Check ClientID and ClientSecret.", t->request, t->kind, t->name, why);
    case 403:
        if (strstr(why, "workspace-access") || strstr(why, "workspace access"))
            return lb_error_set(err, LB_ERR_AUTH,
                                "The service principal may not call the Lakebase API (HTTP 403, %s). "
                                "Enable \"Workspace access\" for it: Settings > Identity and access > Service "
                                "principals > <name> > Configurations.", why);
        return lb_error_set(err, LB_ERR_AUTH,
                            "Permission denied for %s %s (HTTP 403, %s). Grant the service principal access to "
                            "the %s.", t->kind, t->name, why, t->grant_on);
    case 404:
        return lb_error_set(err, LB_ERR_NOT_FOUND, "%s %s was not found in this workspace (HTTP 404, %s). %s",
                            t->key, t->name, why, t->check_name);
    case 400:
        return lb_error_set(err, LB_ERR_SETTINGS, "The workspace refused the %s for %s %s (HTTP 400, %s). Check %s.",
                            t->request, t->kind, t->name, why, t->key);
    default:
        return lb_error_set(err, LB_ERR_NETWORK,
                            "The %s for %s %s failed with HTTP %ld (%s); try again later.", t->request,
                            t->kind, t->name, status, why);
    }
}

lb_result lb_lakebase_credential(const lb_http_opts *http, const char *host, const char *access_token,
                                 const char *endpoint, int ttl_s, lb_credential *out, long *status, lb_error *err)
{
    memset(out, 0, sizeof(*out));
    *status = 0;
    char url[1024];
    snprintf(url, sizeof(url), "%s/api/2.0/postgres/credentials", host);

    struct json_object *body = json_object_new_object();
    char ttl[32];
    snprintf(ttl, sizeof(ttl), "%ds", ttl_s);
    if (body == NULL || json_object_object_add(body, "endpoint", json_object_new_string(endpoint)) != 0 ||
        (ttl_s > 0 && json_object_object_add(body, "ttl", json_object_new_string(ttl)) != 0)) {
        json_object_put(body);
        return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    }
    const char *text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);

    lb_http_response resp;
    lb_result rc = lb_http_bearer(http, "POST", url, access_token, text, &resp, err);
    if (rc != LB_OK)
        goto out;
    *status = resp.status;
    if (resp.status == 200) {
        rc = lb_lakebase_parse_credential(resp.body, resp.body_len, out, err);
    } else {
        char why[400];
        lb_json_describe_error(resp.body, resp.body_len, why, sizeof(why));
        const lb_api_target t = {
            "credential request", "endpoint", endpoint, "Endpoint", "Lakebase project",
            "Check Endpoint (projects/<project-id>/branches/<branch-id>/endpoints/<endpoint-id>; the endpoint id is "
            "the first label of its host name) and DatabricksHost."};
        rc = lb_target_failure(&t, resp.status, why, err);
    }
    lb_http_response_free(&resp);
out:
    json_object_put(body);
    return rc;
}
