/* The differential test's client: one program that uses the ODBC API the way BI and
 * reporting tools do and prints every answer, one line per result, in a stable format.
 * differential_test.sh runs it once through the driver and once through psqlODBC directly
 * (same server, the password role lakebase_direct with the SP role's grants) and diffs.
 *
 * Sections, in order: SQLGetInfo of every info type, SQLGetFunctions, connection and
 * statement attributes, SQLGetTypeInfo, the ten catalog functions, SQLDescribeCol /
 * SQLColAttribute / the IRD, parameters of every common SQL C type, SQLGetData in pieces and
 * SQLPutData, scrollable cursors / SQLSetPos / SQLBulkOperations / SQLMoreResults,
 * transactions, errors and SQLCancel, ODBC 2 calls; then connects by DSN (SQLConnect with
 * and without UID/PWD, SQLDriverConnect "DSN="), parameter arrays (column- and row-wise,
 * status arrays, SQL_PARAM_IGNORE), SQLNativeSql and escapes ({fn}, {d}, {oj}, {call},
 * {? = call} with an output parameter), cursor names and WHERE CURRENT OF, bookmarks
 * (SQL_FETCH_BOOKMARK, SQLBulkOperations by bookmark), SQLCancel from another thread during
 * pg_sleep and SQL_ATTR_QUERY_TIMEOUT, SQL_C_INTERVAL_* parameters and results, the other C
 * types (ODBC 2 codes, SQL_C_DEFAULT, conversions) and SQLGetData of one row into every C
 * type, descriptors (SQLSetDescRec, SQLCopyDesc, the IPD), more ODBC 2 calls (SQLSetParam,
 * SQLParamOptions, SQLSetScrollOptions), attributes set and their effect (max rows and
 * length, noscan, retrieve data, metadata id, read-only, catalog), row-wise column binding
 * with a bind offset, SQLSetPos refresh and delete, SQLGetFunctions one function at a time;
 * a second connection whose environment declares ODBC 2 (SQLSTATEs and date type codes).
 * Each section's time goes to stderr.
 *
 * Usage: differential_test A|W   (the connection string comes from $LBDIFF_CONNSTR, never
 * argv, because it holds a secret; the DSN section reads LBDIFF_DSN, LBDIFF_DSN_NOPWD,
 * LBDIFF_UID and LBDIFF_PWD). A = ANSI calls, W = the wide (UTF-16) calls.
 * Exit 0 when it ran to the end (every ODBC answer, errors included, is output, not a
 * failure); 2 when it could not connect or set up its tables.
 *
 * Line format: "<section> <key>: <answer>". Lines whose key the runner declares as expected
 * differences: "info 6" (SQL_DRIVER_NAME), "info 7" and "info 7 after" (SQL_DRIVER_VER), "info 47"
 * (SQL_USER_NAME), "ident current_user", "connect out" and "connect out <path>" (the output
 * connection strings).
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
 *  - psqlODBC's name for an unnamed cursor ("SQL_CUR" and the statement's address) prints
 *    as SQL_CUR<handle>;
 *  - times (SQLCancel from a thread, the query timeout) print only as "ended before N s";
 *  - psqlODBC reads a number, text or time as a date or timestamp of today: the date and
 *    timestamp SQLGetData targets read only date and timestamp columns;
 *  - diagnostic messages keep their text; nothing in them depends on the run. */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

/* ------------------------------------------------- connect paths (DSN, SQLConnect) -- */

/* What a second connection shows: the DSN's name, the database, the user (as <user>) and a
 * boolean (BoolsAsChar), so that the options the DSN holds are seen to apply. */
static void probe_conn(const char *key, SQLHDBC h)
{
    static const SQLUSMALLINT infos[] = {SQL_DATA_SOURCE_NAME, SQL_DATABASE_NAME, SQL_SERVER_NAME, SQL_USER_NAME};
    for (size_t i = 0; i < sizeof infos / sizeof infos[0]; i++) {
        char text[512] = "", k[128];
        SQLSMALLINT len = 0;
        SQLRETURN rc;
        if (wide) {
            SQLWCHAR w[256];
            rc = SQLGetInfoW(h, infos[i], w, sizeof w, &len);
            if (SQL_SUCCEEDED(rc))
                from_w(w, len > 0 ? (size_t)len / 2 : 0, text, sizeof text);
        } else {
            rc = SQLGetInfo(h, infos[i], text, sizeof text, &len);
        }
        snprintf(k, sizeof k, "%s info%u", key, (unsigned)infos[i]);
        emit("connpath", k, "rc=%d text=\"%s\"", (int)rc, text); /* no length: <user> hides one */
    }
    SQLHDBC saved = dbc;
    dbc = h;
    char k[128];
    snprintf(k, sizeof k, "%s query", key);
    run_sql("connpath", k, "SELECT current_user, current_database(), true AS b, 1.5::numeric AS n");
    dbc = saved;
}

/* Keys of an output connection string (values hold secrets on both sides). */
static void out_keys(const char *out, char *keys, size_t size)
{
    size_t o = 0;
    keys[0] = '\0';
    for (const char *p = out; *p;) {
        const char *eq = strchr(p, '=');
        if (eq == NULL)
            break;
        o += (size_t)snprintf(keys + o, o < size ? size - o : 0, "%.*s;", (int)(eq - p), p);
        const char *semi = eq[1] == '{' ? strstr(eq, "};") : strchr(eq, ';');
        if (semi == NULL)
            break;
        p = semi + (semi[0] == '}' ? 2 : 1);
    }
}

static SQLRETURN driver_connect(SQLHDBC h, const char *cs, char *out, size_t size)
{
    SQLSMALLINT outlen = 0;
    SQLRETURN rc;
    out[0] = '\0';
    if (wide) {
        SQLWCHAR *w = to_w(cs), wout[2048];
        rc = SQLDriverConnectW(h, NULL, w, SQL_NTS, wout, 2048, &outlen, SQL_DRIVER_NOPROMPT);
        free(w);
        if (SQL_SUCCEEDED(rc))
            from_w(wout, outlen < 2048 ? (size_t)outlen : 2047, out, size);
    } else {
        rc = SQLDriverConnect(h, NULL, (SQLCHAR *)cs, SQL_NTS, (SQLCHAR *)out, (SQLSMALLINT)size, &outlen,
                              SQL_DRIVER_NOPROMPT);
    }
    return rc;
}

static SQLRETURN plain_connect(SQLHDBC h, const char *dsn, const char *uid, const char *pwd)
{
    if (!wide)
        return SQLConnect(h, (SQLCHAR *)dsn, SQL_NTS, (SQLCHAR *)uid, uid ? SQL_NTS : 0, (SQLCHAR *)pwd,
                          pwd ? SQL_NTS : 0);
    SQLWCHAR *wd = to_w(dsn), *wu = to_w(uid), *wp = to_w(pwd);
    SQLRETURN rc = SQLConnectW(h, wd, SQL_NTS, wu, uid ? SQL_NTS : 0, wp, pwd ? SQL_NTS : 0);
    free(wd), free(wu), free(wp);
    return rc;
}

/* Connects by DSN name (SQLConnect, with and without UID/PWD arguments) and by
 * SQLDriverConnect "DSN=", each on a fresh connection handle. The runner writes the DSNs
 * (LBDIFF_DSN holds the secret or password, LBDIFF_DSN_NOPWD does not; both hold the
 * option set) and gives the user and secret in LBDIFF_UID / LBDIFF_PWD. */
static void section_connpaths(void)
{
    const char *dsn = getenv("LBDIFF_DSN"), *nopwd = getenv("LBDIFF_DSN_NOPWD");
    const char *uid = getenv("LBDIFF_UID"), *pwd = getenv("LBDIFF_PWD");
    if (dsn == NULL || nopwd == NULL || uid == NULL || pwd == NULL) {
        emit("connpath", "skipped", "LBDIFF_DSN, LBDIFF_DSN_NOPWD, LBDIFF_UID or LBDIFF_PWD not set");
        return;
    }
    char cs_dsn[512], cs_nopwd[1024];
    snprintf(cs_dsn, sizeof cs_dsn, "DSN=%s", dsn);
    snprintf(cs_nopwd, sizeof cs_nopwd, "DSN=%s;UID=%s;PWD={%s}", nopwd, uid, pwd);
    for (int path = 0; path < 4; path++) {
        static const char *names[] = {"sqlconnect dsn", "sqlconnect dsn uid pwd", "driverconnect dsn",
                                      "driverconnect dsn uid pwd"};
        SQLHDBC h = NULL;
        SQLAllocHandle(SQL_HANDLE_DBC, env, &h);
        char out[4096] = "", keys[4096];
        SQLRETURN rc = path == 0   ? plain_connect(h, dsn, NULL, NULL)
                       : path == 1 ? plain_connect(h, nopwd, uid, pwd)
                       : path == 2 ? driver_connect(h, cs_dsn, out, sizeof out)
                                   : driver_connect(h, cs_nopwd, out, sizeof out);
        rcline("connpath", names[path], rc, SQL_HANDLE_DBC, h);
        if (path >= 2 && SQL_SUCCEEDED(rc)) {
            out_keys(out, keys, sizeof keys);
            printf("connect out %s: keys=%s\n", names[path], keys); /* declared: the keys differ */
        }
        if (SQL_SUCCEEDED(rc)) {
            probe_conn(names[path], h);
            rc = SQLDisconnect(h);
            rcline("connpath", "disconnect", rc, SQL_HANDLE_DBC, h);
        }
        SQLFreeHandle(SQL_HANDLE_DBC, h);
    }
}

/* ------------------------------------------------------------ parameter arrays -- */

