/* psqlODBC, loaded once per process and never unloaded: its entry points in one table
 * that the exported functions call through. Until psqlODBC is loaded, and for good if
 * it cannot be, the table holds stubs that fail, so a missing psqlODBC is a diagnostic
 * on the connection, never a crash. */
#ifndef LB_FORWARD_H
#define LB_FORWARD_H

#include <stddef.h>

#include <sql.h>
#include <sqlext.h>
#include <sqlucode.h>

typedef struct {
#define LB_FWD(name, params, args) SQLRETURN (*name) params;
#define LB_DBC(name, params, args, dbc) SQLRETURN (*name) params;
#define LB_OWN(name, params, args) SQLRETURN (*name) params;
#include "odbc_api.def"
#undef LB_FWD
#undef LB_DBC
#undef LB_OWN
} lb_psql_table;

extern lb_psql_table lb_psql;

/* Loads psqlODBC on the first call (later calls are cheap). 0 when loaded, -1 when it
 * could not be: lb_forward_error() then says which path failed and how to fix it. */
int lb_forward_load(void);
const char *lb_forward_error(void);

/* The path psqlODBC is loaded from: LAKEBASE_PSQLODBC, else the PsqlODBC key of this
 * driver's odbcinst.ini section, else the path found at build time. */
void lb_forward_path(char *buf, size_t size);

/* Stand-in handles, handed out only when psqlODBC could not be loaded, so that the
 * driver manager reaches SQLConnect and the application reads why. */
SQLHANDLE lb_dummy_new(void);
/* 1 when h was a stand-in (now freed), 0 otherwise. */
int lb_dummy_free(SQLHANDLE h);
int lb_is_dummy(SQLHANDLE h);

#define LB_EXPORT __attribute__((visibility("default")))

#endif
