/* Shared helpers of the integration tests: the local Lakebase's coordinates, the
 * emulator's control interface, ODBC handle chores and the connects that must fail
 * (see testenv.h). */
#include "testenv.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lb_http.h"
#include "lb_json.h"

char secret[256];
char ca_file[1024];
const char *emulator_url;
const char *client_id;
const char *pg_port;
const char *driver;

const char *need_env(const char *name)
{
    const char *v = getenv(name);
    if (v == NULL || v[0] == '\0') {
        fprintf(stderr, "%s is not set: run this through ctest\n", name);
        exit(2);
    }
    return v;
}

void read_state_line(const char *name, char *buf, size_t size)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/%s", need_env("LAKEBASE_LOCAL_STATE"), name);
    FILE *f = fopen(path, "r");
    if (f == NULL || fgets(buf, (int)size, f) == NULL) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    fclose(f);
    buf[strcspn(buf, "\r\n")] = '\0';
}

void read_state(void)
{
    const char *state = need_env("LAKEBASE_LOCAL_STATE");
    emulator_url = need_env("LAKEBASE_EMULATOR_URL");
    client_id = need_env("LAKEBASE_CLIENT_ID");
    pg_port = need_env("LAKEBASE_PG_PORT");
    driver = need_env("LAKEBASE_DRIVER");
    read_state_line("client-secret", secret, sizeof(secret));
    snprintf(ca_file, sizeof(ca_file), "%s/ca.pem", state);
}

/* Count of one route in the emulator's /_emulator/stats. */
long long emulator_count(const char *route)
{
    char url[1024];
    snprintf(url, sizeof(url), "%s/_emulator/stats", emulator_url);
    lb_http_opts opts = {.cafile = ca_file};
    lb_http_request req = {.method = "GET", .url = url};
    lb_http_response resp;
    lb_error err;
    lb_error_init(&err);
    if (lb_http_send(&opts, &req, &resp, &err) != LB_OK)
        fail_msg("emulator stats: %s", err.message);
    assert_int_equal(resp.status, 200);
    struct json_object *obj = lb_json_parse_object(resp.body, resp.body_len);
    assert_non_null(obj);
    long long n = 0;
    lb_json_int64(obj, route, &n);
    json_object_put(obj);
    lb_http_response_free(&resp);
    return n;
}

conn new_conn(void)
{
    conn c;
    assert_int_equal(SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &c.env), SQL_SUCCESS);
    assert_int_equal(SQLSetEnvAttr(c.env, SQL_ATTR_ODBC_VERSION, (SQLPOINTER)SQL_OV_ODBC3, 0), SQL_SUCCESS);
    assert_int_equal(SQLAllocHandle(SQL_HANDLE_DBC, c.env, &c.dbc), SQL_SUCCESS);
    return c;
}

void free_conn(conn *c)
{
    SQLFreeHandle(SQL_HANDLE_DBC, c->dbc);
    SQLFreeHandle(SQL_HANDLE_ENV, c->env);
}

/* The first diagnostic record of the connection. */
void first_diag(SQLHDBC dbc, char state[6], char *msg, size_t size)
{
    SQLSMALLINT len = 0;
    SQLINTEGER native = 0;
    SQLRETURN rc = SQLGetDiagRec(SQL_HANDLE_DBC, dbc, 1, (SQLCHAR *)state, &native, (SQLCHAR *)msg,
                                 (SQLSMALLINT)size, &len);
    if (!SQL_SUCCEEDED(rc))
        fail_msg("no diagnostic record (rc %d)", rc);
}

void all_diags(SQLHDBC dbc, char *out, size_t size)
{
    out[0] = '\0';
    for (SQLSMALLINT i = 1; i < 20; i++) {
        char st[6], msg[1200];
        SQLINTEGER native;
        SQLSMALLINT len;
        if (!SQL_SUCCEEDED(SQLGetDiagRec(SQL_HANDLE_DBC, dbc, i, (SQLCHAR *)st, &native, (SQLCHAR *)msg, sizeof(msg), &len)))
            break;
        size_t used = strlen(out);
        snprintf(out + used, size - used, "[%s] %s | ", st, msg);
    }
}

