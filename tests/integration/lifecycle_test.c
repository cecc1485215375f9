/* The credential lifecycle end to end (issue: cache, single-flight, refresh margin,
 * retries, scale-to-zero): each case runs in its own process, so that it starts with
 * an empty in-process cache, and reads the emulator's request counts.
 * Usage: lifecycle_test <case>   (see main for the cases) */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testenv.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Connects with the DSN-less string plus extra; returns the result and leaves the
 * connection open on success. */
static SQLRETURN try_connect(conn *c, const char *extra)
{
    char in[4096];
    dsnless(in, sizeof(in), extra);
    return SQLDriverConnect(c->dbc, NULL, (SQLCHAR *)in, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
}

static void connect_ok(const char *extra)
{
    conn c = new_conn();
    assert_connected(c.dbc, try_connect(&c, extra));
    check_identity(c.dbc);
    SQLDisconnect(c.dbc);
    free_conn(&c);
}

/* A connect that fails; gives its first SQLSTATE and message. */
static void connect_fails(const char *extra, char st[6], char *msg, size_t size)
{
    conn c = new_conn();
    assert_int_equal(try_connect(&c, extra), SQL_ERROR);
    first_diag(c.dbc, st, msg, size);
    free_conn(&c);
}

/* Every message of the failed connection, joined. */
static void all_diags(SQLHDBC dbc, char *out, size_t size)
{
    out[0] = '\0';
    for (SQLSMALLINT i = 1;; i++) {
        char st[6], msg[1024];
        SQLINTEGER native;
        SQLSMALLINT len;
        if (!SQL_SUCCEEDED(SQLGetDiagRec(SQL_HANDLE_DBC, dbc, i, (SQLCHAR *)st, &native, (SQLCHAR *)msg, sizeof(msg), &len)))
            break;
        size_t used = strlen(out);
        snprintf(out + used, size - used, "[%s] %s | ", st, msg);
    }
}

static void reset(void)
{
    emulator_call("DELETE", "/_emulator/faults", NULL);
    emulator_call("POST", "/_emulator/stats/reset", "{}");
}

/* 64 threads connect at once: one token request, one credential request, 64 sessions. */
#define THREADS 64
static pthread_barrier_t barrier;
static atomic_int connected;

static void *connect_thread(void *arg)
{
    (void)arg;
    SQLHENV env;
    SQLHDBC dbc;
    SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env);
    SQLSetEnvAttr(env, SQL_ATTR_ODBC_VERSION, (SQLPOINTER)SQL_OV_ODBC3, 0);
    SQLAllocHandle(SQL_HANDLE_DBC, env, &dbc);
    char in[4096];
    dsnless(in, sizeof(in), "");
    pthread_barrier_wait(&barrier);
    SQLRETURN rc = SQLDriverConnect(dbc, NULL, (SQLCHAR *)in, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
    if (SQL_SUCCEEDED(rc)) {
        SQLHSTMT st;
        SQLAllocHandle(SQL_HANDLE_STMT, dbc, &st);
        if (SQL_SUCCEEDED(SQLExecDirect(st, (SQLCHAR *)"SELECT 1", SQL_NTS)) && SQLFetch(st) == SQL_SUCCESS)
            atomic_fetch_add(&connected, 1);
        SQLFreeHandle(SQL_HANDLE_STMT, st);
        /* Hold the session until every thread has tried, so all 64 are open at once. */
        pthread_barrier_wait(&barrier);
        SQLDisconnect(dbc);
    } else {
        char st[6] = "", msg[1024] = "";
        SQLINTEGER native;
        SQLSMALLINT len;
        SQLGetDiagRec(SQL_HANDLE_DBC, dbc, 1, (SQLCHAR *)st, &native, (SQLCHAR *)msg, sizeof(msg), &len);
        fprintf(stderr, "thread connect failed: %s %s\n", st, msg);
        pthread_barrier_wait(&barrier);
    }
    SQLFreeHandle(SQL_HANDLE_DBC, dbc);
    SQLFreeHandle(SQL_HANDLE_ENV, env);
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    reset();
    pthread_t t[THREADS];
    pthread_barrier_init(&barrier, NULL, THREADS);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, connect_thread, NULL), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    printf("threads: %d of %d connected; %lld token and %lld credential requests\n", atomic_load(&connected),
           THREADS, emulator_count(TOKENS), emulator_count(CREDENTIALS));
    assert_int_equal(atomic_load(&connected), THREADS);
    assert_int_equal(emulator_count(TOKENS), 1);
    assert_int_equal(emulator_count(CREDENTIALS), 1);
}

/* 100 sequential connects share one credential. */
static void test_sequential(void **state)
{
    (void)state;
    reset();
    for (int i = 0; i < 100; i++)
        connect_ok("");
    assert_int_equal(emulator_count(CREDENTIALS), 1);
    assert_int_equal(emulator_count(TOKENS), 1);
}

