/* The differential test's client: one program that uses the ODBC API the way BI and
 * reporting tools do and prints every answer, one line per result, in a stable format.
 * differential_test.sh runs it once through the driver and once through psqlODBC directly
 * (same server, the password role lakebase_direct with the SP role's grants) and diffs.
 *
 * Usage: differential_test A|W   (the connection string comes from $LBDIFF_CONNSTR, never
 * argv, because it holds a secret). A = ANSI calls, W = the wide (UTF-16) calls.
 * Exit 0 when it ran to the end (every ODBC answer, errors included, is output, not a
 * failure); 2 when it could not connect or set up its tables.
 *
 * Line format: "<section> <key>: <answer>". Lines whose key the runner declares as expected
 * differences: "info 6" (SQL_DRIVER_NAME), "info 7" and "info 7 after" (SQL_DRIVER_VER), "info 47"
 * (SQL_USER_NAME), "ident current_user", "connect out" (the output connection string).
 *
 * Normalizations (values that legitimately differ run to run or role to role), each marked
 * NORMALIZE below:
 *  - handles (SQL_DRIVER_HENV/HDBC/HSTMT/HDESC/HLIB, descriptor handles from statement
 *    attributes) print as <handle>: they are addresses;
 *  - result columns whose name contains "OID" (psqlODBC's TABLE OID, FIELD_TYPE is kept)
 *    print <oid>: the two runs create their own tables, with their own OIDs;
 *  - the current user's name (the SP's client id or lakebase_direct) prints as <user> in
 *    every answer except the declared identity lines: it is the table owner, grantor and
 *    grantee in the privilege catalogs;
 *  - diagnostic messages keep their text; nothing in them depends on the run. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sql.h>
#include <sqlext.h>
#include <sqlucode.h>

#include "lb_utf16.h"

static int wide;
static SQLHENV env;
static SQLHDBC dbc;
static char user[256];

/* ---------------------------------------------------------------- text helpers -- */

/* UTF-8 to a malloc'd UTF-16 string (driver/core/lb_utf16.c, the driver's own converter). */
static SQLWCHAR *to_w(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t units = 0;
    SQLWCHAR *w = lb_utf8_to_utf16(s, &units);
    if (w == NULL) {
        fprintf(stderr, "differential_test: cannot convert \"%s\" to UTF-16\n", s);
        exit(2);
    }
    return w;
}

/* UTF-16 (units) to UTF-8 in out; invalid UTF-16 shows as <bad UTF-16>. */
static void from_w(const SQLWCHAR *w, size_t units, char *out, size_t size)
{
    size_t len = 0;
    int bad = 0;
    char *u = lb_utf16_to_utf8(w, units, &len, &bad);
    snprintf(out, size, "%s", u != NULL ? u : bad ? "<bad UTF-16>" : "<out of memory>");
    free(u);
}

/* NORMALIZE: the current user's name becomes <user>; control characters are escaped. */
static void clean(const char *in, char *out, size_t size)
{
    size_t o = 0, ulen = strlen(user);
    for (size_t i = 0; in[i] && o + 8 < size;) {
        if (ulen > 0 && strncmp(in + i, user, ulen) == 0) {
            o += (size_t)snprintf(out + o, size - o, "<user>");
            i += ulen;
            continue;
        }
        unsigned char c = (unsigned char)in[i++];
        if (c < 0x20 || c == '\\')
            o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
        else
            out[o++] = (char)c;
    }
    out[o < size ? o : size - 1] = '\0';
}

static void emit(const char *section, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void emit(const char *section, const char *key, const char *fmt, ...)
{
    char raw[8192], out[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    clean(raw, out, sizeof out);
    printf("%s %s: %s\n", section, key, out);
}

static void hex(const unsigned char *p, size_t n, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 3 < size; i++)
        o += (size_t)snprintf(out + o, size - o, "%02x", p[i]);
    out[o] = '\0';
}

/* Every diagnostic record of a handle, as one line per record. */
static void diags(const char *section, const char *key, SQLSMALLINT type, SQLHANDLE h)
{
    for (SQLSMALLINT i = 1; i < 20; i++) {
        char state[16] = "", msg[2048] = "", k[256];
        SQLINTEGER native = 0;
        SQLRETURN rc;
        if (wide) {
            SQLWCHAR ws[6], wm[1024];
            SQLSMALLINT len = 0;
            rc = SQLGetDiagRecW(type, h, i, ws, &native, wm, 1024, &len);
            if (SQL_SUCCEEDED(rc)) {
                from_w(ws, 5, state, sizeof state);
                from_w(wm, len < 1024 ? (size_t)len : 1023, msg, sizeof msg);
            }
        } else {
            SQLSMALLINT len = 0;
            rc = SQLGetDiagRec(type, h, i, (SQLCHAR *)state, &native, (SQLCHAR *)msg, sizeof msg, &len);
        }
        if (!SQL_SUCCEEDED(rc))
            break;
        snprintf(k, sizeof k, "%s diag%d", key, i);
        emit(section, k, "[%s] native=%d %s", state, (int)native, msg);
    }
}

static void rcline(const char *section, const char *key, SQLRETURN rc, SQLSMALLINT type, SQLHANDLE h)
{
    emit(section, key, "rc=%d", (int)rc);
    if (rc != SQL_SUCCESS && rc != SQL_NO_DATA && rc != SQL_NEED_DATA && h != NULL)
        diags(section, key, type, h);
}

/* ------------------------------------------------------------- wrapped calls -- */

static SQLRETURN exec(SQLHSTMT st, const char *sql)
{
    if (!wide)
        return SQLExecDirect(st, (SQLCHAR *)sql, SQL_NTS);
    SQLWCHAR *w = to_w(sql);
    SQLRETURN rc = SQLExecDirectW(st, w, SQL_NTS);
    free(w);
    return rc;
}

static SQLRETURN prepare(SQLHSTMT st, const char *sql)
{
    if (!wide)
        return SQLPrepare(st, (SQLCHAR *)sql, SQL_NTS);
    SQLWCHAR *w = to_w(sql);
    SQLRETURN rc = SQLPrepareW(st, w, SQL_NTS);
    free(w);
    return rc;
}

static SQLHSTMT new_stmt(void)
{
    SQLHSTMT st = NULL;
    if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_STMT, dbc, &st))) {
        fprintf(stderr, "differential_test: cannot allocate a statement\n");
        exit(2);
    }
    return st;
}

static void free_stmt(SQLHSTMT st)
{
    SQLFreeHandle(SQL_HANDLE_STMT, st);
}

/* A column's value as text: SQL_C_CHAR (A) or SQL_C_WCHAR (W) in one go. */
static SQLRETURN get_text(SQLHSTMT st, SQLUSMALLINT col, char *out, size_t size, SQLLEN *ind)
{
    SQLRETURN rc;
    if (wide) {
        SQLWCHAR w[4096];
        rc = SQLGetData(st, col, SQL_C_WCHAR, w, sizeof w, ind);
        if (SQL_SUCCEEDED(rc) && *ind >= 0) {
            size_t units = (size_t)*ind / sizeof(SQLWCHAR);
            if (units > 4095)
                units = 4095;
            from_w(w, units, out, size);
        }
    } else {
        rc = SQLGetData(st, col, SQL_C_CHAR, out, (SQLLEN)size, ind);
    }
    if (!SQL_SUCCEEDED(rc) || *ind < 0)
        out[0] = '\0';
    return rc;
}

static int col_name(SQLHSTMT st, SQLUSMALLINT col, char *name, size_t size, SQLSMALLINT *type, SQLULEN *csize,
                    SQLSMALLINT *digits, SQLSMALLINT *nullable)
{
    SQLSMALLINT len = 0;
    SQLRETURN rc;
    if (wide) {
        SQLWCHAR w[256];
        rc = SQLDescribeColW(st, col, w, 256, &len, type, csize, digits, nullable);
        if (SQL_SUCCEEDED(rc))
            from_w(w, len < 256 ? (size_t)len : 255, name, size);
    } else {
        rc = SQLDescribeCol(st, col, (SQLCHAR *)name, (SQLSMALLINT)size, &len, type, csize, digits, nullable);
    }
    if (!SQL_SUCCEEDED(rc))
        snprintf(name, size, "?");
    return rc;
}

/* The result of a statement that was just executed: the columns (SQLDescribeCol), every
 * row (SQLGetData as text, in the order of the columns), the row count, then
 * SQLMoreResults until SQL_NO_DATA. */
