/* The person behind a token: SCIM Me's userName (GET /api/2.0/preview/scim/v2/Me), the
 * PostgreSQL role of a person (as `databricks psql` finds it). */
#include "lb_auth.h"

#include <stdio.h>
#include <string.h>

#include "lb_json.h"

lb_result lb_auth_me(const lb_http_opts *http, const char *host, const char *token, char *user, size_t size,
                     long *status, lb_error *err)
{
    *status = 0;
    user[0] = '\0';
    char url[1024];
    snprintf(url, sizeof(url), "%s/api/2.0/preview/scim/v2/Me", host);
    lb_http_response resp;
    lb_result rc = lb_http_bearer(http, "GET", url, token, NULL, &resp, err);
    if (rc != LB_OK)
        return rc;
    *status = resp.status;
    if (resp.status != 200) {
        char why[400];
        lb_json_describe_error(resp.body, resp.body_len, why, sizeof(why));
        rc = lb_error_set(err, resp.status == 401 || resp.status == 403 ? LB_ERR_AUTH : LB_ERR_NETWORK,
                          "The look-up of the user behind the token (SCIM Me) failed with HTTP %ld (%s). Set UID to "
                          "your PostgreSQL role (your user name) to skip it.", resp.status, why);
    } else {
        struct json_object *obj = lb_json_parse_object(resp.body, resp.body_len);
        const char *name = lb_json_string(obj, "userName");
        if (name == NULL || name[0] == '\0' || strlen(name) >= size)
            rc = lb_error_set(err, LB_ERR_PROTOCOL,
                              "The look-up of the user behind the token (SCIM Me) answered no usable userName: set "
                              "UID to your PostgreSQL role (your user name).");
        else {
            snprintf(user, size, "%s", name);
            lb_text_sanitize(user);
        }
        lb_json_put_wiped(obj);
    }
    lb_http_response_free(&resp);
    return rc;
}
