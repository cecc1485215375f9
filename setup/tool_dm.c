/* Connects through the driver manager (see tool_dm.h). */
#include "tool_dm.h"

#include <stdio.h>
#include <string.h>

#include <sql.h>
#include <sqlext.h>

static void collect(lb_tool_dm *dm, SQLSMALLINT type, SQLHANDLE h)
{
    dm->diags[0] = '\0';
    dm->first_text[0] = '\0';
    if (dm->diag_json)
        json_object_put(dm->diag_json);
    dm->diag_json = json_object_new_array();
    size_t used = 0;
    for (SQLSMALLINT i = 1; i < 20; i++) {
        SQLCHAR state[6] = "", text[1024] = "";
        SQLINTEGER native = 0;
        SQLSMALLINT len = 0;
        if (!SQL_SUCCEEDED(SQLGetDiagRec(type, h, i, state, &native, text, sizeof(text), &len)))
            break;
        if (i == 1)
            snprintf(dm->first_text, sizeof(dm->first_text), "%s", (char *)text);
        int n = snprintf(dm->diags + used, sizeof(dm->diags) - used, "%s[%s] (native %d) %s", used ? "\n" : "",
                         (char *)state, (int)native, (char *)text);
        if (n > 0)
            used = used + (size_t)n < sizeof(dm->diags) ? used + (size_t)n : sizeof(dm->diags) - 1;
        json_object *d = json_object_new_object();
        json_object_object_add(d, "sqlstate", json_object_new_string((char *)state));
        json_object_object_add(d, "native", json_object_new_int((int)native));
        json_object_object_add(d, "message", json_object_new_string((char *)text));
        json_object_array_add(dm->diag_json, d);
    }
}

int lb_tool_dm_connect(lb_tool_dm *dm, const char *connstr)
{
    memset(dm, 0, sizeof(*dm));
    SQLHENV env = SQL_NULL_HENV;
    SQLHDBC dbc = SQL_NULL_HDBC;
    if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env)) ||
        !SQL_SUCCEEDED(SQLSetEnvAttr(env, SQL_ATTR_ODBC_VERSION, (SQLPOINTER)SQL_OV_ODBC3, 0)) ||
        !SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_DBC, env, &dbc))) {
        static const char why[] = "the driver manager could not allocate a handle";
        snprintf(dm->diags, sizeof(dm->diags), "%s", why);
        snprintf(dm->first_text, sizeof(dm->first_text), "%s", why);
        dm->env = env;
        return -1;
    }
    dm->env = env;
    dm->dbc = dbc;
    SQLCHAR outstr[4096];
    SQLSMALLINT outlen = 0;
    SQLRETURN rc = SQLDriverConnect(dbc, NULL, (SQLCHAR *)connstr, SQL_NTS, outstr, sizeof(outstr), &outlen,
                                    SQL_DRIVER_NOPROMPT);
    if (!SQL_SUCCEEDED(rc)) {
        collect(dm, SQL_HANDLE_DBC, dbc);
        return -1;
    }
    dm->connected = 1;
    return 0;
}

int lb_tool_dm_identity(lb_tool_dm *dm, char *user, size_t user_size, char *db, size_t db_size)
{
    SQLHSTMT st = SQL_NULL_HSTMT;
    if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_STMT, dm->dbc, &st))) {
        collect(dm, SQL_HANDLE_DBC, dm->dbc);
        return -1;
    }
    int rc = -1;
    SQLLEN ulen = 0, dlen = 0;
    if (SQL_SUCCEEDED(SQLExecDirect(st, (SQLCHAR *)"SELECT current_user, current_database()", SQL_NTS)) &&
        SQL_SUCCEEDED(SQLFetch(st)) &&
        SQL_SUCCEEDED(SQLGetData(st, 1, SQL_C_CHAR, user, (SQLLEN)user_size, &ulen)) &&
        SQL_SUCCEEDED(SQLGetData(st, 2, SQL_C_CHAR, db, (SQLLEN)db_size, &dlen)))
        rc = 0;
    else
        collect(dm, SQL_HANDLE_STMT, st);
    SQLFreeHandle(SQL_HANDLE_STMT, st);
    return rc;
}

void lb_tool_dm_close(lb_tool_dm *dm)
{
    if (dm->connected)
        SQLDisconnect(dm->dbc);
    if (dm->dbc)
        SQLFreeHandle(SQL_HANDLE_DBC, dm->dbc);
    if (dm->env)
        SQLFreeHandle(SQL_HANDLE_ENV, dm->env);
    if (dm->diag_json)
        json_object_put(dm->diag_json);
    memset(dm, 0, sizeof(*dm));
}
