/* lakebase-odbc endpoints: what the workspace holds for Lakebase, listed with any
 * authentication source the driver supports: the Autoscaling projects, their branches
 * and endpoints (state, type, host), and the Provisioned instances (state,
 * read_write_dns). The listing is the core's (lb_listing.h); the table and the --json
 * form are tool_listing.c's. */
#include "tool.h"

#include <stdio.h>
#include <string.h>

#include "lb_buf.h"
#include "tool_listing.h"

/* The options --host, --project, --branch (the value into *value); 1 when argv[*i] is one,
 * 0 when not, -1 when its value is missing. */
static int own_option(lb_tool_out *out, int argc, char **argv, int *i, const char *name, const char **value)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0 || (argv[*i][n] != '\0' && argv[*i][n] != '='))
        return 0;
    if (argv[*i][n] == '=') {
        *value = argv[*i] + n + 1;
        return 1;
    }
    if (*i + 1 >= argc) {
        lb_tool_fail(out, "%s needs a value", name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

/* Lists and prints (a table, or the --json document's parts). */
static int list_and_show(lb_tool_out *out, const lb_kvlist *kv, const char *project, const char *branch)
{
    lb_plan plan;
    lb_listing l;
    lb_listing_init(&l);
    int ok = lb_tool_listing_fetch(out, kv, project, branch, &plan, &l) == 0;
    if (ok && out->json)
        lb_tool_listing_json(out, &l);
    else if (ok)
        lb_tool_listing_print(out, &l, 0);
    lb_listing_free(&l);
    lb_plan_free(&plan);
    return ok ? TOOL_EXIT_OK : TOOL_EXIT_FAIL;
}

int lb_tool_cmd_endpoints(lb_tool_out *out, int argc, char **argv)
{
    lb_tool_conn_opts o;
    memset(&o, 0, sizeof(o));
    const char *host = NULL, *project = NULL, *branch = NULL;
    for (int i = 1; i < argc; i++) {
        int r;
        if (strcmp(argv[i], "--json") == 0)
            continue;
        if ((r = own_option(out, argc, argv, &i, "--host", &host)) == 0 &&
            (r = own_option(out, argc, argv, &i, "--project", &project)) == 0 &&
            (r = own_option(out, argc, argv, &i, "--branch", &branch)) == 0)
            r = lb_tool_conn_option(out, &o, argc, argv, &i);
        if (r < 0)
            return TOOL_EXIT_USAGE;
        if (r == 0) {
            lb_tool_fail(out, "endpoints: unexpected argument %s (see endpoints --help)", argv[i]);
            return TOOL_EXIT_USAGE;
        }
    }
    if (branch && !project) {
        lb_tool_fail(out, "endpoints: --branch needs --project (a branch's id is its project's)");
        return TOOL_EXIT_USAGE;
    }
    lb_tool_conn_warn_args(out, &o);
    /* --host is DatabricksHost on the command line; nothing at all: the environment and the
     * ~/.databrickscfg profile alone (the driver's own sources). */
    lb_buf hostset;
    lb_buf_init(&hostset, 0);
    if (host && o.nsets < (int)(sizeof(o.sets) / sizeof(o.sets[0]))) {
        lb_buf_printf(&hostset, "DatabricksHost=%s", host);
        o.sets[o.nsets++] = hostset.data;
    }
    if (!o.dsn && !o.profile && !o.connection_string && o.nsets == 0)
        o.sets[o.nsets++] = "Driver=Lakebase";

    lb_buf connstr;
    lb_buf_init(&connstr, 0);
    lb_kvlist kv;
    lb_kvlist_init(&kv);
    lb_error err;
    lb_error_init(&err);
    int status = TOOL_EXIT_FAIL;
    if (hostset.overflow || lb_tool_conn_prepare(&o, &connstr, &kv, &err) != LB_OK) {
        const char *why = hostset.overflow ? "Out of memory." : err.message;
        lb_tool_step(out, 0, "settings", -1, "%s", why);
        lb_tool_fail(out, "%s", why);
    } else {
        status = list_and_show(out, &kv, project, branch);
    }
    lb_kvlist_free(&kv);
    lb_buf_free_secret(&connstr);
    lb_buf_free(&hostset);
    return status;
}
