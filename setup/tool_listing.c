/* What a workspace holds, for people and for scripts (see tool_listing.h). */
#include "tool_listing.h"

#include <stdio.h>
#include <string.h>

#include "auth/lb_auth.h"
#include "lb_log.h"

int lb_tool_listing_fetch(lb_tool_out *out, const lb_kvlist *kv, const char *project, const char *branch,
                          lb_plan *plan, lb_listing *l)
{
    lb_error err;
    lb_error_init(&err);
    lb_sources sources = lb_tool_conn_sources();
    sources.no_target = 1;
    memset(plan, 0, sizeof(*plan));
    if (lb_plan_settings(plan, kv, &sources, 0, &err) != LB_OK) {
        lb_tool_step(out, 0, "settings", -1, "%s", err.message);
        lb_tool_fail(out, "%s", err.message);
        return -1;
    }
    const lb_settings *s = &plan->settings;
    lb_tool_step(out, 1, "settings", plan->settings_ms, "workspace %s, auth %s", lb_settings_get(s, LB_KEY_HOST),
                 lb_auth_type_name((lb_auth_type)s->auth_type));
    long long t0 = lb_now_ms();
    if (lb_listing_workspace(plan, project, branch, l, &err) != LB_OK) {
        lb_tool_step(out, 0, "list", lb_now_ms() - t0, "%s", err.message);
        lb_tool_fail(out, "%s", err.message);
        return -1;
    }
    lb_tool_step(out, 1, "list", lb_now_ms() - t0, "%zu item%s (workspace token %lld ms)", l->count,
                 l->count == 1 ? "" : "s", plan->token_ms);
    return 0;
}

static int choosable(const lb_listing_item *it)
{
    return it->kind == LB_LISTING_ENDPOINT || it->kind == LB_LISTING_INSTANCE;
}

const lb_listing_item *lb_tool_listing_choice(const lb_listing *l, int n)
{
    int k = 0;
    for (size_t i = 0; i < l->count; i++)
        if (choosable(&l->items[i]) && ++k == n)
            return &l->items[i];
    return NULL;
}

/* "read-write" for ENDPOINT_TYPE_READ_WRITE: the API's type without its prefix, for people. */
static void type_text(const lb_listing_item *it, char *buf, size_t size)
{
    switch (it->kind) {
    case LB_LISTING_PROJECT:
        snprintf(buf, size, "project%s%s%s", it->display[0] ? " \"" : "", it->display, it->display[0] ? "\"" : "");
        break;
    case LB_LISTING_BRANCH:
        snprintf(buf, size, "branch%s", it->is_default ? ", default" : "");
        break;
    case LB_LISTING_ENDPOINT: {
        const char *t = strncmp(it->type, "ENDPOINT_TYPE_", 14) == 0 ? it->type + 14 : it->type;
        char low[40];
        size_t j = 0;
        for (; t[j] && j + 1 < sizeof(low); j++)
            low[j] = t[j] == '_' ? '-' : (char)(t[j] >= 'A' && t[j] <= 'Z' ? t[j] - 'A' + 'a' : t[j]);
        low[j] = '\0';
        snprintf(buf, size, "%s%s", low[0] ? low : "endpoint", it->disabled ? ", disabled" : "");
        break;
    }
    default:
        snprintf(buf, size, "instance%s%s", it->display[0] ? " " : "", it->display);
    }
}

static int indent(const lb_listing_item *it)
{
    return it->kind == LB_LISTING_BRANCH ? 2 : it->kind == LB_LISTING_ENDPOINT ? 4 : 0;
}

