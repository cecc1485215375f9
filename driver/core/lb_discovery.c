/* Endpoint look-up and branch listing (see lb_discovery.h). */
#include "lb_discovery.h"

#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_buf.h"
#include "lb_json.h"

int lb_discovery_is_branch(const char *name)
{
    return name != NULL && strstr(name, "/endpoints/") == NULL && strncmp(name, "projects/", 9) == 0;
}

static int id_chars(const char *p)
{
    if (*p == '\0')
        return 0;
    for (; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '_'))
            return 0;
    return 1;
}

/* A DNS name or an IP address: what may go into psqlODBC's Servername. */
static int host_ok(const char *h)
{
    size_t n = strlen(h);
    if (n == 0 || n >= LB_DISCOVERY_HOST_MAX)
        return 0;
    for (const char *p = h; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '.' || *p == '-' || *p == '_' || *p == ':'))
            return 0;
    return 1;
}

static lb_result copy_host(struct json_object *hosts, const char *field, char *out, const char *endpoint,
                           lb_error *err)
{
    const char *v = lb_json_string(hosts, field);
    if (v == NULL || v[0] == '\0')
        return LB_OK;
    if (!host_ok(v))
        return lb_error_set(err, LB_ERR_PROTOCOL,
                            "The endpoint look-up for %s answered a status.hosts.%s that is not a host name.",
                            endpoint, field);
    snprintf(out, LB_DISCOVERY_HOST_MAX, "%s", v);
    return LB_OK;
}

lb_result lb_discovery_parse_endpoint(const char *body, size_t len, const char *endpoint, lb_endpoint_info *out,
                                      lb_error *err)
{
    memset(out, 0, sizeof(*out));
    struct json_object *obj = lb_json_parse_object(body, len), *status = NULL, *hosts = NULL, *spec = NULL,
                       *dis = NULL;
    lb_result rc = LB_OK;
    if (obj == NULL || !json_object_object_get_ex(obj, "status", &status) ||
        !json_object_is_type(status, json_type_object)) {
        rc = lb_error_set(err, LB_ERR_PROTOCOL, "The endpoint look-up for %s answered %s.", endpoint,
                          obj == NULL ? "no JSON object" : "no status");
        goto out;
    }
    const char *state = lb_json_string(status, "current_state");
    const char *type = lb_json_string(status, "endpoint_type");
    if (type == NULL && json_object_object_get_ex(obj, "spec", &spec))
        type = lb_json_string(spec, "endpoint_type");
    snprintf(out->state, sizeof(out->state), "%s", state ? state : "");
    snprintf(out->type, sizeof(out->type), "%s", type ? type : "");
    lb_text_sanitize(out->state);
    lb_text_sanitize(out->type);
    if (json_object_object_get_ex(status, "disabled", &dis) && json_object_is_type(dis, json_type_boolean))
        out->disabled = json_object_get_boolean(dis);
    if (json_object_object_get_ex(status, "hosts", &hosts) && json_object_is_type(hosts, json_type_object)) {
        if ((rc = copy_host(hosts, "host", out->host, endpoint, err)) != LB_OK ||
            (rc = copy_host(hosts, "read_only_host", out->read_only_host, endpoint, err)) != LB_OK ||
            (rc = copy_host(hosts, "read_write_pooled_host", out->rw_pooled_host, endpoint, err)) != LB_OK ||
            (rc = copy_host(hosts, "read_only_pooled_host", out->ro_pooled_host, endpoint, err)) != LB_OK)
            goto out;
    }
out:
    lb_json_put_wiped(obj);
    return rc;
}