void assert_connected(SQLHDBC dbc, SQLRETURN rc)
{
    if (!SQL_SUCCEEDED(rc)) {
        char st[6], msg[2048];
        first_diag(dbc, st, msg, sizeof(msg));
        fail_msg("connect failed: %s %s", st, msg);
    }
}

/* Runs the seed's verification query and checks the user and database. */
void check_identity(SQLHDBC dbc)
{
    SQLHSTMT st;
    assert_int_equal(SQLAllocHandle(SQL_HANDLE_STMT, dbc, &st), SQL_SUCCESS);
    assert_true(SQL_SUCCEEDED(SQLExecDirect(st, (SQLCHAR *)"SELECT current_user, current_database()", SQL_NTS)));
    assert_int_equal(SQLFetch(st), SQL_SUCCESS);
    char user[256] = "", db[256] = "";
    SQLLEN ind;
    assert_true(SQL_SUCCEEDED(SQLGetData(st, 1, SQL_C_CHAR, user, sizeof(user), &ind)));
    assert_true(SQL_SUCCEEDED(SQLGetData(st, 2, SQL_C_CHAR, db, sizeof(db), &ind)));
    assert_string_equal(user, client_id);
    assert_string_equal(db, "databricks_postgres");
    SQLFreeHandle(SQL_HANDLE_STMT, st);
}

void dsnless(char *buf, size_t size, const char *extra)
{
    snprintf(buf, size,
             "Driver={%s};DatabricksHost=%s;ClientID=%s;ClientSecret={%s};"
             "Endpoint=projects/demo/branches/main/endpoints/primary;Servername=localhost;Port=%s;CAFile={%s};%s",
             driver, emulator_url, client_id, secret, pg_port, ca_file, extra);
}

double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

