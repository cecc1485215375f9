/* lakebase-odbc --version: the tool's version (its own lbcore), and the driver's and
 * psqlODBC's as the driver reports them (tool_driver.h: the driver registered as Lakebase
 * in odbcinst.ini, else this build's, loaded on its own and asked SQLGetInfo(SQL_DRIVER_VER);
 * the driver adds its own version in front of psqlODBC's). */
#include "tool.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "lb_version.h"
#include "tool_driver.h"

int lb_tool_cmd_version(lb_tool_out *out, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    char path[PATH_MAX] = "";
    if (lb_tool_driver_path(path, sizeof(path)) != 0)
        path[0] = '\0';
    char ver[256] = "", why[512] = "not found (run lakebase-odbc install-driver)";
    int ok = path[0] && lb_tool_driver_version(path, ver, sizeof(ver), why, sizeof(why)) == 0;
    /* The driver's own part is before " Lakebase (psqlODBC ", psqlODBC's inside the parentheses. */
    char drv[64] = "", psql[64] = "";
    const char *mark = ok ? strstr(ver, " Lakebase (psqlODBC ") : NULL;
    if (mark) {
        snprintf(drv, sizeof(drv), "%.*s", (int)(mark - ver), ver);
        snprintf(psql, sizeof(psql), "%s", mark + strlen(" Lakebase (psqlODBC "));
        char *close = strchr(psql, ')');
        if (close)
            *close = '\0';
    } else if (ok) {
        snprintf(why, sizeof(why), "%.300s is not the Lakebase driver (it says %.100s)", path, ver);
        ok = 0;
    }
    if (out->json) {
        json_object_object_add(out->doc, "tool", json_object_new_string(lb_version()));
        json_object_object_add(out->doc, "driver", ok ? json_object_new_string(drv) : NULL);
        json_object_object_add(out->doc, "psqlodbc", ok ? json_object_new_string(psql) : NULL);
        json_object_object_add(out->doc, "driver_path", path[0] ? json_object_new_string(path) : NULL);
    } else {
        char odbc_ver[16];
        lb_version_odbc(odbc_ver, sizeof(odbc_ver));
        lb_tool_say(out, "lakebase-odbc %s (%s)", lb_version(), odbc_ver);
        if (ok) {
            lb_tool_say(out, "driver        %s (%s)", drv, path);
            lb_tool_say(out, "psqlODBC      %s", psql);
        }
    }
    if (!ok) {
        lb_tool_fail(out, "driver: %s", why);
        return TOOL_EXIT_FAIL;
    }
    return TOOL_EXIT_OK;
}