static lb_result lookup_failure(long status, const char *what, const char *name, const char *why, lb_error *err)
{
    switch (status) {
    case 401:
    case 403:
        return lb_error_set(err, LB_ERR_AUTH,
                            "The workspace refused the look-up of %s %s (HTTP %ld, %s). Grant the service "
                            "principal access to the Lakebase project, or set Servername.", what, name, status, why);
    case 404:
        return lb_error_set(err, LB_ERR_NOT_FOUND,
                            "The %s %s was not found in this workspace (HTTP 404, %s). Check Endpoint "
                            "(projects/<project-id>/branches/<branch-id>[/endpoints/<endpoint-id>]) and "
                            "DatabricksHost.", what, name, why);
    default:
        return lb_error_set(err, status == 400 ? LB_ERR_SETTINGS : LB_ERR_NETWORK,
                            "The look-up of %s %s failed with HTTP %ld (%s).", what, name, status, why);
    }
}

lb_result lb_discovery_endpoint(const lb_http_opts *http, const char *host, const char *access_token,
                                const char *endpoint, int quick, lb_endpoint_info *out, long *status, lb_error *err)
{
    memset(out, 0, sizeof(*out));
    *status = 0;
    char url[1024];
    snprintf(url, sizeof(url), "%s/api/2.0/postgres/%s", host, endpoint);
    lb_http_opts opts = quick ? lb_http_quick(http) : *http;
    lb_http_response resp;
    lb_result rc = lb_http_bearer(&opts, "GET", url, access_token, NULL, &resp, err);
    if (rc != LB_OK)
        return rc;
    *status = resp.status;
    if (resp.status != 200) {
        char why[400];
        lb_json_describe_error(resp.body, resp.body_len, why, sizeof(why));
        rc = lookup_failure(resp.status, "endpoint", endpoint, why, err);
    } else {
        rc = lb_discovery_parse_endpoint(resp.body, resp.body_len, endpoint, out, err);
    }
    lb_http_response_free(&resp);
    return rc;
}

lb_result lb_discovery_parse_page(const char *body, size_t len, const char *branch, lb_branch_scan *scan,
                                  char *next, size_t next_size, lb_error *err)
{
    if (next_size > 0)
        next[0] = '\0';
    struct json_object *obj = lb_json_parse_object(body, len), *list = NULL;
    lb_result rc = LB_OK;
    if (obj == NULL) {
        rc = lb_error_set(err, LB_ERR_PROTOCOL, "The endpoint list of %s is not a JSON object.", branch);
        goto out;
    }
    /* An empty list may leave the field out (proto3 JSON). */
    if (json_object_object_get_ex(obj, "endpoints", &list) && !json_object_is_type(list, json_type_array)) {
        rc = lb_error_set(err, LB_ERR_PROTOCOL, "The endpoint list of %s has no endpoints array.", branch);
        goto out;
    }
    size_t prefix = strlen(branch);
    for (size_t i = 0; list && i < json_object_array_length(list); i++) {
        struct json_object *e = json_object_array_get_idx(list, i), *status = NULL, *spec = NULL;
        const char *name = lb_json_string(e, "name");
        if (name == NULL || strncmp(name, branch, prefix) != 0 || strncmp(name + prefix, "/endpoints/", 11) != 0 ||
            !id_chars(name + prefix + 11) || strlen(name) >= LB_DISCOVERY_NAME_MAX) {
            rc = lb_error_set(err, LB_ERR_PROTOCOL,
                              "The endpoint list of %s holds an endpoint whose name is not %s/endpoints/<id>.",
                              branch, branch);
            goto out;
        }
        const char *type = json_object_object_get_ex(e, "status", &status) ? lb_json_string(status, "endpoint_type")
                                                                           : NULL;
        if (type == NULL && json_object_object_get_ex(e, "spec", &spec))
            type = lb_json_string(spec, "endpoint_type");
        scan->total++;
        if (type && strcmp(type, "ENDPOINT_TYPE_READ_WRITE") == 0) {
            if (scan->read_write_count < 2)
                snprintf(scan->read_write[scan->read_write_count], LB_DISCOVERY_NAME_MAX, "%s", name);
            scan->read_write_count++;
        }
    }
    const char *tok = lb_json_string(obj, "next_page_token");
    if (tok && tok[0]) {
        if (strlen(tok) >= next_size) {
            rc = lb_error_set(err, LB_ERR_PROTOCOL, "The endpoint list of %s has a next_page_token too long to use.",
                              branch);
            goto out;
        }
        snprintf(next, next_size, "%s", tok);
    }
out:
    lb_json_put_wiped(obj);
    return rc;
}