static void dump_result(const char *section, const char *key, SQLHSTMT st)
{
    char k[512];
    for (int set = 1; set < 10; set++) {
        SQLSMALLINT ncols = 0;
        SQLLEN rows = -2;
        SQLNumResultCols(st, &ncols);
        SQLRowCount(st, &rows);
        snprintf(k, sizeof k, "%s set%d", key, set);
        emit(section, k, "cols=%d rowcount=%ld", (int)ncols, (long)rows);
        char names[64][128];
        int is_oid[64] = {0};
        for (SQLUSMALLINT c = 1; c <= ncols && c <= 64; c++) {
            SQLSMALLINT type = 0, digits = 0, nullable = 0;
            SQLULEN csize = 0;
            col_name(st, c, names[c - 1], sizeof names[c - 1], &type, &csize, &digits, &nullable);
            is_oid[c - 1] = strstr(names[c - 1], "OID") != NULL || strstr(names[c - 1], "oid") != NULL;
            snprintf(k, sizeof k, "%s set%d col%d", key, set, c);
            emit(section, k, "%s type=%d size=%lu digits=%d nullable=%d", names[c - 1], type,
                 (unsigned long)csize, digits, nullable);
        }
        int r = 0;
        if (ncols > 0) {
            SQLRETURN rc;
            while ((rc = SQLFetch(st)) != SQL_NO_DATA && r < 400) {
                r++;
                snprintf(k, sizeof k, "%s set%d row%d", key, set, r);
                if (!SQL_SUCCEEDED(rc)) {
                    rcline(section, k, rc, SQL_HANDLE_STMT, st);
                    break;
                }
                char line[8192];
                size_t o = 0;
                for (SQLUSMALLINT c = 1; c <= ncols && c <= 64; c++) {
                    char v[4096];
                    SQLLEN ind = 0;
                    SQLRETURN g = get_text(st, c, v, sizeof v, &ind);
                    const char *shown = !SQL_SUCCEEDED(g) ? "<error>" : ind == SQL_NULL_DATA ? "NULL"
                                        : is_oid[c - 1] ? "<oid>" /* NORMALIZE: OIDs of this run's objects */
                                                         : v;
                    o += (size_t)snprintf(line + o, o < sizeof line ? sizeof line - o : 0, "%s%s", c > 1 ? " | " : "", shown);
                    if (o >= sizeof line)
                        break;
                }
                emit(section, k, "%s", line);
            }
            snprintf(k, sizeof k, "%s set%d", key, set);
            emit(section, k, "fetched=%d", r);
        }
        SQLRETURN m = SQLMoreResults(st);
        snprintf(k, sizeof k, "%s set%d more", key, set);
        rcline(section, k, m, SQL_HANDLE_STMT, st);
        if (m != SQL_SUCCESS && m != SQL_SUCCESS_WITH_INFO)
            break;
    }
    SQLFreeStmt(st, SQL_CLOSE);
}

static void run_sql(const char *section, const char *key, const char *sql)
{
    SQLHSTMT st = new_stmt();
    SQLRETURN rc = exec(st, sql);
    rcline(section, key, rc, SQL_HANDLE_STMT, st);
    if (SQL_SUCCEEDED(rc))
        dump_result(section, key, st);
    free_stmt(st);
}

/* ------------------------------------------------------------------ sections -- */

static int is_handle_info(SQLUSMALLINT t)
{
    /* NORMALIZE: SQL_DRIVER_HENV 4, _HDBC 3, _HSTMT 5, _HLIB 76, _HDESC 135 are addresses. */
    return t == SQL_DRIVER_HENV || t == SQL_DRIVER_HDBC || t == SQL_DRIVER_HSTMT || t == SQL_DRIVER_HLIB ||
           t == SQL_DRIVER_HDESC;
}

static void info_one(SQLUSMALLINT t)
{
    unsigned char buf[2048];
    SQLSMALLINT len = -999;
    char key[32], hx[600], text[2048];
    snprintf(key, sizeof key, "%u", (unsigned)t);
    if (is_handle_info(t)) { /* not asked: HSTMT/HDESC take a handle as input; all are addresses */
        emit("info", key, "<handle>");
        return;
    }
    memset(buf, 0xAA, sizeof buf);
    SQLRETURN rc = wide ? SQLGetInfoW(dbc, t, buf, sizeof buf, &len) : SQLGetInfo(dbc, t, buf, sizeof buf, &len);
    snprintf(key, sizeof key, "%u", (unsigned)t);
    if (!SQL_SUCCEEDED(rc)) {
        rcline("info", key, rc, SQL_HANDLE_DBC, dbc);
        return;
    }
    /* Text unless the answer has a number's size (2, 4 or 8 bytes): then the first 8 bytes of
     * the buffer, sentinel bytes (aa) included, so a difference in what was written shows. */
    if (len >= 0 && (size_t)len < sizeof buf && len != 2 && len != 4 && len != 8) {
        if (wide)
            from_w((SQLWCHAR *)buf, (size_t)len / 2, text, sizeof text);
        else
            snprintf(text, sizeof text, "%.*s", (int)len, (char *)buf);
        emit("info", key, "rc=%d len=%d text=\"%s\"", (int)rc, (int)len, text);
    } else {
        hex(buf, 8, hx, sizeof hx);
        emit("info", key, "rc=%d len=%d bytes=%s", (int)rc, (int)len, hx);
    }
}

static void section_info(void)
{
    for (unsigned t = 0; t <= 210; t++)
        info_one((SQLUSMALLINT)t);
    for (unsigned t = 1750; t <= 1750; t++)
        info_one((SQLUSMALLINT)t);
    for (unsigned t = 10000; t <= 10030; t++)
        info_one((SQLUSMALLINT)t);
}

static void section_functions(void)
{
    SQLUSMALLINT all[SQL_API_ODBC3_ALL_FUNCTIONS_SIZE];
    memset(all, 0, sizeof all);
    SQLRETURN rc = SQLGetFunctions(dbc, SQL_API_ODBC3_ALL_FUNCTIONS, all);
    emit("functions", "odbc3", "rc=%d", (int)rc);
    for (int id = 0; id < SQL_API_ODBC3_ALL_FUNCTIONS_SIZE * 16; id++)
        if (SQL_FUNC_EXISTS(all, id)) {
            char k[32];
            snprintf(k, sizeof k, "odbc3 %d", id);
            emit("functions", k, "yes");
        }
    SQLUSMALLINT two[100];
    memset(two, 0, sizeof two);
    rc = SQLGetFunctions(dbc, SQL_API_ALL_FUNCTIONS, two);
    emit("functions", "odbc2", "rc=%d", (int)rc);
    for (int id = 0; id < 100; id++)
        if (two[id]) {
            char k[32];
            snprintf(k, sizeof k, "odbc2 %d", id);
            emit("functions", k, "%u", two[id]);
        }
}

static void section_connect_attrs(void)
{
    static const SQLINTEGER attrs[] = {SQL_ATTR_ACCESS_MODE, SQL_ATTR_AUTOCOMMIT, SQL_ATTR_CONNECTION_TIMEOUT,
                                       SQL_ATTR_CURRENT_CATALOG, SQL_ATTR_LOGIN_TIMEOUT, SQL_ATTR_METADATA_ID,
                                       SQL_ATTR_ODBC_CURSORS, SQL_ATTR_PACKET_SIZE, SQL_ATTR_TXN_ISOLATION,
                                       SQL_ATTR_CONNECTION_DEAD, SQL_ATTR_AUTO_IPD, SQL_ATTR_ASYNC_ENABLE,
                                       SQL_ATTR_TRACE, SQL_ATTR_TRANSLATE_OPTION};
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
        unsigned char buf[1024];
        SQLINTEGER len = -999;
        char k[32], hx[64];
        memset(buf, 0xAA, sizeof buf);
        SQLRETURN rc = wide ? SQLGetConnectAttrW(dbc, attrs[i], buf, sizeof buf, &len)
                            : SQLGetConnectAttr(dbc, attrs[i], buf, sizeof buf, &len);
        snprintf(k, sizeof k, "%d", (int)attrs[i]);
        if (!SQL_SUCCEEDED(rc)) {
            rcline("connattr", k, rc, SQL_HANDLE_DBC, dbc);
            continue;
        }
        if (attrs[i] == SQL_ATTR_CURRENT_CATALOG) {
            char text[1024];
            if (wide)
                from_w((SQLWCHAR *)buf, len > 0 ? (size_t)len / 2 : 0, text, sizeof text);
            else
                snprintf(text, sizeof text, "%.*s", len > 0 ? (int)len : 0, (char *)buf);
            emit("connattr", k, "rc=%d len=%d text=\"%s\"", (int)rc, (int)len, text);
        } else {
            hex(buf, 4, hx, sizeof hx);
            emit("connattr", k, "rc=%d bytes=%s", (int)rc, hx);
        }
    }
}

