/* lakebase-odbc install-driver: registers the driver and its setup library in
 * odbcinst.ini through the installer API (tool_odbcini.c); a second run leaves one entry. */
#include "tool.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool_odbcini.h"

static int absolute(lb_tool_out *out, const char *what, const char *path, char *buf, size_t size)
{
    char real[PATH_MAX];
    if (realpath(path, real) == NULL || access(real, R_OK) != 0) {
        lb_tool_fail(out, "%s %s is not a readable file", what, path);
        return -1;
    }
    snprintf(buf, size, "%s", real);
    return 0;
}

int lb_tool_cmd_install_driver(lb_tool_out *out, int argc, char **argv)
{
    const char *name = "Lakebase", *driver = NULL, *setup = NULL;
    for (int i = 1; i < argc; i++) {
        const char **slot = strcmp(argv[i], "--name") == 0     ? &name
                            : strcmp(argv[i], "--driver") == 0 ? &driver
                            : strcmp(argv[i], "--setup") == 0  ? &setup
                                                               : NULL;
        if (strcmp(argv[i], "--json") == 0)
            continue;
        if (slot == NULL || i + 1 >= argc) {
            lb_tool_fail(out, slot ? "%s needs a value" : "install-driver: unknown argument %s", argv[i]);
            return TOOL_EXIT_USAGE;
        }
        *slot = argv[++i];
    }
    if (name[0] == '\0' || strpbrk(name, "[]=;") != NULL) {
        lb_tool_fail(out, "--name \"%s\" cannot be a section of odbcinst.ini (no [ ] = ;)", name);
        return TOOL_EXIT_USAGE;
    }
    char drv[PATH_MAX], set[PATH_MAX];
    if (driver) {
        if (absolute(out, "--driver", driver, drv, sizeof(drv)) != 0)
            return TOOL_EXIT_FAIL;
    } else if (lb_tool_odbcini_own_library(LB_TOOL_DRIVER_FILE, drv, sizeof(drv)) != 0) {
        lb_tool_fail(out, "%s was not found next to the tool: name it with --driver PATH", LB_TOOL_DRIVER_FILE);
        return TOOL_EXIT_FAIL;
    }
    if (setup) {
        if (absolute(out, "--setup", setup, set, sizeof(set)) != 0)
            return TOOL_EXIT_FAIL;
    } else if (lb_tool_odbcini_own_library(LB_TOOL_SETUP_FILE, set, sizeof(set)) != 0) {
        lb_tool_fail(out, "%s was not found next to the tool: name it with --setup PATH", LB_TOOL_SETUP_FILE);
        return TOOL_EXIT_FAIL;
    }
    int existed = 0;
    char msg[1024];
    if (lb_tool_odbcini_install_driver(name, drv, set, &existed, msg, sizeof(msg)) != 0) {
        lb_tool_fail(out, "%s", msg);
        return TOOL_EXIT_FAIL;
    }
    const char *sysdir = secure_getenv("ODBCSYSINI");
    if (out->json) {
        json_object_object_add(out->doc, "name", json_object_new_string(name));
        json_object_object_add(out->doc, "driver", json_object_new_string(drv));
        json_object_object_add(out->doc, "setup", json_object_new_string(set));
        json_object_object_add(out->doc, "updated", json_object_new_boolean(existed));
    }
    lb_tool_say(out, "%s driver [%s] in %s/odbcinst.ini", existed ? "updated" : "registered", name,
                sysdir ? sysdir : "/etc");
    lb_tool_say(out, "  Driver = %s", drv);
    lb_tool_say(out, "  Setup  = %s", set);
    return TOOL_EXIT_OK;
}
