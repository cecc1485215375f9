/* The credential lifecycle end to end (issue: cache, single-flight, refresh margin,
 * retries, scale-to-zero): each case runs in its own process, so that it starts with
 * an empty in-process cache, and reads the emulator's request counts. Also the warning
 * about a secret in the connection string, said once per process (secret_warning,
 * secret_file_no_warning).
 * Usage: lifecycle_test <case>   (see main for the cases) */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lb_oauth.h"
#include "testenv.h"

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
static void test_margin(void **state)
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
    assert_non_null(strstr(all, "IDLE")); /* the state it saw */
    /* The driver's record, with PostgreSQL's reason, comes first (most clients show only it). */
    assert_int_equal(strncmp(all + 7, " [Lakebase] ", 12), 0);
    free_conn(&c);
    emulator_call("POST", "/_emulator/resume", "{}");
}

/* A port on 127.0.0.1 that nothing listens on (bound, read, closed: refused from then on). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* A typo in Port while the compute is ACTIVE: refused, and the endpoint is awake, so the
 * driver fails at once naming host:port and the keys, with psqlODBC's SQLSTATE (not a
 * WakeTimeout of retries blamed on scale-to-zero). */
static void test_wrong_port(void **state)
{
    (void)state;
    reset();
    connect_ok(""); /* the compute is up */
    int port = free_port();
    char in[4096], all[4096];
    snprintf(in, sizeof(in),
             "Driver={%s};DatabricksHost=%s;ClientID=%s;ClientSecret={%s};"
             "Endpoint=projects/demo/branches/main/endpoints/primary;Servername=localhost;Port=%d;CAFile={%s}",
             driver, emulator_url, client_id, secret, port, ca_file);
    conn c = new_conn();
    double t0 = now_s();
    SQLRETURN rc = SQLDriverConnect(c.dbc, NULL, (SQLCHAR *)in, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
    double took = now_s() - t0;
    all_diags(c.dbc, all, sizeof(all));
    printf("wrong Port %d (compute ACTIVE) -> failed in %.2f s: %s\n", port, took, all);
    assert_int_equal(rc, SQL_ERROR);
    assert_true(took < 5.0);
    char where[64];
    snprintf(where, sizeof(where), "localhost:%d", port);
    assert_non_null(strstr(all, where));
    assert_non_null(strstr(all, "Port"));
    assert_non_null(strstr(all, "Servername"));
    assert_null(strstr(all, "WakeTimeout"));
    assert_non_null(strstr(all, "[08001]"));
    assert_true(emulator_count("GET /api/2.0/postgres/projects/demo/branches/main/endpoints/primary") >= 1);
    free_conn(&c);
}

/* When the endpoint's state cannot be read (HTTP 500), a refused or dropped connection
 * is still taken for a compute waking: the wake retries ride it out. */
static void test_wake_state_unreadable(void **state)
{
    (void)state;
    reset();
    connect_ok("");
    emulator_call("POST", "/_emulator/faults",
                  "{\"method\": \"GET\", \"path\": \"/api/2.0/postgres/projects/demo/branches/main/endpoints/primary\","
                  " \"count\": -1, \"status\": 500}");
    emulator_call("POST", "/_emulator/suspend", "{\"wake_delay_ms\": 2000}");
    double t0 = now_s();
    connect_ok("");
    printf("suspended compute, endpoint state unreadable (HTTP 500) -> connected after %.2f s\n", now_s() - t0);
    assert_true(emulator_count("GET /api/2.0/postgres/projects/demo/branches/main/endpoints/primary") >= 1);
    emulator_call("DELETE", "/_emulator/faults", NULL);
}

/* unixODBC's connection pooling, as a server application turns it on: a private
 * ODBCSYSINI whose odbcinst.ini says [ODBC] Pooling=Yes and gives the driver (as
 * "LakebasePool") a CPTimeout. Must run before the process's first ODBC call. */
static char pool_dir[256];

static void use_pooling(void)
{
    snprintf(pool_dir, sizeof(pool_dir), "/tmp/lb-pool-XXXXXX");
    assert_non_null(mkdtemp(pool_dir));
    char path[400];
    snprintf(path, sizeof(path), "%s/odbcinst.ini", pool_dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "[ODBC]\nPooling = Yes\n\n[LakebasePool]\nDriver = %s\nCPTimeout = 120\n", driver);
    fclose(f);
    setenv("ODBCSYSINI", pool_dir, 1);
}

static void drop_pooling(void)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/odbcinst.ini", pool_dir);
    unlink(path);
    rmdir(pool_dir);
}

