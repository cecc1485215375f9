/* Lakebase Provisioned end to end (the `database` service): an Instance instead of an
 * Endpoint, its credential (POST /api/2.0/database/credentials with instance_names and a
 * fresh UUID v4 request_id), its host found through the instance look-up, and its states
 * (refused, transient within and past the connect's deadline), through unixODBC, the
 * driver, psqlODBC, the emulator and PostgreSQL. Each case runs in its own process, so
 * that it starts with empty in-process caches.
 * Usage: provisioned_test <case>   (see main for the cases) */
#include <json-c/json.h>
#include <pthread.h>
#include <regex.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lb_http.h"
#include "lb_json.h"
#include "testenv.h"

#define INSTANCE "demo-instance"
#define DB_CREDENTIALS "POST /api/2.0/database/credentials"
#define INSTANCE_GET "GET /api/2.0/database/instances/" INSTANCE

/* A DSN-less string for the local instance (no Servername: the look-up gives it). */
static void instance_connstr(char *buf, size_t size, const char *extra)
{
    snprintf(buf, size,
             "Driver={%s};DatabricksHost=%s;ClientID=%s;ClientSecret={%s};Port=%s;CAFile={%s};%s", driver,
             emulator_url, client_id, secret, pg_port, ca_file, extra);
}

