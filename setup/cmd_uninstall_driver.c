/* lakebase-odbc uninstall-driver: removes the driver's entry from odbcinst.ini through
 * the installer API (tool_odbcini.c), leaving every DSN of odbc.ini alone; the packages'
 * removal scripts run it. A second run finds nothing to remove and succeeds. */
#include "tool.h"

#include <stdlib.h>
#include <string.h>

#include "tool_odbcini.h"

int lb_tool_cmd_uninstall_driver(lb_tool_out *out, int argc, char **argv)
{
    const char *name = "Lakebase";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            continue;
        if (strcmp(argv[i], "--name") != 0 || i + 1 >= argc) {
            lb_tool_fail(out, strcmp(argv[i], "--name") == 0 ? "%s needs a value" : "uninstall-driver: unknown argument %s",
                         argv[i]);
            return TOOL_EXIT_USAGE;
        }
        name = argv[++i];
    }
    if (name[0] == '\0' || strpbrk(name, "[]=;") != NULL) {
        lb_tool_fail(out, "--name \"%s\" cannot be a section of odbcinst.ini (no [ ] = ;)", name);
        return TOOL_EXIT_USAGE;
    }
    int removed = 0;
    char msg[1024];
    if (lb_tool_odbcini_uninstall_driver(name, &removed, msg, sizeof(msg)) != 0) {
        lb_tool_fail(out, "%s", msg);
        return TOOL_EXIT_FAIL;
    }
    const char *sysdir = secure_getenv("ODBCSYSINI");
    if (out->json) {
        json_object_object_add(out->doc, "name", json_object_new_string(name));
        json_object_object_add(out->doc, "removed", json_object_new_boolean(removed));
    }
    lb_tool_say(out, "%s [%s] in %s/odbcinst.ini", removed ? "removed driver" : "no driver", name,
                sysdir ? sysdir : "/etc");
    return TOOL_EXIT_OK;
}