static void pool_connstr(char *buf, size_t size, const char *extra)
{
    snprintf(buf, size,
             "Driver=LakebasePool;DatabricksHost=%s;ClientID=%s;ClientSecret={%s};"
             "Endpoint=projects/demo/branches/main/endpoints/primary;Servername=localhost;Port=%s;CAFile={%s};%s",
             emulator_url, client_id, secret, pg_port, ca_file, extra);
}

/* Connects on env, runs SELECT pg_backend_pid() and disconnects (back to the pool).
 * Returns the pid, or 0 with the first error in what (connect or query). */
static long pooled_round_trip(SQLHENV env, const char *extra, char *what, size_t size)
{
    SQLHDBC dbc;
    char in[4096];
    pool_connstr(in, sizeof(in), extra);
    what[0] = '\0';
    if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_DBC, env, &dbc))) {
        snprintf(what, size, "SQLAllocHandle failed");
        return 0;
    }
    long pid = 0;
    SQLRETURN rc = SQLDriverConnect(dbc, NULL, (SQLCHAR *)in, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
    if (!SQL_SUCCEEDED(rc)) {
        char st[6] = "", msg[1024] = "";
        SQLINTEGER native;
        SQLSMALLINT len;
        SQLGetDiagRec(SQL_HANDLE_DBC, dbc, 1, (SQLCHAR *)st, &native, (SQLCHAR *)msg, sizeof(msg), &len);
        snprintf(what, size, "connect: %s %s", st, msg);
        SQLFreeHandle(SQL_HANDLE_DBC, dbc);
        return 0;
    }
    SQLHSTMT st;
    SQLAllocHandle(SQL_HANDLE_STMT, dbc, &st);
    SQLINTEGER v = 0;
    SQLLEN ind;
    if (SQL_SUCCEEDED(SQLExecDirect(st, (SQLCHAR *)"SELECT pg_backend_pid()", SQL_NTS)) &&
        SQLFetch(st) == SQL_SUCCESS && SQL_SUCCEEDED(SQLGetData(st, 1, SQL_C_SLONG, &v, 0, &ind))) {
        pid = v;
    } else {
        char state[6] = "", msg[1024] = "";
        SQLINTEGER native;
        SQLSMALLINT len;
        SQLGetDiagRec(SQL_HANDLE_STMT, st, 1, (SQLCHAR *)state, &native, (SQLCHAR *)msg, sizeof(msg), &len);
        snprintf(what, size, "query: %s %s", state, msg);
    }
    SQLFreeHandle(SQL_HANDLE_STMT, st);
    SQLDisconnect(dbc);
    SQLFreeHandle(SQL_HANDLE_DBC, dbc);
    return pid;
}

#define POOL_THREADS 8
static SQLHENV pool_env;
static atomic_int pool_errors;

static void *pool_thread(void *arg)
{
    (void)arg;
    char what[1200];
    pthread_barrier_wait(&barrier);
    if (pooled_round_trip(pool_env, "", what, sizeof(what)) == 0) {
        atomic_fetch_add(&pool_errors, 1);
        fprintf(stderr, "pooled thread: %s\n", what);
    }
    return NULL;
}

/* One round: 8 threads at once, each connect / query / disconnect; the errors. */
static int pool_round(void)
{
    atomic_store(&pool_errors, 0);
    pthread_t t[POOL_THREADS];
    pthread_barrier_init(&barrier, NULL, POOL_THREADS);
    for (int i = 0; i < POOL_THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, pool_thread, NULL), 0);
    for (int i = 0; i < POOL_THREADS; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&barrier);
    return atomic_load(&pool_errors);
}

