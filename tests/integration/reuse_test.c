/* Network reuse (issue 13): one TLS connection to the workspace per process and per
 * TLS/proxy setting (the emulator's "tls_handshakes" count), a child process that makes its
 * own, and OIDC discovery asked once (single flight in memory; kept in the file cache, so a
 * new process asks nothing). Through unixODBC, the driver, psqlODBC, the emulator and
 * PostgreSQL. Each case runs in its own process, so that it starts with empty caches.
 * Usage: reuse_test <case>   (see main for the cases) */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testenv.h"

#define DISCOVERY "GET /oidc/.well-known/oauth-authorization-server"
#define HANDSHAKES "tls_handshakes"

static int setup(void **state)
{
    (void)state;
    emulator_call("DELETE", "/_emulator/faults", NULL);
    emulator_call("POST", "/_emulator/stats/reset", "{}");
    return 0;
}

static void connect_ok(const char *extra)
{
    conn c = new_conn();
    assert_connected(c.dbc, connect_first(&c, extra));
    check_identity(c.dbc);
    SQLDisconnect(c.dbc);
    free_conn(&c);
}

static long long api_requests(void)
{
    return emulator_count(DISCOVERY) + emulator_count(TOKENS) + emulator_count(CREDENTIALS);
}

/* A cold connect makes its three requests (discovery, token, credential) on one TLS
 * connection; a second connect in the process reuses it. */
static void test_one_handshake(void **state)
{
    (void)state;
    double t0 = now_s();
    connect_ok("TokenCache=off");
    double cold = now_s() - t0;
    long long first = emulator_count(HANDSHAKES), requests = api_requests();
    t0 = now_s();
    connect_ok("TokenCache=off");
    double warm = now_s() - t0;
    long long second = emulator_count(HANDSHAKES);
    printf("one_handshake: cold connect %.1f ms, %lld requests, %lld TLS handshakes; second connect %.1f ms, "
           "%lld handshakes in all, %lld requests in all\n", cold * 1000, requests, first, warm * 1000, second,
           api_requests());
    assert_int_equal(requests, 3);
    assert_int_equal(first, 1);
    assert_int_equal(second, 1);
}

/* A connect with another CAFile (the same bundle under another path) does not reuse the
 * connection made with the first; each setting keeps its own. */
static void test_cafile_separate(void **state)
{
    (void)state;
    char dir[] = "/tmp/lb-reuse-XXXXXX", copy[1200], cmd[2600], extra[1400];
    assert_non_null(mkdtemp(dir));
    snprintf(copy, sizeof(copy), "%s/ca-copy.pem", dir);
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", ca_file, copy);
    assert_int_equal(system(cmd), 0);
    snprintf(extra, sizeof(extra), "TokenCache=off;CAFile={%s}", copy);

    connect_ok("TokenCache=off");
    long long a = emulator_count(HANDSHAKES);
    connect_ok(extra);
    long long b = emulator_count(HANDSHAKES);
    connect_ok("TokenCache=off");
    connect_ok(extra);
    long long c = emulator_count(HANDSHAKES);
    printf("cafile_separate: handshakes after CAFile A %lld, then B %lld, then A and B again %lld\n", a, b, c);
    assert_int_equal(a, 1);
    assert_int_equal(b, 2); /* B made its own */
    assert_int_equal(c, 2); /* and each was reused afterwards */
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* A forked child does not use its parent's connection (the TLS state is the parent's):
 * it makes its own; the parent keeps using its own. */