static void section_stmt_attrs(void)
{
    static const SQLINTEGER attrs[] = {
        SQL_ATTR_APP_PARAM_DESC, SQL_ATTR_APP_ROW_DESC, SQL_ATTR_ASYNC_ENABLE, SQL_ATTR_CONCURRENCY,
        SQL_ATTR_CURSOR_SCROLLABLE, SQL_ATTR_CURSOR_SENSITIVITY, SQL_ATTR_CURSOR_TYPE, SQL_ATTR_ENABLE_AUTO_IPD,
        SQL_ATTR_FETCH_BOOKMARK_PTR, SQL_ATTR_IMP_PARAM_DESC, SQL_ATTR_IMP_ROW_DESC, SQL_ATTR_KEYSET_SIZE,
        SQL_ATTR_MAX_LENGTH, SQL_ATTR_MAX_ROWS, SQL_ATTR_METADATA_ID, SQL_ATTR_NOSCAN, SQL_ATTR_PARAM_BIND_OFFSET_PTR,
        SQL_ATTR_PARAM_BIND_TYPE, SQL_ATTR_PARAM_OPERATION_PTR, SQL_ATTR_PARAM_STATUS_PTR, SQL_ATTR_PARAMS_PROCESSED_PTR,
        SQL_ATTR_PARAMSET_SIZE, SQL_ATTR_QUERY_TIMEOUT, SQL_ATTR_RETRIEVE_DATA, SQL_ATTR_ROW_ARRAY_SIZE,
        SQL_ATTR_ROW_BIND_OFFSET_PTR, SQL_ATTR_ROW_BIND_TYPE, SQL_ATTR_ROW_NUMBER, SQL_ATTR_ROW_OPERATION_PTR,
        SQL_ATTR_ROW_STATUS_PTR, SQL_ATTR_ROWS_FETCHED_PTR, SQL_ATTR_SIMULATE_CURSOR, SQL_ATTR_USE_BOOKMARKS};
    SQLHSTMT st = new_stmt();
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
        unsigned char buf[64];
        SQLINTEGER len = -999;
        char k[32], hx[64];
        memset(buf, 0xAA, sizeof buf);
        SQLRETURN rc = wide ? SQLGetStmtAttrW(st, attrs[i], buf, sizeof buf, &len)
                            : SQLGetStmtAttr(st, attrs[i], buf, sizeof buf, &len);
        snprintf(k, sizeof k, "%d", (int)attrs[i]);
        if (!SQL_SUCCEEDED(rc)) {
            rcline("stmtattr", k, rc, SQL_HANDLE_STMT, st);
            continue;
        }
        int is_desc = attrs[i] == SQL_ATTR_APP_PARAM_DESC || attrs[i] == SQL_ATTR_APP_ROW_DESC ||
                      attrs[i] == SQL_ATTR_IMP_PARAM_DESC || attrs[i] == SQL_ATTR_IMP_ROW_DESC;
        if (is_desc) { /* NORMALIZE: descriptor handles are addresses */
            emit("stmtattr", k, "rc=%d <handle>", (int)rc);
            continue;
        }
        hex(buf, sizeof(SQLULEN), hx, sizeof hx);
        emit("stmtattr", k, "rc=%d bytes=%s", (int)rc, hx);
    }
    /* Setting: a scrollable static read-only cursor, what reporting tools ask for. */
    SQLRETURN rc = SQLSetStmtAttr(st, SQL_ATTR_CURSOR_TYPE, (SQLPOINTER)SQL_CURSOR_KEYSET_DRIVEN, 0);
    rcline("stmtattr", "set keyset", rc, SQL_HANDLE_STMT, st);
    SQLULEN v = 0;
    SQLGetStmtAttr(st, SQL_ATTR_CURSOR_TYPE, &v, 0, NULL);
    emit("stmtattr", "keyset now", "%lu", (unsigned long)v);
    rc = SQLSetStmtAttr(st, SQL_ATTR_CONCURRENCY, (SQLPOINTER)SQL_CONCUR_LOCK, 0);
    rcline("stmtattr", "set concur lock", rc, SQL_HANDLE_STMT, st);
    SQLGetStmtAttr(st, SQL_ATTR_CONCURRENCY, &v, 0, NULL);
    emit("stmtattr", "concur now", "%lu", (unsigned long)v);
    free_stmt(st);
}

static void section_typeinfo(void)
{
    SQLHSTMT st = new_stmt();
    SQLRETURN rc = wide ? SQLGetTypeInfoW(st, SQL_ALL_TYPES) : SQLGetTypeInfo(st, SQL_ALL_TYPES);
    rcline("typeinfo", "all", rc, SQL_HANDLE_STMT, st);
    if (SQL_SUCCEEDED(rc))
        dump_result("typeinfo", "all", st);
    static const SQLSMALLINT some[] = {SQL_VARCHAR, SQL_WVARCHAR, SQL_INTEGER, SQL_TYPE_TIMESTAMP, SQL_GUID,
                                       SQL_LONGVARBINARY, SQL_BIT, SQL_NUMERIC};
    for (size_t i = 0; i < sizeof some / sizeof some[0]; i++) {
        char k[32];
        snprintf(k, sizeof k, "type%d", some[i]);
        rc = wide ? SQLGetTypeInfoW(st, some[i]) : SQLGetTypeInfo(st, some[i]);
        rcline("typeinfo", k, rc, SQL_HANDLE_STMT, st);
        if (SQL_SUCCEEDED(rc))
            dump_result("typeinfo", k, st);
    }
    free_stmt(st);
}

/* Catalog calls with up to 6 name arguments (NULL = not given), A or W. */
enum cat { C_TABLES, C_COLUMNS, C_PKEYS, C_FKEYS, C_STATS, C_SPECIAL, C_PROCS, C_PROCCOLS, C_TABPRIV, C_COLPRIV };

static SQLRETURN catalog(SQLHSTMT st, enum cat which, const char *a, const char *b, const char *c, const char *d,
                         const char *e, const char *f, SQLUSMALLINT n1, SQLUSMALLINT n2, SQLUSMALLINT n3)
{
#define A_(x) (SQLCHAR *)(x), (SQLSMALLINT)((x) ? SQL_NTS : 0)
#define W_(x) w##x, (SQLSMALLINT)((x) ? SQL_NTS : 0)
    SQLRETURN rc = SQL_ERROR;
    if (!wide) {
        switch (which) {
        case C_TABLES: rc = SQLTables(st, A_(a), A_(b), A_(c), A_(d)); break;
        case C_COLUMNS: rc = SQLColumns(st, A_(a), A_(b), A_(c), A_(d)); break;
        case C_PKEYS: rc = SQLPrimaryKeys(st, A_(a), A_(b), A_(c)); break;
        case C_FKEYS: rc = SQLForeignKeys(st, A_(a), A_(b), A_(c), A_(d), A_(e), A_(f)); break;
        case C_STATS: rc = SQLStatistics(st, A_(a), A_(b), A_(c), n1, n2); break;
        case C_SPECIAL: rc = SQLSpecialColumns(st, n1, A_(a), A_(b), A_(c), n2, n3); break;
        case C_PROCS: rc = SQLProcedures(st, A_(a), A_(b), A_(c)); break;
        case C_PROCCOLS: rc = SQLProcedureColumns(st, A_(a), A_(b), A_(c), A_(d)); break;
        case C_TABPRIV: rc = SQLTablePrivileges(st, A_(a), A_(b), A_(c)); break;
        case C_COLPRIV: rc = SQLColumnPrivileges(st, A_(a), A_(b), A_(c), A_(d)); break;
        }
        return rc;
    }
    SQLWCHAR *wa = to_w(a), *wb = to_w(b), *wc = to_w(c), *wd = to_w(d), *we = to_w(e), *wf = to_w(f);
    switch (which) {
    case C_TABLES: rc = SQLTablesW(st, W_(a), W_(b), W_(c), W_(d)); break;
    case C_COLUMNS: rc = SQLColumnsW(st, W_(a), W_(b), W_(c), W_(d)); break;
    case C_PKEYS: rc = SQLPrimaryKeysW(st, W_(a), W_(b), W_(c)); break;
    case C_FKEYS: rc = SQLForeignKeysW(st, W_(a), W_(b), W_(c), W_(d), W_(e), W_(f)); break;
    case C_STATS: rc = SQLStatisticsW(st, W_(a), W_(b), W_(c), n1, n2); break;
    case C_SPECIAL: rc = SQLSpecialColumnsW(st, n1, W_(a), W_(b), W_(c), n2, n3); break;
    case C_PROCS: rc = SQLProceduresW(st, W_(a), W_(b), W_(c)); break;
    case C_PROCCOLS: rc = SQLProcedureColumnsW(st, W_(a), W_(b), W_(c), W_(d)); break;
    case C_TABPRIV: rc = SQLTablePrivilegesW(st, W_(a), W_(b), W_(c)); break;
    case C_COLPRIV: rc = SQLColumnPrivilegesW(st, W_(a), W_(b), W_(c), W_(d)); break;
    }
    free(wa), free(wb), free(wc), free(wd), free(we), free(wf);
    return rc;
#undef A_
#undef W_
}