/* Pooled connections whose server end went away (a suspend ends every session) are
 * reported dead to the pool (SQL_ATTR_CONNECTION_DEAD), so the next round opens fresh
 * ones through the driver and no error reaches the application. */
static void test_pool_stale(void **state)
{
    (void)state;
    use_pooling();
    reset();
    assert_true(SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &pool_env)));
    SQLSetEnvAttr(pool_env, SQL_ATTR_ODBC_VERSION, (SQLPOINTER)SQL_OV_ODBC3, 0);
    int first = pool_round();
    int again = pool_round(); /* reuses the pooled connections */
    emulator_call("POST", "/_emulator/suspend", "{\"wake_delay_ms\": 300}");
    emulator_call("POST", "/_emulator/resume", "{}");
    double t0 = now_s();
    int after = pool_round();
    printf("pool of %d: errors %d (first round), %d (reused), %d (after a suspend and resume, %.2f s)\n",
           POOL_THREADS, first, again, after, now_s() - t0);
    SQLFreeHandle(SQL_HANDLE_ENV, pool_env);
    drop_pooling();
    assert_int_equal(first, 0);
    assert_int_equal(again, 0);
    assert_int_equal(after, 0);
}

/* 8 threads x 25 connect / query / disconnect on one pooled environment: no error, the
 * driver asks the emulator for one token and one credential in all, and the pool reuses
 * its sessions (fewer distinct backends than round trips, the check that pooling is on). */
#define POOL_LOOPS 25
static long pool_pids[POOL_THREADS * POOL_LOOPS];
static atomic_int pool_next;

static void *pool_loop_thread(void *arg)
{
    (void)arg;
    char what[1200];
    pthread_barrier_wait(&barrier);
    for (int i = 0; i < POOL_LOOPS; i++) {
        long pid = pooled_round_trip(pool_env, "", what, sizeof(what));
        pool_pids[atomic_fetch_add(&pool_next, 1)] = pid;
        if (pid == 0) {
            atomic_fetch_add(&pool_errors, 1);
            fprintf(stderr, "pooled thread, round trip %d: %s\n", i + 1, what);
        }
    }
    return NULL;
}

static void test_pool_counts(void **state)
{
    (void)state;
    use_pooling();
    reset();
    assert_true(SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &pool_env)));
    SQLSetEnvAttr(pool_env, SQL_ATTR_ODBC_VERSION, (SQLPOINTER)SQL_OV_ODBC3, 0);
    atomic_store(&pool_errors, 0);
    atomic_store(&pool_next, 0);
    pthread_t t[POOL_THREADS];
    pthread_barrier_init(&barrier, NULL, POOL_THREADS);
    double t0 = now_s();
    for (int i = 0; i < POOL_THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, pool_loop_thread, NULL), 0);
    for (int i = 0; i < POOL_THREADS; i++)
        pthread_join(t[i], NULL);
    double took = now_s() - t0;
    pthread_barrier_destroy(&barrier);
    int n = atomic_load(&pool_next), distinct = 0;
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = pool_pids[j] == pool_pids[i];
        distinct += pool_pids[i] != 0 && !seen;
    }
    long long tokens = emulator_count(TOKENS), credentials = emulator_count(CREDENTIALS);
    printf("pool of %d threads x %d: %d round trips in %.2f s, %d errors, %d distinct backends; "
           "%lld token and %lld credential requests\n",
           POOL_THREADS, POOL_LOOPS, n, took, atomic_load(&pool_errors), distinct, tokens, credentials);
    SQLFreeHandle(SQL_HANDLE_ENV, pool_env);
    drop_pooling();
    assert_int_equal(n, POOL_THREADS * POOL_LOOPS);
    assert_int_equal(atomic_load(&pool_errors), 0);
    assert_int_equal(tokens, 1);
    assert_int_equal(credentials, 1);
    assert_true(distinct >= 1 && distinct < n);
}

/* MaxConnectionAge=1: a pooled connection reused after 2 s is replaced (a new backend);
 * without it, the pool hands back the same session (the test's own control). */
