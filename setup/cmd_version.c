/* lakebase-odbc --version: the tool's version (its own lbcore), and the driver's and
 * psqlODBC's as the driver reports them. The driver registered as Lakebase in
 * odbcinst.ini (else this build's) is loaded on its own, without the driver manager, and
 * asked SQLGetInfo(SQL_DRIVER_VER) on an unconnected handle: psqlODBC answers that
 * without a server, and the driver adds its own version in front. */
#include "tool.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <odbcinst.h>
#include <sql.h>
#include <sqlext.h>

#include "lb_version.h"
#include "tool_odbcini.h"

/* "00.01.0000 Lakebase (psqlODBC 13.02.0000)" from the library at path; 0 or -1 (why). */
static int driver_version(const char *path, char *buf, size_t size, char *why, size_t why_size)
{
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        snprintf(why, why_size, "%s", dlerror());
        return -1;
    }
    SQLRETURN (*alloc)(SQLSMALLINT, SQLHANDLE, SQLHANDLE *) =
        (SQLRETURN(*)(SQLSMALLINT, SQLHANDLE, SQLHANDLE *))dlsym(lib, "SQLAllocHandle");
    SQLRETURN (*set_env)(SQLHENV, SQLINTEGER, SQLPOINTER, SQLINTEGER) =
        (SQLRETURN(*)(SQLHENV, SQLINTEGER, SQLPOINTER, SQLINTEGER))dlsym(lib, "SQLSetEnvAttr");
    SQLRETURN (*info)(SQLHDBC, SQLUSMALLINT, SQLPOINTER, SQLSMALLINT, SQLSMALLINT *) =
        (SQLRETURN(*)(SQLHDBC, SQLUSMALLINT, SQLPOINTER, SQLSMALLINT, SQLSMALLINT *))dlsym(lib, "SQLGetInfo");
    SQLRETURN (*free_handle)(SQLSMALLINT, SQLHANDLE) = (SQLRETURN(*)(SQLSMALLINT, SQLHANDLE))dlsym(lib, "SQLFreeHandle");
    int rc = -1;
    SQLHANDLE env = SQL_NULL_HANDLE, dbc = SQL_NULL_HANDLE;
    if (!alloc || !set_env || !info || !free_handle) {
        snprintf(why, why_size, "%s is not an ODBC driver", path);
    } else if (!SQL_SUCCEEDED(alloc(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env)) ||
               !SQL_SUCCEEDED(set_env(env, SQL_ATTR_ODBC_VERSION, (SQLPOINTER)SQL_OV_ODBC3, 0)) ||
               !SQL_SUCCEEDED(alloc(SQL_HANDLE_DBC, env, &dbc))) {
        snprintf(why, why_size, "the driver could not allocate a handle (psqlODBC missing?)");
    } else {
        SQLSMALLINT len = 0;
        buf[0] = '\0';
        if (SQL_SUCCEEDED(info(dbc, SQL_DRIVER_VER, buf, (SQLSMALLINT)size, &len)) && buf[0])
            rc = 0;
        else
            snprintf(why, why_size, "the driver did not say its version");
    }
    if (dbc != SQL_NULL_HANDLE)
        free_handle(SQL_HANDLE_DBC, dbc);
    if (env != SQL_NULL_HANDLE)
        free_handle(SQL_HANDLE_ENV, env);
    /* Not unloaded: the driver is linked -z nodelete. */
    return rc;
}

int lb_tool_cmd_version(lb_tool_out *out, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    char path[PATH_MAX] = "";
    SQLGetPrivateProfileString("Lakebase", "Driver", "", path, sizeof(path), "odbcinst.ini");
    if (path[0] == '\0' || !lb_tool_odbcini_is_our_driver(path))
        if (lb_tool_odbcini_own_library(LB_TOOL_DRIVER_FILE, path, sizeof(path)) != 0)
            path[0] = '\0';
    char ver[256] = "", why[512] = "not found (run lakebase-odbc install-driver)";
    int ok = path[0] && driver_version(path, ver, sizeof(ver), why, sizeof(why)) == 0;
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