static void cat_run(const char *key, enum cat which, const char *a, const char *b, const char *c, const char *d,
                    const char *e, const char *f, SQLUSMALLINT n1, SQLUSMALLINT n2, SQLUSMALLINT n3)
{
    SQLHSTMT st = new_stmt();
    SQLRETURN rc = catalog(st, which, a, b, c, d, e, f, n1, n2, n3);
    rcline("catalog", key, rc, SQL_HANDLE_STMT, st);
    if (SQL_SUCCEEDED(rc))
        dump_result("catalog", key, st);
    free_stmt(st);
}

static void section_catalog(void)
{
    cat_run("tables lbdiff%", C_TABLES, NULL, "public", "lbdiff%", NULL, NULL, NULL, 0, 0, 0);
    cat_run("tables types", C_TABLES, "", "", "", SQL_ALL_TABLE_TYPES, NULL, NULL, 0, 0, 0);
    cat_run("tables view", C_TABLES, NULL, "public", "lbdiff_view", "VIEW", NULL, NULL, 0, 0, 0);
    cat_run("tables schemas", C_TABLES, "", "public", "", "", NULL, NULL, 0, 0, 0);
    cat_run("columns parent", C_COLUMNS, NULL, "public", "lbdiff_parent", NULL, NULL, NULL, 0, 0, 0);
    cat_run("columns child", C_COLUMNS, NULL, "public", "lbdiff_child", NULL, NULL, NULL, 0, 0, 0);
    cat_run("columns view", C_COLUMNS, NULL, "public", "lbdiff_view", "%", NULL, NULL, 0, 0, 0);
    cat_run("pkeys parent", C_PKEYS, NULL, "public", "lbdiff_parent", NULL, NULL, NULL, 0, 0, 0);
    cat_run("pkeys child", C_PKEYS, NULL, "public", "lbdiff_child", NULL, NULL, NULL, 0, 0, 0);
    cat_run("fkeys from parent", C_FKEYS, NULL, "public", "lbdiff_parent", NULL, NULL, NULL, 0, 0, 0);
    cat_run("fkeys of child", C_FKEYS, NULL, NULL, NULL, NULL, "public", "lbdiff_child", 0, 0, 0);
    cat_run("stats parent all", C_STATS, NULL, "public", "lbdiff_parent", NULL, NULL, NULL, SQL_INDEX_ALL,
            SQL_QUICK, 0);
    cat_run("stats child unique", C_STATS, NULL, "public", "lbdiff_child", NULL, NULL, NULL, SQL_INDEX_UNIQUE,
            SQL_ENSURE, 0);
    cat_run("special best", C_SPECIAL, NULL, "public", "lbdiff_parent", NULL, NULL, NULL, SQL_BEST_ROWID,
            SQL_SCOPE_SESSION, SQL_NULLABLE);
    cat_run("special rowver", C_SPECIAL, NULL, "public", "lbdiff_child", NULL, NULL, NULL, SQL_ROWVER,
            SQL_SCOPE_SESSION, SQL_NULLABLE);
    cat_run("procs", C_PROCS, NULL, "public", "lbdiff%", NULL, NULL, NULL, 0, 0, 0);
    cat_run("proccols", C_PROCCOLS, NULL, "public", "lbdiff%", NULL, NULL, NULL, 0, 0, 0);
    cat_run("tabpriv", C_TABPRIV, NULL, "public", "lbdiff_parent", NULL, NULL, NULL, 0, 0, 0);
    cat_run("colpriv", C_COLPRIV, NULL, "public", "lbdiff_child", "%", NULL, NULL, 0, 0, 0);
    cat_run("columns nosuch", C_COLUMNS, NULL, "public", "lbdiff_nosuch", NULL, NULL, NULL, 0, 0, 0);
}

static void section_describe(void)
{
    SQLHSTMT st = new_stmt();
    SQLRETURN rc = exec(st, "SELECT id, name, note, price, flag, created, data, id * 2 AS twice, 'x'::char(3) AS fixed "
                            "FROM lbdiff_parent ORDER BY id");
    rcline("describe", "exec", rc, SQL_HANDLE_STMT, st);
    SQLSMALLINT ncols = 0;
    SQLNumResultCols(st, &ncols);
    static const SQLUSMALLINT fields[] = {
        SQL_DESC_AUTO_UNIQUE_VALUE, SQL_DESC_BASE_COLUMN_NAME, SQL_DESC_BASE_TABLE_NAME, SQL_DESC_CASE_SENSITIVE,
        SQL_DESC_CATALOG_NAME, SQL_DESC_CONCISE_TYPE, SQL_DESC_COUNT, SQL_DESC_DISPLAY_SIZE, SQL_DESC_FIXED_PREC_SCALE,
        SQL_DESC_LABEL, SQL_DESC_LENGTH, SQL_DESC_LITERAL_PREFIX, SQL_DESC_LITERAL_SUFFIX, SQL_DESC_LOCAL_TYPE_NAME,
        SQL_DESC_NAME, SQL_DESC_NULLABLE, SQL_DESC_NUM_PREC_RADIX, SQL_DESC_OCTET_LENGTH, SQL_DESC_PRECISION,
        SQL_DESC_SCALE, SQL_DESC_SCHEMA_NAME, SQL_DESC_SEARCHABLE, SQL_DESC_TABLE_NAME, SQL_DESC_TYPE,
        SQL_DESC_TYPE_NAME, SQL_DESC_UNNAMED, SQL_DESC_UNSIGNED, SQL_DESC_UPDATABLE};
    for (SQLUSMALLINT c = 1; c <= ncols; c++)
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
            char k[64], text[1024] = "";
            SQLSMALLINT len = -999;
            SQLLEN num = -999;
            SQLWCHAR wbuf[512];
            if (wide) {
                rc = SQLColAttributeW(st, c, fields[i], wbuf, sizeof wbuf, &len, &num);
                if (SQL_SUCCEEDED(rc) && len > 0)
                    from_w(wbuf, (size_t)len / 2 < 511 ? (size_t)len / 2 : 511, text, sizeof text);
            } else {
                rc = SQLColAttribute(st, c, fields[i], text, sizeof text, &len, &num);
                if (!SQL_SUCCEEDED(rc) || len < 0)
                    text[0] = '\0';
            }
            snprintf(k, sizeof k, "col%d field%d", c, fields[i]);
            if (!SQL_SUCCEEDED(rc))
                rcline("colattr", k, rc, SQL_HANDLE_STMT, st);
            else
                emit("colattr", k, "rc=%d len=%d num=%ld text=\"%s\"", (int)rc, (int)len, (long)num, text);
        }
    /* The same through the implementation row descriptor. */
    SQLHDESC ird = NULL;
    SQLGetStmtAttr(st, SQL_ATTR_IMP_ROW_DESC, &ird, 0, NULL);
    SQLINTEGER count = -1;
    rc = SQLGetDescField(ird, 0, SQL_DESC_COUNT, &count, 0, NULL);
    emit("desc", "ird count", "rc=%d %d", (int)rc, (int)count);
    for (SQLSMALLINT c = 1; c <= count && c <= 20; c++) {
        SQLCHAR name[256] = "";
        SQLSMALLINT type = 0, sub = 0, prec = 0, scale = 0, nullable = 0, nlen = 0;
        SQLLEN length = 0;
        char k[32];
        rc = SQLGetDescRec(ird, c, name, sizeof name, &nlen, &type, &sub, &length, &prec, &scale, &nullable);
        snprintf(k, sizeof k, "ird rec%d", c);
        if (SQL_SUCCEEDED(rc))
            emit("desc", k, "rc=%d name=%s type=%d sub=%d length=%ld prec=%d scale=%d nullable=%d", (int)rc,
                 (char *)name, type, sub, (long)length, prec, scale, nullable);
        else
            rcline("desc", k, rc, SQL_HANDLE_DESC, ird);
    }
    SQLCloseCursor(st);
    /* Parameters: SQLNumParams, SQLDescribeParam, the IPD. */
    rc = prepare(st, "SELECT id FROM lbdiff_parent WHERE id = ? AND name <> ? AND price > ?");
    rcline("params", "prepare", rc, SQL_HANDLE_STMT, st);
    SQLSMALLINT np = -1;
    rc = SQLNumParams(st, &np);
    emit("params", "num", "rc=%d %d", (int)rc, np);
    for (SQLUSMALLINT p = 1; p <= np && p <= 5; p++) {
        SQLSMALLINT type = 0, digits = 0, nullable = 0;
        SQLULEN size = 0;
        char k[32];
        rc = SQLDescribeParam(st, p, &type, &size, &digits, &nullable);
        snprintf(k, sizeof k, "describe%d", p);
        if (SQL_SUCCEEDED(rc))
            emit("params", k, "rc=%d type=%d size=%lu digits=%d nullable=%d", (int)rc, type, (unsigned long)size,
                 digits, nullable);
        else
            rcline("params", k, rc, SQL_HANDLE_STMT, st);
    }
    free_stmt(st);
}

