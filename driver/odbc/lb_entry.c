/* The exported ODBC entry points that only forward: one indirect call into psqlODBC
 * (for calls on a connection, after dropping that connection's stale driver-side
 * diagnostics), plus handle allocation and release. Connect and diagnostic functions
 * live in lb_odbc_connect.c and lb_diag.c. */
#include <sql.h>
#include <sqlext.h>
#include <sqlucode.h>

#include "lb_diag.h"
#include "lb_forward.h"
#include "lb_pool.h"

#define LB_FWD(name, params, args) \
    LB_EXPORT SQLRETURN SQL_API name params { return lb_psql.name args; }
#define LB_DBC(name, params, args, dbc) \
    LB_EXPORT SQLRETURN SQL_API name params { lb_diag_forget(dbc); return lb_psql.name args; }
#define LB_OWN(name, params, args)
#include "odbc_api.def"
#undef LB_FWD
#undef LB_DBC
#undef LB_OWN

LB_EXPORT SQLRETURN SQL_API SQLAllocHandle(SQLSMALLINT HandleType, SQLHANDLE InputHandle, SQLHANDLE *OutputHandle)
{
    if (lb_forward_load() == 0)
        return lb_psql.SQLAllocHandle(HandleType, InputHandle, OutputHandle);
    /* psqlODBC is missing: hand out stand-ins up to the connection, where
     * SQLConnect reports why. */
    if (OutputHandle == NULL)
        return SQL_ERROR;
    *OutputHandle = SQL_NULL_HANDLE;
    if (HandleType != SQL_HANDLE_ENV && HandleType != SQL_HANDLE_DBC)
        return SQL_ERROR;
    if (HandleType == SQL_HANDLE_DBC && !lb_is_dummy(InputHandle))
        return SQL_INVALID_HANDLE;
    *OutputHandle = lb_dummy_new();
    return *OutputHandle ? SQL_SUCCESS : SQL_ERROR;
}

LB_EXPORT SQLRETURN SQL_API SQLFreeHandle(SQLSMALLINT HandleType, SQLHANDLE Handle)
{
    lb_diag_forget(Handle);
    if (HandleType == SQL_HANDLE_DBC)
        lb_pool_forget(Handle);
    if (lb_dummy_free(Handle))
        return SQL_SUCCESS;
    return lb_psql.SQLFreeHandle(HandleType, Handle);
}