static void show_param_status(const char *key, SQLHSTMT st, SQLRETURN rc, const SQLUSMALLINT *status, int n,
                              SQLULEN processed)
{
    char line[256];
    size_t o = 0;
    for (int i = 0; i < n; i++)
        o += (size_t)snprintf(line + o, sizeof line - o, "%s%u", i ? "," : "", status[i]);
    emit("paramarray", key, "rc=%d processed=%lu status=%s", (int)rc, (unsigned long)processed, line);
    /* The diagnostics first: SQLRowCount after an error clears them (unixODBC's HY010). */
    if (rc != SQL_SUCCESS && rc != SQL_NO_DATA)
        diags("paramarray", key, SQL_HANDLE_STMT, st);
    if (SQL_SUCCEEDED(rc)) {
        SQLLEN rows = -2;
        SQLRowCount(st, &rows);
        emit("paramarray", key, "rowcount=%ld", (long)rows);
    }
}

/* SQL_ATTR_PARAMSET_SIZE with column-wise and row-wise binding, the status array, the
 * processed count and SQL_ATTR_PARAM_OPERATION_PTR; one set of rows holds a duplicate key. */
static void section_param_arrays(void)
{
    enum { N = 5 };
    SQLUSMALLINT status[N];
    SQLULEN processed = 0;

    /* Column-wise: one array per parameter. */
    SQLHSTMT st = new_stmt();
    SQLINTEGER ids[N];
    char names[N][41];
    SQLLEN idind[N], nameind[N];
    for (int i = 0; i < N; i++) {
        ids[i] = 200 + i;
        snprintf(names[i], sizeof names[i], "col-wise %d", i);
        idind[i] = 0;
        nameind[i] = i == 3 ? SQL_NULL_DATA : SQL_NTS; /* row 3 breaks NOT NULL */
    }
    SQLSetStmtAttr(st, SQL_ATTR_PARAM_BIND_TYPE, (SQLPOINTER)SQL_PARAM_BIND_BY_COLUMN, 0);
    SQLSetStmtAttr(st, SQL_ATTR_PARAMSET_SIZE, (SQLPOINTER)N, 0);
    SQLSetStmtAttr(st, SQL_ATTR_PARAM_STATUS_PTR, status, 0);
    SQLSetStmtAttr(st, SQL_ATTR_PARAMS_PROCESSED_PTR, &processed, 0);
    SQLRETURN rc = prepare(st, "INSERT INTO lbdiff_parent (id, name) VALUES (?, ?)");
    rcline("paramarray", "col prepare", rc, SQL_HANDLE_STMT, st);
    SQLBindParameter(st, 1, SQL_PARAM_INPUT, SQL_C_SLONG, SQL_INTEGER, 0, 0, ids, 0, idind);
    SQLBindParameter(st, 2, SQL_PARAM_INPUT, SQL_C_CHAR, SQL_VARCHAR, 40, 0, names, sizeof names[0], nameind);
    memset(status, 0xee, sizeof status);
    rc = SQLExecute(st);
    show_param_status("col exec with a NULL name", st, rc, status, N, processed);
    nameind[3] = SQL_NTS;
    for (int i = 0; i < N; i++)
        ids[i] = 210 + i;
    memset(status, 0xee, sizeof status);
    rc = SQLExecute(st);
    show_param_status("col exec", st, rc, status, N, processed);
    /* SQL_PARAM_IGNORE for two of the sets. */
    SQLUSMALLINT ops[N] = {SQL_PARAM_PROCEED, SQL_PARAM_IGNORE, SQL_PARAM_PROCEED, SQL_PARAM_IGNORE, SQL_PARAM_PROCEED};
    SQLSetStmtAttr(st, SQL_ATTR_PARAM_OPERATION_PTR, ops, 0);
    for (int i = 0; i < N; i++)
        ids[i] = 220 + i;
    memset(status, 0xee, sizeof status);
    rc = SQLExecute(st);
    show_param_status("col exec with ignore", st, rc, status, N, processed);
    free_stmt(st);

    /* Row-wise: one struct per set. */
    struct row {
        SQLINTEGER id;
        SQLLEN idind;
        char name[41];
        SQLLEN nameind;
        double price;
        SQLLEN priceind;
    } rows[N];
    st = new_stmt();
    for (int i = 0; i < N; i++) {
        rows[i].id = i == 2 ? 210 : 230 + i; /* set 2 repeats a key */
        rows[i].idind = 0;
        snprintf(rows[i].name, sizeof rows[i].name, "row-wise %d", i);
        rows[i].nameind = SQL_NTS;
        rows[i].price = i * 1.25;
        rows[i].priceind = i == 4 ? SQL_NULL_DATA : 0;
    }
    SQLSetStmtAttr(st, SQL_ATTR_PARAM_BIND_TYPE, (SQLPOINTER)sizeof(struct row), 0);
    SQLSetStmtAttr(st, SQL_ATTR_PARAMSET_SIZE, (SQLPOINTER)N, 0);
    SQLSetStmtAttr(st, SQL_ATTR_PARAM_STATUS_PTR, status, 0);
    SQLSetStmtAttr(st, SQL_ATTR_PARAMS_PROCESSED_PTR, &processed, 0);
    rc = prepare(st, "INSERT INTO lbdiff_parent (id, name, price) VALUES (?, ?, ?)");
    rcline("paramarray", "row prepare", rc, SQL_HANDLE_STMT, st);
    SQLBindParameter(st, 1, SQL_PARAM_INPUT, SQL_C_SLONG, SQL_INTEGER, 0, 0, &rows[0].id, 0, &rows[0].idind);
    SQLBindParameter(st, 2, SQL_PARAM_INPUT, SQL_C_CHAR, SQL_VARCHAR, 40, 0, rows[0].name, sizeof rows[0].name,
                     &rows[0].nameind);
    SQLBindParameter(st, 3, SQL_PARAM_INPUT, SQL_C_DOUBLE, SQL_NUMERIC, 10, 2, &rows[0].price, 0, &rows[0].priceind);
    memset(status, 0xee, sizeof status);
    rc = SQLExecute(st);
    show_param_status("row exec with a duplicate", st, rc, status, N, processed);
    for (int i = 0; i < N; i++)
        rows[i].id = 240 + i;
    memset(status, 0xee, sizeof status);
    rc = SQLExecute(st);
    show_param_status("row exec", st, rc, status, N, processed);
    free_stmt(st);

    /* A SELECT with an array of parameters, and SQLExecDirect of an UPDATE with one. */
    st = new_stmt();
    SQLINTEGER keys[3] = {1, 2, 3};
    SQLLEN keyind[3] = {0, 0, 0};
    SQLSetStmtAttr(st, SQL_ATTR_PARAMSET_SIZE, (SQLPOINTER)3, 0);
    SQLSetStmtAttr(st, SQL_ATTR_PARAM_STATUS_PTR, status, 0);
    SQLSetStmtAttr(st, SQL_ATTR_PARAMS_PROCESSED_PTR, &processed, 0);
    SQLBindParameter(st, 1, SQL_PARAM_INPUT, SQL_C_SLONG, SQL_INTEGER, 0, 0, keys, 0, keyind);
    memset(status, 0xee, sizeof status);
    rc = exec(st, "SELECT id, name FROM lbdiff_parent WHERE id = ?");
    show_param_status("select", st, rc, status, 3, processed);
    if (SQL_SUCCEEDED(rc))
        dump_result("paramarray", "select", st);
    memset(status, 0xee, sizeof status);
    rc = exec(st, "UPDATE lbdiff_parent SET note = 'arrayed' WHERE id = ?");
    show_param_status("update", st, rc, status, 3, processed);
    free_stmt(st);
    run_sql("paramarray", "readback", "SELECT id, name, price, note FROM lbdiff_parent WHERE id >= 200 OR note = 'arrayed' "
                                      "ORDER BY id");
}

/* ------------------------------------------------- escapes, SQLNativeSql, output -- */