struct branch_pages {
    const char *branch;
    lb_branch_scan scan;
};

static lb_result branch_page(void *ctx, const lb_http_response *resp, char *next, size_t next_size, lb_error *err)
{
    struct branch_pages *b = ctx;
    if (resp->status == 200)
        return lb_discovery_parse_page(resp->body, resp->body_len, b->branch, &b->scan, next, next_size, err);
    char why[400];
    lb_json_describe_error(resp->body, resp->body_len, why, sizeof(why));
    return lookup_failure(resp->status, "branch", b->branch, why, err);
}

lb_result lb_discovery_branch_endpoint(const lb_http_opts *http, const char *host, const char *access_token,
                                       const char *branch, int page_size, char *name, size_t size, long *status,
                                       lb_error *err)
{
    struct branch_pages b = {.branch = branch};
    lb_buf url;
    lb_buf_init(&url, 0);
    lb_buf_printf(&url, "%s/api/2.0/postgres/%s/endpoints?page_size=%d", host, branch, page_size);
    char what[LB_DISCOVERY_NAME_MAX + 32];
    snprintf(what, sizeof(what), "endpoint list of %s", branch);
    lb_result rc = url.overflow ? lb_error_set(err, LB_ERR_NOMEM, "Out of memory.")
                                : lb_http_get_pages(http, url.data, access_token, what, branch_page, &b, status, err);
    lb_buf_free(&url);
    if (rc != LB_OK)
        return rc;
    const lb_branch_scan scan = b.scan;
    if (scan.read_write_count == 0)
        return lb_error_set(err, LB_ERR_NOT_FOUND,
                            "Branch %s has no read-write endpoint (%d endpoint%s listed): create one, or set "
                            "Endpoint to a full endpoint name (projects/<p>/branches/<b>/endpoints/<e>).",
                            branch, scan.total, scan.total == 1 ? "" : "s");
    if (scan.read_write_count > 1)
        return lb_error_set(err, LB_ERR_SETTINGS,
                            "Branch %s has %d read-write endpoints (%s, %s%s): set Endpoint to the full name of "
                            "the one to use.", branch, scan.read_write_count, scan.read_write[0],
                            scan.read_write[1], scan.read_write_count > 2 ? ", ..." : "");
    if (strlen(scan.read_write[0]) >= size)
        return lb_error_set(err, LB_ERR_PROTOCOL, "The endpoint name in %s is too long.", branch);
    snprintf(name, size, "%s", scan.read_write[0]);
    return LB_OK;
}

lb_result lb_discovery_check_state(const lb_endpoint_info *info, const char *endpoint, lb_error *err)
{
    if (info->disabled)
        return lb_error_set(err, LB_ERR_UNAVAILABLE,
                            "Endpoint %s is disabled (state %s): a connection cannot wake it. Enable it in "
                            "the Lakebase console (or with the API), then connect again.", endpoint,
                            info->state[0] ? info->state : "not given");
    if (strcmp(info->state, "INIT") == 0)
        return lb_error_set(err, LB_ERR_UNAVAILABLE,
                            "Endpoint %s is INIT: its compute is being created or started and takes no "
                            "connections yet. Connect again once it is ACTIVE or IDLE (a minute or so).", endpoint);
    if (strcmp(info->state, "DEGRADED") == 0)
        return lb_error_set(err, LB_ERR_UNAVAILABLE,
                            "Endpoint %s is DEGRADED: its compute is unhealthy and takes no connections. Check "
                            "the endpoint in the Lakebase console; connect again once it is ACTIVE or IDLE.",
                            endpoint);
    return LB_OK;
}