/* Bound parameters of every common SQL C type, echoed back by the server. */
static void section_bind(void)
{
    struct bind {
        const char *name;
        SQLSMALLINT ctype, sqltype;
        SQLULEN colsize;
        SQLSMALLINT digits;
        const char *cast;
    };
    SQL_DATE_STRUCT date = {2024, 2, 29};
    SQL_TIME_STRUCT time = {23, 59, 58};
    SQL_TIMESTAMP_STRUCT ts = {2024, 12, 31, 13, 14, 15, 123456000};
    SQLGUID guid = {0x12345678, 0x9abc, 0xdef0, {1, 2, 3, 4, 5, 6, 7, 8}};
    SQL_NUMERIC_STRUCT num;
    memset(&num, 0, sizeof num);
    num.precision = 10;
    num.scale = 2;
    num.sign = 1;
    num.val[0] = 0x39; /* 12345 -> 123.45 */
    num.val[1] = 0x30;
    char cval[] = "héllo, 'quoted'";
    SQLWCHAR wval[] = {'w', 0x00e9, 'd', 0x4e2d, 0};
    short s16 = -12345;
    unsigned short u16 = 54321;
    int s32 = -2000000000;
    unsigned int u32 = 4000000000u;
    long long s64 = -9000000000000000000LL;
    unsigned long long u64 = 18000000000000000000ULL;
    signed char s8 = -100;
    unsigned char u8 = 200, bit = 1;
    float f = 1.5f;
    double d = -2.25e100;
    unsigned char bin[] = {0, 1, 2, 0xfe, 0xff};
    struct {
        struct bind b;
        void *p;
        SQLLEN len;
    } cases[] = {
        {{"char", SQL_C_CHAR, SQL_VARCHAR, 40, 0, "text"}, cval, SQL_NTS},
        {{"wchar", SQL_C_WCHAR, SQL_WVARCHAR, 40, 0, "text"}, wval, SQL_NTS},
        {{"sshort", SQL_C_SSHORT, SQL_SMALLINT, 5, 0, "int2"}, &s16, 0},
        {{"ushort", SQL_C_USHORT, SQL_INTEGER, 10, 0, "int4"}, &u16, 0},
        {{"slong", SQL_C_SLONG, SQL_INTEGER, 10, 0, "int4"}, &s32, 0},
        {{"ulong", SQL_C_ULONG, SQL_BIGINT, 19, 0, "int8"}, &u32, 0},
        {{"sbigint", SQL_C_SBIGINT, SQL_BIGINT, 19, 0, "int8"}, &s64, 0},
        {{"ubigint", SQL_C_UBIGINT, SQL_NUMERIC, 20, 0, "numeric"}, &u64, 0},
        {{"stinyint", SQL_C_STINYINT, SQL_SMALLINT, 3, 0, "int2"}, &s8, 0},
        {{"utinyint", SQL_C_UTINYINT, SQL_SMALLINT, 3, 0, "int2"}, &u8, 0},
        {{"bit", SQL_C_BIT, SQL_BIT, 1, 0, "bool"}, &bit, 0},
        {{"float", SQL_C_FLOAT, SQL_REAL, 7, 0, "float4"}, &f, 0},
        {{"double", SQL_C_DOUBLE, SQL_DOUBLE, 15, 0, "float8"}, &d, 0},
        {{"numeric", SQL_C_NUMERIC, SQL_NUMERIC, 10, 2, "numeric"}, &num, sizeof num},
        {{"date", SQL_C_TYPE_DATE, SQL_TYPE_DATE, 10, 0, "date"}, &date, sizeof date},
        {{"time", SQL_C_TYPE_TIME, SQL_TYPE_TIME, 8, 0, "time"}, &time, sizeof time},
        {{"timestamp", SQL_C_TYPE_TIMESTAMP, SQL_TYPE_TIMESTAMP, 26, 6, "timestamp"}, &ts, sizeof ts},
        {{"binary", SQL_C_BINARY, SQL_VARBINARY, 5, 0, "bytea"}, bin, sizeof bin},
        {{"guid", SQL_C_GUID, SQL_GUID, 36, 0, "uuid"}, &guid, sizeof guid},
        {{"null", SQL_C_CHAR, SQL_VARCHAR, 10, 0, "text"}, cval, SQL_NULL_DATA},
        {{"char as int", SQL_C_CHAR, SQL_INTEGER, 10, 0, "int4"}, (void *)"42", SQL_NTS},
        {{"char as date", SQL_C_CHAR, SQL_TYPE_DATE, 10, 0, "date"}, (void *)"2023-01-02", SQL_NTS},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        SQLHSTMT st = new_stmt();
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT CAST(? AS %s) AS v, pg_typeof(CAST(? AS %s))::text AS t", cases[i].b.cast,
                 cases[i].b.cast);
        SQLLEN len1 = cases[i].len, len2 = cases[i].len;
        SQLLEN buflen = cases[i].b.ctype == SQL_C_CHAR || cases[i].b.ctype == SQL_C_WCHAR ? 0 : cases[i].len;
        SQLRETURN rc = prepare(st, sql);
        char k[64];
        snprintf(k, sizeof k, "%s prepare", cases[i].b.name);
        rcline("bind", k, rc, SQL_HANDLE_STMT, st);
        rc = SQLBindParameter(st, 1, SQL_PARAM_INPUT, cases[i].b.ctype, cases[i].b.sqltype, cases[i].b.colsize,
                              cases[i].b.digits, cases[i].p, buflen, &len1);
        snprintf(k, sizeof k, "%s bind", cases[i].b.name);
        rcline("bind", k, rc, SQL_HANDLE_STMT, st);
        SQLBindParameter(st, 2, SQL_PARAM_INPUT, cases[i].b.ctype, cases[i].b.sqltype, cases[i].b.colsize,
                         cases[i].b.digits, cases[i].p, buflen, &len2);
        rc = SQLExecute(st);
        snprintf(k, sizeof k, "%s", cases[i].b.name);
        rcline("bind", k, rc, SQL_HANDLE_STMT, st);
        if (SQL_SUCCEEDED(rc))
            dump_result("bind", k, st);
        free_stmt(st);
    }
    /* An INSERT with bound parameters, then the rows read back. */
    SQLHSTMT st = new_stmt();
    int id = 10;
    char name[41] = "bound-name";
    SQLLEN idlen = 0, namelen = SQL_NTS;
    SQLRETURN rc = prepare(st, "INSERT INTO lbdiff_parent (id, name, price) VALUES (?, ?, 9.5)");
    rcline("bind", "insert prepare", rc, SQL_HANDLE_STMT, st);
    SQLBindParameter(st, 1, SQL_PARAM_INPUT, SQL_C_SLONG, SQL_INTEGER, 0, 0, &id, 0, &idlen);
    SQLBindParameter(st, 2, SQL_PARAM_INPUT, SQL_C_CHAR, SQL_VARCHAR, 40, 0, name, sizeof name, &namelen);
    for (int i = 0; i < 3; i++) {
        id = 10 + i;
        snprintf(name, sizeof name, "bound-%d", i);
        rc = SQLExecute(st);
        SQLLEN rows = -2;
        SQLRowCount(st, &rows);
        char k[32];
        snprintf(k, sizeof k, "insert%d", i);
        emit("bind", k, "rc=%d rows=%ld", (int)rc, (long)rows);
    }
    free_stmt(st);
    run_sql("bind", "readback", "SELECT id, name, price FROM lbdiff_parent WHERE id >= 10 ORDER BY id");
}

static unsigned long fnv(const unsigned char *p, size_t n)
{
    unsigned long h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h & 0xffffffffu;
}