static void section_native_sql(void)
{
    static const char *sqls[] = {
        "SELECT {fn UCASE('abc')}, {fn CONCAT('a', 'b')}, {fn LENGTH('four')}, {fn ABS(-3)}",
        "SELECT {d '2024-02-29'}, {t '23:59:58'}, {ts '2024-12-31 13:14:15.5'}",
        "SELECT {fn CONVERT(42, SQL_VARCHAR)}, {fn CONVERT('7', SQL_INTEGER)}, {fn TIMESTAMPADD(SQL_TSI_DAY, 1, {d '2024-02-28'})}",
        "SELECT p.id, c.qty FROM {oj lbdiff_parent p LEFT OUTER JOIN lbdiff_child c ON c.pid = p.id} ORDER BY 1, 2",
        "SELECT name FROM lbdiff_parent WHERE name LIKE 'o\\_%' {escape '\\'}",
        "{call lbdiff_add(2, 3)}",
        "SELECT {fn IFNULL(NULL, 'dflt')}, {fn MOD(17, 5)}, {fn LEFT('abcdef', 2)}, {fn LTRIM('  x')}",
        "{fn NOSUCHFUNCTION(1)}",
        "SELECT 1 -- {fn UCASE('comment')}",
        "SELECT '{fn UCASE(''literal'')}'",
    };
    SQLHDBC h = dbc;
    for (size_t i = 0; i < sizeof sqls / sizeof sqls[0]; i++) {
        char k[32], out[2048] = "";
        SQLINTEGER len = -999;
        SQLRETURN rc;
        snprintf(k, sizeof k, "native%zu", i);
        if (wide) {
            SQLWCHAR *w = to_w(sqls[i]), wout[1024];
            rc = SQLNativeSqlW(h, w, SQL_NTS, wout, 1024, &len);
            free(w);
            if (SQL_SUCCEEDED(rc))
                from_w(wout, len >= 0 && len < 1024 ? (size_t)len : 0, out, sizeof out);
        } else {
            rc = SQLNativeSql(h, (SQLCHAR *)sqls[i], SQL_NTS, (SQLCHAR *)out, sizeof out, &len);
        }
        if (SQL_SUCCEEDED(rc))
            emit("escape", k, "rc=%d len=%d %s", (int)rc, (int)len, out);
        else
            rcline("escape", k, rc, SQL_HANDLE_DBC, h);
        snprintf(k, sizeof k, "exec%zu", i);
        run_sql("escape", k, sqls[i]);
    }
    /* A truncated SQLNativeSql answer. */
    char small[8] = "";
    SQLINTEGER len = -999;
    SQLRETURN rc = SQLNativeSql(dbc, (SQLCHAR *)sqls[0], SQL_NTS, (SQLCHAR *)small, sizeof small, &len);
    emit("escape", "native truncated", "rc=%d len=%d %.*s", (int)rc, (int)len, SQL_SUCCEEDED(rc) ? (int)strnlen(small, sizeof small) : 0, small);
    diags("escape", "native truncated", SQL_HANDLE_DBC, dbc);

    /* {call} with input parameters, and {? = call} with an output parameter. */
    SQLHSTMT st = new_stmt();
    SQLINTEGER a = 40, b = 2, ret = -1;
    SQLLEN aind = 0, bind_ = 0, retind = 0; /* not -999: that is SQL_LEN_DATA_AT_EXEC */
    rc = prepare(st, "{call lbdiff_add(?, ?)}");
    rcline("call", "prepare in", rc, SQL_HANDLE_STMT, st);
    SQLBindParameter(st, 1, SQL_PARAM_INPUT, SQL_C_SLONG, SQL_INTEGER, 0, 0, &a, 0, &aind);
    SQLBindParameter(st, 2, SQL_PARAM_INPUT, SQL_C_SLONG, SQL_INTEGER, 0, 0, &b, 0, &bind_);
    rc = SQLExecute(st);
    rcline("call", "in", rc, SQL_HANDLE_STMT, st);
    if (SQL_SUCCEEDED(rc))
        dump_result("call", "in", st);
    free_stmt(st);
    st = new_stmt();
    rc = prepare(st, "{? = call lbdiff_add(?, ?)}");
    rcline("call", "prepare out", rc, SQL_HANDLE_STMT, st);
    SQLSMALLINT np = -1;
    SQLNumParams(st, &np);
    emit("call", "num params", "%d", np);
    SQLBindParameter(st, 1, SQL_PARAM_OUTPUT, SQL_C_SLONG, SQL_INTEGER, 0, 0, &ret, 0, &retind);
    SQLBindParameter(st, 2, SQL_PARAM_INPUT, SQL_C_SLONG, SQL_INTEGER, 0, 0, &a, 0, &aind);
    SQLBindParameter(st, 3, SQL_PARAM_INPUT, SQL_C_SLONG, SQL_INTEGER, 0, 0, &b, 0, &bind_);
    rc = SQLExecute(st);
    rcline("call", "out", rc, SQL_HANDLE_STMT, st);
    emit("call", "out value", "ret=%d ind=%ld", (int)ret, (long)retind);
    if (SQL_SUCCEEDED(rc))
        dump_result("call", "out", st);
    free_stmt(st);
}

/* ---------------------------------------------------------------- cursor names -- */

/* NORMALIZE: psqlODBC names an unnamed cursor "SQL_CUR" followed by the statement's address. */
static void show_cursor_name(const char *key, SQLHSTMT st)
{
    char name[256] = "";
    SQLSMALLINT len = -999;
    SQLRETURN rc;
    if (wide) {
        SQLWCHAR w[128];
        rc = SQLGetCursorNameW(st, w, 128, &len);
        if (SQL_SUCCEEDED(rc))
            from_w(w, len >= 0 && len < 128 ? (size_t)len : 0, name, sizeof name);
    } else {
        rc = SQLGetCursorName(st, (SQLCHAR *)name, sizeof name, &len);
    }
    if (!SQL_SUCCEEDED(rc)) {
        rcline("cursorname", key, rc, SQL_HANDLE_STMT, st);
        return;
    }
    if (strncmp(name, "SQL_CUR", 7) == 0 && strlen(name) > 7)
        emit("cursorname", key, "rc=%d SQL_CUR<handle>", (int)rc);
    else
        emit("cursorname", key, "rc=%d len=%d %s", (int)rc, (int)len, name);
}

static SQLRETURN set_cursor_name(SQLHSTMT st, const char *name)
{
    if (!wide)
        return SQLSetCursorName(st, (SQLCHAR *)name, SQL_NTS);
    SQLWCHAR *w = to_w(name);
    SQLRETURN rc = SQLSetCursorNameW(st, w, SQL_NTS);
    free(w);
    return rc;
}

/* SQLSetCursorName / SQLGetCursorName, and a positioned UPDATE through WHERE CURRENT OF.
 * psqlODBC (alone as well) has no server cursor of the ODBC cursor's name, with or without
 * UseDeclareFetch: the UPDATE fails with 34000 on both sides; positioned updates go through
 * SQLSetPos (section_scroll) and SQLBulkOperations by bookmark (section_bookmarks). */
static void section_cursor_names(void)
{
    SQLHSTMT st = new_stmt();
    show_cursor_name("default", st);
    SQLRETURN rc = set_cursor_name(st, "lbdiff_cur");
    rcline("cursorname", "set", rc, SQL_HANDLE_STMT, st);
    show_cursor_name("after set", st);
    SQLHSTMT third = new_stmt();
    rc = set_cursor_name(third, "SQLCUR_reserved");
    rcline("cursorname", "set reserved", rc, SQL_HANDLE_STMT, third);
    free_stmt(third);
    SQLHSTMT other = new_stmt();
    rc = set_cursor_name(other, "lbdiff_cur");
    rcline("cursorname", "set duplicate", rc, SQL_HANDLE_STMT, other);
    /* Truncated (buffer of 4 bytes): the bytes written, and two sentinel bytes after them. */
    unsigned char small[6];
    char smallhex[16];
    SQLSMALLINT len = -1;
    memset(small, 0xaa, sizeof small);
    rc = SQLGetCursorName(st, small, 4, &len);
    hex(small, sizeof small, smallhex, sizeof smallhex);
    emit("cursorname", "truncated", "rc=%d len=%d bytes=%s", (int)rc, (int)len, smallhex);

    SQLSetConnectAttr(dbc, SQL_ATTR_AUTOCOMMIT, (SQLPOINTER)SQL_AUTOCOMMIT_OFF, 0);
    SQLSetStmtAttr(st, SQL_ATTR_CONCURRENCY, (SQLPOINTER)SQL_CONCUR_LOCK, 0);
    rc = exec(st, "SELECT id, name FROM lbdiff_parent WHERE id IN (1, 2, 3) ORDER BY id FOR UPDATE");
    rcline("cursorname", "select for update", rc, SQL_HANDLE_STMT, st);
    rc = SQLFetch(st);
    rcline("cursorname", "fetch", rc, SQL_HANDLE_STMT, st);
    show_cursor_name("open", st);
    rc = exec(other, "UPDATE lbdiff_parent SET note = 'positioned' WHERE CURRENT OF lbdiff_cur");
    rcline("cursorname", "update current of", rc, SQL_HANDLE_STMT, other);
    SQLLEN rows = -2;
    SQLRowCount(other, &rows);
    emit("cursorname", "update rows", "%ld", (long)rows);
    SQLFreeStmt(other, SQL_CLOSE);
    rc = SQLFetch(st);
    rcline("cursorname", "fetch2", rc, SQL_HANDLE_STMT, st);
    free_stmt(other);
    free_stmt(st);
    rc = SQLEndTran(SQL_HANDLE_DBC, dbc, SQL_COMMIT);
    rcline("cursorname", "commit", rc, SQL_HANDLE_DBC, dbc);
    SQLSetConnectAttr(dbc, SQL_ATTR_AUTOCOMMIT, (SQLPOINTER)SQL_AUTOCOMMIT_ON, 0);
    run_sql("cursorname", "readback", "SELECT id, note FROM lbdiff_parent WHERE id IN (1, 2, 3) ORDER BY id");
}

/* ------------------------------------------------------------------- bookmarks -- */

static void show_bookmark(const char *key, const unsigned char *bm, SQLLEN ind)
{
    char hx[128];
    hex(bm, ind > 0 && ind <= 32 ? (size_t)ind : 0, hx, sizeof hx);
    emit("bookmark", key, "ind=%ld %s", (long)ind, hx);
}

/* SQL_ATTR_USE_BOOKMARKS with variable bookmarks bound to column 0, SQLFetchScroll
 * SQL_FETCH_BOOKMARK, and SQLBulkOperations by bookmark (update, delete, fetch). */