static SQLRETURN try_connect(conn *c, const char *in)
{
    return SQLDriverConnect(c->dbc, NULL, (SQLCHAR *)in, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
}

/* A connect that fails: its first SQLSTATE, native code and message, and how long it took. */
static double connect_fails_native(const char *in, char st[6], SQLINTEGER *native, char *msg, size_t size)
{
    conn c = new_conn();
    double t0 = now_s();
    assert_int_equal(try_connect(&c, in), SQL_ERROR);
    double took = now_s() - t0;
    SQLSMALLINT len = 0;
    assert_true(SQL_SUCCEEDED(SQLGetDiagRec(SQL_HANDLE_DBC, c.dbc, 1, (SQLCHAR *)st, native, (SQLCHAR *)msg,
                                            (SQLSMALLINT)size, &len)));
    free_conn(&c);
    return took;
}

static void set_state(const char *json)
{
    emulator_call("POST", "/_emulator/instance-state", json);
}

static int setup(void **state)
{
    (void)state;
    emulator_call("DELETE", "/_emulator/faults", NULL);
    emulator_call("POST", "/_emulator/stats/reset", "{}");
    set_state("{\"name\": \"" INSTANCE "\", \"state\": \"AVAILABLE\"}");
    return 0;
}

static int teardown(void **state)
{
    emulator_call("POST", "/_emulator/resume", "{}"); /* a no-op unless a case suspended the compute */
    emulator_call("POST", "/_emulator/config",
                  "{\"instances\": [{\"name\": \"" INSTANCE "\", \"read_write_dns\": \"localhost\"}]}");
    return setup(state);
}

/* The emulator's record of the last Provisioned credential request (a JSON object). */
static struct json_object *last_database_request(void)
{
    char url[1024];
    snprintf(url, sizeof(url), "%s/_emulator/database/credential-requests", emulator_url);
    lb_http_opts opts = {.cafile = ca_file, .max_attempts = 1};
    lb_http_request req = {.method = "GET", .url = url};
    lb_http_response resp;
    lb_error err;
    lb_error_init(&err);
    if (lb_http_send(&opts, &req, &resp, &err) != LB_OK)
        fail_msg("emulator: %s", err.message);
    assert_int_equal(resp.status, 200);
    struct json_object *obj = lb_json_parse_object(resp.body, resp.body_len), *list = NULL;
    lb_http_response_free(&resp);
    assert_non_null(obj);
    assert_true(json_object_object_get_ex(obj, "requests", &list));
    size_t n = json_object_array_length(list);
    assert_true(n > 0);
    struct json_object *last = json_object_get(json_object_array_get_idx(list, n - 1));
    json_object_put(obj);
    return last;
}

static void assert_uuid4(const char *s)
{
    regex_t re;
    assert_int_equal(regcomp(&re, "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
                             REG_EXTENDED | REG_NOSUB), 0);
    int match = regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    if (!match)
        fail_msg("request_id \"%s\" is not a UUID v4", s);
}

/* The DSN lakebase-local-provisioned (Instance, no Servername): connects, queries; the
 * emulator saw instance_names and a UUID v4 request_id; a second connect reuses the
 * cached credential and the looked-up host. */
static void test_end_to_end(void **state)
{
    (void)state;
    char id1[64] = "";
    for (int round = 0; round < 2; round++) {
        conn c = new_conn();
        double t0 = now_s();
        assert_connected(c.dbc, try_connect(&c, "DSN=lakebase-local-provisioned"));
        double took = now_s() - t0;
        check_identity(c.dbc);
        SQLDisconnect(c.dbc);
        free_conn(&c);
        printf("provisioned connect %d: %.3f s; %lld credential requests, %lld instance look-ups\n", round + 1, took,
               emulator_count(DB_CREDENTIALS), emulator_count(INSTANCE_GET));
        assert_int_equal(emulator_count(DB_CREDENTIALS), 1);  /* the second connect reused it */
        assert_int_equal(emulator_count(INSTANCE_GET), 1);
        assert_int_equal(emulator_count(CREDENTIALS), 0);     /* never the Autoscaling API */
        if (round == 0) {
            struct json_object *req = last_database_request(), *names = NULL;
            assert_true(json_object_object_get_ex(req, "instance_names", &names));
            assert_true(json_object_is_type(names, json_type_array));
            assert_int_equal(json_object_array_length(names), 1);
            assert_string_equal(json_object_get_string(json_object_array_get_idx(names, 0)), INSTANCE);
            const char *rid = lb_json_string(req, "request_id");
            assert_non_null(rid);
            assert_uuid4(rid);
            snprintf(id1, sizeof(id1), "%s", rid);
            printf("request_id %s\n", id1);
            json_object_put(req);
        }
    }
    /* Another process-local credential (TokenCache=off) gets a fresh request_id. */
    char in[4096];
    instance_connstr(in, sizeof(in), "Instance=" INSTANCE ";TokenCache=off;");
    conn c = new_conn();
    assert_connected(c.dbc, try_connect(&c, in));
    SQLDisconnect(c.dbc);
    free_conn(&c);
    struct json_object *req = last_database_request();
    const char *rid = lb_json_string(req, "request_id");
    assert_non_null(rid);
    assert_uuid4(rid);
    assert_string_not_equal(rid, id1);
    json_object_put(req);
}

/* STOPPED and DELETING take no connections: 08001 (native 30005) naming the state and what
 * to do, at once, and no credential is asked for. */
static void refused(const char *state_name, const char *fix)
{
    char json[200];
    snprintf(json, sizeof(json), "{\"name\": \"" INSTANCE "\", \"state\": \"%s\"}", state_name);
    set_state(json);
    char in[4096], st[6], msg[1024];
    SQLINTEGER native = 0;
    instance_connstr(in, sizeof(in), "Instance=" INSTANCE ";ConnectTimeout=30;");
    double took = connect_fails_native(in, st, &native, msg, sizeof(msg));
    printf("%s: %s (native %d) in %.3f s: %s\n", state_name, st, (int)native, took, msg);
    assert_string_equal(st, "08001");
    assert_int_equal(native, 30005);
    assert_non_null(strstr(msg, INSTANCE));
    assert_non_null(strstr(msg, state_name));
    assert_non_null(strstr(msg, fix));
    assert_true(took < 10); /* refused at once, not after ConnectTimeout */
    assert_int_equal(emulator_count(DB_CREDENTIALS), 0);
}

static void test_stopped(void **state)
{
    (void)state;
    refused("STOPPED", "start");
}

static void test_deleting(void **state)
{
    (void)state;
    refused("DELETING", "being deleted");
}

/* STARTING, then AVAILABLE 1.5 s later: the connect waits and succeeds. */
static void test_transient_then_available(void **state)
{
    (void)state;
    set_state("{\"name\": \"" INSTANCE "\", \"state\": \"STARTING\", \"then\": \"AVAILABLE\", \"after_ms\": 1500}");
    char in[4096];
    instance_connstr(in, sizeof(in), "Instance=" INSTANCE ";ConnectTimeout=30;");
    conn c = new_conn();
    double t0 = now_s();
    assert_connected(c.dbc, try_connect(&c, in));
    double took = now_s() - t0;
    check_identity(c.dbc);
    SQLDisconnect(c.dbc);
    free_conn(&c);
    long long lookups = emulator_count(INSTANCE_GET);
    printf("STARTING then AVAILABLE after 1.5 s: connected in %.3f s after %lld look-ups\n", took, lookups);
    assert_true(took >= 1.4 && took < 20);
    assert_true(lookups >= 2);
}

/* UPDATING for longer than ConnectTimeout (2 s): HYT00 naming the state. */
static void transient_past(const char *state_name)
{
    char json[200];
    snprintf(json, sizeof(json), "{\"name\": \"" INSTANCE "\", \"state\": \"%s\"}", state_name);
    set_state(json);
    char in[4096], st[6], msg[1024];
    SQLINTEGER native = 0;
    instance_connstr(in, sizeof(in), "Instance=" INSTANCE ";ConnectTimeout=2;");
    double took = connect_fails_native(in, st, &native, msg, sizeof(msg));
    printf("%s past ConnectTimeout=2: %s (native %d) in %.3f s: %s\n", state_name, st, (int)native, took, msg);
    assert_string_equal(st, "HYT00");
    assert_non_null(strstr(msg, "ConnectTimeout (2 s)"));
    assert_non_null(strstr(msg, state_name));
    assert_non_null(strstr(msg, INSTANCE));
    assert_true(took < 10);
    assert_int_equal(emulator_count(DB_CREDENTIALS), 0);
}

static void test_transient_past_deadline(void **state)
{
    (void)state;
    transient_past("UPDATING");
    transient_past("FAILING_OVER");
}

/* Endpoint and Instance both set: HY000 naming both and where each came from. */
static void test_both_set(void **state)
{
    (void)state;
    char in[4096], st[6], msg[1024];
    SQLINTEGER native = 0;
    dsnless(in, sizeof(in), "Instance=" INSTANCE ";");
    connect_fails_native(in, st, &native, msg, sizeof(msg));
    printf("both set: %s (native %d): %s\n", st, (int)native, msg);
    assert_string_equal(st, "HY000");
    assert_int_equal(native, 10001);
    assert_non_null(strstr(msg, "Endpoint"));
    assert_non_null(strstr(msg, "Instance"));
    assert_non_null(strstr(msg, "from the connection string"));
    /* One from the environment. */
    setenv("LAKEBASE_INSTANCE", INSTANCE, 1);
    dsnless(in, sizeof(in), "");
    connect_fails_native(in, st, &native, msg, sizeof(msg));
    unsetenv("LAKEBASE_INSTANCE");
    printf("both set (Instance from the environment): %s: %s\n", st, msg);
    assert_string_equal(st, "HY000");
    assert_non_null(strstr(msg, "LAKEBASE_INSTANCE"));
    assert_non_null(strstr(msg, "the environment"));
    assert_int_equal(emulator_count(TOKENS), 0); /* refused before any network call */
}

/* Neither Endpoint nor Instance: HY000 naming both keys. */
static void test_neither_set(void **state)
{
    (void)state;
    char in[4096], st[6], msg[1024];
    SQLINTEGER native = 0;
    instance_connstr(in, sizeof(in), "Servername=localhost;");
    connect_fails_native(in, st, &native, msg, sizeof(msg));
    printf("neither set: %s (native %d): %s\n", st, (int)native, msg);
    assert_string_equal(st, "HY000");
    assert_non_null(strstr(msg, "Missing setting Endpoint or Instance"));
    assert_non_null(strstr(msg, "LAKEBASE_INSTANCE"));
    assert_non_null(strstr(msg, "ENDPOINT_NAME"));
}

/* An instance the workspace does not know: 08001 naming it. */
static void test_not_found(void **state)
{
    (void)state;
    char in[4096], st[6], msg[1024];
    SQLINTEGER native = 0;
    instance_connstr(in, sizeof(in), "Instance=no-such-instance;");
    connect_fails_native(in, st, &native, msg, sizeof(msg));
    printf("not found: %s (native %d): %s\n", st, (int)native, msg);
    assert_string_equal(st, "08001");
    assert_int_equal(native, 10004);
    assert_non_null(strstr(msg, "no-such-instance"));
    assert_non_null(strstr(msg, "HTTP 404"));
    assert_int_equal(emulator_count(DB_CREDENTIALS), 0);
}

/* Wake-up logic for an instance: a refused connection while the instance is AVAILABLE is a
 * wrong address, said at once (not retried for WakeTimeout). */
static void test_wrong_port(void **state)
{
    (void)state;
    char in[4096], st[6], msg[1024];
    SQLINTEGER native = 0;
    snprintf(in, sizeof(in), "Driver={%s};DatabricksHost=%s;ClientID=%s;ClientSecret={%s};Port=1;CAFile={%s};"
             "Instance=" INSTANCE ";WakeTimeout=60;ConnectTimeout=60;", driver, emulator_url, client_id, secret,
             ca_file);
    double took = connect_fails_native(in, st, &native, msg, sizeof(msg));
    printf("wrong port: %s (native %d) in %.3f s: %s\n", st, (int)native, took, msg);
    assert_int_equal(native, 10006);
    assert_non_null(strstr(msg, "instance " INSTANCE " is AVAILABLE"));
    assert_true(took < 20);
}

/* A Servername given with Instance wins over read_write_dns; the state still decides. */
static void test_servername_given(void **state)
{
    (void)state;
    char in[4096], st[6], msg[1024];
    SQLINTEGER native = 0;
    /* A given Servername wins and costs no look-up, as for an endpoint (the state is read
     * when PostgreSQL refuses the connection: see stopped_meanwhile). */
    instance_connstr(in, sizeof(in), "Instance=" INSTANCE ";Servername=localhost;");
    emulator_call("POST", "/_emulator/config",
                  "{\"instances\": [{\"name\": \"" INSTANCE "\", \"read_write_dns\": \"no-such-host.invalid\"}]}");
    conn c = new_conn();
    assert_connected(c.dbc, try_connect(&c, in));
    check_identity(c.dbc);
    SQLDisconnect(c.dbc);
    free_conn(&c);
    assert_int_equal(emulator_count(INSTANCE_GET), 0);
    /* Without Servername, the looked-up host is used (and here cannot be resolved). */
    instance_connstr(in, sizeof(in), "Instance=" INSTANCE ";WakeTimeout=0;");
    connect_fails_native(in, st, &native, msg, sizeof(msg));
    printf("read_write_dns no-such-host.invalid: %s: %.200s\n", st, msg);
    assert_non_null(strstr(msg, "no-such-host.invalid"));
}

/* Stopped meanwhile: the host is cached from an earlier connect, PostgreSQL is gone; the
 * wake-up logic asks the instance's state, sees STOPPED and fails at once (08001, native
 * 30005) instead of retrying for WakeTimeout. */
static void test_stopped_meanwhile(void **state)
{
    (void)state;
    conn c = new_conn();
    assert_connected(c.dbc, try_connect(&c, "DSN=lakebase-local-provisioned"));
    SQLDisconnect(c.dbc);
    free_conn(&c);
    emulator_call("POST", "/_emulator/suspend", "{\"wake_delay_ms\": 60000}");
    set_state("{\"name\": \"" INSTANCE "\", \"state\": \"STOPPED\"}");
    char st[6], msg[1024];
    SQLINTEGER native = 0;
    double took = connect_fails_native("DSN=lakebase-local-provisioned;WakeTimeout=60;ConnectTimeout=90", st, &native, msg,
                                sizeof(msg));
    emulator_call("POST", "/_emulator/resume", "{}");
    printf("stopped meanwhile: %s (native %d) in %.3f s: %s\n", st, (int)native, took, msg);
    assert_string_equal(st, "08001");
    assert_int_equal(native, 30005);
    assert_non_null(strstr(msg, "STOPPED"));
    assert_true(took < 20); /* not WakeTimeout's 60 s */
}

/* HTTP 503 once on the credential request: retried (as for endpoints); the connect succeeds.
 * (The emulator answers a fault before reading the request, so only the retry's body is
 * recorded.) */
static void test_retry(void **state)
{
    (void)state;
    emulator_call("POST", "/_emulator/faults",
                  "{\"method\": \"POST\", \"path\": \"/api/2.0/database/credentials\", \"status\": 503, \"count\": 1}");
    conn c = new_conn();
    double t0 = now_s();
    assert_connected(c.dbc, try_connect(&c, "DSN=lakebase-local-provisioned"));
    double took = now_s() - t0;
    check_identity(c.dbc);
    SQLDisconnect(c.dbc);
    free_conn(&c);
    struct json_object *req = last_database_request();
    const char *rid = lb_json_string(req, "request_id");
    printf("503 once: connected in %.3f s after %lld credential requests (request_id %s)\n", took,
           emulator_count(DB_CREDENTIALS), rid ? rid : "(none)");
    assert_int_equal(emulator_count(DB_CREDENTIALS), 2);
    assert_non_null(rid);
    assert_uuid4(rid);
    json_object_put(req);
}

/* 16 threads connect at once: one token, one instance look-up, one credential request. */
#define THREADS 16
static pthread_barrier_t barrier;
static atomic_int connected;

static void *connect_thread(void *arg)
{
    (void)arg;
    conn c = new_conn();
    pthread_barrier_wait(&barrier);
    SQLRETURN rc = try_connect(&c, "DSN=lakebase-local-provisioned");
    if (SQL_SUCCEEDED(rc)) {
        atomic_fetch_add(&connected, 1);
        SQLDisconnect(c.dbc);
    }
    free_conn(&c);
    return NULL;
}

static void test_single_flight(void **state)
{
    (void)state;
    pthread_t t[THREADS];
    pthread_barrier_init(&barrier, NULL, THREADS);
    double t0 = now_s();
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, connect_thread, NULL), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    printf("single flight: %d of %d connected in %.3f s; %lld token, %lld look-up, %lld credential requests\n",
           atomic_load(&connected), THREADS, now_s() - t0, emulator_count(TOKENS), emulator_count(INSTANCE_GET),
           emulator_count(DB_CREDENTIALS));
    assert_int_equal(atomic_load(&connected), THREADS);
    assert_int_equal(emulator_count(TOKENS), 1);
    assert_int_equal(emulator_count(INSTANCE_GET), 1);
    assert_int_equal(emulator_count(DB_CREDENTIALS), 1);
}

