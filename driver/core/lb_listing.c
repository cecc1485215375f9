/* Listing a workspace's Lakebase projects, branches, endpoints and Provisioned instances
 * (see lb_listing.h). */
#include "lb_listing.h"

#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_buf.h"
#include "lb_json.h"

#define LB_LISTING_MAX_PAGES 100
#define LB_LISTING_PAGE_SIZE 100 /* the API's most */

void lb_listing_init(lb_listing *l)
{
    memset(l, 0, sizeof(*l));
}

void lb_listing_free(lb_listing *l)
{
    free(l->items);
    lb_listing_init(l);
}

const char *lb_listing_field(lb_listing_kind kind)
{
    switch (kind) {
    case LB_LISTING_PROJECT:
        return "projects";
    case LB_LISTING_BRANCH:
        return "branches";
    case LB_LISTING_ENDPOINT:
        return "endpoints";
    default:
        return "database_instances";
    }
}

static const char *what(lb_listing_kind kind)
{
    switch (kind) {
    case LB_LISTING_PROJECT:
        return "project";
    case LB_LISTING_BRANCH:
        return "branch";
    case LB_LISTING_ENDPOINT:
        return "endpoint";
    default:
        return "instance";
    }
}

static const char *plural(lb_listing_kind kind)
{
    return kind == LB_LISTING_BRANCH ? "branches" : kind == LB_LISTING_INSTANCE ? "instances" : lb_listing_field(kind);
}

/* An id of a resource name: letters, digits, '-' and '_'. */
static int id_ok(const char *p, size_t n)
{
    if (n == 0 || n > 128)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(isalnum((unsigned char)p[i]) || p[i] == '-' || p[i] == '_'))
            return 0;
    return 1;
}

/* name is parent + "/" + child + "/" + <id> (parent "" for projects: "projects/<id>"). */
static int name_ok(lb_listing_kind kind, const char *name, const char *parent)
{
    if (strlen(name) >= LB_DISCOVERY_NAME_MAX)
        return 0;
    if (kind == LB_LISTING_INSTANCE)
        return id_ok(name, strlen(name));
    const char *child = kind == LB_LISTING_PROJECT ? "projects/" : kind == LB_LISTING_BRANCH ? "/branches/"
                                                                                             : "/endpoints/";
    size_t p = strlen(parent), c = strlen(child);
    if (strncmp(name, parent, p) != 0 || strncmp(name + p, child, c) != 0)
        return 0;
    return id_ok(name + p + c, strlen(name + p + c));
}

/* A value from the API for a table cell: printable, cut to size. */
static void copy_text(char *out, size_t size, const char *v)
{
    snprintf(out, size, "%s", v ? v : "");
    lb_text_sanitize(out);
}

/* A host name (the characters a DNS name or an address has), else "". */
static void copy_host(char *out, const char *v)
{
    out[0] = '\0';
    if (v == NULL || strlen(v) >= LB_DISCOVERY_HOST_MAX)
        return;
    for (const char *p = v; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '.' || *p == '-' || *p == '_' || *p == ':'))
            return;
    snprintf(out, LB_DISCOVERY_HOST_MAX, "%s", v);
}

static int add_item(lb_listing *l, const lb_listing_item *item)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        lb_listing_item *n = realloc(l->items, cap * sizeof(*n));
        if (n == NULL)
            return -1;
        l->items = n;
        l->cap = cap;
    }
    l->items[l->count++] = *item;
    return 0;
}

static void parse_item(lb_listing_kind kind, struct json_object *e, lb_listing_item *it)
{
    struct json_object *status = NULL, *spec = NULL, *hosts = NULL, *b = NULL;
    json_object_object_get_ex(e, "status", &status);
    json_object_object_get_ex(e, "spec", &spec);
    switch (kind) {
    case LB_LISTING_PROJECT: {
        const char *d = status ? lb_json_string(status, "display_name") : NULL;
        copy_text(it->display, sizeof(it->display), d ? d : spec ? lb_json_string(spec, "display_name") : NULL);
        break;
    }
    case LB_LISTING_BRANCH:
        copy_text(it->state, sizeof(it->state), status ? lb_json_string(status, "current_state") : NULL);
        if (status && json_object_object_get_ex(status, "default", &b) && json_object_is_type(b, json_type_boolean))
            it->is_default = json_object_get_boolean(b);
        break;
    case LB_LISTING_ENDPOINT: {
        const char *type = status ? lb_json_string(status, "endpoint_type") : NULL;
        copy_text(it->state, sizeof(it->state), status ? lb_json_string(status, "current_state") : NULL);
        copy_text(it->type, sizeof(it->type), type ? type : spec ? lb_json_string(spec, "endpoint_type") : NULL);
        if (status && json_object_object_get_ex(status, "hosts", &hosts))
            copy_host(it->host, lb_json_string(hosts, "host"));
        if (status && json_object_object_get_ex(status, "disabled", &b) && json_object_is_type(b, json_type_boolean))
            it->disabled = json_object_get_boolean(b);
        break;
    }
    default:
        copy_text(it->state, sizeof(it->state), lb_json_string(e, "state"));
        copy_host(it->host, lb_json_string(e, "read_write_dns"));
        copy_text(it->display, sizeof(it->display), lb_json_string(e, "capacity"));
        break;
    }
}