static void test_pool_max_age(void **state)
{
    (void)state;
    use_pooling();
    reset();
    SQLHENV env;
    assert_true(SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env)));
    SQLSetEnvAttr(env, SQL_ATTR_ODBC_VERSION, (SQLPOINTER)SQL_OV_ODBC3, 0);
    char what[1200];
    long a1 = pooled_round_trip(env, "", what, sizeof(what));
    long a2 = pooled_round_trip(env, "", what, sizeof(what));
    long b1 = pooled_round_trip(env, "MaxConnectionAge=1", what, sizeof(what));
    usleep(2000 * 1000);
    long b2 = pooled_round_trip(env, "MaxConnectionAge=1", what, sizeof(what));
    printf("pooled backend pid: %ld then %ld (no MaxConnectionAge); %ld then, 2 s later, %ld (MaxConnectionAge=1) %s\n",
           a1, a2, b1, b2, what);
    SQLFreeHandle(SQL_HANDLE_ENV, env);
    drop_pooling();
    assert_true(a1 > 0 && b1 > 0 && b2 > 0);
    assert_int_equal(a1, a2);
    assert_int_not_equal(b1, b2);
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


/* ---- other processes, waits on another connection's fetch, fork, huge lifetimes ------ */

/* Another process (this binary, "--connect <extra> <login timeout>"): its pid. */
static pid_t spawn_connect(const char *extra, long login_timeout)
{
    char self[PATH_MAX], timeout[32];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    assert_true(n > 0);
    self[n] = '\0';
    snprintf(timeout, sizeof(timeout), "%ld", login_timeout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl(self, self, "--connect", extra, timeout, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Waits for a child; its exit status (or 128 + signal). */
static int wait_child(pid_t pid)
{
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The "--connect" mode: one connect, its outcome on standard output; exit 0 on success. */
static int connect_main(const char *extra, long login_timeout)
{
    char st[6], msg[2048];
    double took;
    SQLRETURN rc = timed_connect(extra, login_timeout, st, msg, sizeof(msg), &took);
    printf("  [pid %ld] %s after %.2f s%s%s\n", (long)getpid(), SQL_SUCCEEDED(rc) ? "connected" : st, took,
           SQL_SUCCEEDED(rc) ? "" : ": ", msg);
    fflush(stdout);
    return SQL_SUCCEEDED(rc) ? 0 : 1;
}

static char cache_home[] = "/tmp/lb-lifecycle-cache-XXXXXX";

static void use_private_cache(void)
{
    assert_non_null(mkdtemp(cache_home));
    setenv("XDG_CACHE_HOME", cache_home, 1);
}

static void drop_private_cache(void)
{
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cache_home);
    assert_int_equal(system(cmd), 0);
}

/* A connect with a 2 s login timeout that waits on another connection's slow fetch
 * (8 s, the other connection has no timeout) ends with HYT00 after its own 2 s. */
static void test_huge_lifetime(void **state)
{
    (void)state;
    reset();
    /* A real token, so that the credential request accepts it. */
    lb_http_opts http = {.cafile = ca_file};
    lb_token t = {0};
    lb_error err;
    lb_error_init(&err);
    lb_oauth_client client = {.host = emulator_url, .client_id = client_id, .client_secret = secret};
    assert_int_equal(lb_oauth_m2m_token(&http, &client, &t, &err), LB_OK);
    char fault[2048];
    snprintf(fault, sizeof(fault),
             "{\"method\": \"POST\", \"path\": \"/oidc/v1/token\", \"count\": 1, \"body\": \"{\\\"access_token\\\": "
             "\\\"%s\\\", \\\"token_type\\\": \\\"Bearer\\\", \\\"expires_in\\\": 9223372036854775807, "
             "\\\"scope\\\": \\\"all-apis\\\"}\"}", t.access_token);
    lb_token_clear(&t);
    emulator_call("POST", "/_emulator/faults", fault);
    connect_ok("");
    connect_ok("TokenCache=off"); /* fetches a credential with the cached token */
    printf("expires_in 9223372036854775807: connected twice; %lld token and %lld credential requests\n",
           emulator_count(TOKENS), emulator_count(CREDENTIALS));
    assert_int_equal(emulator_count(CREDENTIALS), 2);
}

/* Forged cache files (the plain format's magic, until = LLONG_MAX or LLONG_MIN) read by
 * another process with TokenCache=file: no overflow; neither is used, since an identity
 * with a client secret has sealed files: each is refused (logged) and replaced by a
 * fresh credential. (The plain format's clamping: unit_cache's test_forged_file.) */
static void forge_cache_file(const char *until)
{
    char dir[600];
    snprintf(dir, sizeof(dir), "%s/lakebase-odbc", cache_home);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len > 5 && strcmp(de->d_name + len - 5, ".cred") == 0) {
            char path[1200], text[4096] = "";
            snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
            FILE *f = fopen(path, "r");
            assert_non_null(f);
            size_t got = fread(text, 1, sizeof(text) - 1, f);
            text[got] = '\0';
            fclose(f);
            if (strstr(text, "https://")) /* the OAuth discovery's entry (a token endpoint URL) */
                continue;
            f = fopen(path, "w"); /* keeps its mode, 0600 */
            assert_non_null(f);
            fprintf(f, "lakebase-odbc-cache 1\n%s\nforged-credential-value\n", until);
            fclose(f);
            n++;
        }
    }
    closedir(d);
    assert_int_equal(n, 1);
}

static int log_has(const char *path, const char *text)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    char line[4096];
    int found = 0;
    while (!found && fgets(line, sizeof(line), f))
        found = strstr(line, text) != NULL;
    fclose(f);
    return found;
}

