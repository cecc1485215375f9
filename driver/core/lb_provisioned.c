/* Lakebase Provisioned: the `database` service's calls, their parsing and the instance
 * state policy (see lb_provisioned.h). */
#include "lb_provisioned.h"

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lb_buf.h"
#include "lb_json.h"
#include "lb_secmem.h"

int lb_provisioned_uuid4(char out[37])
{
    unsigned char b[16];
    out[0] = '\0';
    if (RAND_bytes(b, sizeof(b)) != 1)
        return -1;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* variant 10xx (RFC 9562) */
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 0x0f];
    }
    out[o] = '\0';
    return 0;
}

static lb_result instance_failure(const char *request, const char *instance, long status, const char *why,
                                  lb_error *err)
{
    const lb_api_target t = {request, "instance", instance, "Instance", "Lakebase database instance",
                             "Check Instance (the database instance's name, as `databricks database "
                             "list-database-instances` shows it) and DatabricksHost."};
    return lb_target_failure(&t, status, why, err);
}

lb_result lb_provisioned_parse_credential(const char *body, size_t len, lb_credential *out, lb_error *err)
{
    return lb_credential_parse(body, len, "expiration_time", out, err);
}

lb_result lb_provisioned_credential(const lb_http_opts *http, const char *host, const char *access_token,
                                    const char *instance, lb_credential *out, long *status, lb_error *err)
{
    memset(out, 0, sizeof(*out));
    *status = 0;
    char url[1024], request_id[37];
    snprintf(url, sizeof(url), "%s/api/2.0/database/credentials", host);
    /* A fresh request id for every credential request; lb_http_send's retries of a failed
     * attempt (503, a reset) resend the same body, so the id names the request, not the try. */
    if (lb_provisioned_uuid4(request_id) != 0)
        return lb_error_set(err, LB_ERR_INTERNAL, "OpenSSL's random generator failed (RAND_bytes).");
    struct json_object *body = json_object_new_object(), *names = json_object_new_array();
    if (body == NULL || names == NULL || json_object_array_add(names, json_object_new_string(instance)) != 0 ||
        json_object_object_add(body, "instance_names", names) != 0) {
        json_object_put(names);
        json_object_put(body);
        return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    }
    if (json_object_object_add(body, "request_id", json_object_new_string(request_id)) != 0) {
        json_object_put(body);
        return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    }
    const char *text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
    lb_http_response resp;
    lb_result rc = text ? lb_http_bearer(http, "POST", url, access_token, text, &resp, err)
                        : lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    if (rc == LB_OK) {
        *status = resp.status;
        if (resp.status == 200) {
            rc = lb_provisioned_parse_credential(resp.body, resp.body_len, out, err);
        } else {
            char why[400];
            lb_json_describe_error(resp.body, resp.body_len, why, sizeof(why));
            rc = instance_failure("credential request", instance, resp.status, why, err);
        }
        lb_http_response_free(&resp);
    }
    json_object_put(body);
    return rc;
}

lb_result lb_provisioned_parse_instance(const char *body, size_t len, const char *name, lb_instance *out,
                                        lb_error *err)
{
    memset(out, 0, sizeof(*out));
    struct json_object *obj = lb_json_parse_object(body, len);
    const char *state = lb_json_string(obj, "state");
    const char *rw = lb_json_string(obj, "read_write_dns");
    const char *ro = lb_json_string(obj, "read_only_dns");
    lb_result rc = LB_OK;
    if (obj == NULL)
        rc = lb_error_set(err, LB_ERR_PROTOCOL, "The look-up of instance %s answered something that is not a JSON "
                          "object.", name);
    else if (state == NULL || state[0] == '\0')
        rc = lb_error_set(err, LB_ERR_PROTOCOL, "The look-up of instance %s answered no state.", name);
    else if ((rw && strlen(rw) >= sizeof(out->read_write_dns)) || (ro && strlen(ro) >= sizeof(out->read_only_dns)))
        rc = lb_error_set(err, LB_ERR_PROTOCOL, "The look-up of instance %s answered a host name longer than 255 "
                          "bytes.", name);
    if (rc == LB_OK) {
        snprintf(out->state, sizeof(out->state), "%s", state);
        lb_text_sanitize(out->state);
        snprintf(out->read_write_dns, sizeof(out->read_write_dns), "%s", rw ? rw : "");
        snprintf(out->read_only_dns, sizeof(out->read_only_dns), "%s", ro ? ro : "");
        /* A host name is handed to psqlODBC and quoted in messages: nothing but its own characters. */
        for (char *p = out->read_write_dns; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
                  *p == '-' || *p == '_' || *p == ':')) {
                rc = lb_error_set(err, LB_ERR_PROTOCOL, "The look-up of instance %s answered a read_write_dns that "
                                  "is not a host name.", name);
                break;
            }
    }
    lb_json_put_wiped(obj);
    return rc;
}