static void section_bookmarks(void)
{
    static const SQLULEN ctypes[] = {SQL_CURSOR_STATIC, SQL_CURSOR_KEYSET_DRIVEN};
    for (size_t t = 0; t < 2; t++) {
        char k[96];
        SQLHSTMT st = new_stmt();
        SQLSetStmtAttr(st, SQL_ATTR_CURSOR_TYPE, (SQLPOINTER)ctypes[t], 0);
        SQLSetStmtAttr(st, SQL_ATTR_CONCURRENCY, (SQLPOINTER)(SQLULEN)(t ? SQL_CONCUR_ROWVER : SQL_CONCUR_READ_ONLY), 0);
        SQLRETURN rc = SQLSetStmtAttr(st, SQL_ATTR_USE_BOOKMARKS, (SQLPOINTER)SQL_UB_VARIABLE, 0);
        snprintf(k, sizeof k, "cursor%lu use bookmarks", (unsigned long)ctypes[t]);
        rcline("bookmark", k, rc, SQL_HANDLE_STMT, st);
        rc = exec(st, "SELECT id, name FROM lbdiff_parent WHERE id BETWEEN 1 AND 13 ORDER BY id");
        snprintf(k, sizeof k, "cursor%lu exec", (unsigned long)ctypes[t]);
        rcline("bookmark", k, rc, SQL_HANDLE_STMT, st);
        unsigned char bm[32], saved[32];
        SQLLEN bmind = 0, savedlen = 0, idind = 0, nameind = 0;
        SQLINTEGER id = 0;
        char name[41] = "";
        rc = SQLBindCol(st, 0, SQL_C_VARBOOKMARK, bm, sizeof bm, &bmind);
        snprintf(k, sizeof k, "cursor%lu bind col0", (unsigned long)ctypes[t]);
        rcline("bookmark", k, rc, SQL_HANDLE_STMT, st);
        SQLBindCol(st, 1, SQL_C_SLONG, &id, 0, &idind);
        SQLBindCol(st, 2, SQL_C_CHAR, name, sizeof name, &nameind);
        for (int i = 0; i < 3; i++) {
            memset(bm, 0xaa, sizeof bm);
            rc = SQLFetchScroll(st, SQL_FETCH_NEXT, 0);
            snprintf(k, sizeof k, "cursor%lu next%d", (unsigned long)ctypes[t], i);
            rcline("bookmark", k, rc, SQL_HANDLE_STMT, st);
            if (!SQL_SUCCEEDED(rc))
                break;
            emit("bookmark", k, "id=%d name=%s", (int)id, name);
            show_bookmark(k, bm, bmind);
            if (i == 1) {
                memcpy(saved, bm, sizeof saved);
                savedlen = bmind;
            }
        }
        /* The bookmark through SQLGetData too. */
        unsigned char got[32];
        SQLLEN gotind = -999;
        memset(got, 0xaa, sizeof got);
        rc = SQLGetData(st, 0, SQL_C_VARBOOKMARK, got, sizeof got, &gotind);
        snprintf(k, sizeof k, "cursor%lu getdata col0", (unsigned long)ctypes[t]);
        rcline("bookmark", k, rc, SQL_HANDLE_STMT, st);
        if (SQL_SUCCEEDED(rc))
            show_bookmark(k, got, gotind);
        rc = SQLSetStmtAttr(st, SQL_ATTR_FETCH_BOOKMARK_PTR, saved, 0);
        snprintf(k, sizeof k, "cursor%lu set fetch bookmark ptr", (unsigned long)ctypes[t]);
        rcline("bookmark", k, rc, SQL_HANDLE_STMT, st);
        static const SQLLEN offsets[] = {0, 1, -1, 50};
        for (size_t o = 0; o < sizeof offsets / sizeof offsets[0]; o++) {
            id = -1;
            rc = SQLFetchScroll(st, SQL_FETCH_BOOKMARK, offsets[o]);
            snprintf(k, sizeof k, "cursor%lu fetch bookmark%+ld", (unsigned long)ctypes[t], (long)offsets[o]);
            rcline("bookmark", k, rc, SQL_HANDLE_STMT, st);
            if (SQL_SUCCEEDED(rc))
                emit("bookmark", k, "id=%d name=%s", (int)id, name);
        }
        (void)savedlen;
        if (t == 1) {
            /* Bulk operations by bookmark: one row, whose bookmark is in the bound column 0. */
            SQLSetStmtAttr(st, SQL_ATTR_ROW_ARRAY_SIZE, (SQLPOINTER)1, 0);
            memcpy(bm, saved, sizeof bm);
            bmind = savedlen;
            snprintf(name, sizeof name, "by-bookmark");
            nameind = SQL_NTS;
            id = 2; /* the saved bookmark's row keeps its key (lbdiff_child refers to it) */
            rc = SQLBulkOperations(st, SQL_UPDATE_BY_BOOKMARK);
            rcline("bookmark", "bulk update", rc, SQL_HANDLE_STMT, st);
            id = -1;
            name[0] = '\0';
            memcpy(bm, saved, sizeof bm);
            bmind = savedlen;
            rc = SQLBulkOperations(st, SQL_FETCH_BY_BOOKMARK);
            rcline("bookmark", "bulk fetch", rc, SQL_HANDLE_STMT, st);
            emit("bookmark", "bulk fetch row", "id=%d name=%s", (int)id, name);
            rc = SQLFetchScroll(st, SQL_FETCH_FIRST, 0);
            rcline("bookmark", "first", rc, SQL_HANDLE_STMT, st);
            rc = SQLBulkOperations(st, SQL_DELETE_BY_BOOKMARK);
            rcline("bookmark", "bulk delete", rc, SQL_HANDLE_STMT, st);
        }
        free_stmt(st);
    }
    /* SQL_UB_ON (ODBC 2 fixed bookmarks) on a forward-only cursor. */
    SQLHSTMT st = new_stmt();
    SQLRETURN rc = SQLSetStmtAttr(st, SQL_ATTR_USE_BOOKMARKS, (SQLPOINTER)SQL_UB_ON, 0);
    rcline("bookmark", "forward ub_on", rc, SQL_HANDLE_STMT, st);
    rc = exec(st, "SELECT id FROM lbdiff_parent WHERE id < 4 ORDER BY id");
    rcline("bookmark", "forward exec", rc, SQL_HANDLE_STMT, st);
    SQLINTEGER b4 = 0;
    SQLLEN b4ind = 0;
    rc = SQLFetch(st);
    rcline("bookmark", "forward fetch", rc, SQL_HANDLE_STMT, st);
    rc = SQLGetData(st, 0, SQL_C_BOOKMARK, &b4, 0, &b4ind);
    rcline("bookmark", "forward getdata col0", rc, SQL_HANDLE_STMT, st);
    if (SQL_SUCCEEDED(rc))
        emit("bookmark", "forward col0", "%d ind=%ld", (int)b4, (long)b4ind);
    free_stmt(st);
    run_sql("bookmark", "readback", "SELECT id, name FROM lbdiff_parent WHERE id BETWEEN 1 AND 13 ORDER BY id");
}

/* ------------------------------------------------------- SQLCancel from a thread -- */

struct canceller {
    SQLHSTMT st;
    atomic_int done;
    int sent;
};

/* Cancels the statement every 0.2 s until the main thread's call returns: a cancel that
 * reaches the server before the query starts is ignored there, so one is not enough. */
