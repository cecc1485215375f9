/* The driver library loaded on its own, without the driver manager: where it is, its
 * version and psqlODBC's as it reports them, and the psqlODBC library it loaded
 * (tool_driver.h). */
#include "tool_driver.h"

#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <odbcinst.h>
#include <sql.h>
#include <sqlext.h>

#include "tool_odbcini.h"

int lb_tool_driver_path(char *path, size_t size)
{
    path[0] = '\0';
    SQLGetPrivateProfileString("Lakebase", "Driver", "", path, (int)size, "odbcinst.ini");
    if (path[0] && lb_tool_odbcini_is_our_driver(path))
        return 0;
    return lb_tool_odbcini_own_library(LB_TOOL_DRIVER_FILE, path, size);
}

int lb_tool_driver_version(const char *path, char *buf, size_t size, char *why, size_t why_size)
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

struct found {
    char *buf;
    size_t size;
    int hit;
};

static int each_object(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct found *f = data;
    const char *base = info->dlpi_name ? strrchr(info->dlpi_name, '/') : NULL;
    if (base && strncasecmp(base + 1, "psqlodbc", 8) == 0) {
        snprintf(f->buf, f->size, "%s", info->dlpi_name);
        f->hit = 1;
        return 1;
    }
    return 0;
}

int lb_tool_driver_psqlodbc_path(char *buf, size_t size)
{
    struct found f = {buf, size, 0};
    dl_iterate_phdr(each_object, &f);
    return f.hit ? 0 : -1;
}