/* Large text and bytea: SQLGetData in pieces; SQLPutData at execution. */
static void section_pieces(void)
{
    SQLHSTMT st = new_stmt();
    SQLRETURN rc = exec(st, "SELECT repeat('abcdefghij', 1000) || 'END', decode(repeat('00ff7f80', 1500), 'hex')");
    rcline("pieces", "exec", rc, SQL_HANDLE_STMT, st);
    rc = SQLFetch(st);
    rcline("pieces", "fetch", rc, SQL_HANDLE_STMT, st);
    SQLSMALLINT ctypes[2] = {wide ? SQL_C_WCHAR : SQL_C_CHAR, SQL_C_BINARY};
    for (SQLUSMALLINT c = 1; c <= 2; c++)
        for (int piece = 1; piece < 40; piece++) {
            unsigned char buf[778]; /* pieces of 777 bytes: not a multiple of the data's period */
            SQLLEN ind = -999;
            rc = SQLGetData(st, c, ctypes[c - 1], buf, sizeof buf - 1, &ind);
            char k[32];
            snprintf(k, sizeof k, "col%d piece%d", c, piece);
            if (rc == SQL_NO_DATA) {
                emit("pieces", k, "rc=100");
                break;
            }
            size_t got = ind == SQL_NO_TOTAL || ind > (SQLLEN)(sizeof buf - 1) ? sizeof buf - 1 : (size_t)ind;
            if (ctypes[c - 1] != SQL_C_BINARY && got == sizeof buf - 1)
                got -= wide ? 2 : 1; /* the terminator */
            if (!SQL_SUCCEEDED(rc)) {
                rcline("pieces", k, rc, SQL_HANDLE_STMT, st);
                break;
            }
            emit("pieces", k, "rc=%d ind=%ld hash=%08lx", (int)rc, (long)ind, fnv(buf, got));
            diags("pieces", k, SQL_HANDLE_STMT, st);
        }
    free_stmt(st);

    st = new_stmt();
    rc = prepare(st, "INSERT INTO lbdiff_parent (id, name, note, data) VALUES (20, 'putdata', ?, ?)");
    rcline("putdata", "prepare", rc, SQL_HANDLE_STMT, st);
    SQLLEN at1 = SQL_LEN_DATA_AT_EXEC(0), at2 = SQL_LEN_DATA_AT_EXEC(0);
    SQLBindParameter(st, 1, SQL_PARAM_INPUT, SQL_C_CHAR, SQL_LONGVARCHAR, 100000, 0, (SQLPOINTER)1, 0, &at1);
    SQLBindParameter(st, 2, SQL_PARAM_INPUT, SQL_C_BINARY, SQL_LONGVARBINARY, 100000, 0, (SQLPOINTER)2, 0, &at2);
    rc = SQLExecute(st);
    rcline("putdata", "execute", rc, SQL_HANDLE_STMT, st);
    SQLPOINTER token = NULL;
    int rounds = 0;
    while ((rc = SQLParamData(st, &token)) == SQL_NEED_DATA && rounds++ < 5) {
        char k[32];
        snprintf(k, sizeof k, "param%ld", (long)(intptr_t)token);
        for (int i = 0; i < 7; i++) {
            unsigned char chunk[1000];
            for (size_t j = 0; j < sizeof chunk; j++)
                chunk[j] = (intptr_t)token == 1 ? (unsigned char)('a' + (i + j) % 26) : (unsigned char)(i * 31 + j);
            SQLRETURN p = SQLPutData(st, chunk, sizeof chunk);
            if (p != SQL_SUCCESS)
                rcline("putdata", k, p, SQL_HANDLE_STMT, st);
        }
        emit("putdata", k, "sent 7000 bytes");
    }
    rcline("putdata", "paramdata end", rc, SQL_HANDLE_STMT, st);
    free_stmt(st);
    run_sql("putdata", "readback", "SELECT length(note), md5(note), length(data), md5(data) FROM lbdiff_parent WHERE id = 20");
}

static void section_scroll(void)
{
    SQLHSTMT st = new_stmt();
    SQLSetStmtAttr(st, SQL_ATTR_CURSOR_TYPE, (SQLPOINTER)SQL_CURSOR_STATIC, 0);
    SQLSetStmtAttr(st, SQL_ATTR_CONCURRENCY, (SQLPOINTER)SQL_CONCUR_READ_ONLY, 0);
    SQLRETURN rc = exec(st, "SELECT g, g * g FROM generate_series(1, 20) g ORDER BY g");
    rcline("scroll", "exec", rc, SQL_HANDLE_STMT, st);
    struct {
        const char *name;
        SQLSMALLINT orient;
        SQLLEN off;
    } moves[] = {{"first", SQL_FETCH_FIRST, 0},       {"next", SQL_FETCH_NEXT, 0},     {"last", SQL_FETCH_LAST, 0},
                 {"prior", SQL_FETCH_PRIOR, 0},       {"abs5", SQL_FETCH_ABSOLUTE, 5}, {"rel3", SQL_FETCH_RELATIVE, 3},
                 {"abs-2", SQL_FETCH_ABSOLUTE, -2},   {"abs99", SQL_FETCH_ABSOLUTE, 99},
                 {"prior after end", SQL_FETCH_PRIOR, 0}};
    for (size_t i = 0; i < sizeof moves / sizeof moves[0]; i++) {
        rc = SQLFetchScroll(st, moves[i].orient, moves[i].off);
        if (SQL_SUCCEEDED(rc)) {
            char v[64];
            SQLLEN ind;
            get_text(st, 1, v, sizeof v, &ind);
            SQLULEN rownum = 0;
            SQLGetStmtAttr(st, SQL_ATTR_ROW_NUMBER, &rownum, 0, NULL);
            emit("scroll", moves[i].name, "rc=%d g=%s row=%lu", (int)rc, v, (unsigned long)rownum);
        } else {
            rcline("scroll", moves[i].name, rc, SQL_HANDLE_STMT, st);
        }
    }
    rc = SQLSetPos(st, 1, SQL_POSITION, SQL_LOCK_NO_CHANGE);
    rcline("scroll", "setpos position", rc, SQL_HANDLE_STMT, st);
    free_stmt(st);

    /* A rowset of 4 with bound columns and a row status array. */
    st = new_stmt();
    SQLULEN fetched = 0;
    SQLUSMALLINT status[4];
    int vals[4];
    SQLLEN inds[4];
    SQLSetStmtAttr(st, SQL_ATTR_CURSOR_TYPE, (SQLPOINTER)SQL_CURSOR_STATIC, 0);
    SQLSetStmtAttr(st, SQL_ATTR_ROW_ARRAY_SIZE, (SQLPOINTER)4, 0);
    SQLSetStmtAttr(st, SQL_ATTR_ROW_STATUS_PTR, status, 0);
    SQLSetStmtAttr(st, SQL_ATTR_ROWS_FETCHED_PTR, &fetched, 0);
    rc = exec(st, "SELECT g FROM generate_series(1, 10) g ORDER BY g");
    rcline("rowset", "exec", rc, SQL_HANDLE_STMT, st);
    SQLBindCol(st, 1, SQL_C_SLONG, vals, 0, inds);
    for (int i = 0; i < 4; i++) {
        memset(status, 0xff, sizeof status);
        rc = SQLFetchScroll(st, SQL_FETCH_NEXT, 0);
        char k[32];
        snprintf(k, sizeof k, "next%d", i);
        if (SQL_SUCCEEDED(rc))
            emit("rowset", k, "rc=%d fetched=%lu vals=%d,%d,%d,%d status=%u,%u,%u,%u", (int)rc, (unsigned long)fetched,
                 vals[0], fetched > 1 ? vals[1] : 0, fetched > 2 ? vals[2] : 0, fetched > 3 ? vals[3] : 0, status[0],
                 status[1], status[2], status[3]);
        else
            rcline("rowset", k, rc, SQL_HANDLE_STMT, st);
    }
    free_stmt(st);

    /* SQLSetPos update and SQLBulkOperations add on a keyset cursor over our table. */
    st = new_stmt();
    SQLSetStmtAttr(st, SQL_ATTR_CURSOR_TYPE, (SQLPOINTER)SQL_CURSOR_KEYSET_DRIVEN, 0);
    SQLSetStmtAttr(st, SQL_ATTR_CONCURRENCY, (SQLPOINTER)SQL_CONCUR_ROWVER, 0);
    rc = exec(st, "SELECT id, name FROM lbdiff_parent WHERE id >= 10 AND id < 20 ORDER BY id");
    rcline("setpos", "exec", rc, SQL_HANDLE_STMT, st);
    int pid = 0;
    char pname[41] = "";
    SQLLEN pidind = 0, pnameind = 0;
    SQLBindCol(st, 1, SQL_C_SLONG, &pid, 0, &pidind);
    SQLBindCol(st, 2, SQL_C_CHAR, pname, sizeof pname, &pnameind);
    rc = SQLFetchScroll(st, SQL_FETCH_NEXT, 0);
    rcline("setpos", "fetch", rc, SQL_HANDLE_STMT, st);
    emit("setpos", "row", "%d %s", pid, pname);
    snprintf(pname, sizeof pname, "updated-by-setpos");
    pnameind = SQL_NTS;
    rc = SQLSetPos(st, 1, SQL_UPDATE, SQL_LOCK_NO_CHANGE);
    rcline("setpos", "update", rc, SQL_HANDLE_STMT, st);
    pid = 30;
    snprintf(pname, sizeof pname, "added-by-bulk");
    rc = SQLBulkOperations(st, SQL_ADD);
    rcline("setpos", "bulk add", rc, SQL_HANDLE_STMT, st);
    free_stmt(st);
    run_sql("setpos", "readback", "SELECT id, name FROM lbdiff_parent WHERE id >= 10 ORDER BY id");

    run_sql("more", "two selects", "SELECT 1 AS a; SELECT 'two' AS b, 3 AS c");
    run_sql("more", "select update select", "SELECT 1; UPDATE lbdiff_parent SET note = note WHERE id < 0; SELECT 2");
}