static void *cancel_thread(void *arg)
{
    struct canceller *c = arg;
    struct timespec half = {0, 200000000};
    nanosleep(&half, NULL);
    while (!atomic_load(&c->done)) {
        SQLCancel(c->st);
        c->sent++;
        nanosleep(&half, NULL);
    }
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A long query (pg_sleep(60)) cancelled by SQLCancel from another thread, then the same
 * statement reused; and SQL_ATTR_QUERY_TIMEOUT. Times go to stderr (they differ run to
 * run); the output says only whether the query ended well before its 60 s. */
static void section_cancel_thread(void)
{
    SQLHSTMT st = new_stmt();
    struct canceller c = {.st = st, .sent = 0};
    atomic_init(&c.done, 0);
    pthread_t t;
    pthread_create(&t, NULL, cancel_thread, &c);
    double t0 = now_s();
    SQLRETURN rc = exec(st, "SELECT pg_sleep(60)");
    double took = now_s() - t0;
    atomic_store(&c.done, 1);
    pthread_join(t, NULL);
    fprintf(stderr, "cancel from a thread: the query returned after %.2f s, %d cancel(s) sent\n", took, c.sent);
    emit("cancel", "thread", "rc=%d ended before 30 s: %s, cancels sent: %s", (int)rc, took < 30 ? "yes" : "no",
         c.sent > 0 ? "some" : "none");
    if (rc != SQL_SUCCESS)
        diags("cancel", "thread", SQL_HANDLE_STMT, st);
    SQLFreeStmt(st, SQL_CLOSE);
    rc = exec(st, "SELECT 'after cancel'");
    rcline("cancel", "reuse", rc, SQL_HANDLE_STMT, st);
    if (SQL_SUCCEEDED(rc))
        dump_result("cancel", "reuse", st);
    free_stmt(st);

    st = new_stmt();
    rc = SQLSetStmtAttr(st, SQL_ATTR_QUERY_TIMEOUT, (SQLPOINTER)1, 0);
    rcline("cancel", "set query timeout", rc, SQL_HANDLE_STMT, st);
    t0 = now_s();
    rc = exec(st, "SELECT pg_sleep(30)");
    took = now_s() - t0;
    fprintf(stderr, "query timeout 1 s: the query returned after %.2f s\n", took);
    emit("cancel", "query timeout", "rc=%d ended before 20 s: %s", (int)rc, took < 20 ? "yes" : "no");
    if (rc != SQL_SUCCESS)
        diags("cancel", "query timeout", SQL_HANDLE_STMT, st);
    free_stmt(st);
    run_sql("cancel", "connection still usable", "SELECT 'usable'");
}

/* ------------------------------------------------------------------- intervals -- */

static void show_interval(const char *key, SQLRETURN rc, const SQL_INTERVAL_STRUCT *iv, SQLLEN ind)
{
    if (!SQL_SUCCEEDED(rc) || ind == SQL_NULL_DATA) {
        emit("interval", key, "rc=%d ind=%ld", (int)rc, (long)ind);
        return;
    }
    if (iv->interval_type == SQL_IS_YEAR || iv->interval_type == SQL_IS_MONTH ||
        iv->interval_type == SQL_IS_YEAR_TO_MONTH)
        emit("interval", key, "rc=%d ind=%ld type=%d sign=%d year=%u month=%u", (int)rc, (long)ind,
             (int)iv->interval_type, iv->interval_sign, (unsigned)iv->intval.year_month.year,
             (unsigned)iv->intval.year_month.month);
    else
        emit("interval", key, "rc=%d ind=%ld type=%d sign=%d day=%u hour=%u minute=%u second=%u fraction=%u", (int)rc,
             (long)ind, (int)iv->interval_type, iv->interval_sign, (unsigned)iv->intval.day_second.day,
             (unsigned)iv->intval.day_second.hour, (unsigned)iv->intval.day_second.minute,
             (unsigned)iv->intval.day_second.second, (unsigned)iv->intval.day_second.fraction);
}

/* SQL_C_INTERVAL_* as parameters (each of the 13 kinds) and as results (SQLGetData of an
 * interval column into each kind), plus the interval column's description. */
static void section_intervals(void)
{
    static const struct {
        const char *name;
        SQLSMALLINT ctype, sqltype;
        SQLINTERVAL kind;
    } kinds[] = {
        {"year", SQL_C_INTERVAL_YEAR, SQL_INTERVAL_YEAR, SQL_IS_YEAR},
        {"month", SQL_C_INTERVAL_MONTH, SQL_INTERVAL_MONTH, SQL_IS_MONTH},
        {"day", SQL_C_INTERVAL_DAY, SQL_INTERVAL_DAY, SQL_IS_DAY},
        {"hour", SQL_C_INTERVAL_HOUR, SQL_INTERVAL_HOUR, SQL_IS_HOUR},
        {"minute", SQL_C_INTERVAL_MINUTE, SQL_INTERVAL_MINUTE, SQL_IS_MINUTE},
        {"second", SQL_C_INTERVAL_SECOND, SQL_INTERVAL_SECOND, SQL_IS_SECOND},
        {"year to month", SQL_C_INTERVAL_YEAR_TO_MONTH, SQL_INTERVAL_YEAR_TO_MONTH, SQL_IS_YEAR_TO_MONTH},
        {"day to hour", SQL_C_INTERVAL_DAY_TO_HOUR, SQL_INTERVAL_DAY_TO_HOUR, SQL_IS_DAY_TO_HOUR},
        {"day to minute", SQL_C_INTERVAL_DAY_TO_MINUTE, SQL_INTERVAL_DAY_TO_MINUTE, SQL_IS_DAY_TO_MINUTE},
        {"day to second", SQL_C_INTERVAL_DAY_TO_SECOND, SQL_INTERVAL_DAY_TO_SECOND, SQL_IS_DAY_TO_SECOND},
        {"hour to minute", SQL_C_INTERVAL_HOUR_TO_MINUTE, SQL_INTERVAL_HOUR_TO_MINUTE, SQL_IS_HOUR_TO_MINUTE},
        {"hour to second", SQL_C_INTERVAL_HOUR_TO_SECOND, SQL_INTERVAL_HOUR_TO_SECOND, SQL_IS_HOUR_TO_SECOND},
        {"minute to second", SQL_C_INTERVAL_MINUTE_TO_SECOND, SQL_INTERVAL_MINUTE_TO_SECOND, SQL_IS_MINUTE_TO_SECOND},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        SQL_INTERVAL_STRUCT iv;
        memset(&iv, 0, sizeof iv);
        iv.interval_type = kinds[i].kind;
        iv.interval_sign = i % 3 == 2 ? SQL_TRUE : SQL_FALSE; /* some negative */
        if (kinds[i].kind == SQL_IS_YEAR || kinds[i].kind == SQL_IS_MONTH || kinds[i].kind == SQL_IS_YEAR_TO_MONTH) {
            iv.intval.year_month.year = 3;
            iv.intval.year_month.month = 7;
        } else {
            iv.intval.day_second.day = 2;
            iv.intval.day_second.hour = 5;
            iv.intval.day_second.minute = 17;
            iv.intval.day_second.second = 42;
            iv.intval.day_second.fraction = 250000;
        }
        char k[64];
        SQLHSTMT st = new_stmt();
        SQLLEN ind = sizeof iv;
        SQLRETURN rc = prepare(st, "SELECT CAST(? AS interval)::text AS v");
        SQLBindParameter(st, 1, SQL_PARAM_INPUT, kinds[i].ctype, kinds[i].sqltype, 9, 6, &iv, sizeof iv, &ind);
        rc = SQLExecute(st);
        snprintf(k, sizeof k, "param %s", kinds[i].name);
        rcline("interval", k, rc, SQL_HANDLE_STMT, st);
        if (SQL_SUCCEEDED(rc))
            dump_result("interval", k, st);
        free_stmt(st);
    }
    /* Results: one interval of each shape, read into each kind. */
    static const char *values[] = {"1 year 2 mons", "-3 days -04:05:06.5", "49:30:15", "100 days"};
    for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
        char sql[128], k[96];
        SQLHSTMT st = new_stmt();
        snprintf(sql, sizeof sql, "SELECT interval '%s' AS iv", values[v]);
        SQLRETURN rc = exec(st, sql);
        snprintf(k, sizeof k, "value%zu", v);
        rcline("interval", k, rc, SQL_HANDLE_STMT, st);
        SQLSMALLINT type = 0, digits = 0, nullable = 0;
        SQLULEN size = 0;
        char name[64];
        col_name(st, 1, name, sizeof name, &type, &size, &digits, &nullable);
        emit("interval", k, "%s describe type=%d size=%lu digits=%d", values[v], type, (unsigned long)size, digits);
        SQLFreeStmt(st, SQL_CLOSE);
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
            SQLFreeStmt(st, SQL_CLOSE); /* a column is read once per row: run the query for each kind */
            rc = exec(st, sql);
            if (SQL_SUCCEEDED(rc))
                rc = SQLFetch(st);
            if (!SQL_SUCCEEDED(rc)) {
                snprintf(k, sizeof k, "value%zu fetch for %s", v, kinds[i].name);
                rcline("interval", k, rc, SQL_HANDLE_STMT, st);
                continue;
            }
            SQL_INTERVAL_STRUCT iv;
            memset(&iv, 0xaa, sizeof iv);
            SQLLEN ind = -999;
            SQLRETURN g = SQLGetData(st, 1, kinds[i].ctype, &iv, sizeof iv, &ind);
            snprintf(k, sizeof k, "value%zu as %s", v, kinds[i].name);
            show_interval(k, g, &iv, ind);
            if (!SQL_SUCCEEDED(g))
                diags("interval", k, SQL_HANDLE_STMT, st);
        }
        free_stmt(st);
    }
}

/* ------------------------------------------- more C types: parameters and results -- */

/* Parameters of the C types section_bind leaves out (ODBC 2 codes, SQL_C_DEFAULT) and
 * conversions across types; and one row read by SQLGetData into every C type. */