lb_result lb_listing_parse_page(lb_listing_kind kind, const char *body, size_t len, const char *parent, lb_listing *l,
                                char *next, size_t next_size, lb_error *err)
{
    if (next_size > 0)
        next[0] = '\0';
    const char *field = lb_listing_field(kind), *of = parent[0] ? parent : "the workspace";
    struct json_object *obj = lb_json_parse_object(body, len), *list = NULL;
    lb_result rc = LB_OK;
    if (obj == NULL) {
        rc = lb_error_set(err, LB_ERR_PROTOCOL, "The %s list of %s is not a JSON object.", what(kind), of);
        goto out;
    }
    /* An empty list may leave the field out (proto3 JSON). */
    if (json_object_object_get_ex(obj, field, &list) && !json_object_is_type(list, json_type_array)) {
        rc = lb_error_set(err, LB_ERR_PROTOCOL, "The %s list of %s has no %s array.", what(kind), of, field);
        goto out;
    }
    for (size_t i = 0; list && i < json_object_array_length(list); i++) {
        struct json_object *e = json_object_array_get_idx(list, i);
        const char *name = json_object_is_type(e, json_type_object) ? lb_json_string(e, "name") : NULL;
        if (name == NULL || !name_ok(kind, name, parent)) {
            rc = lb_error_set(err, LB_ERR_PROTOCOL, "The %s list of %s holds an entry whose name is not a %s name.",
                              what(kind), of, what(kind));
            goto out;
        }
        lb_listing_item it;
        memset(&it, 0, sizeof(it));
        it.kind = kind;
        snprintf(it.name, sizeof(it.name), "%s", name);
        parse_item(kind, e, &it);
        if (add_item(l, &it) != 0) {
            rc = lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
            goto out;
        }
    }
    const char *tok = lb_json_string(obj, "next_page_token");
    if (tok && tok[0]) {
        if (strlen(tok) >= next_size) {
            rc = lb_error_set(err, LB_ERR_PROTOCOL, "The %s list of %s has a next_page_token too long to use.",
                              what(kind), of);
            goto out;
        }
        snprintf(next, next_size, "%s", tok);
    }
out:
    lb_json_put_wiped(obj);
    return rc;
}

static lb_result list_failure(long status, lb_listing_kind kind, const char *of, const char *why, lb_error *err)
{
    if (status == 401 || status == 403)
        return lb_error_set(err, LB_ERR_AUTH,
                            "The workspace refused to list the %s of %s (HTTP %ld, %s): the identity needs "
                            "access to Lakebase in this workspace (CAN USE on the project or instance).",
                            plural(kind), of, status, why);
    if (status == 404)
        return lb_error_set(err, LB_ERR_NOT_FOUND, "The %s of %s were not found (HTTP 404, %s). Check the name "
                            "and DatabricksHost.", plural(kind), of, why);
    return lb_error_set(err, status == 400 ? LB_ERR_SETTINGS : LB_ERR_NETWORK,
                        "Listing the %s of %s failed with HTTP %ld (%s).", plural(kind), of, status, why);
}

lb_result lb_listing_fetch(const lb_http_opts *http, const char *host, const char *access_token, lb_listing_kind kind,
                           const char *parent, int page_size, lb_listing *l, long *status, lb_error *err)
{
    *status = 0;
    char next[1024] = "";
    const char *of = parent[0] ? parent : "the workspace";
    for (int page = 0;; page++) {
        if (page == LB_LISTING_MAX_PAGES)
            return lb_error_set(err, LB_ERR_PROTOCOL, "The %s list of %s did not end after %d pages.", what(kind), of,
                                page);
        lb_buf url;
        lb_buf_init(&url, 0);
        if (kind == LB_LISTING_INSTANCE)
            lb_buf_printf(&url, "%s/api/2.0/database/instances?page_size=%d", host, page_size);
        else
            lb_buf_printf(&url, "%s/api/2.0/postgres/%s%s%s?page_size=%d", host, parent, parent[0] ? "/" : "",
                          lb_listing_field(kind), page_size);
        if (next[0]) {
            char *esc = lb_form_escape(next);
            if (esc == NULL)
                url.overflow = 1;
            else
                lb_buf_printf(&url, "&page_token=%s", esc);
            free(esc);
        }
        if (url.overflow) {
            lb_buf_free(&url);
            return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
        }
        lb_http_response resp;
        lb_result rc = lb_http_bearer(http, "GET", url.data, access_token, NULL, &resp, err);
        lb_buf_free(&url);
        if (rc != LB_OK)
            return rc;
        *status = resp.status;
        if (resp.status != 200) {
            char why[400];
            lb_json_describe_error(resp.body, resp.body_len, why, sizeof(why));
            rc = list_failure(resp.status, kind, of, why, err);
        } else {
            rc = lb_listing_parse_page(kind, resp.body, resp.body_len, parent, l, next, sizeof(next), err);
        }
        lb_http_response_free(&resp);
        if (rc != LB_OK)
            return rc;
        if (next[0] == '\0')
            return LB_OK;
    }
}