/* TokenCache=file: three processes share the instance's credential; an endpoint's
 * connect in the same cache directory gets its own (the keys differ). */
static void test_file_cache(void **state)
{
    (void)state;
    char dir[] = "/tmp/lb-provisioned-XXXXXX";
    assert_non_null(mkdtemp(dir));
    setenv("XDG_CACHE_HOME", dir, 1);
    char in[4096];
    instance_connstr(in, sizeof(in), "Instance=" INSTANCE ";TokenCache=file;");
    for (int i = 0; i < 3; i++) {
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) { /* a fresh process: nothing in memory */
            conn c = new_conn();
            SQLRETURN rc = try_connect(&c, in);
            if (SQL_SUCCEEDED(rc))
                SQLDisconnect(c.dbc);
            free_conn(&c);
            _exit(SQL_SUCCEEDED(rc) ? 0 : 1);
        }
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    long long instance_creds = emulator_count(DB_CREDENTIALS);
    char ep[4096];
    dsnless(ep, sizeof(ep), "TokenCache=file;");
    conn c = new_conn();
    assert_connected(c.dbc, try_connect(&c, ep));
    SQLDisconnect(c.dbc);
    free_conn(&c);
    printf("file cache: 3 processes made %lld instance credential requests; then an endpoint made %lld\n",
           instance_creds, emulator_count(CREDENTIALS));
    assert_int_equal(instance_creds, 1);
    assert_int_equal(emulator_count(CREDENTIALS), 1);
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(int argc, char **argv)
{
    read_state();
    const struct CMUnitTest cases[] = {
        cmocka_unit_test_setup_teardown(test_end_to_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stopped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deleting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transient_then_available, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transient_past_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_both_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_neither_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_port, setup, teardown),
        cmocka_unit_test_setup_teardown(test_single_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_servername_given, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stopped_meanwhile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry, setup, teardown),
    };
    return testenv_run_case(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
