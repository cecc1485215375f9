/* Loading psqlODBC and the forward table (see lb_forward.h). */
#include "lb_forward.h"

#include <dlfcn.h>
#include <limits.h>
#include <odbcinst.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef LB_PSQLODBC_DEFAULT
#define LB_PSQLODBC_DEFAULT "psqlodbcw.so"
#endif

/* Stubs with the real signatures: a call before or without psqlODBC fails cleanly. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#define LB_FWD(name, params, args) static SQLRETURN stub_##name params { return SQL_ERROR; }
#define LB_DBC(name, params, args, dbc) LB_FWD(name, params, args)
#define LB_OWN(name, params, args) LB_FWD(name, params, args)
#include "odbc_api.def"
#undef LB_FWD
#undef LB_DBC
#undef LB_OWN

/* The driver manager sets environment and connection attributes before it connects;
 * accept them on stand-in handles so it gets as far as SQLConnect. */
static SQLRETURN accept_SQLSetEnvAttr(SQLHENV h, SQLINTEGER a, SQLPOINTER v, SQLINTEGER l) { return SQL_SUCCESS; }
static SQLRETURN accept_SQLSetConnectAttr(SQLHDBC h, SQLINTEGER a, SQLPOINTER v, SQLINTEGER l) { return SQL_SUCCESS; }
static SQLRETURN accept_SQLSetConnectAttrW(SQLHDBC h, SQLINTEGER a, SQLPOINTER v, SQLINTEGER l) { return SQL_SUCCESS; }
#pragma GCC diagnostic pop

lb_psql_table lb_psql = {
#define LB_FWD(name, params, args) .name = stub_##name,
#define LB_DBC(name, params, args, dbc) LB_FWD(name, params, args)
#define LB_OWN(name, params, args) LB_FWD(name, params, args)
#include "odbc_api.def"
#undef LB_FWD
#undef LB_DBC
#undef LB_OWN
};

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static _Atomic int load_rc = -1;
static char load_error[1024];

/* The Driver= path of the odbcinst.ini section that names this library. */
static int own_section_key(const char *key, char *buf, size_t size)
{
    Dl_info info;
    char self[PATH_MAX], other[PATH_MAX];
    if (dladdr((void *)lb_forward_load, &info) == 0 || info.dli_fname == NULL ||
        realpath(info.dli_fname, self) == NULL)
        return 0;
    const char *self_base = strrchr(self, '/') ? strrchr(self, '/') + 1 : self;
    static char sections[8192];
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    int found = 0;
    pthread_mutex_lock(&mu);
    int n = SQLGetPrivateProfileString(NULL, NULL, "", sections, sizeof(sections), "ODBCINST.INI");
    for (const char *sec = sections; n > 0 && sec < sections + n && *sec && !found; sec += strlen(sec) + 1) {
        char drv[PATH_MAX] = "";
        SQLGetPrivateProfileString(sec, "Driver", "", drv, sizeof(drv), "ODBCINST.INI");
        if (drv[0] == '\0')
            continue;
        int same = strchr(drv, '/') ? (realpath(drv, other) && strcmp(other, self) == 0)
                                    : strcmp(drv, self_base) == 0;
        if (same) {
            char val[PATH_MAX] = "";
            SQLGetPrivateProfileString(sec, key, "", val, sizeof(val), "ODBCINST.INI");
            if (val[0]) {
                snprintf(buf, size, "%s", val);
                found = 1;
            }
        }
    }
    pthread_mutex_unlock(&mu);
    return found;
}

void lb_forward_path(char *buf, size_t size)
{
    const char *env = secure_getenv("LAKEBASE_PSQLODBC");
    if (env && env[0])
        snprintf(buf, size, "%s", env);
    else if (!own_section_key("PsqlODBC", buf, size))
        snprintf(buf, size, "%s", LB_PSQLODBC_DEFAULT);
}

static int resolve(void *lib, const char *path, const char *name, void **slot)
{
    if ((*slot = dlsym(lib, name)) != NULL)
        return 0;
    snprintf(load_error, sizeof(load_error),
             "%.600s is not psqlODBC's Unicode driver: it has no %s. Point PsqlODBC= (in "
             "odbcinst.ini) or LAKEBASE_PSQLODBC at psqlodbcw.so.", path, name);
    return -1;
}

static void load(void)
{
    char path[PATH_MAX];
    lb_forward_path(path, sizeof(path));
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        const char *why = dlerror();
        snprintf(load_error, sizeof(load_error),
                 "psqlODBC could not be loaded from %.500s (%.300s). Install the odbc-postgresql "
                 "package, or point the driver at psqlodbcw.so with PsqlODBC=<path> in its odbcinst.ini "
                 "section or the LAKEBASE_PSQLODBC environment variable.",
                 path, why ? why : "unknown error");
        return;
    }
    lb_psql_table t;
#define LB_FWD(name, params, args)                              \
    if (resolve(lib, path, #name, (void **)&t.name) != 0)       \
        return; /* never unloaded: a half-usable library stays out of the table */
#define LB_DBC(name, params, args, dbc) LB_FWD(name, params, args)
#define LB_OWN(name, params, args) LB_FWD(name, params, args)
#include "odbc_api.def"
#undef LB_FWD
#undef LB_DBC
#undef LB_OWN
    lb_psql = t;
    load_rc = 0;
}

static void load_or_accept(void)
{
    load();
    if (load_rc != 0) {
        lb_psql.SQLSetEnvAttr = accept_SQLSetEnvAttr;
        lb_psql.SQLSetConnectAttr = accept_SQLSetConnectAttr;
        lb_psql.SQLSetConnectAttrW = accept_SQLSetConnectAttrW;
    }
}

int lb_forward_load(void)
{
    pthread_once(&load_once, load_or_accept);
    return load_rc;
}

const char *lb_forward_error(void)
{
    return load_error;
}

/* Stand-in handles: a short registry, used only when psqlODBC is missing. */
#define DUMMY_MAGIC 0x4c42444dU
typedef struct dummy {
    unsigned magic;
    struct dummy *next;
} dummy;
static dummy *dummies;
static pthread_mutex_t dummy_mu = PTHREAD_MUTEX_INITIALIZER;

SQLHANDLE lb_dummy_new(void)
{
    dummy *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return NULL;
    d->magic = DUMMY_MAGIC;
    pthread_mutex_lock(&dummy_mu);
    d->next = dummies;
    dummies = d;
    pthread_mutex_unlock(&dummy_mu);
    return d;
}

static int find_dummy(SQLHANDLE h, int unlink)
{
    if (load_rc == 0)
        return 0;
    int found = 0;
    pthread_mutex_lock(&dummy_mu);
    for (dummy **p = &dummies; *p; p = &(*p)->next) {
        if ((SQLHANDLE)*p == h) {
            found = 1;
            if (unlink) {
                dummy *d = *p;
                *p = d->next;
                free(d);
            }
            break;
        }
    }
    pthread_mutex_unlock(&dummy_mu);
    return found;
}

int lb_dummy_free(SQLHANDLE h)
{
    return find_dummy(h, 1);
}

int lb_is_dummy(SQLHANDLE h)
{
    return find_dummy(h, 0);
}