static void section_more_ctypes(void)
{
    short s16 = -321;
    int s32 = 123456;
    signed char s8 = -7;
    SQL_DATE_STRUCT date = {1999, 12, 31};
    SQL_TIME_STRUCT time = {1, 2, 3};
    SQL_TIMESTAMP_STRUCT ts = {2000, 2, 29, 12, 30, 45, 500000000};
    double d = 12345.678;
    float f = -0.125f;
    unsigned char bin[] = {'a', 'b', 0, 'c'};
    SQLWCHAR wnum[] = {'-', '4', '2', '.', '5', 0};
    char longnum[] = "123456789012345678901234567890.12345";
    struct {
        const char *name;
        SQLSMALLINT ctype, sqltype;
        SQLULEN colsize;
        SQLSMALLINT digits;
        const char *cast;
        void *p;
        SQLLEN len;
    } cases[] = {
        {"short (odbc2)", SQL_C_SHORT, SQL_SMALLINT, 5, 0, "int2", &s16, 0},
        {"long (odbc2)", SQL_C_LONG, SQL_INTEGER, 10, 0, "int4", &s32, 0},
        {"tinyint (odbc2)", SQL_C_TINYINT, SQL_TINYINT, 3, 0, "int2", &s8, 0},
        {"date (odbc2)", SQL_C_DATE, SQL_DATE, 10, 0, "date", &date, sizeof date},
        {"time (odbc2)", SQL_C_TIME, SQL_TIME, 8, 0, "time", &time, sizeof time},
        {"timestamp (odbc2)", SQL_C_TIMESTAMP, SQL_TIMESTAMP, 26, 6, "timestamp", &ts, sizeof ts},
        {"default int", SQL_C_DEFAULT, SQL_INTEGER, 10, 0, "int4", &s32, 0},
        {"default double", SQL_C_DEFAULT, SQL_DOUBLE, 15, 0, "float8", &d, 0},
        {"double as numeric", SQL_C_DOUBLE, SQL_NUMERIC, 10, 3, "numeric", &d, 0},
        {"double as varchar", SQL_C_DOUBLE, SQL_VARCHAR, 20, 0, "text", &d, 0},
        {"float as double", SQL_C_FLOAT, SQL_DOUBLE, 15, 0, "float8", &f, 0},
        {"slong as varchar", SQL_C_SLONG, SQL_VARCHAR, 20, 0, "text", &s32, 0},
        {"slong as bit", SQL_C_SLONG, SQL_BIT, 1, 0, "bool", &s32, 0},
        {"char numeric 35 digits", SQL_C_CHAR, SQL_NUMERIC, 35, 5, "numeric(40,5)", longnum, SQL_NTS},
        {"char as timestamp", SQL_C_CHAR, SQL_TYPE_TIMESTAMP, 26, 6, "timestamptz", (void *)"2026-11-26 14:37:51.123456+00", SQL_NTS},
        {"char as bytea", SQL_C_CHAR, SQL_VARBINARY, 8, 0, "bytea", (void *)"00ff10", SQL_NTS},
        {"char as longvarchar", SQL_C_CHAR, SQL_LONGVARCHAR, 8000, 0, "text", (void *)"Zo\xc3\xab \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x9a\x80", SQL_NTS},
        {"wchar as numeric", SQL_C_WCHAR, SQL_NUMERIC, 10, 1, "numeric", wnum, SQL_NTS},
        {"binary as varchar", SQL_C_BINARY, SQL_VARCHAR, 4, 0, "text", bin, 3},
        {"binary with a NUL", SQL_C_BINARY, SQL_LONGVARBINARY, 4, 0, "bytea", bin, sizeof bin},
        {"timestamp as date", SQL_C_TYPE_TIMESTAMP, SQL_TYPE_DATE, 10, 0, "date", &ts, sizeof ts},
        {"timestamp as time", SQL_C_TYPE_TIMESTAMP, SQL_TYPE_TIME, 8, 0, "time", &ts, sizeof ts},
        {"date as timestamp", SQL_C_TYPE_DATE, SQL_TYPE_TIMESTAMP, 26, 0, "timestamp", &date, sizeof date},
        {"default-param null", SQL_C_SLONG, SQL_INTEGER, 10, 0, "int4", &s32, SQL_NULL_DATA},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        SQLHSTMT st = new_stmt();
        char sql[256], k[64];
        snprintf(sql, sizeof sql, "SELECT CAST(? AS %s)::text AS v", cases[i].cast);
        SQLLEN len = cases[i].len;
        SQLLEN buflen = cases[i].ctype == SQL_C_CHAR || cases[i].ctype == SQL_C_WCHAR ? 0 : cases[i].len;
        SQLRETURN rc = prepare(st, sql);
        rc = SQLBindParameter(st, 1, SQL_PARAM_INPUT, cases[i].ctype, cases[i].sqltype, cases[i].colsize,
                              cases[i].digits, cases[i].p, buflen, &len);
        snprintf(k, sizeof k, "%s bind", cases[i].name);
        rcline("ctype", k, rc, SQL_HANDLE_STMT, st);
        rc = SQLExecute(st);
        rcline("ctype", cases[i].name, rc, SQL_HANDLE_STMT, st);
        if (SQL_SUCCEEDED(rc))
            dump_result("ctype", cases[i].name, st);
        free_stmt(st);
    }

    /* Results: each column of one row read with SQLGetData into each C type (bytes in hex). */
    static const struct {
        const char *name;
        SQLSMALLINT ctype;
        size_t size;
    } targets[] = {
        {"char", SQL_C_CHAR, 64},         {"wchar", SQL_C_WCHAR, 128},       {"sshort", SQL_C_SSHORT, 2},
        {"ushort", SQL_C_USHORT, 2},      {"slong", SQL_C_SLONG, 4},         {"ulong", SQL_C_ULONG, 4},
        {"sbigint", SQL_C_SBIGINT, 8},    {"ubigint", SQL_C_UBIGINT, 8},     {"stinyint", SQL_C_STINYINT, 1},
        {"utinyint", SQL_C_UTINYINT, 1},  {"bit", SQL_C_BIT, 1},             {"float", SQL_C_FLOAT, 4},
        {"double", SQL_C_DOUBLE, 8},      {"numeric", SQL_C_NUMERIC, sizeof(SQL_NUMERIC_STRUCT)},
        {"date", SQL_C_TYPE_DATE, sizeof(SQL_DATE_STRUCT)}, {"time", SQL_C_TYPE_TIME, sizeof(SQL_TIME_STRUCT)},
        {"timestamp", SQL_C_TYPE_TIMESTAMP, sizeof(SQL_TIMESTAMP_STRUCT)}, {"binary", SQL_C_BINARY, 64},
        {"guid", SQL_C_GUID, sizeof(SQLGUID)}, {"default", SQL_C_DEFAULT, 64},
    };
    /* NORMALIZE: psqlODBC turns a number, text or a time into a date or timestamp of today;
     * so the date and timestamp targets read only d and ts, the time target d, ts and tm. */
    static const char date_cols[] = {0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0}; /* by column number */
    static const char time_cols[] = {0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0};
    static const char *columns = "SELECT 42::int4 AS i, -1.5::numeric(5,2) AS n, 2.5::float8 AS f, 'Zo\xc3\xab 7' AS t, "
                                 "date '2024-02-29' AS d, timestamp '2024-12-31 13:14:15.123456' AS ts, true AS b, "
                                 "'\\x00ff'::bytea AS bin, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u, "
                                 "time '10:11:12' AS tm, 70000::int4 AS big, '12'::text AS numtext";
    SQLHSTMT st = new_stmt();
    SQLSMALLINT ncols = 0;
    for (size_t t = 0; t < sizeof targets / sizeof targets[0]; t++) {
        SQLRETURN rc = exec(st, columns);
        if (t == 0)
            rcline("getdata", "exec", rc, SQL_HANDLE_STMT, st);
        SQLNumResultCols(st, &ncols);
        rc = SQLFetch(st);
        const char *only = targets[t].ctype == SQL_C_TYPE_DATE || targets[t].ctype == SQL_C_TYPE_TIMESTAMP ? date_cols
                           : targets[t].ctype == SQL_C_TYPE_TIME                                      ? time_cols
                                                                                                      : NULL;
        for (SQLUSMALLINT c = 1; c <= ncols && c <= 12 && SQL_SUCCEEDED(rc); c++) {
            if (only != NULL && !only[c])
                continue;
            unsigned char buf[256], hx[600];
            SQLLEN ind = -999;
            memset(buf, 0xaa, sizeof buf);
            SQLRETURN g = SQLGetData(st, c, targets[t].ctype, buf, (SQLLEN)targets[t].size, &ind);
            char k[64];
            snprintf(k, sizeof k, "col%d as %s", c, targets[t].name);
            size_t shown = targets[t].size + 2 < sizeof buf ? targets[t].size + 2 : sizeof buf; /* +2: overrun */
            hex(buf, shown, (char *)hx, sizeof hx);
            if (SQL_SUCCEEDED(g))
                emit("getdata", k, "rc=%d ind=%ld bytes=%s", (int)g, (long)ind, (char *)hx);
            else
                rcline("getdata", k, g, SQL_HANDLE_STMT, st);
            if (g == SQL_SUCCESS_WITH_INFO)
                diags("getdata", k, SQL_HANDLE_STMT, st);
        }
        SQLFreeStmt(st, SQL_CLOSE);
    }
    free_stmt(st);
}

/* ----------------------------------------------------- descriptors, ODBC 2 extras -- */

/* Binding through the ARD with SQLSetDescRec/SQLSetDescField, SQLCopyDesc into an explicit
 * descriptor used as another statement's ARD, and the IPD after SQLBindParameter. */
static void section_descriptors(void)
{
    SQLHSTMT st = new_stmt();
    SQLHDESC ard = NULL, ipd = NULL;
    SQLGetStmtAttr(st, SQL_ATTR_APP_ROW_DESC, &ard, 0, NULL);
    SQLINTEGER id = 0;
    SQLLEN idind = 0, idlen = 0;
    char name[41] = "";
    SQLLEN nameind = 0, namelen = 0;
    SQLRETURN rc = SQLSetDescRec(ard, 1, SQL_C_SLONG, 0, 0, 0, 0, &id, &idlen, &idind);
    rcline("descset", "ard rec1", rc, SQL_HANDLE_DESC, ard);
    rc = SQLSetDescField(ard, 2, SQL_DESC_TYPE, (SQLPOINTER)SQL_C_CHAR, 0);
    rcline("descset", "ard rec2 type", rc, SQL_HANDLE_DESC, ard);
    rc = SQLSetDescField(ard, 2, SQL_DESC_OCTET_LENGTH, (SQLPOINTER)(SQLLEN)sizeof name, 0);
    rcline("descset", "ard rec2 length", rc, SQL_HANDLE_DESC, ard);
    SQLSetDescField(ard, 2, SQL_DESC_INDICATOR_PTR, &nameind, 0);
    SQLSetDescField(ard, 2, SQL_DESC_OCTET_LENGTH_PTR, &namelen, 0);
    rc = SQLSetDescField(ard, 2, SQL_DESC_DATA_PTR, name, 0);
    rcline("descset", "ard rec2 data", rc, SQL_HANDLE_DESC, ard);
    SQLSMALLINT count = -1;
    SQLGetDescField(ard, 0, SQL_DESC_COUNT, &count, 0, NULL);
    emit("descset", "ard count", "%d", count);
    rc = exec(st, "SELECT id, name FROM lbdiff_parent WHERE id < 4 ORDER BY id");
    rcline("descset", "exec", rc, SQL_HANDLE_STMT, st);
    for (int r = 0; r < 4; r++) {
        rc = SQLFetch(st);
        char k[32];
        snprintf(k, sizeof k, "fetch%d", r);
        if (SQL_SUCCEEDED(rc))
            emit("descset", k, "rc=%d id=%d name=%s namelen=%ld", (int)rc, (int)id, name, (long)namelen);
        else
            rcline("descset", k, rc, SQL_HANDLE_STMT, st);
    }
    SQLCloseCursor(st);

    /* SQLCopyDesc: the ARD into an explicitly allocated descriptor, the ARD of a new statement. */
    SQLHDESC mine = NULL;
    rc = SQLAllocHandle(SQL_HANDLE_DESC, dbc, &mine);
    rcline("descset", "alloc desc", rc, SQL_HANDLE_DBC, dbc);
    rc = SQLCopyDesc(ard, mine);
    rcline("descset", "copy", rc, SQL_HANDLE_DESC, mine);
    SQLHSTMT st2 = new_stmt();
    rc = SQLSetStmtAttr(st2, SQL_ATTR_APP_ROW_DESC, mine, 0);
    rcline("descset", "use explicit ard", rc, SQL_HANDLE_STMT, st2);
    rc = exec(st2, "SELECT id, name FROM lbdiff_parent WHERE id = 2");
    rcline("descset", "exec2", rc, SQL_HANDLE_STMT, st2);
    rc = SQLFetch(st2);
    rcline("descset", "fetch explicit", rc, SQL_HANDLE_STMT, st2);
    emit("descset", "explicit row", "id=%d name=%s", (int)id, name);
    free_stmt(st2);
    SQLFreeHandle(SQL_HANDLE_DESC, mine);
    /* Copying into an IRD is refused. */
    SQLHDESC ird = NULL;
    SQLGetStmtAttr(st, SQL_ATTR_IMP_ROW_DESC, &ird, 0, NULL);
    rc = SQLCopyDesc(ard, ird);
    rcline("descset", "copy into ird", rc, SQL_HANDLE_DESC, ird);

    /* The IPD after SQLBindParameter, and SQL_DESC_COUNT of the APD. */
    rc = prepare(st, "SELECT CAST(? AS numeric(12,3)), CAST(? AS varchar(20))");
    double num = 1.5;
    SQLLEN numind = 0, strind = SQL_NTS;
    SQLBindParameter(st, 1, SQL_PARAM_INPUT, SQL_C_DOUBLE, SQL_NUMERIC, 12, 3, &num, 0, &numind);
    SQLBindParameter(st, 2, SQL_PARAM_INPUT, SQL_C_CHAR, SQL_VARCHAR, 20, 0, (SQLPOINTER) "x", 0, &strind);
    SQLGetStmtAttr(st, SQL_ATTR_IMP_PARAM_DESC, &ipd, 0, NULL);
    for (SQLSMALLINT p = 1; p <= 2; p++) {
        SQLCHAR pname[64] = "";
        SQLSMALLINT type = 0, sub = 0, prec = 0, scale = 0, nullable = 0, nlen = 0;
        SQLLEN length = 0;
        char k[32];
        rc = SQLGetDescRec(ipd, p, pname, sizeof pname, &nlen, &type, &sub, &length, &prec, &scale, &nullable);
        snprintf(k, sizeof k, "ipd rec%d", p);
        if (SQL_SUCCEEDED(rc))
            emit("descset", k, "rc=%d type=%d sub=%d length=%ld prec=%d scale=%d", (int)rc, type, sub, (long)length,
                 prec, scale);
        else
            rcline("descset", k, rc, SQL_HANDLE_DESC, ipd);
    }
    rc = SQLExecute(st);
    rcline("descset", "execute", rc, SQL_HANDLE_STMT, st);
    if (SQL_SUCCEEDED(rc))
        dump_result("descset", "execute", st);
    free_stmt(st);
}