static void test_forged_cache_file(void **state)
{
    (void)state;
    use_private_cache();
    reset();
    connect_ok("TokenCache=file"); /* writes the credential's file */
    char log[700], extra[900];
    snprintf(log, sizeof(log), "%s/driver.log", cache_home);
    snprintf(extra, sizeof(extra), "TokenCache=file;LogLevel=info;LogFile={%s}", log);

    /* until = LLONG_MIN: expired long ago, not used: a fresh credential. */
    forge_cache_file("-9223372036854775808");
    int min_status = wait_child(spawn_connect(extra, 10));
    int min_used = log_has(log, "database credential: cache hit (file)");
    long long min_creds = emulator_count(CREDENTIALS);
    unlink(log);
    /* until = LLONG_MAX: not sealed: refused, replaced. */
    forge_cache_file("9223372036854775807");
    int max_status = wait_child(spawn_connect(extra, 10));
    int max_used = log_has(log, "database credential: cache hit (file)");
    int max_refused = log_has(log, "not a sealed cache file of this identity");
    long long max_creds = emulator_count(CREDENTIALS);
    drop_private_cache();
    printf("forged cache file: until=LLONG_MIN -> exit %d, file %s, %lld credential requests; until=LLONG_MAX -> "
           "exit %d, file %s, %lld credential requests\n", min_status, min_used ? "used" : "not used", min_creds,
           max_status, max_used ? "used" : "not used", max_creds);
    assert_int_equal(min_status, 0);
    assert_false(min_used);
    assert_int_equal(min_creds, 2);
    assert_int_equal(max_status, 0);
    assert_false(max_used);
    assert_true(max_refused);
    assert_int_equal(max_creds, 3);
}


/* Waits (up to 20 s) until the emulator has received n requests to route. */
static void wait_for_requests(const char *route, long long n)
{
    for (int i = 0; i < 400 && emulator_count(route) < n; i++)
        usleep(50 * 1000);
    assert_true(emulator_count(route) >= n);
}

static void delay_credentials(int ms)
{
    char fault[256];
    snprintf(fault, sizeof(fault),
             "{\"method\": \"POST\", \"path\": \"/api/2.0/postgres/credentials\", \"count\": 1, \"latency_ms\": %d}", ms);
    emulator_call("POST", "/_emulator/faults", fault);
}

/* A connect in a thread of its own (no cmocka assertions there: results are recorded). */
typedef struct {
    const char *extra;
    long login_timeout; /* 0: none */
    SQLRETURN rc;
    char st[6];
    char msg[1024];
    double took;
    pthread_t thread;
} bg_connect;