/* With a 6 s credential and a 2 s margin the credential is reused for 3 s (half its
 * life): a connect after 1 s reuses it, one after 5 s fetches a new one. */
static void test_refresh_margin(void **state)
{
    (void)state;
    reset();
    emulator_call("POST", "/_emulator/config", "{\"credential_lifetime\": 6}");
    double t0 = now_s();
    connect_ok("TokenRefreshMargin=2");
    usleep(1000 * 1000);
    connect_ok("TokenRefreshMargin=2");
    assert_int_equal(emulator_count(CREDENTIALS), 1);
    double left = 5.0 - (now_s() - t0);
    if (left > 0)
        usleep((useconds_t)(left * 1e6));
    connect_ok("TokenRefreshMargin=2");
    emulator_call("POST", "/_emulator/config", "{\"credential_lifetime\": 3600}");
    assert_int_equal(emulator_count(CREDENTIALS), 2);
}

static void test_retry_after(void **state)
{
    (void)state;
    reset();
    emulator_call("POST", "/_emulator/faults",
                  "{\"method\": \"POST\", \"path\": \"/oidc/v1/token\", \"count\": 1, \"status\": 429,"
                  " \"headers\": {\"Retry-After\": \"1\"}, \"body\": \"{\\\"error_code\\\": \\\"REQUEST_LIMIT_EXCEEDED\\\"}\"}");
    double t0 = now_s();
    connect_ok("TokenCache=off");
    double took = now_s() - t0;
    printf("429 with Retry-After: 1 -> connected after %.2f s\n", took);
    assert_true(took >= 0.95 && took < 5.0);
    assert_int_equal(emulator_count(TOKENS), 2);
}

static void test_three_503(void **state)
{
    (void)state;
    reset();
    emulator_call("POST", "/_emulator/faults",
                  "{\"method\": \"POST\", \"path\": \"/api/2.0/postgres/credentials\", \"count\": 3, \"status\": 503}");
    connect_ok("TokenCache=off");
    assert_int_equal(emulator_count(CREDENTIALS), 4);
}

static void no_retry(int status, const char *sqlstate, const char *phrase)
{
    reset();
    char fault[256];
    snprintf(fault, sizeof(fault),
             "{\"method\": \"POST\", \"path\": \"/api/2.0/postgres/credentials\", \"count\": 1, \"status\": %d}", status);
    emulator_call("POST", "/_emulator/faults", fault);
    char st[6], msg[2048];
    connect_fails("TokenCache=off", st, msg, sizeof(msg));
    printf("HTTP %d -> %s %s\n", status, st, msg);
    assert_string_equal(st, sqlstate);
    assert_non_null(strstr(msg, phrase));
    assert_int_equal(emulator_count(CREDENTIALS), 1);
}

static void test_no_retry(void **state)
{
    (void)state;
    no_retry(401, "28000", "HTTP 401");
    no_retry(403, "28000", "HTTP 403");
    no_retry(404, "08001", "HTTP 404");
    no_retry(400, "HY000", "HTTP 400");
}

/* A workspace that never answers, with a 2 s login timeout: HYT00 within 3 s. */
static void test_login_timeout(void **state)
{
    (void)state;
    reset();
    emulator_call("POST", "/_emulator/faults",
                  "{\"method\": \"*\", \"path\": \"/oidc/*\", \"count\": 5, \"latency_ms\": 20000}");
    conn c = new_conn();
    assert_true(SQL_SUCCEEDED(SQLSetConnectAttr(c.dbc, SQL_ATTR_LOGIN_TIMEOUT, (SQLPOINTER)2, 0)));
    double t0 = now_s();
    assert_int_equal(try_connect(&c, "TokenCache=off"), SQL_ERROR);
    double took = now_s() - t0;
    char st[6], msg[2048];
    first_diag(c.dbc, st, msg, sizeof(msg));
    printf("login timeout 2 s -> %s after %.2f s: %s\n", st, took, msg);
    assert_true(strcmp(st, "HYT00") == 0 || strcmp(st, "08001") == 0);
    assert_true(took < 3.0);
    free_conn(&c);
    emulator_call("DELETE", "/_emulator/faults", NULL);
}

/* A cached credential revoked on the server: one retry with a fresh one. */
static void test_revoked(void **state)
{
    (void)state;
    reset();
    connect_ok("");
    emulator_call("POST", "/_emulator/revoke", "{}");
    connect_ok("");
    assert_int_equal(emulator_count(CREDENTIALS), 2);
    connect_ok(""); /* the fresh one is cached again */
    assert_int_equal(emulator_count(CREDENTIALS), 2);
}