/* More ODBC 2 (and 1) calls the driver manager maps: SQLSetParam, SQLBindParam,
 * SQLParamOptions, SQLSetConnectOption, SQLSetScrollOptions. */
static void section_odbc2_more(void)
{
    SQLHSTMT st = new_stmt();
    SQLINTEGER v = 77;
    SQLLEN vind = 0;
    SQLRETURN rc = prepare(st, "SELECT CAST(? AS int4) + 1");
    rc = SQLSetParam(st, 1, SQL_C_SLONG, SQL_INTEGER, 10, 0, &v, &vind);
    rcline("odbc2more", "setparam", rc, SQL_HANDLE_STMT, st);
    rc = SQLExecute(st);
    rcline("odbc2more", "setparam exec", rc, SQL_HANDLE_STMT, st);
    if (SQL_SUCCEEDED(rc))
        dump_result("odbc2more", "setparam", st);
    v = 99;
    rc = SQLBindParam(st, 1, SQL_C_SLONG, SQL_INTEGER, 10, 0, &v, &vind);
    rcline("odbc2more", "bindparam", rc, SQL_HANDLE_STMT, st);
    rc = SQLExecute(st);
    rcline("odbc2more", "bindparam exec", rc, SQL_HANDLE_STMT, st);
    if (SQL_SUCCEEDED(rc))
        dump_result("odbc2more", "bindparam", st);
    free_stmt(st);

    st = new_stmt();
    SQLINTEGER vals[3] = {300, 301, 302};
    SQLLEN inds[3] = {0, 0, 0};
    SQLULEN row = 0;
    rc = SQLParamOptions(st, 3, &row);
    rcline("odbc2more", "paramoptions", rc, SQL_HANDLE_STMT, st);
    rc = prepare(st, "INSERT INTO lbdiff_parent (id, name) VALUES (?, 'paramoptions ' || CAST(? AS text))");
    SQLBindParameter(st, 1, SQL_PARAM_INPUT, SQL_C_SLONG, SQL_INTEGER, 0, 0, vals, 0, inds);
    SQLBindParameter(st, 2, SQL_PARAM_INPUT, SQL_C_SLONG, SQL_INTEGER, 0, 0, vals, 0, inds);
    rc = SQLExecute(st);
    rcline("odbc2more", "paramoptions exec", rc, SQL_HANDLE_STMT, st);
    emit("odbc2more", "paramoptions row", "%lu", (unsigned long)row);
    free_stmt(st);
    run_sql("odbc2more", "readback", "SELECT id, name FROM lbdiff_parent WHERE id >= 300 ORDER BY id");

    rc = SQLSetConnectOption(dbc, SQL_ACCESS_MODE, SQL_MODE_READ_WRITE);
    rcline("odbc2more", "setconnectoption", rc, SQL_HANDLE_DBC, dbc);
    st = new_stmt();
    rc = SQLSetScrollOptions(st, SQL_CONCUR_READ_ONLY, SQL_SCROLL_STATIC, 1);
    rcline("odbc2more", "setscrolloptions", rc, SQL_HANDLE_STMT, st);
    SQLULEN ct = 0;
    SQLGetStmtAttr(st, SQL_ATTR_CURSOR_TYPE, &ct, 0, NULL);
    emit("odbc2more", "cursor type now", "%lu", (unsigned long)ct);
    free_stmt(st);
}

/* ------------------------------------------- attributes that change what happens -- */

static void stmt_attr_then(const char *key, SQLINTEGER attr, SQLULEN value, const char *sql)
{
    SQLHSTMT st = new_stmt();
    char k[128];
    SQLRETURN rc = SQLSetStmtAttr(st, attr, (SQLPOINTER)value, 0);
    snprintf(k, sizeof k, "%s set", key);
    rcline("setattr", k, rc, SQL_HANDLE_STMT, st);
    SQLULEN now = 0xdead;
    rc = SQLGetStmtAttr(st, attr, &now, 0, NULL);
    snprintf(k, sizeof k, "%s get", key);
    emit("setattr", k, "rc=%d %lu", (int)rc, (unsigned long)now);
    rc = exec(st, sql);
    rcline("setattr", key, rc, SQL_HANDLE_STMT, st);
    if (SQL_SUCCEEDED(rc))
        dump_result("setattr", key, st);
    free_stmt(st);
}

/* Statement and connection attributes that BI tools set, each followed by a statement
 * that shows its effect; row-wise column binding with a bind offset; SQLSetPos refresh and
 * delete; SQLGetFunctions one function at a time. */