static void *bg_connect_run(void *arg)
{
    bg_connect *b = arg;
    conn c = new_conn();
    if (b->login_timeout)
        SQLSetConnectAttr(c.dbc, SQL_ATTR_LOGIN_TIMEOUT, (SQLPOINTER)(intptr_t)b->login_timeout, 0);
    double t0 = now_s();
    b->rc = try_connect(&c, b->extra);
    b->took = now_s() - t0;
    b->st[0] = b->msg[0] = '\0';
    if (SQL_SUCCEEDED(b->rc)) {
        SQLDisconnect(c.dbc);
    } else {
        SQLINTEGER native;
        SQLSMALLINT len;
        SQLGetDiagRec(SQL_HANDLE_DBC, c.dbc, 1, (SQLCHAR *)b->st, &native, (SQLCHAR *)b->msg, sizeof(b->msg), &len);
    }
    free_conn(&c);
    return NULL;
}

static void bg_start(bg_connect *b, const char *extra, long login_timeout)
{
    b->extra = extra;
    b->login_timeout = login_timeout;
    assert_int_equal(pthread_create(&b->thread, NULL, bg_connect_run, b), 0);
}

/* A connect with a login timeout in this thread: its result, SQLSTATE and duration. */
static void test_wait_deadline(void **state)
{
    (void)state;
    reset();
    delay_credentials(8000);
    bg_connect leader;
    bg_start(&leader, "", 0);
    wait_for_requests(CREDENTIALS, 1);
    char st[6], msg[2048];
    double took;
    SQLRETURN rc = timed_connect("", 2, st, msg, sizeof(msg), &took);
    printf("waiter with a 2 s login timeout behind an 8 s fetch (same process): %s after %.2f s: %s\n",
           SQL_SUCCEEDED(rc) ? "connected" : st, took, msg);
    pthread_join(leader.thread, NULL);
    printf("leader without a timeout: %s after %.2f s\n", SQL_SUCCEEDED(leader.rc) ? "connected" : leader.st,
           leader.took);
    assert_int_equal(rc, SQL_ERROR);
    assert_string_equal(st, "HYT00");
    assert_non_null(strstr(msg, "waiting for another connection's request for the database credential"));
    assert_true(took < 5.0);
    assert_true(SQL_SUCCEEDED(leader.rc));
}

/* The same across processes with TokenCache=file: the wait is on the lock file. */
static void test_wait_deadline_file(void **state)
{
    (void)state;
    use_private_cache();
    reset();
    delay_credentials(8000);
    pid_t leader = spawn_connect("TokenCache=file", 0);
    wait_for_requests(CREDENTIALS, 1);
    char st[6], msg[2048];
    double took;
    SQLRETURN rc = timed_connect("TokenCache=file", 2, st, msg, sizeof(msg), &took);
    printf("waiter with a 2 s login timeout behind another process's 8 s fetch (TokenCache=file): %s after %.2f s: %s\n",
           SQL_SUCCEEDED(rc) ? "connected" : st, took, msg);
    int leader_status = wait_child(leader);
    drop_private_cache();
    assert_int_equal(rc, SQL_ERROR);
    assert_string_equal(st, "HYT00");
    assert_non_null(strstr(msg, "waiting for another connection's request for the database credential"));
    assert_true(took < 5.0);
    assert_int_equal(leader_status, 0);
}

/* A leader with a 2 s login timeout times out on an 8 s fetch; a waiter with no
 * timeout does not inherit that HYT00: it fetches itself and connects. */
static void test_no_inherited_timeout(void **state)
{
    (void)state;
    reset();
    delay_credentials(8000);
    bg_connect leader;
    bg_start(&leader, "", 2);
    wait_for_requests(CREDENTIALS, 1);
    char st[6], msg[2048];
    double took;
    SQLRETURN rc = timed_connect("", 0, st, msg, sizeof(msg), &took);
    pthread_join(leader.thread, NULL);
    printf("leader (2 s login timeout): %s after %.2f s; waiter (no timeout): %s after %.2f s %s\n",
           SQL_SUCCEEDED(leader.rc) ? "connected" : leader.st, leader.took, SQL_SUCCEEDED(rc) ? "connected" : st,
           took, msg);
    assert_true(SQL_SUCCEEDED(rc));
    assert_int_equal(leader.rc, SQL_ERROR);
    assert_string_equal(leader.st, "HYT00");
    assert_int_equal(emulator_count(CREDENTIALS), 2);
}