/* The branches of project (all, or the one named) and their endpoints, appended after it. */
static lb_result list_project(const lb_http_opts *http, const char *host, const char *token, const char *project,
                              const char *branch, lb_listing *l, lb_error *err)
{
    long status;
    lb_listing branches;
    lb_listing_init(&branches);
    lb_result rc = lb_listing_fetch(http, host, token, LB_LISTING_BRANCH, project, LB_LISTING_PAGE_SIZE, &branches,
                                    &status, err);
    if (rc == LB_OK && branch) {
        /* Only the branch asked for (its state and default flag from the list). */
        size_t keep = branches.count;
        for (size_t i = 0; i < branches.count; i++) {
            const char *id = strrchr(branches.items[i].name, '/');
            if (id && strcmp(id + 1, branch) == 0)
                keep = i;
        }
        if (keep == branches.count) {
            rc = lb_error_set(err, LB_ERR_NOT_FOUND, "Project %s has no branch \"%.100s\" (%zu branch%s listed).",
                              project, branch, branches.count, branches.count == 1 ? "" : "es");
        } else {
            branches.items[0] = branches.items[keep];
            branches.count = 1;
        }
    }
    for (size_t i = 0; rc == LB_OK && i < branches.count; i++) {
        if (add_item(l, &branches.items[i]) != 0)
            rc = lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
        else
            rc = lb_listing_fetch(http, host, token, LB_LISTING_ENDPOINT, branches.items[i].name, LB_LISTING_PAGE_SIZE,
                                  l, &status, err);
    }
    lb_listing_free(&branches);
    return rc;
}

static lb_result list_autoscaling(const lb_http_opts *http, const char *host, const char *token, const char *project,
                                  const char *branch, lb_listing *l, lb_error *err)
{
    long status;
    lb_listing projects;
    lb_listing_init(&projects);
    lb_result rc = LB_OK;
    if (project) {
        lb_listing_item it;
        memset(&it, 0, sizeof(it));
        it.kind = LB_LISTING_PROJECT;
        snprintf(it.name, sizeof(it.name), "%s%s", strncmp(project, "projects/", 9) == 0 ? "" : "projects/", project);
        if (!name_ok(LB_LISTING_PROJECT, it.name, "") || (branch && !id_ok(branch, strlen(branch))))
            rc = lb_error_set(err, LB_ERR_SETTINGS, "\"%.200s%s%.100s\" is not a project%s id (letters, digits, '-' "
                              "and '_'; a project may be given as projects/<id>).", project, branch ? "\", \"" : "",
                              branch ? branch : "", branch ? " or branch" : "");
        else if (add_item(&projects, &it) != 0)
            rc = lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    } else {
        rc = lb_listing_fetch(http, host, token, LB_LISTING_PROJECT, "", LB_LISTING_PAGE_SIZE, &projects, &status, err);
    }
    for (size_t i = 0; rc == LB_OK && i < projects.count; i++) {
        if (add_item(l, &projects.items[i]) != 0)
            rc = lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
        else
            rc = list_project(http, host, token, projects.items[i].name, branch, l, err);
    }
    lb_listing_free(&projects);
    return rc;
}

lb_result lb_listing_workspace(lb_plan *plan, const char *project, const char *branch, lb_listing *l, lb_error *err)
{
    char *token = NULL;
    lb_result rc = lb_plan_workspace_token(plan, &token, err);
    if (rc != LB_OK)
        return rc;
    lb_http_opts http = lb_plan_http_opts(plan);
    const char *host = lb_settings_get(&plan->settings, LB_KEY_HOST);
    lb_error aerr, perr;
    lb_error_init(&aerr);
    lb_error_init(&perr);
    lb_result arc = list_autoscaling(&http, host, token, project, branch, l, &aerr);
    lb_result prc = project ? LB_OK : lb_listing_fetch(&http, host, token, LB_LISTING_INSTANCE, "",
                                                       LB_LISTING_PAGE_SIZE, l, &(long){0}, &perr);
    lb_secret_free(token);
    l->no_instances = project != NULL;
    if (arc == LB_ERR_NOMEM || prc == LB_ERR_NOMEM)
        return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    if (arc != LB_OK && (project || prc != LB_OK)) {
        *err = aerr;
        if (prc != LB_OK && strcmp(aerr.message, perr.message) != 0)
            snprintf(err->message + strlen(err->message), sizeof(err->message) - strlen(err->message),
                     " Provisioned: %s", perr.message);
        return arc;
    }
    if (arc != LB_OK)
        snprintf(l->autoscaling_error, sizeof(l->autoscaling_error), "%s", aerr.message);
    if (prc != LB_OK)
        snprintf(l->provisioned_error, sizeof(l->provisioned_error), "%s", perr.message);
    return LB_OK;
}
