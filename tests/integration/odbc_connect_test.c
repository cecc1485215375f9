/* End to end through the real unixODBC driver manager, the real psqlODBC and the
 * local Lakebase (workspace emulator + PostgreSQL) that the ctest fixture started:
 * connect paths, output strings and the diagnostics of each kind of failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_utf16.h"
#include "testenv.h"

static void assert_no_secrets(const char *out)
{
    assert_null(strstr(out, secret));
    assert_null(strstr(out, "PWD="));
    assert_null(strstr(out, "pwd="));
    assert_null(strstr(out, "ClientSecret"));
    assert_null(strstr(out, "eyJ")); /* every credential is a JWT */
}

static void test_dsnless_driver_connect(void **state)
{
    (void)state;
    conn c = new_conn();
    char in[4096], out[4096] = "";
    dsnless(in, sizeof(in), "UseDeclareFetch=1;TokenCache=off");
    SQLSMALLINT out_len = 0;
    long long before = emulator_count(CREDENTIALS);
    SQLRETURN rc = SQLDriverConnect(c.dbc, NULL, (SQLCHAR *)in, SQL_NTS, (SQLCHAR *)out, sizeof(out), &out_len,
                                    SQL_DRIVER_NOPROMPT);
    assert_connected(c.dbc, rc);
    assert_int_equal(emulator_count(CREDENTIALS), before + 1);
    check_identity(c.dbc);
    assert_int_equal(out_len, (SQLSMALLINT)strlen(out));
    assert_no_secrets(out);
    assert_non_null(strstr(out, "UseDeclareFetch=1"));
    assert_non_null(strstr(out, "DatabricksHost="));
    SQLDisconnect(c.dbc);

    /* A reconnect with the output string goes through the driver again: with the
     * secret from the environment, it gets a new credential. */
    setenv("DATABRICKS_CLIENT_SECRET", secret, 1);
    rc = SQLDriverConnect(c.dbc, NULL, (SQLCHAR *)out, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
    unsetenv("DATABRICKS_CLIENT_SECRET");
    assert_true(SQL_SUCCEEDED(rc));
    assert_int_equal(emulator_count(CREDENTIALS), before + 2);
    check_identity(c.dbc);
    SQLDisconnect(c.dbc);
    free_conn(&c);
}

static void test_dsn_connect_fresh_credential_each_time(void **state)
{
    (void)state;
    setenv("LAKEBASE_ODBC_TOKEN_CACHE", "off", 1); /* the DSN does not set TokenCache */
    long long before = emulator_count(CREDENTIALS);
    for (int i = 0; i < 3; i++) {
        conn c = new_conn();
        SQLRETURN rc = SQLConnect(c.dbc, (SQLCHAR *)"lakebase-local", SQL_NTS, NULL, 0, NULL, 0);
        assert_connected(c.dbc, rc);
        check_identity(c.dbc);
        SQLDisconnect(c.dbc);
        free_conn(&c);
    }
    unsetenv("LAKEBASE_ODBC_TOKEN_CACHE");
    assert_int_equal(emulator_count(CREDENTIALS), before + 3);
}

static void test_wide_driver_connect(void **state)
{
    (void)state;
    conn c = new_conn();
    char in[4096];
    dsnless(in, sizeof(in), "");
    uint16_t *win = lb_utf8_to_utf16(in, NULL);
    SQLWCHAR out[2048];
    SQLSMALLINT out_len = 0;
    SQLRETURN rc = SQLDriverConnectW(c.dbc, NULL, win, SQL_NTS, out, 2048, &out_len, SQL_DRIVER_NOPROMPT);
    free(win);
    assert_true(SQL_SUCCEEDED(rc));
    int bad = 0;
    char *out8 = lb_utf16_to_utf8(out, lb_utf16_len(out, 2048), NULL, &bad);
    assert_non_null(out8);
    assert_int_equal(out_len, (SQLSMALLINT)strlen(out8));
    assert_no_secrets(out8);
    free(out8);
    check_identity(c.dbc);
    SQLDisconnect(c.dbc);
    free_conn(&c);
}

static void test_output_truncation(void **state)
{
    (void)state;
    conn c = new_conn();
    char in[4096], out[16];
    dsnless(in, sizeof(in), "");
    SQLSMALLINT out_len = 0;
    SQLRETURN rc = SQLDriverConnect(c.dbc, NULL, (SQLCHAR *)in, SQL_NTS, (SQLCHAR *)out, sizeof(out), &out_len,
                                    SQL_DRIVER_NOPROMPT);
    assert_int_equal(rc, SQL_SUCCESS_WITH_INFO);
    assert_int_equal(strlen(out), sizeof(out) - 1);
    assert_true(out_len > (SQLSMALLINT)sizeof(out));
    char st[6], msg[1024];
    first_diag(c.dbc, st, msg, sizeof(msg));
    assert_string_equal(st, "01004");
    check_identity(c.dbc); /* still connected */
    SQLDisconnect(c.dbc);
    free_conn(&c);
}

/* A connect that must fail before PostgreSQL with sqlstate and a message containing phrase. */
static void expect_failure(const char *in, const char *sqlstate, const char *phrase)
{
    conn c = new_conn();
    long long before = emulator_count(CREDENTIALS);
    SQLRETURN rc = SQLDriverConnect(c.dbc, NULL, (SQLCHAR *)in, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
    assert_int_equal(rc, SQL_ERROR);
    char st[6] = "", msg[2048] = "";
    first_diag(c.dbc, st, msg, sizeof(msg));
    if (strcmp(st, sqlstate) != 0 || strstr(msg, phrase) == NULL)
        fail_msg("got %s \"%s\"; want %s with \"%s\"", st, msg, sqlstate, phrase);
    assert_null(strstr(msg, secret));
    /* The same record through SQLGetDiagField. */
    SQLINTEGER n = 0;
    assert_int_equal(SQLGetDiagField(SQL_HANDLE_DBC, c.dbc, 0, SQL_DIAG_NUMBER, &n, 0, NULL), SQL_SUCCESS);
    assert_true(n >= 1);
    char st2[6] = "";
    SQLSMALLINT l = 0;
    assert_true(SQL_SUCCEEDED(SQLGetDiagField(SQL_HANDLE_DBC, c.dbc, 1, SQL_DIAG_SQLSTATE, st2, sizeof(st2), &l)));
    assert_string_equal(st2, sqlstate);
    char text[2048] = "";
    assert_true(SQL_SUCCEEDED(SQLGetDiagField(SQL_HANDLE_DBC, c.dbc, 1, SQL_DIAG_MESSAGE_TEXT, text, sizeof(text), &l)));
    assert_string_equal(text, msg);
    SQLWCHAR wtext[2048];
    assert_true(SQL_SUCCEEDED(SQLGetDiagFieldW(SQL_HANDLE_DBC, c.dbc, 1, SQL_DIAG_MESSAGE_TEXT, wtext, sizeof(wtext), &l)));
    assert_int_equal(l, (SQLSMALLINT)(strlen(msg) * sizeof(SQLWCHAR))); /* bytes, all ASCII here */
    /* and its W twin. */
    SQLWCHAR wst[6], wmsg[2048];
    SQLINTEGER native;
    SQLSMALLINT wl = 0;
    assert_true(SQL_SUCCEEDED(SQLGetDiagRecW(SQL_HANDLE_DBC, c.dbc, 1, wst, &native, wmsg, 2048, &wl)));
    int bad = 0;
    char *m8 = lb_utf16_to_utf8(wmsg, lb_utf16_len(wmsg, 2048), NULL, &bad);
    assert_string_equal(m8, msg);
    free(m8);
    assert_int_equal(SQLGetDiagRec(SQL_HANDLE_DBC, c.dbc, 2, (SQLCHAR *)st, &native, (SQLCHAR *)msg, sizeof(msg), &l),
                     SQL_NO_DATA);
    if (strcmp(sqlstate, "HY000") == 0) /* bad settings: refused before any network call */
        assert_int_equal(emulator_count(CREDENTIALS), before);
    free_conn(&c);
}

static void test_wrong_secret(void **state)
{
    (void)state;
    char in[4096];
    snprintf(in, sizeof(in),
             "Driver={%s};DatabricksHost=%s;ClientID=%s;ClientSecret=not-the-secret;"
             "Endpoint=projects/demo/branches/main/endpoints/primary;Servername=localhost;Port=%s;CAFile={%s}",
             driver, emulator_url, client_id, pg_port, ca_file);
    expect_failure(in, "28000", "Check ClientID and ClientSecret");
}

static void test_missing_endpoint(void **state)
{
    (void)state;
    char in[4096];
    unsetenv("ENDPOINT_NAME");
    snprintf(in, sizeof(in), "Driver={%s};DatabricksHost=%s;ClientID=%s;ClientSecret={%s};Servername=localhost;"
             "Port=%s;CAFile={%s}", driver, emulator_url, client_id, secret, pg_port, ca_file);
    expect_failure(in, "HY000", "Missing setting Endpoint");
}

static void test_http_host_refused(void **state)
{
    (void)state;
    char in[4096];
    dsnless(in, sizeof(in), "");
    char with_http[4200];
    snprintf(with_http, sizeof(with_http), "DatabricksHost=http://localhost:1;%s", in);
    expect_failure(with_http, "HY000", "must be reached over https://");
}

static void test_unknown_endpoint(void **state)
{
    (void)state;
    char in[4096];
    snprintf(in, sizeof(in), "Endpoint=projects/demo/branches/main/endpoints/nope;Driver={%s};DatabricksHost=%s;"
             "ClientID=%s;ClientSecret={%s};Servername=localhost;Port=%s;CAFile={%s}",
             driver, emulator_url, client_id, secret, pg_port, ca_file);
    expect_failure(in, "08001", "was not found");
}

static void test_untrusted_certificate(void **state)
{
    (void)state;
    char in[4096];
    snprintf(in, sizeof(in), "Driver={%s};DatabricksHost=%s;ClientID=%s;ClientSecret={%s};"
             "Endpoint=projects/demo/branches/main/endpoints/primary;Servername=localhost;Port=%s;TokenCache=off",
             driver, emulator_url, client_id, secret, pg_port);
    expect_failure(in, "08001", "CAFile");
}

static void test_unbalanced_braces(void **state)
{
    (void)state;
    expect_failure("DSN=lakebase-local;ClientSecret={oops", "HY000", "never closed");
}

static void test_browse_connect_refused(void **state)
{
    (void)state;
    conn c = new_conn();
    char out[256];
    SQLSMALLINT len;
    SQLRETURN rc = SQLBrowseConnect(c.dbc, (SQLCHAR *)"DSN=lakebase-local", SQL_NTS, (SQLCHAR *)out, sizeof(out), &len);
    assert_int_equal(rc, SQL_ERROR);
    char st[6], msg[1024];
    first_diag(c.dbc, st, msg, sizeof(msg));
    assert_string_equal(st, "HYC00");
    assert_non_null(strstr(msg, "SQLBrowseConnect is not supported"));
    free_conn(&c);
}

static void test_diagnostics_cleared_by_next_call(void **state)
{
    (void)state;
    conn c = new_conn();
    SQLRETURN rc = SQLDriverConnect(c.dbc, NULL, (SQLCHAR *)"DSN=lakebase-local;Endpoint=bad", SQL_NTS, NULL, 0,
                                    NULL, SQL_DRIVER_NOPROMPT);
    assert_int_equal(rc, SQL_ERROR);
    /* A later successful connect leaves no stale record behind. */
    rc = SQLConnect(c.dbc, (SQLCHAR *)"lakebase-local", SQL_NTS, NULL, 0, NULL, 0);
    assert_int_equal(rc, SQL_SUCCESS);
    SQLINTEGER n = -1;
    assert_int_equal(SQLGetDiagField(SQL_HANDLE_DBC, c.dbc, 0, SQL_DIAG_NUMBER, &n, 0, NULL), SQL_SUCCESS);
    assert_int_equal(n, 0);
    SQLDisconnect(c.dbc);
    free_conn(&c);
}

/* SQLGetInfo says which driver this is (its file and version, with psqlODBC's), and
 * leaves every database fact to psqlODBC; ANSI and W; a short buffer is 01004. */
static void test_get_info_identifies_the_driver(void **state)
{
    (void)state;
    conn c = new_conn();
    char in[4096];
    dsnless(in, sizeof(in), "");
    assert_connected(c.dbc, SQLDriverConnect(c.dbc, NULL, (SQLCHAR *)in, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT));
    char name[256] = "", ver[256] = "", dbms[256] = "";
    SQLSMALLINT len = 0;
    assert_int_equal(SQLGetInfo(c.dbc, SQL_DRIVER_NAME, name, sizeof(name), &len), SQL_SUCCESS);
    assert_int_equal(len, (SQLSMALLINT)strlen(name));
    assert_int_equal(SQLGetInfo(c.dbc, SQL_DRIVER_VER, ver, sizeof(ver), &len), SQL_SUCCESS);
    assert_int_equal(SQLGetInfo(c.dbc, SQL_DBMS_NAME, dbms, sizeof(dbms), &len), SQL_SUCCESS);
    printf("SQL_DRIVER_NAME %s, SQL_DRIVER_VER %s, SQL_DBMS_NAME %s\n", name, ver, dbms);
    const char *base = strrchr(driver, '/') ? strrchr(driver, '/') + 1 : driver;
    assert_string_equal(name, base);
    assert_true(strlen(ver) > 10 && ver[2] == '.' && ver[5] == '.' && ver[10] == ' ');
    assert_non_null(strstr(ver, "(psqlODBC "));
    assert_string_equal(dbms, "PostgreSQL");

    SQLWCHAR wname[256];
    assert_int_equal(SQLGetInfoW(c.dbc, SQL_DRIVER_NAME, wname, sizeof(wname), &len), SQL_SUCCESS);
    assert_int_equal(len, (SQLSMALLINT)(strlen(base) * sizeof(SQLWCHAR)));
    size_t back_len = 0;
    int bad = 0;
    char *back = lb_utf16_to_utf8((const uint16_t *)wname, strlen(base), &back_len, &bad);
    assert_string_equal(back, base);
    free(back);

    char small[6];
    assert_int_equal(SQLGetInfo(c.dbc, SQL_DRIVER_VER, small, sizeof(small), &len), SQL_SUCCESS_WITH_INFO);
    assert_int_equal(len, (SQLSMALLINT)strlen(ver));
    assert_int_equal(strlen(small), 5);
    SQLDisconnect(c.dbc);
    free_conn(&c);
}

/* The SQL type psqlODBC gives a boolean column on a connection made with extra keys. */
static SQLSMALLINT bool_column_type(const char *extra)
{
    conn c = new_conn();
    char in[4096];
    dsnless(in, sizeof(in), extra);
    assert_connected(c.dbc, SQLDriverConnect(c.dbc, NULL, (SQLCHAR *)in, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT));
    SQLHSTMT st;
    assert_int_equal(SQLAllocHandle(SQL_HANDLE_STMT, c.dbc, &st), SQL_SUCCESS);
    assert_true(SQL_SUCCEEDED(SQLExecDirect(st, (SQLCHAR *)"SELECT true AS b", SQL_NTS)));
    SQLCHAR name[32];
    SQLSMALLINT nlen, type, digits, nullable;
    SQLULEN size;
    assert_true(SQL_SUCCEEDED(SQLDescribeCol(st, 1, name, sizeof(name), &nlen, &type, &size, &digits, &nullable)));
    SQLFreeHandle(SQL_HANDLE_STMT, st);
    SQLDisconnect(c.dbc);
    free_conn(&c);
    return type;
}

/* A key the driver does not own reaches psqlODBC every time it is given, in order:
 * psqlODBC takes the last, as it does without the driver. */
static void test_repeated_passthrough_keys(void **state)
{
    (void)state;
    SQLSMALLINT as_char = bool_column_type("BoolsAsChar=1;");
    SQLSMALLINT as_bit = bool_column_type("BoolsAsChar=0;");
    printf("bool column: BoolsAsChar=1 -> %d, BoolsAsChar=0 -> %d\n", as_char, as_bit);
    assert_int_not_equal(as_char, as_bit);
    assert_int_equal(bool_column_type("BoolsAsChar=0;BoolsAsChar=1;"), as_char);
    assert_int_equal(bool_column_type("BoolsAsChar=1;BoolsAsChar=0;"), as_bit);
}

int main(void)
{
    read_state();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dsnless_driver_connect),
        cmocka_unit_test(test_dsn_connect_fresh_credential_each_time),
        cmocka_unit_test(test_wide_driver_connect),
        cmocka_unit_test(test_output_truncation),
        cmocka_unit_test(test_wrong_secret),
        cmocka_unit_test(test_missing_endpoint),
        cmocka_unit_test(test_http_host_refused),
        cmocka_unit_test(test_unknown_endpoint),
        cmocka_unit_test(test_untrusted_certificate),
        cmocka_unit_test(test_unbalanced_braces),
        cmocka_unit_test(test_browse_connect_refused),
        cmocka_unit_test(test_diagnostics_cleared_by_next_call),
        cmocka_unit_test(test_get_info_identifies_the_driver),
        cmocka_unit_test(test_repeated_passthrough_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