/* fork() while a thread fetches: the child connects on its own (it does not wait for
 * a fetch that no thread of it runs), and with TokenCache=file a child that only
 * sleeps does not keep the lock file locked from other processes. */
static void test_fork(void **state)
{
    (void)state;
    reset();
    delay_credentials(3000);
    bg_connect a;
    bg_start(&a, "", 0);
    wait_for_requests(CREDENTIALS, 1);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        close(fds[0]);
        SQLHENV env;
        SQLHDBC dbc;
        char in[4096];
        dsnless(in, sizeof(in), "");
        SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env);
        SQLSetEnvAttr(env, SQL_ATTR_ODBC_VERSION, (SQLPOINTER)SQL_OV_ODBC3, 0);
        SQLAllocHandle(SQL_HANDLE_DBC, env, &dbc);
        SQLSetConnectAttr(dbc, SQL_ATTR_LOGIN_TIMEOUT, (SQLPOINTER)10, 0);
        double t0 = now_s();
        SQLRETURN rc = SQLDriverConnect(dbc, NULL, (SQLCHAR *)in, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
        double took = now_s() - t0;
        char st[6] = "", out[256];
        if (!SQL_SUCCEEDED(rc)) {
            SQLINTEGER native;
            SQLSMALLINT len;
            char msg[1024] = "";
            SQLGetDiagRec(SQL_HANDLE_DBC, dbc, 1, (SQLCHAR *)st, &native, (SQLCHAR *)msg, sizeof(msg), &len);
        }
        int n = snprintf(out, sizeof(out), "%d %.2f %s", SQL_SUCCEEDED(rc) ? 1 : 0, took, st);
        if (write(fds[1], out, (size_t)n) != n)
            _exit(3);
        _exit(SQL_SUCCEEDED(rc) ? 0 : 1);
    }
    close(fds[1]);
    char report[256] = "";
    ssize_t got = read(fds[0], report, sizeof(report) - 1);
    close(fds[0]);
    int child_status = wait_child(child);
    pthread_join(a.thread, NULL);
    int child_ok = 0;
    double child_took = -1;
    char child_st[6] = "";
    if (got > 0)
        sscanf(report, "%d %lf %5s", &child_ok, &child_took, child_st);
    printf("fork during fetch: child connected in %.2f s (%s)\n", child_took, child_ok ? "ok" : child_st);
    assert_int_equal(child_status, 0);
    assert_true(child_ok);
    assert_true(SQL_SUCCEEDED(a.rc));
}

/* TokenCache=file: thread A fetches under the lock file; a child forked meanwhile
 * sleeps (no ODBC); a third process gets the credential once A is done, within its
 * login timeout, instead of waiting for the sleeping child to exit. */
static void test_fork_file(void **state)
{
    (void)state;
    use_private_cache();
    reset();
    delay_credentials(3000);
    bg_connect a2;
    bg_start(&a2, "TokenCache=file", 0);
    wait_for_requests(CREDENTIALS, 1);
    pid_t sleeper = fork();
    assert_true(sleeper >= 0);
    if (sleeper == 0) {
        sleep(20);
        _exit(0);
    }
    double t0 = now_s();
    pid_t third = spawn_connect("TokenCache=file", 10);
    int third_status = wait_child(third);
    double third_took = now_s() - t0;
    kill(sleeper, SIGKILL);
    wait_child(sleeper);
    pthread_join(a2.thread, NULL);
    drop_private_cache();
    printf("fork during fetch (TokenCache=file): third process connected in %.2f s while the child slept (exit %d); "
           "%lld credential request(s)\n", third_took, third_status, emulator_count(CREDENTIALS));
    assert_int_equal(third_status, 0);
    assert_true(third_took < 10.0);
    assert_true(SQL_SUCCEEDED(a2.rc));
}