static void count_rows(const char *key)
{
    run_sql("txn", key, "SELECT count(*) FROM lbdiff_parent WHERE id BETWEEN 100 AND 199");
}

static void section_txn(void)
{
    SQLRETURN rc = SQLSetConnectAttr(dbc, SQL_ATTR_AUTOCOMMIT, (SQLPOINTER)SQL_AUTOCOMMIT_OFF, 0);
    rcline("txn", "autocommit off", rc, SQL_HANDLE_DBC, dbc);
    run_sql("txn", "insert1", "INSERT INTO lbdiff_parent (id, name) VALUES (100, 'rolled back')");
    rc = SQLEndTran(SQL_HANDLE_DBC, dbc, SQL_ROLLBACK);
    rcline("txn", "rollback", rc, SQL_HANDLE_DBC, dbc);
    count_rows("after rollback");
    run_sql("txn", "insert2", "INSERT INTO lbdiff_parent (id, name) VALUES (101, 'committed')");
    rc = SQLEndTran(SQL_HANDLE_DBC, dbc, SQL_COMMIT);
    rcline("txn", "commit", rc, SQL_HANDLE_DBC, dbc);
    count_rows("after commit");
    /* An error inside a transaction: what the next statement sees depends on Protocol. */
    run_sql("txn", "insert3", "INSERT INTO lbdiff_parent (id, name) VALUES (102, 'before error')");
    run_sql("txn", "error in txn", "INSERT INTO lbdiff_parent (id, name) VALUES (101, 'duplicate')");
    run_sql("txn", "after error", "SELECT count(*) FROM lbdiff_parent WHERE id BETWEEN 100 AND 199");
    rc = SQLEndTran(SQL_HANDLE_DBC, dbc, SQL_COMMIT);
    rcline("txn", "commit2", rc, SQL_HANDLE_DBC, dbc);
    count_rows("after commit2");
    SQLINTEGER iso = 0;
    rc = SQLSetConnectAttr(dbc, SQL_ATTR_TXN_ISOLATION, (SQLPOINTER)SQL_TXN_SERIALIZABLE, 0);
    rcline("txn", "serializable", rc, SQL_HANDLE_DBC, dbc);
    run_sql("txn", "isolation", "SHOW transaction_isolation");
    SQLGetConnectAttr(dbc, SQL_ATTR_TXN_ISOLATION, &iso, 0, NULL);
    emit("txn", "isolation attr", "%d", (int)iso);
    SQLEndTran(SQL_HANDLE_DBC, dbc, SQL_ROLLBACK);
    SQLSetConnectAttr(dbc, SQL_ATTR_TXN_ISOLATION, (SQLPOINTER)SQL_TXN_READ_COMMITTED, 0);
    rc = SQLSetConnectAttr(dbc, SQL_ATTR_AUTOCOMMIT, (SQLPOINTER)SQL_AUTOCOMMIT_ON, 0);
    rcline("txn", "autocommit on", rc, SQL_HANDLE_DBC, dbc);
}

static void section_errors(void)
{
    run_sql("error", "syntax", "SELEC 1");
    run_sql("error", "no table", "SELECT * FROM lbdiff_nosuch");
    run_sql("error", "div zero", "SELECT 1 / 0");
    run_sql("error", "unique", "INSERT INTO lbdiff_parent (id, name) VALUES (10, 'dup')");
    run_sql("error", "fk", "INSERT INTO lbdiff_child (pid) VALUES (9999)");
    run_sql("error", "not null", "INSERT INTO lbdiff_parent (id) VALUES (50)");
    run_sql("error", "raise", "DO $$BEGIN RAISE NOTICE 'a notice'; RAISE WARNING 'a warning'; END$$");
    run_sql("error", "raise exception", "DO $$BEGIN RAISE EXCEPTION 'custom failure' USING ERRCODE = 'P0001'; END$$");
    run_sql("error", "bad cast", "SELECT 'abc'::integer");
    /* Diagnostic fields of one error. */
    SQLHSTMT st = new_stmt();
    SQLRETURN rc = exec(st, "SELECT * FROM lbdiff_nosuch");
    SQLINTEGER number = -1;
    SQLLEN rowcount = -1;
    SQLGetDiagField(SQL_HANDLE_STMT, st, 0, SQL_DIAG_NUMBER, &number, 0, NULL);
    SQLGetDiagField(SQL_HANDLE_STMT, st, 0, SQL_DIAG_CURSOR_ROW_COUNT, &rowcount, 0, NULL);
    SQLCHAR cls[64] = "", sub[64] = "", state[8] = "";
    SQLINTEGER native = 0;
    SQLGetDiagField(SQL_HANDLE_STMT, st, 1, SQL_DIAG_CLASS_ORIGIN, cls, sizeof cls, NULL);
    SQLGetDiagField(SQL_HANDLE_STMT, st, 1, SQL_DIAG_SUBCLASS_ORIGIN, sub, sizeof sub, NULL);
    SQLGetDiagField(SQL_HANDLE_STMT, st, 1, SQL_DIAG_SQLSTATE, state, sizeof state, NULL);
    SQLGetDiagField(SQL_HANDLE_STMT, st, 1, SQL_DIAG_NATIVE, &native, 0, NULL);
    emit("error", "fields", "rc=%d number=%d class=%s subclass=%s state=%s native=%d", (int)rc, (int)number,
         (char *)cls, (char *)sub, (char *)state, (int)native);
    /* Function sequence errors the driver manager or the driver reports. */
    rc = SQLFetch(st);
    rcline("error", "fetch without result", rc, SQL_HANDLE_STMT, st);
    rc = SQLExecute(st);
    rcline("error", "execute unprepared", rc, SQL_HANDLE_STMT, st);
    rc = SQLGetData(st, 1, SQL_C_CHAR, cls, sizeof cls, NULL);
    rcline("error", "getdata no cursor", rc, SQL_HANDLE_STMT, st);
    rc = SQLSetStmtAttr(st, 99999, (SQLPOINTER)1, 0);
    rcline("error", "bad stmt attr", rc, SQL_HANDLE_STMT, st);
    rc = SQLSetConnectAttr(dbc, 99999, (SQLPOINTER)1, 0);
    rcline("error", "bad conn attr", rc, SQL_HANDLE_DBC, dbc);
    /* SQLCancel on an idle statement, and on one with a pending result. */
    rc = SQLCancel(st);
    rcline("cancel", "idle", rc, SQL_HANDLE_STMT, st);
    rc = exec(st, "SELECT g FROM generate_series(1, 5) g");
    rcline("cancel", "exec", rc, SQL_HANDLE_STMT, st);
    rc = SQLCancel(st);
    rcline("cancel", "with result", rc, SQL_HANDLE_STMT, st);
    rc = SQLFetch(st);
    rcline("cancel", "fetch after", rc, SQL_HANDLE_STMT, st);
    free_stmt(st);
}