static void test_fork(void **state)
{
    (void)state;
    connect_ok("TokenCache=off");
    assert_int_equal(emulator_count(HANDSHAKES), 1);
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        conn c = new_conn();
        SQLRETURN rc = connect_first(&c, "TokenCache=off");
        _exit(SQL_SUCCEEDED(rc) ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    long long after_child = emulator_count(HANDSHAKES);
    connect_ok("TokenCache=off");
    long long after_parent = emulator_count(HANDSHAKES);
    printf("fork: handshakes after the parent's connect 1, after the child's %lld, after the parent's next %lld\n",
           after_child, after_parent);
    assert_int_equal(after_child, 2);
    assert_int_equal(after_parent, 2);
}

#define STORM 64
static atomic_int storm_ok;
static pthread_barrier_t storm_barrier;

static void *storm_thread(void *arg)
{
    (void)arg;
    conn c = new_conn();
    pthread_barrier_wait(&storm_barrier);
    if (SQL_SUCCEEDED(connect_first(&c, "TokenCache=off")))
        atomic_fetch_add(&storm_ok, 1);
    SQLDisconnect(c.dbc);
    free_conn(&c);
    return NULL;
}

/* 64 threads connecting at once with TokenCache=off ask for discovery once and for one
 * workspace token (credentials: one per connection, as off asks). */
static void test_discovery_storm(void **state)
{
    (void)state;
    /* psqlODBC calls setlocale(LC_CTYPE, "") in every connect unless PGCLIENTENCODING is set,
     * and setlocale is not thread-safe: 64 connects at once corrupted the heap about once in
     * 30 runs (README, "Many connects at once"). Set here, before any thread starts. */
    setenv("PGCLIENTENCODING", "UTF8", 1);
    pthread_t t[STORM];
    pthread_barrier_init(&storm_barrier, NULL, STORM);
    for (int i = 0; i < STORM; i++)
        assert_int_equal(pthread_create(&t[i], NULL, storm_thread, NULL), 0);
    for (int i = 0; i < STORM; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&storm_barrier);
    printf("discovery_storm: %d of %d connected; %lld discovery, %lld token, %lld credential requests, "
           "%lld TLS handshakes\n", atomic_load(&storm_ok), STORM, emulator_count(DISCOVERY), emulator_count(TOKENS),
           emulator_count(CREDENTIALS), emulator_count(HANDSHAKES));
    assert_int_equal(atomic_load(&storm_ok), STORM);
    assert_int_equal(emulator_count(DISCOVERY), 1);
    assert_int_equal(emulator_count(TOKENS), 1);
    assert_int_equal(emulator_count(CREDENTIALS), STORM);
}

/* Runs this program again (a new process) for the case "connect_once" with TokenCache=file. */
static void run_new_process(void)
{
    char self[1024];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    assert_true(n > 0);
    self[n] = '\0';
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl(self, self, "connect_once", (char *)NULL);
        _exit(127);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* With TokenCache=file, a new process makes no discovery call while the kept discovery is
 * fresh. */
static void test_discovery_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/lb-reuse-cache-XXXXXX", cmd[200];
    assert_non_null(mkdtemp(dir));
    setenv("XDG_CACHE_HOME", dir, 1);
    /* A credential too short-lived to cache: each process asks for a token, which needs the
     * token endpoint. */
    emulator_call("POST", "/_emulator/config", "{\"credential_lifetime\": 2}");
    run_new_process();
    long long first = emulator_count(DISCOVERY);
    run_new_process();
    long long second = emulator_count(DISCOVERY);
    emulator_call("POST", "/_emulator/config", "{\"credential_lifetime\": 3600}");
    printf("discovery_file: discovery requests after the first process %lld, after the second %lld; "
           "token requests %lld, credential requests %lld\n", first, second, emulator_count(TOKENS),
           emulator_count(CREDENTIALS));
    assert_int_equal(first, 1);
    assert_int_equal(second, 1);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(int argc, char **argv)
{
    read_state();
    if (argc == 2 && strcmp(argv[1], "connect_once") == 0) {
        conn c = new_conn();
        SQLRETURN rc = connect_first(&c, "TokenCache=file");
        if (!SQL_SUCCEEDED(rc)) {
            char all[4096];
            all_diags(c.dbc, all, sizeof(all));
            fprintf(stderr, "connect_once failed: %s\n", all);
            return 1;
        }
        SQLDisconnect(c.dbc);
        free_conn(&c);
        return 0;
    }
    const struct CMUnitTest cases[] = {
        cmocka_unit_test_setup_teardown(test_one_handshake, setup, setup),
        cmocka_unit_test_setup_teardown(test_cafile_separate, setup, setup),
        cmocka_unit_test_setup_teardown(test_fork, setup, setup),
        cmocka_unit_test_setup_teardown(test_discovery_storm, setup, setup),
        cmocka_unit_test_setup_teardown(test_discovery_file, setup, setup),
    };
    return testenv_run_case(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
