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

static const char *what_of(lb_listing_kind kind)
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
        rc = lb_error_set(err, LB_ERR_PROTOCOL, "The %s list of %s is not a JSON object.", what_of(kind), of);
        goto out;
    }
    /* An empty list may leave the field out (proto3 JSON). */
    if (json_object_object_get_ex(obj, field, &list) && !json_object_is_type(list, json_type_array)) {
        rc = lb_error_set(err, LB_ERR_PROTOCOL, "The %s list of %s has no %s array.", what_of(kind), of, field);
        goto out;
    }
    for (size_t i = 0; list && i < json_object_array_length(list); i++) {
        struct json_object *e = json_object_array_get_idx(list, i);
        const char *name = json_object_is_type(e, json_type_object) ? lb_json_string(e, "name") : NULL;
        if (name == NULL || !name_ok(kind, name, parent)) {
            rc = lb_error_set(err, LB_ERR_PROTOCOL, "The %s list of %s holds an entry whose name is not a %s name.",
                              what_of(kind), of, what_of(kind));
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
                              what_of(kind), of);
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

struct list_pages {
    lb_listing_kind kind;
    const char *parent;
    lb_listing *l;
};

static lb_result list_page(void *ctx, const lb_http_response *resp, char *next, size_t next_size, lb_error *err)
{
    struct list_pages *p = ctx;
    if (resp->status == 200)
        return lb_listing_parse_page(p->kind, resp->body, resp->body_len, p->parent, p->l, next, next_size, err);
    char why[400];
    lb_json_describe_error(resp->body, resp->body_len, why, sizeof(why));
    return list_failure(resp->status, p->kind, p->parent[0] ? p->parent : "the workspace", why, err);
}

lb_result lb_listing_fetch(const lb_http_opts *http, const char *host, const char *access_token, lb_listing_kind kind,
                           const char *parent, int page_size, lb_listing *l, long *status, lb_error *err)
{
    struct list_pages p = {.kind = kind, .parent = parent, .l = l};
    lb_buf url;
    lb_buf_init(&url, 0);
    if (kind == LB_LISTING_INSTANCE)
        lb_buf_printf(&url, "%s/api/2.0/database/instances?page_size=%d", host, page_size);
    else
        lb_buf_printf(&url, "%s/api/2.0/postgres/%s%s%s?page_size=%d", host, parent, parent[0] ? "/" : "",
                      lb_listing_field(kind), page_size);
    char what[LB_DISCOVERY_NAME_MAX + 32];
    snprintf(what, sizeof(what), "%s list of %s", what_of(kind), parent[0] ? parent : "the workspace");
    lb_result rc = url.overflow ? lb_error_set(err, LB_ERR_NOMEM, "Out of memory.")
                                : lb_http_get_pages(http, url.data, access_token, what, list_page, &p, status, err);
    lb_buf_free(&url);
    return rc;
}

/* A walk down the Autoscaling tree: projects, their branches, the branches' endpoints. */
typedef struct {
    const lb_http_opts *http;
    const char *host, *token;
    const char *branch; /* only this branch of each project, or NULL */
} tree_walk;

/* Keeps only the branch named w->branch (its state and default flag from the list). */
static lb_result keep_branch(const tree_walk *w, const char *project, lb_listing *branches, lb_error *err)
{
    for (size_t i = 0; i < branches->count; i++) {
        const char *id = strrchr(branches->items[i].name, '/');
        if (id && strcmp(id + 1, w->branch) == 0) {
            branches->items[0] = branches->items[i];
            branches->count = 1;
            return LB_OK;
        }
    }
    return lb_error_set(err, LB_ERR_NOT_FOUND, "Project %s has no branch \"%.100s\" (%zu branch%s listed).", project,
                        w->branch, branches->count, branches->count == 1 ? "" : "es");
}

/* Adds each of items to l, each followed by what it holds (a project: its branches; a
 * branch: its endpoints). */
static lb_result add_tree(const tree_walk *w, const lb_listing *items, lb_listing *l, lb_error *err)
{
    long status;
    lb_result rc = LB_OK;
    for (size_t i = 0; rc == LB_OK && i < items->count; i++) {
        const lb_listing_item *it = &items->items[i];
        if (add_item(l, it) != 0)
            return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
        if (it->kind == LB_LISTING_BRANCH) {
            rc = lb_listing_fetch(w->http, w->host, w->token, LB_LISTING_ENDPOINT, it->name, LB_LISTING_PAGE_SIZE, l,
                                  &status, err);
        } else if (it->kind == LB_LISTING_PROJECT) {
            lb_listing branches;
            lb_listing_init(&branches);
            rc = lb_listing_fetch(w->http, w->host, w->token, LB_LISTING_BRANCH, it->name, LB_LISTING_PAGE_SIZE,
                                  &branches, &status, err);
            if (rc == LB_OK && w->branch)
                rc = keep_branch(w, it->name, &branches, err);
            if (rc == LB_OK)
                rc = add_tree(w, &branches, l, err);
            lb_listing_free(&branches);
        }
    }
    return rc;
}

static lb_result list_autoscaling(const tree_walk *w, const char *project, lb_listing *l, lb_error *err)
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
        if (!name_ok(LB_LISTING_PROJECT, it.name, "") || (w->branch && !id_ok(w->branch, strlen(w->branch))))
            rc = lb_error_set(err, LB_ERR_SETTINGS, "\"%.200s%s%.100s\" is not a project%s id (letters, digits, '-' "
                              "and '_'; a project may be given as projects/<id>).", project, w->branch ? "\", \"" : "",
                              w->branch ? w->branch : "", w->branch ? " or branch" : "");
        else if (add_item(&projects, &it) != 0)
            rc = lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    } else {
        rc = lb_listing_fetch(w->http, w->host, w->token, LB_LISTING_PROJECT, "", LB_LISTING_PAGE_SIZE, &projects,
                              &status, err);
    }
    if (rc == LB_OK)
        rc = add_tree(w, &projects, l, err);
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
    tree_walk w = {.http = &http, .host = host, .token = token, .branch = branch};
    lb_result arc = list_autoscaling(&w, project, l, &aerr);
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