/* A suspended compute wakes on the connection attempt: the driver rides it out. */
static void test_wake(void **state)
{
    (void)state;
    reset();
    connect_ok(""); /* caches the credential, so the wake comes from the connection attempt */
    emulator_call("POST", "/_emulator/suspend", "{\"wake_delay_ms\": 2000}");
    double t0 = now_s();
    connect_ok("");
    printf("suspended compute (2 s wake) -> connected after %.2f s\n", now_s() - t0);
    assert_int_equal(emulator_count(CREDENTIALS), 1);
}

static void test_wake_timeout(void **state)
{
    (void)state;
    reset();
    connect_ok("");
    emulator_call("POST", "/_emulator/suspend", "{\"wake_delay_ms\": 2000}");
    conn c = new_conn();
    assert_int_equal(try_connect(&c, "WakeTimeout=1"), SQL_ERROR);
    char all[4096];
    all_diags(c.dbc, all, sizeof(all));
    printf("WakeTimeout=1 -> %s\n", all);
    assert_non_null(strstr(all, "did not accept connections within WakeTimeout"));
    free_conn(&c);
    emulator_call("POST", "/_emulator/resume", "{}");
}

static void read_file_line(const char *name, char *buf, size_t size)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/%s", need_env("LAKEBASE_LOCAL_STATE"), name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, (int)size, f));
    fclose(f);
    buf[strcspn(buf, "\r\n")] = '\0';
}

/* A 1400-byte credential (real JWTs are often over 1 KB) reaches PostgreSQL intact:
 * the emulator sets it as a password role's SCRAM password, so every byte counts. */
static void test_long_token(void **state)
{
    (void)state;
    char id[128], sec[128], in[4096];
    read_file_line("longtoken-client-id", id, sizeof(id));
    read_file_line("longtoken-client-secret", sec, sizeof(sec));
    snprintf(in, sizeof(in), "Driver={%s};DatabricksHost=%s;ClientID=%s;ClientSecret={%s};"
             "Endpoint=projects/demo/branches/main/endpoints/primary;Servername=localhost;Port=%s;CAFile={%s}",
             driver, emulator_url, id, sec, pg_port, ca_file);
    conn c = new_conn();
    assert_connected(c.dbc, SQLDriverConnect(c.dbc, NULL, (SQLCHAR *)in, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT));
    SQLHSTMT st;
    assert_int_equal(SQLAllocHandle(SQL_HANDLE_STMT, c.dbc, &st), SQL_SUCCESS);
    assert_true(SQL_SUCCEEDED(SQLExecDirect(st, (SQLCHAR *)"SELECT current_user", SQL_NTS)));
    assert_int_equal(SQLFetch(st), SQL_SUCCESS);
    char user[128] = "";
    SQLLEN ind;
    assert_true(SQL_SUCCEEDED(SQLGetData(st, 1, SQL_C_CHAR, user, sizeof(user), &ind)));
    assert_string_equal(user, id);
    SQLFreeHandle(SQL_HANDLE_STMT, st);
    SQLDisconnect(c.dbc);
    free_conn(&c);
    /* And it was long: the last credential the emulator issued. */
    char path[1200], line[4096] = "", last[4096] = "";
    snprintf(path, sizeof(path), "%s/issued-secrets", need_env("LAKEBASE_LOCAL_STATE"));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f))
        memcpy(last, line, sizeof(line));
    fclose(f);
    printf("long credential: %zu bytes\n", strcspn(last, "\n"));
    assert_true(strcspn(last, "\n") >= 1400);
}

int main(int argc, char **argv)
{
    read_state();
    const struct {
        const char *name;
        struct CMUnitTest test;
    } cases[] = {
        {"threads", cmocka_unit_test(test_threads)},
        {"sequential", cmocka_unit_test(test_sequential)},
        {"margin", cmocka_unit_test(test_refresh_margin)},
        {"retry_after", cmocka_unit_test(test_retry_after)},
        {"three_503", cmocka_unit_test(test_three_503)},
        {"no_retry", cmocka_unit_test(test_no_retry)},
        {"login_timeout", cmocka_unit_test(test_login_timeout)},
        {"revoked", cmocka_unit_test(test_revoked)},
        {"wake", cmocka_unit_test(test_wake)},
        {"wake_timeout", cmocka_unit_test(test_wake_timeout)},
        {"long_token", cmocka_unit_test(test_long_token)},
    };
    for (size_t i = 0; argc == 2 && i < sizeof(cases) / sizeof(cases[0]); i++)
        if (strcmp(argv[1], cases[i].name) == 0)
            return _cmocka_run_group_tests(cases[i].name, &cases[i].test, 1, NULL, NULL);
    fprintf(stderr, "usage: %s <case>; cases:", argv[0]);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        fprintf(stderr, " %s", cases[i].name);
    fprintf(stderr, "\n");
    return 2;
}