SQLRETURN connect_first(conn *c, const char *extra)
{
    char base[4096], in[8192];
    dsnless(base, sizeof(base), "");
    size_t n = strlen(extra);
    snprintf(in, sizeof(in), "%s%s%s", extra, n > 0 && extra[n - 1] != ';' ? ";" : "", base);
    return SQLDriverConnect(c->dbc, NULL, (SQLCHAR *)in, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
}

/* A connect (through how) that must fail: its first SQLSTATE, every record, the seconds it
 * took. The failure message quotes extra only when it holds no secret (show_extra). */
static double failing(SQLRETURN (*how)(conn *, const char *), const char *extra, int show_extra, char st[6],
                      char *all, size_t size)
{
    conn c = new_conn();
    double t0 = now_s();
    SQLRETURN rc = how(&c, extra);
    double took = now_s() - t0;
    all_diags(c.dbc, all, size);
    if (rc != SQL_ERROR)
        fail_msg("expected a failure for %s, got %d: %s", show_extra ? extra : "the case's keys", rc, all);
    memcpy(st, all + 1, 5);
    st[5] = '\0';
    free_conn(&c);
    return took;
}

double connect_fails(const char *extra, char st[6], char *all, size_t size)
{
    return failing(connect_first, extra, 1, st, all, size);
}

/* POSTs (or DELETEs, with a NULL body and method "DELETE") to the emulator's
 * control interface; fails the test unless it answers 200. */
void emulator_call(const char *method, const char *path, const char *json)
{
    char url[1024];
    snprintf(url, sizeof(url), "%s%s", emulator_url, path);
    lb_http_opts opts = {.cafile = ca_file, .max_attempts = 1};
    lb_http_request req = {.method = method, .url = url, .content_type = json ? "application/json" : NULL,
                           .body = json, .body_len = json ? strlen(json) : 0};
    lb_http_response resp;
    lb_error err;
    lb_error_init(&err);
    if (lb_http_send(&opts, &req, &resp, &err) != LB_OK)
        fail_msg("emulator %s %s: %s", method, path, err.message);
    if (resp.status != 200)
        fail_msg("emulator %s %s: HTTP %ld %s", method, path, resp.status, resp.body);
    lb_http_response_free(&resp);
}

SQLRETURN timed_connect(const char *extra, long login_timeout, char st[6], char *msg, size_t size,
                               double *took)
{
    conn c = new_conn();
    if (login_timeout > 0)
        assert_true(SQL_SUCCEEDED(SQLSetConnectAttr(c.dbc, SQL_ATTR_LOGIN_TIMEOUT,
                                                    (SQLPOINTER)(intptr_t)login_timeout, 0)));
    char in[4096];
    dsnless(in, sizeof(in), extra);
    double t0 = now_s();
    SQLRETURN rc = SQLDriverConnect(c.dbc, NULL, (SQLCHAR *)in, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
    *took = now_s() - t0;
    st[0] = msg[0] = '\0';
    if (SQL_SUCCEEDED(rc)) {
        check_identity(c.dbc);
        SQLDisconnect(c.dbc);
    } else {
        first_diag(c.dbc, st, msg, size);
    }
    free_conn(&c);
    return rc;
}

int testenv_run_case(int argc, char **argv, const struct CMUnitTest *tests, size_t n)
{
    if (argc < 2)
        return _cmocka_run_group_tests("all", tests, n, NULL, NULL);
    for (size_t i = 0; argc == 2 && i < n; i++) {
        const char *name = tests[i].name;
        if (strncmp(name, "test_", 5) == 0)
            name += 5;
        if (strcmp(argv[1], name) == 0)
            return _cmocka_run_group_tests(name, &tests[i], 1, NULL, NULL);
    }
    fprintf(stderr, "usage: %s <case>; cases:", argv[0]);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, " %s", strncmp(tests[i].name, "test_", 5) == 0 ? tests[i].name + 5 : tests[i].name);
    fprintf(stderr, "\n");
    return 2;
}

void bare_connstr(char *buf, size_t size, const char *extra)
{
    snprintf(buf, size,
             "%s;Driver={%s};DatabricksHost=%s;Endpoint=projects/demo/branches/main/endpoints/primary;"
             "Servername=localhost;Port=%s;CAFile={%s};SSLRootCert={%s}",
             extra, driver, emulator_url, pg_port, ca_file, ca_file);
}

SQLRETURN connect_bare(conn *c, const char *extra)
{
    char in[8192];
    bare_connstr(in, sizeof(in), extra);
    return SQLDriverConnect(c->dbc, NULL, (SQLCHAR *)in, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
}

void expect_user(SQLHDBC dbc, const char *want)
{
    SQLHSTMT st;
    assert_true(SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_STMT, dbc, &st)));
    assert_true(SQL_SUCCEEDED(SQLExecDirect(st, (SQLCHAR *)"SELECT current_user", SQL_NTS)));
    assert_true(SQL_SUCCEEDED(SQLFetch(st)));
    char user[256] = "";
    SQLLEN ind = 0;
    assert_true(SQL_SUCCEEDED(SQLGetData(st, 1, SQL_C_CHAR, user, sizeof(user), &ind)));
    SQLFreeHandle(SQL_HANDLE_STMT, st);
    printf("current_user: %s\n", user);
    assert_string_equal(user, want);
}

double connects_as(const char *extra, const char *want)
{
    conn c = new_conn();
    double t0 = now_s();
    assert_connected(c.dbc, connect_bare(&c, extra));
    double took = now_s() - t0;
    expect_user(c.dbc, want);
    SQLDisconnect(c.dbc);
    free_conn(&c);
    return took;
}

void connects_dsn_as(const char *in, const char *want)
{
    conn c = new_conn();
    assert_connected(c.dbc, SQLDriverConnect(c.dbc, NULL, (SQLCHAR *)in, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT));
    expect_user(c.dbc, want);
    SQLDisconnect(c.dbc);
    free_conn(&c);
}

double fails_bare(const char *extra, const char *never, char st[6], char *all, size_t size)
{
    double took = failing(connect_bare, extra, 0, st, all, size);
    if (never)
        assert_null(strstr(all, never));
    printf("failed as expected in %.2f s: %s\n", took, all); /* not extra: it may hold a secret */
    return took;
}