/* ODBC 2 calls that the driver manager maps to ODBC 3 ones. */
static void section_odbc2(void)
{
    SQLHSTMT st = NULL;
    SQLRETURN rc = SQLAllocStmt(dbc, &st);
    rcline("odbc2", "allocstmt", rc, SQL_HANDLE_DBC, dbc);
    if (!SQL_SUCCEEDED(rc))
        return;
    rc = SQLSetStmtOption(st, SQL_ROWSET_SIZE, 1);
    rcline("odbc2", "setstmtoption", rc, SQL_HANDLE_STMT, st);
    SQLULEN v = 0;
    rc = SQLGetStmtOption(st, SQL_QUERY_TIMEOUT, &v);
    emit("odbc2", "getstmtoption", "rc=%d %lu", (int)rc, (unsigned long)v);
    SQLUINTEGER ac = 0;
    rc = SQLGetConnectOption(dbc, SQL_AUTOCOMMIT, &ac);
    emit("odbc2", "getconnectoption", "rc=%d %u", (int)rc, (unsigned)ac);
    rc = exec(st, "SELECT id, name FROM lbdiff_parent ORDER BY id");
    rcline("odbc2", "exec", rc, SQL_HANDLE_STMT, st);
    for (SQLUSMALLINT c = 1; c <= 2; c++) {
        char text[256] = "";
        SQLSMALLINT len = 0;
        SQLLEN num = 0;
        rc = SQLColAttributes(st, c, SQL_COLUMN_TYPE, text, sizeof text, &len, &num);
        char k[32];
        snprintf(k, sizeof k, "colattributes%d type", c);
        emit("odbc2", k, "rc=%d num=%ld", (int)rc, (long)num);
        rc = SQLColAttributes(st, c, SQL_COLUMN_NAME, text, sizeof text, &len, &num);
        snprintf(k, sizeof k, "colattributes%d name", c);
        emit("odbc2", k, "rc=%d text=%s", (int)rc, text);
    }
    SQLULEN rows = 0;
    SQLUSMALLINT status[1];
    rc = SQLExtendedFetch(st, SQL_FETCH_NEXT, 0, &rows, status);
    emit("odbc2", "extendedfetch", "rc=%d rows=%lu status=%u", (int)rc, (unsigned long)rows, status[0]);
    SQLFreeStmt(st, SQL_CLOSE);
    rc = exec(st, "SELEC 2");
    SQLCHAR state[6] = "", msg[512] = "";
    SQLINTEGER native = 0;
    SQLSMALLINT len = 0;
    SQLRETURN e = SQLError(env, dbc, st, state, &native, msg, sizeof msg, &len);
    emit("odbc2", "error", "rc=%d err=%d [%s] %d %s", (int)rc, (int)e, (char *)state, (int)native, (char *)msg);
    rc = SQLTransact(env, dbc, SQL_COMMIT);
    rcline("odbc2", "transact", rc, SQL_HANDLE_DBC, dbc);
    rc = SQLFreeStmt(st, SQL_DROP);
    emit("odbc2", "freestmt drop", "rc=%d", (int)rc);
}

static const char *setup_sql[] = {
    "DROP VIEW IF EXISTS lbdiff_view",
    "DROP TABLE IF EXISTS lbdiff_child",
    "DROP TABLE IF EXISTS lbdiff_parent",
    "DROP FUNCTION IF EXISTS lbdiff_add(integer, integer)",
    "CREATE TABLE lbdiff_parent (id integer PRIMARY KEY, name varchar(40) NOT NULL UNIQUE, note text, "
    "price numeric(10,2), flag boolean, created timestamp, data bytea)",
    "CREATE TABLE lbdiff_child (cid serial PRIMARY KEY, pid integer REFERENCES lbdiff_parent(id) ON DELETE CASCADE, "
    "qty smallint DEFAULT 1, amount double precision, d date, t time, u uuid, flags boolean[])",
    "CREATE INDEX lbdiff_child_pid ON lbdiff_child (pid)",
    "CREATE VIEW lbdiff_view AS SELECT p.id, p.name, c.qty FROM lbdiff_parent p JOIN lbdiff_child c ON c.pid = p.id",
    "CREATE FUNCTION lbdiff_add(a integer, b integer) RETURNS integer LANGUAGE sql AS 'SELECT a + b'",
    "INSERT INTO lbdiff_parent VALUES (1, 'one', 'first', 1.25, true, '2024-01-02 03:04:05', '\\x00ff'), "
    "(2, 'two', NULL, NULL, false, NULL, NULL), (3, 'three', repeat('x', 300), 99999999.99, NULL, "
    "'1999-12-31 23:59:59.5', '\\x')",
    "INSERT INTO lbdiff_child (pid, qty, amount, d, t, u, flags) VALUES (1, 5, 1.5, '2024-02-29', '12:00', "
    "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{t,f}'), (1, 6, NULL, NULL, NULL, NULL, NULL), "
    "(2, 7, -0.0, '0001-01-01', '23:59:59', NULL, '{}')",
};

static void teardown(void)
{
    SQLHSTMT st = new_stmt();
    for (size_t i = 0; i < 4; i++)
        exec(st, setup_sql[i]);
    free_stmt(st);
}

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "A") != 0 && strcmp(argv[1], "W") != 0)) {
        fprintf(stderr, "usage: LBDIFF_CONNSTR=... %s A|W\n", argv[0]);
        return 2;
    }
    wide = argv[1][0] == 'W';
    const char *cs = getenv("LBDIFF_CONNSTR");
    if (cs == NULL || *cs == '\0') {
        fprintf(stderr, "differential_test: LBDIFF_CONNSTR is not set\n");
        return 2;
    }
    SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env);
    SQLSetEnvAttr(env, SQL_ATTR_ODBC_VERSION, (SQLPOINTER)SQL_OV_ODBC3, 0);
    SQLAllocHandle(SQL_HANDLE_DBC, env, &dbc);
    char out[4096] = "";
    SQLSMALLINT outlen = 0;
    SQLRETURN rc;
    if (wide) {
        SQLWCHAR *w = to_w(cs), wout[2048];
        rc = SQLDriverConnectW(dbc, NULL, w, SQL_NTS, wout, 2048, &outlen, SQL_DRIVER_NOPROMPT);
        free(w);
        if (SQL_SUCCEEDED(rc))
            from_w(wout, outlen < 2048 ? (size_t)outlen : 2047, out, sizeof out);
    } else {
        rc = SQLDriverConnect(dbc, NULL, (SQLCHAR *)cs, SQL_NTS, (SQLCHAR *)out, sizeof out, &outlen,
                              SQL_DRIVER_NOPROMPT);
    }
    if (!SQL_SUCCEEDED(rc)) {
        fprintf(stderr, "differential_test: connect failed (rc=%d)\n", (int)rc);
        diags("connect", "failed", SQL_HANDLE_DBC, dbc);
        return 2;
    }
    /* The output connection string holds the password on the psqlODBC side: only its keys. */
    {
        char keys[4096] = "";
        size_t o = 0;
        for (char *p = out; *p;) {
            char *eq = strchr(p, '=');
            if (eq == NULL)
                break;
            o += (size_t)snprintf(keys + o, o < sizeof keys ? sizeof keys - o : 0, "%.*s;", (int)(eq - p), p);
            char *semi = eq[1] == '{' ? strstr(eq, "};") : strchr(eq, ';');
            if (semi == NULL)
                break;
            p = semi + (semi[0] == '}' ? 2 : 1);
        }
        printf("connect out: keys=%s\n", keys);
    }
    emit("connect", "rc", "%d", (int)rc);

    /* Identity first (declared differences), raw; then <user> everywhere else. */
    SQLHSTMT st = new_stmt();
    exec(st, "SELECT current_user, current_database()");
    if (SQL_SUCCEEDED(SQLFetch(st))) {
        SQLLEN ind;
        char db[256];
        get_text(st, 1, user, sizeof user, &ind);
        get_text(st, 2, db, sizeof db, &ind);
        printf("ident current_user: %s\n", user);
        printf("ident database: %s\n", db);
    }
    free_stmt(st);
    {
        char u[256] = "";
        SQLSMALLINT len = 0;
        SQLGetInfo(dbc, SQL_USER_NAME, u, sizeof u, &len);
        printf("ident SQL_USER_NAME: %s\n", u);
    }

    st = new_stmt();
    for (size_t i = 0; i < sizeof setup_sql / sizeof setup_sql[0]; i++) {
        rc = exec(st, setup_sql[i]);
        if (!SQL_SUCCEEDED(rc)) {
            fprintf(stderr, "differential_test: setup statement %zu failed\n", i);
            diags("setup", "failed", SQL_HANDLE_STMT, st);
            return 2;
        }
    }
    free_stmt(st);

    section_info();
    section_functions();
    section_connect_attrs();
    section_stmt_attrs();
    section_typeinfo();
    section_catalog();
    section_describe();
    section_bind();
    section_pieces();
    section_scroll();
    section_txn();
    section_errors();
    section_odbc2();
    /* An ANSI call after a W call (in both passes): psqlODBC answers ANSI calls in UTF-16 once a
     * connection is in Unicode mode, which the driver's own SQL_DRIVER_VER must cope with
     * (a declared difference, its shape checked by the runner). */
    {
        char v[256] = "";
        SQLWCHAR wv[128];
        SQLSMALLINT len = 0;
        SQLGetInfoW(dbc, SQL_DRIVER_NAME, wv, sizeof wv, &len); /* a W call, in the A pass too */
        SQLRETURN r = SQLGetInfo(dbc, SQL_DRIVER_VER, v, sizeof v, &len);
        printf("info 7 after: rc=%d len=%d text=\"%s\"\n", (int)r, (int)len, v);
    }
    run_sql("final", "parent", "SELECT * FROM lbdiff_parent ORDER BY id");
    run_sql("final", "child", "SELECT * FROM lbdiff_child ORDER BY cid");
    teardown();
    rc = SQLDisconnect(dbc);
    emit("connect", "disconnect", "rc=%d", (int)rc);
    SQLFreeHandle(SQL_HANDLE_DBC, dbc);
    SQLFreeHandle(SQL_HANDLE_ENV, env);
    return 0;
}