lb_result lb_provisioned_instance(const lb_http_opts *http, const char *host, const char *access_token,
                                  const char *instance, int quick, lb_instance *out, long *status, lb_error *err)
{
    memset(out, 0, sizeof(*out));
    *status = 0;
    char url[1024];
    snprintf(url, sizeof(url), "%s/api/2.0/database/instances/%s", host, instance);
    lb_http_opts opts = quick ? lb_http_quick(http) : *http;
    lb_http_response resp;
    lb_result rc = lb_http_bearer(&opts, "GET", url, access_token, NULL, &resp, err);
    if (rc != LB_OK)
        return rc;
    *status = resp.status;
    if (resp.status == 200) {
        rc = lb_provisioned_parse_instance(resp.body, resp.body_len, instance, out, err);
    } else {
        char why[400];
        lb_json_describe_error(resp.body, resp.body_len, why, sizeof(why));
        rc = instance_failure("request", instance, resp.status, why, err);
    }
    lb_http_response_free(&resp);
    return rc;
}

lb_instance_class lb_provisioned_classify(const char *state)
{
    static const char *const transient[] = {"STARTING", "UPDATING", "FAILING_OVER", NULL};
    static const char *const refused[] = {"STOPPED", "DELETING", NULL};
    for (int i = 0; transient[i]; i++)
        if (strcmp(state, transient[i]) == 0)
            return LB_INSTANCE_TRANSIENT;
    for (int i = 0; refused[i]; i++)
        if (strcmp(state, refused[i]) == 0)
            return LB_INSTANCE_REFUSED;
    return LB_INSTANCE_READY;
}

lb_result lb_provisioned_refused(const char *instance, const char *state, lb_error *err)
{
    if (lb_provisioned_classify(state) != LB_INSTANCE_REFUSED)
        return LB_OK;
    if (strcmp(state, "STOPPED") == 0)
        return lb_error_set(err, LB_ERR_UNAVAILABLE,
                            "Lakebase instance %s is STOPPED and takes no connections: start it (in the Lakebase "
                            "console, or set the instance's stopped to false through the API), then connect again.",
                            instance);
    return lb_error_set(err, LB_ERR_UNAVAILABLE,
                        "Lakebase instance %s is %s (being deleted) and takes no connections: use another instance "
                        "(check Instance).", instance, state);
}

static const char *what_it_does(const char *state)
{
    return strcmp(state, "STARTING") == 0       ? "is starting"
           : strcmp(state, "UPDATING") == 0     ? "is being updated"
           : strcmp(state, "FAILING_OVER") == 0 ? "is failing over to its standby"
                                                : "is changing state";
}

lb_result lb_provisioned_await(const lb_http_opts *http, const char *host, const char *access_token,
                               const char *instance, const lb_logger *log, lb_instance *out, long *status,
                               lb_error *err)
{
    lb_retry retry;
    lb_retry_start(&retry, &lb_retry_instance, http->deadline);
    for (;;) {
        lb_result rc = lb_provisioned_instance(http, host, access_token, instance, 0, out, status, err);
        if (rc != LB_OK)
            return rc;
        switch (lb_provisioned_classify(out->state)) {
        case LB_INSTANCE_READY:
            if (strcmp(out->state, "AVAILABLE") != 0)
                lb_log(log, LB_LOG_INFO, "instance: %s is in state %s, which this driver does not know; connecting",
                       instance, out->state);
            return LB_OK;
        case LB_INSTANCE_REFUSED:
            return lb_provisioned_refused(instance, out->state, err);
        case LB_INSTANCE_TRANSIENT:
            break;
        }
        long long wait = 0;
        lb_retry_verdict v = lb_retry_next(&retry, -1, &wait);
        if (v != LB_RETRY_NOW)
            return lb_deadline_error(http->deadline, err,
                                     "waiting for Lakebase instance %s to become AVAILABLE (it %s: state %s, for "
                                     "%lld ms)", instance, what_it_does(out->state), out->state,
                                     lb_now_ms() - retry.start_ms);
        lb_log(log, LB_LOG_INFO, "instance: %s %s (state %s), a transient state: asking again in %lld ms", instance,
               what_it_does(out->state), out->state, wait);
        lb_sleep_ms(wait);
    }
}