int lb_tool_listing_print(const lb_tool_out *out, const lb_listing *l, int numbered)
{
    int width = 4, n = 0;
    for (size_t i = 0; i < l->count; i++) {
        int w = indent(&l->items[i]) + (int)strlen(l->items[i].name);
        if (w > width)
            width = w;
    }
    const char *num = numbered ? "     " : "";
    int autoscaling = 0, provisioned = 0;
    for (size_t i = 0; i < l->count; i++) {
        const lb_listing_item *it = &l->items[i];
        if (it->kind == LB_LISTING_INSTANCE ? !provisioned : !autoscaling) {
            if (it->kind == LB_LISTING_INSTANCE)
                provisioned = 1;
            else
                autoscaling = 1;
            lb_tool_say(out, "%s%s%s", lb_tool_bold(out),
                        it->kind == LB_LISTING_INSTANCE ? "Lakebase Provisioned instances" : "Lakebase Autoscaling projects, branches and endpoints",
                        lb_tool_reset(out));
            lb_tool_say(out, "%s%-*s  %-10s %-22s %s", num, width, "NAME", "STATE", "TYPE", "HOST");
        }
        char type[300], mark[16] = "";
        type_text(it, type, sizeof(type));
        if (numbered && choosable(it))
            snprintf(mark, sizeof(mark), "%3d) ", ++n);
        else if (numbered)
            snprintf(mark, sizeof(mark), "     ");
        lb_tool_say(out, "%s%*s%-*s  %-10s %-22s %s", mark, indent(it), "", width - indent(it), it->name,
                    it->state[0] ? it->state : "-", type, it->host[0] ? it->host : "-");
    }
    if (!autoscaling)
        lb_tool_say(out, "Lakebase Autoscaling: %s", l->autoscaling_error[0] ? l->autoscaling_error : "no projects");
    else if (l->autoscaling_error[0])
        lb_tool_say(out, "Lakebase Autoscaling: %s", l->autoscaling_error);
    if (!provisioned && !l->no_instances)
        lb_tool_say(out, "Lakebase Provisioned: %s", l->provisioned_error[0] ? l->provisioned_error : "no instances");
    return n;
}

static json_object *str(const char *s)
{
    return s[0] ? json_object_new_string(s) : NULL;
}

void lb_tool_listing_json(lb_tool_out *out, const lb_listing *l)
{
    json_object *projects = json_object_new_array(), *instances = json_object_new_array();
    json_object *project = NULL, *branches = NULL, *endpoints = NULL;
    for (size_t i = 0; i < l->count; i++) {
        const lb_listing_item *it = &l->items[i];
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(it->name));
        switch (it->kind) {
        case LB_LISTING_PROJECT:
            json_object_object_add(o, "display_name", str(it->display));
            branches = json_object_new_array();
            json_object_object_add(o, "branches", branches);
            json_object_array_add(projects, o);
            project = o;
            break;
        case LB_LISTING_BRANCH:
            json_object_object_add(o, "state", str(it->state));
            json_object_object_add(o, "default", json_object_new_boolean(it->is_default));
            endpoints = json_object_new_array();
            json_object_object_add(o, "endpoints", endpoints);
            if (project && branches)
                json_object_array_add(branches, o);
            else
                json_object_put(o);
            break;
        case LB_LISTING_ENDPOINT:
            json_object_object_add(o, "state", str(it->state));
            json_object_object_add(o, "type", str(it->type));
            json_object_object_add(o, "host", str(it->host));
            json_object_object_add(o, "disabled", json_object_new_boolean(it->disabled));
            if (endpoints)
                json_object_array_add(endpoints, o);
            else
                json_object_put(o);
            break;
        default:
            json_object_object_add(o, "state", str(it->state));
            json_object_object_add(o, "read_write_dns", str(it->host));
            json_object_object_add(o, "capacity", str(it->display));
            json_object_array_add(instances, o);
        }
    }
    json_object_object_add(out->doc, "projects", projects);
    if (l->no_instances)
        json_object_put(instances), instances = NULL;
    json_object_object_add(out->doc, "instances", instances);
    json_object_object_add(out->doc, "autoscaling_error", str(l->autoscaling_error));
    json_object_object_add(out->doc, "provisioned_error", str(l->provisioned_error));
}