static void section_set_attrs(void)
{
    stmt_attr_then("max rows 2", SQL_ATTR_MAX_ROWS, 2, "SELECT g FROM generate_series(1, 5) g");
    stmt_attr_then("max length 4", SQL_ATTR_MAX_LENGTH, 4, "SELECT 'abcdefgh'::text, '\\x0102030405'::bytea");
    stmt_attr_then("noscan on", SQL_ATTR_NOSCAN, SQL_NOSCAN_ON, "SELECT {fn UCASE('abc')}");
    stmt_attr_then("query timeout 7", SQL_ATTR_QUERY_TIMEOUT, 7, "SHOW statement_timeout");
    stmt_attr_then("scrollable", SQL_ATTR_CURSOR_SCROLLABLE, SQL_SCROLLABLE, "SELECT 1");
    stmt_attr_then("sensitive", SQL_ATTR_CURSOR_SENSITIVITY, SQL_SENSITIVE, "SELECT 1");
    stmt_attr_then("keyset size 3", SQL_ATTR_KEYSET_SIZE, 3, "SELECT 1");

    /* SQL_ATTR_RETRIEVE_DATA off: SQLFetchScroll positions without filling the bound buffer. */
    SQLHSTMT st = new_stmt();
    SQLSetStmtAttr(st, SQL_ATTR_CURSOR_TYPE, (SQLPOINTER)SQL_CURSOR_STATIC, 0);
    SQLRETURN rc = SQLSetStmtAttr(st, SQL_ATTR_RETRIEVE_DATA, (SQLPOINTER)SQL_RD_OFF, 0);
    rcline("setattr", "retrieve off set", rc, SQL_HANDLE_STMT, st);
    SQLINTEGER v = -1;
    SQLLEN vind = 0;
    exec(st, "SELECT g FROM generate_series(1, 3) g ORDER BY g");
    SQLBindCol(st, 1, SQL_C_SLONG, &v, 0, &vind);
    rc = SQLFetchScroll(st, SQL_FETCH_NEXT, 0);
    emit("setattr", "retrieve off fetch", "rc=%d v=%d", (int)rc, (int)v);
    free_stmt(st);

    /* SQL_ATTR_METADATA_ID on: catalog arguments are identifiers (no patterns, case folded). */
    st = new_stmt();
    rc = SQLSetStmtAttr(st, SQL_ATTR_METADATA_ID, (SQLPOINTER)SQL_TRUE, 0);
    rcline("setattr", "metadata id set", rc, SQL_HANDLE_STMT, st);
    rc = catalog(st, C_TABLES, NULL, "public", "LBDIFF_PARENT", NULL, NULL, NULL, 0, 0, 0);
    rcline("setattr", "metadata id tables", rc, SQL_HANDLE_STMT, st);
    if (SQL_SUCCEEDED(rc))
        dump_result("setattr", "metadata id tables", st);
    rc = catalog(st, C_COLUMNS, NULL, "public", "lbdiff%", NULL, NULL, NULL, 0, 0, 0);
    rcline("setattr", "metadata id columns pattern", rc, SQL_HANDLE_STMT, st);
    if (SQL_SUCCEEDED(rc))
        dump_result("setattr", "metadata id columns pattern", st);
    free_stmt(st);

    /* Read-only access mode, then a write. */
    rc = SQLSetConnectAttr(dbc, SQL_ATTR_ACCESS_MODE, (SQLPOINTER)SQL_MODE_READ_ONLY, 0);
    rcline("setattr", "read only set", rc, SQL_HANDLE_DBC, dbc);
    run_sql("setattr", "read only write", "UPDATE lbdiff_parent SET note = note WHERE id = 2");
    run_sql("setattr", "read only show", "SHOW transaction_read_only");
    SQLSetConnectAttr(dbc, SQL_ATTR_ACCESS_MODE, (SQLPOINTER)SQL_MODE_READ_WRITE, 0);
    rc = SQLSetConnectAttr(dbc, SQL_ATTR_CURRENT_CATALOG, (SQLPOINTER) "databricks_postgres", SQL_NTS);
    rcline("setattr", "current catalog set", rc, SQL_HANDLE_DBC, dbc);
    rc = SQLSetConnectAttr(dbc, SQL_ATTR_CURRENT_CATALOG, (SQLPOINTER) "postgres", SQL_NTS);
    rcline("setattr", "current catalog other", rc, SQL_HANDLE_DBC, dbc);

    /* Row-wise column binding with a bind offset: a rowset of 3 into an array of structs. */
    struct rowbuf {
        SQLINTEGER id;
        SQLLEN idind;
        char name[16];
        SQLLEN nameind;
    } rows[6];
    memset(rows, 0, sizeof rows);
    SQLULEN offset = 0, fetched = 0;
    SQLUSMALLINT status[3];
    st = new_stmt();
    SQLSetStmtAttr(st, SQL_ATTR_CURSOR_TYPE, (SQLPOINTER)SQL_CURSOR_STATIC, 0);
    SQLSetStmtAttr(st, SQL_ATTR_ROW_BIND_TYPE, (SQLPOINTER)sizeof(struct rowbuf), 0);
    SQLSetStmtAttr(st, SQL_ATTR_ROW_ARRAY_SIZE, (SQLPOINTER)3, 0);
    SQLSetStmtAttr(st, SQL_ATTR_ROW_BIND_OFFSET_PTR, &offset, 0);
    SQLSetStmtAttr(st, SQL_ATTR_ROW_STATUS_PTR, status, 0);
    SQLSetStmtAttr(st, SQL_ATTR_ROWS_FETCHED_PTR, &fetched, 0);
    rc = exec(st, "SELECT id, name FROM lbdiff_parent WHERE id < 20 ORDER BY id");
    rcline("rowwise", "exec", rc, SQL_HANDLE_STMT, st);
    SQLBindCol(st, 1, SQL_C_SLONG, &rows[0].id, 0, &rows[0].idind);
    SQLBindCol(st, 2, SQL_C_CHAR, rows[0].name, sizeof rows[0].name, &rows[0].nameind);
    for (int i = 0; i < 2; i++) {
        offset = (SQLULEN)i * 3 * sizeof(struct rowbuf);
        rc = SQLFetchScroll(st, SQL_FETCH_NEXT, 0);
        char k[32];
        snprintf(k, sizeof k, "fetch%d", i);
        rcline("rowwise", k, rc, SQL_HANDLE_STMT, st);
        emit("rowwise", k, "fetched=%lu status=%u,%u,%u", (unsigned long)fetched, status[0], status[1], status[2]);
    }
    for (int i = 0; i < 6; i++) {
        char k[32];
        snprintf(k, sizeof k, "row%d", i);
        emit("rowwise", k, "id=%d/%ld name=%s/%ld", (int)rows[i].id, (long)rows[i].idind, rows[i].name,
             (long)rows[i].nameind);
    }
    free_stmt(st);

    /* SQLSetPos SQL_REFRESH and SQL_DELETE on a keyset cursor. */
    st = new_stmt();
    SQLSetStmtAttr(st, SQL_ATTR_CURSOR_TYPE, (SQLPOINTER)SQL_CURSOR_KEYSET_DRIVEN, 0);
    SQLSetStmtAttr(st, SQL_ATTR_CONCURRENCY, (SQLPOINTER)SQL_CONCUR_ROWVER, 0);
    rc = exec(st, "SELECT id, name FROM lbdiff_parent WHERE id >= 240 AND id < 250 ORDER BY id");
    rcline("setpos2", "exec", rc, SQL_HANDLE_STMT, st);
    SQLINTEGER pid = 0;
    char pname[41] = "";
    SQLLEN pidind = 0, pnameind = 0;
    SQLBindCol(st, 1, SQL_C_SLONG, &pid, 0, &pidind);
    SQLBindCol(st, 2, SQL_C_CHAR, pname, sizeof pname, &pnameind);
    rc = SQLFetchScroll(st, SQL_FETCH_NEXT, 0);
    rcline("setpos2", "fetch", rc, SQL_HANDLE_STMT, st);
    run_sql("setpos2", "changed elsewhere", "UPDATE lbdiff_parent SET name = 'changed elsewhere' WHERE id = 240");
    rc = SQLSetPos(st, 1, SQL_REFRESH, SQL_LOCK_NO_CHANGE);
    rcline("setpos2", "refresh", rc, SQL_HANDLE_STMT, st);
    emit("setpos2", "after refresh", "%d %s", (int)pid, pname);
    rc = SQLSetPos(st, 1, SQL_DELETE, SQL_LOCK_NO_CHANGE);
    rcline("setpos2", "delete", rc, SQL_HANDLE_STMT, st);
    SQLLEN rows_affected = -2;
    SQLRowCount(st, &rows_affected);
    emit("setpos2", "delete rowcount", "%ld", (long)rows_affected);
    free_stmt(st);
    run_sql("setpos2", "readback", "SELECT id, name FROM lbdiff_parent WHERE id >= 240 AND id < 250 ORDER BY id");

    /* SQLGetFunctions one function at a time (ODBC 3 ids and the ODBC 2 range). */
    char line[1024];
    size_t o = 0;
    for (SQLUSMALLINT id = 1; id <= 100; id++) {
        SQLUSMALLINT yes = 0xee;
        SQLGetFunctions(dbc, id, &yes);
        o += (size_t)snprintf(line + o, sizeof line - o, "%u", yes == 0xee ? 9u : (unsigned)yes);
    }
    emit("functions", "one by one 1-100", "%s", line);
    o = 0;
    for (SQLUSMALLINT id = 1001; id <= 1030; id++) {
        SQLUSMALLINT yes = 0xee;
        SQLGetFunctions(dbc, id, &yes);
        o += (size_t)snprintf(line + o, sizeof line - o, "%u", yes == 0xee ? 9u : (unsigned)yes);
    }
    emit("functions", "one by one 1001-1030", "%s", line);
}

/* An application that declares ODBC 2 (SQL_OV_ODBC2) on its environment: the driver manager
 * and psqlODBC answer with ODBC 2 SQLSTATEs (S0002, S1xxx) and date type codes (9, 11). */
static void section_odbc2_env(void)
{
    SQLHENV env2 = NULL;
    SQLHDBC dbc2 = NULL;
    SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env2);
    SQLRETURN rc = SQLSetEnvAttr(env2, SQL_ATTR_ODBC_VERSION, (SQLPOINTER)SQL_OV_ODBC2, 0);
    rcline("odbc2env", "set version", rc, SQL_HANDLE_ENV, env2);
    SQLAllocHandle(SQL_HANDLE_DBC, env2, &dbc2);
    char out[4096];
    rc = driver_connect(dbc2, getenv("LBDIFF_CONNSTR"), out, sizeof out);
    rcline("odbc2env", "connect", rc, SQL_HANDLE_DBC, dbc2);
    if (SQL_SUCCEEDED(rc)) {
        SQLHDBC saved = dbc;
        dbc = dbc2;
        run_sql("odbc2env", "no table", "SELECT * FROM lbdiff_nosuch");
        run_sql("odbc2env", "syntax", "SELEC 1");
        run_sql("odbc2env", "dates", "SELECT date '2024-02-29' AS d, time '10:11:12' AS t, timestamp '2024-12-31 13:14:15' AS ts");
        SQLHSTMT st = new_stmt();
        rc = wide ? SQLGetTypeInfoW(st, SQL_TIMESTAMP) : SQLGetTypeInfo(st, SQL_TIMESTAMP);
        rcline("odbc2env", "typeinfo timestamp", rc, SQL_HANDLE_STMT, st);
        if (SQL_SUCCEEDED(rc))
            dump_result("odbc2env", "typeinfo timestamp", st);
        rc = catalog(st, C_COLUMNS, NULL, "public", "lbdiff_child", "d", NULL, NULL, 0, 0, 0);
        rcline("odbc2env", "columns date", rc, SQL_HANDLE_STMT, st);
        if (SQL_SUCCEEDED(rc))
            dump_result("odbc2env", "columns date", st);
        rc = SQLFetch(st);
        rcline("odbc2env", "fetch without result", rc, SQL_HANDLE_STMT, st);
        free_stmt(st);
        dbc = saved;
        rc = SQLDisconnect(dbc2);
        rcline("odbc2env", "disconnect", rc, SQL_HANDLE_DBC, dbc2);
    }
    SQLFreeHandle(SQL_HANDLE_DBC, dbc2);
    SQLFreeHandle(SQL_HANDLE_ENV, env2);
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

    /* Each section's time goes to stderr (kept beside the output, not compared). */
    static const struct {
        const char *name;
        void (*run)(void);
    } sections[] = {
        {"info", section_info},
        {"functions", section_functions},
        {"connect_attrs", section_connect_attrs},
        {"stmt_attrs", section_stmt_attrs},
        {"typeinfo", section_typeinfo},
        {"catalog", section_catalog},
        {"describe", section_describe},
        {"bind", section_bind},
        {"pieces", section_pieces},
        {"scroll", section_scroll},
        {"txn", section_txn},
        {"errors", section_errors},
        {"odbc2", section_odbc2},
        {"connpaths", section_connpaths},
        {"param_arrays", section_param_arrays},
        {"native_sql", section_native_sql},
        {"cursor_names", section_cursor_names},
        {"bookmarks", section_bookmarks},
        {"cancel_thread", section_cancel_thread},
        {"intervals", section_intervals},
        {"more_ctypes", section_more_ctypes},
        {"descriptors", section_descriptors},
        {"odbc2_more", section_odbc2_more},
        {"set_attrs", section_set_attrs},
        {"odbc2_env", section_odbc2_env},
    };
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        double t0 = now_s();
        sections[i].run();
        fflush(stdout);
        fprintf(stderr, "section %s: %.2f s\n", sections[i].name, now_s() - t0);
    }
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