/* A workspace token with expires_in 9223372036854775807: no overflow (the ASan+UBSan
 * build aborts on one), the token is used and reused. */
/* Lines of path holding phrase; the file must not hold the client secret. */
static int log_count(const char *path, const char *phrase)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof(line), f)) {
        assert_null(strstr(line, secret));
        n += strstr(line, phrase) != NULL;
    }
    fclose(f);
    return n;
}

#define SECRET_WARNING "warning: the connection string holds"

/* A secret in the connection string (which Perl DBI, RODBC and GDAL print in their error
 * messages): one warning per process at error level, however many connects. */
static void test_secret_warning(void **state)
{
    (void)state;
    reset();
    char log[] = "/tmp/lb-warn-XXXXXX";
    int fd = mkstemp(log);
    assert_true(fd >= 0);
    close(fd);
    char extra[256];
    snprintf(extra, sizeof(extra), "LogLevel=error;LogFile=%s;", log);
    connect_ok(extra);
    connect_ok(extra);
    int n = log_count(log, SECRET_WARNING);
    printf("two connects with ClientSecret in the connection string: %d warning line(s)\n", n);
    unlink(log);
    assert_int_equal(n, 1);
}

/* The secret from ClientSecretFile: no warning. */
static void test_secret_file_no_warning(void **state)
{
    (void)state;
    reset();
    char log[] = "/tmp/lb-warn-XXXXXX", file[] = "/tmp/lb-secret-XXXXXX";
    int fd = mkstemp(log);
    assert_true(fd >= 0);
    close(fd);
    fd = mkstemp(file);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, secret, strlen(secret)), (ssize_t)strlen(secret));
    close(fd);
    char in[4096];
    snprintf(in, sizeof(in),
             "Driver={%s};DatabricksHost=%s;ClientID=%s;ClientSecretFile={%s};"
             "Endpoint=projects/demo/branches/main/endpoints/primary;Servername=localhost;Port=%s;CAFile={%s};"
             "LogLevel=error;LogFile=%s;", driver, emulator_url, client_id, file, pg_port, ca_file, log);
    for (int i = 0; i < 2; i++) {
        conn c = new_conn();
        assert_connected(c.dbc, SQLDriverConnect(c.dbc, NULL, (SQLCHAR *)in, SQL_NTS, NULL, 0, NULL,
                                                 SQL_DRIVER_NOPROMPT));
        SQLDisconnect(c.dbc);
        free_conn(&c);
    }
    int n = log_count(log, SECRET_WARNING);
    printf("two connects with ClientSecretFile: %d warning line(s)\n", n);
    unlink(log);
    unlink(file);
    assert_int_equal(n, 0);
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--connect") == 0) {
        read_state();
        return connect_main(argv[2], atol(argv[3]));
    }
    read_state();
    const struct CMUnitTest cases[] = {
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_sequential),
        cmocka_unit_test(test_margin),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_three_503),
        cmocka_unit_test(test_no_retry),
        cmocka_unit_test(test_login_timeout),
        cmocka_unit_test(test_revoked),
        cmocka_unit_test(test_wake),
        cmocka_unit_test(test_wake_timeout),
        cmocka_unit_test(test_wrong_port),
        cmocka_unit_test(test_wake_state_unreadable),
        cmocka_unit_test(test_pool_stale),
        cmocka_unit_test(test_pool_max_age),
        cmocka_unit_test(test_pool_counts),
        cmocka_unit_test(test_long_token),
        cmocka_unit_test(test_wait_deadline),
        cmocka_unit_test(test_wait_deadline_file),
        cmocka_unit_test(test_no_inherited_timeout),
        cmocka_unit_test(test_fork),
        cmocka_unit_test(test_fork_file),
        cmocka_unit_test(test_huge_lifetime),
        cmocka_unit_test(test_forged_cache_file),
        cmocka_unit_test(test_secret_warning),
        cmocka_unit_test(test_secret_file_no_warning),
    };
    return testenv_run_case(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
