/* Connect by name (issue 9): Servername looked up from the endpoint (memory and file
 * cache), Endpoint naming a branch (its read-write endpoint, paged listing), endpoint
 * states refused (INIT, DEGRADED, disabled), ReadReplica, the pooled-host hint,
 * CredentialLifetime, and the seed's own environment variables. Each case runs in its
 * own process (an empty in-process cache) against the emulator and the real PostgreSQL,
 * and counts requests through the emulator's stats.
 * Usage: discovery_test <case>   (see main for the cases) */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testenv.h"

#define PRIMARY "projects/demo/branches/main/endpoints/primary"
#define GET_PRIMARY "GET /api/2.0/postgres/" PRIMARY

/* The emulator's endpoints: the primary (as scripts/local-lakebase.sh configures it,
 * with extra JSON fields, which may override its own) plus more. */
static void set_endpoints(const char *primary_extra, const char *more)
{
    char json[4096];
    snprintf(json, sizeof(json),
             "{\"max_page_size\": 100, \"endpoints\": [{\"name\": \"" PRIMARY "\", \"host\": \"localhost\", "
             "\"port\": %s, \"state\": \"ACTIVE\", \"read_only_host\": \"127.0.0.1\"%s%s}%s%s]}",
             pg_port, primary_extra[0] ? ", " : "", primary_extra, more[0] ? ", " : "", more);
    emulator_call("POST", "/_emulator/config", json);
}

static void reset(void)
{
    emulator_call("DELETE", "/_emulator/faults", NULL);
    set_endpoints("", "");
    emulator_call("POST", "/_emulator/stats/reset", "{}");
}

static int restore(void **state)
{
    (void)state;
    reset();
    return 0;
}

/* Driver, workspace, identity, CA and Port: everything but Endpoint and Servername. */
static void base(char *buf, size_t size, const char *extra)
{
    snprintf(buf, size, "Driver={%s};DatabricksHost=%s;ClientID=%s;ClientSecret={%s};Port=%s;CAFile={%s};%s", driver,
             emulator_url, client_id, secret, pg_port, ca_file, extra);
}

static SQLRETURN try_connect(conn *c, const char *extra)
{
    char in[4096];
    base(in, sizeof(in), extra);
    return SQLDriverConnect(c->dbc, NULL, (SQLCHAR *)in, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
}

/* Connects, checks the identity and gives psqlODBC's SQL_SERVER_NAME: the host it used. */
static void connect_ok(const char *extra, char *server, size_t size)
{
    conn c = new_conn();
    assert_connected(c.dbc, try_connect(&c, extra));
    check_identity(c.dbc);
    SQLSMALLINT len = 0;
    assert_true(SQL_SUCCEEDED(SQLGetInfo(c.dbc, SQL_SERVER_NAME, server, (SQLSMALLINT)size, &len)));
    SQLDisconnect(c.dbc);
    free_conn(&c);
}

/* A connect that fails: every record, and the first one's native code. */
static void connect_fails_native(const char *extra, char *all, size_t size, SQLINTEGER *native)
{
    conn c = new_conn();
    assert_int_equal(try_connect(&c, extra), SQL_ERROR);
    all_diags(c.dbc, all, size);
    SQLCHAR st[6];
    SQLSMALLINT len;
    char msg[1024];
    assert_true(SQL_SUCCEEDED(SQLGetDiagRec(SQL_HANDLE_DBC, c.dbc, 1, st, native, (SQLCHAR *)msg, sizeof(msg), &len)));
    free_conn(&c);
}

/* -- Servername looked up ------------------------------------------------------------ */

/* Without Servername: one look-up, then the memory cache: a second connect asks nothing. */
static void test_memory(void **state)
{
    (void)state;
    reset();
    char server[256];
    double t0 = now_s();
    connect_ok("Endpoint=" PRIMARY ";", server, sizeof(server));
    printf("no Servername -> connected to %s in %.2f s; %lld endpoint look-up(s)\n", server, now_s() - t0,
           emulator_count(GET_PRIMARY));
    assert_string_equal(server, "localhost");
    assert_int_equal(emulator_count(GET_PRIMARY), 1);
    connect_ok("Endpoint=" PRIMARY ";", server, sizeof(server));
    printf("second connect -> %s; %lld endpoint look-up(s) in all\n", server, emulator_count(GET_PRIMARY));
    assert_int_equal(emulator_count(GET_PRIMARY), 1);
    /* A Servername given wins, with no look-up. */
    emulator_call("POST", "/_emulator/stats/reset", "{}");
    connect_ok("Endpoint=" PRIMARY ";Servername=127.0.0.1;", server, sizeof(server));
    assert_string_equal(server, "127.0.0.1");
    assert_int_equal(emulator_count(GET_PRIMARY), 0);
}

/* A port on 127.0.0.1 that nothing listens on. */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(addr);
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    close(fd);
    return ntohs(addr.sin_port);
}

/* A looked-up host where nothing answers (a wrong Port) while the endpoint is ACTIVE:
 * fails at once, blames Port rather than a Servername nobody gave, and forgets the host,
 * so that the next connect looks it up again. */
static void test_wrong_port(void **state)
{
    (void)state;
    reset();
    char server[256], extra[256], in[4096], all[4096];
    connect_ok("Endpoint=" PRIMARY ";", server, sizeof(server)); /* host cached */
    int port = free_port();
    snprintf(in, sizeof(in), "Driver={%s};DatabricksHost=%s;ClientID=%s;ClientSecret={%s};Port=%d;CAFile={%s};"
             "Endpoint=" PRIMARY, driver, emulator_url, client_id, secret, port, ca_file);
    conn c = new_conn();
    double t0 = now_s();
    assert_int_equal(SQLDriverConnect(c.dbc, NULL, (SQLCHAR *)in, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT),
                     SQL_ERROR);
    double took = now_s() - t0;
    all_diags(c.dbc, all, sizeof(all));
    free_conn(&c);
    printf("looked-up host, wrong Port %d -> failed in %.2f s: %s\n", port, took, all);
    assert_true(took < 5.0);
    assert_non_null(strstr(all, "check Port (5432 on Lakebase; the host is the one the workspace gave"));
    usleep(3100 * 1000); /* past the 3 s endpoint cache */
    long long before = emulator_count(GET_PRIMARY);
    snprintf(extra, sizeof(extra), "Endpoint=" PRIMARY ";");
    connect_ok(extra, server, sizeof(server));
    printf("next connect: %lld look-up(s) more (the host was forgotten)\n", emulator_count(GET_PRIMARY) - before);
    assert_int_equal(emulator_count(GET_PRIMARY) - before, 1);
}

/* Runs this program's --connect in a new process; its exit status. */
static int connect_in_child(const char *extra)
{
    char self[1024], cmd[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    assert_true(n > 0);
    self[n] = '\0';
    snprintf(cmd, sizeof(cmd), "'%s' --connect '%s'", self, extra);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int connect_main(const char *extra)
{
    conn c = new_conn();
    SQLRETURN rc = try_connect(&c, extra);
    char all[2048] = "";
    if (!SQL_SUCCEEDED(rc))
        all_diags(c.dbc, all, sizeof(all));
    printf("  [pid %ld] %s%s\n", (long)getpid(), SQL_SUCCEEDED(rc) ? "connected" : "failed: ", all);
    fflush(stdout);
    free_conn(&c);
    return SQL_SUCCEEDED(rc) ? 0 : 1;
}

/* TokenCache=file: a second process finds the host (and the credential) on disk. */
static void test_file(void **state)
{
    (void)state;
    reset();
    char home[] = "/tmp/lb-discovery-cache-XXXXXX";
    assert_non_null(mkdtemp(home));
    setenv("XDG_CACHE_HOME", home, 1);
    assert_int_equal(connect_in_child("Endpoint=" PRIMARY ";TokenCache=file;"), 0);
    assert_int_equal(connect_in_child("Endpoint=" PRIMARY ";TokenCache=file;"), 0);
    printf("two processes, TokenCache=file: %lld endpoint look-up(s), %lld credential request(s), %lld token "
           "request(s)\n", emulator_count(GET_PRIMARY), emulator_count(CREDENTIALS), emulator_count(TOKENS));
    assert_int_equal(emulator_count(GET_PRIMARY), 1);
    assert_int_equal(emulator_count(CREDENTIALS), 1);
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
    assert_int_equal(system(cmd), 0);
}

/* -- Endpoint naming a branch ---------------------------------------------------------- */

#define LIST_MAIN "GET /api/2.0/postgres/projects/demo/branches/main/endpoints"

static void test_branch_one(void **state)
{
    (void)state;
    reset();
    char server[256];
    connect_ok("Endpoint=projects/demo/branches/main;", server, sizeof(server));
    printf("Endpoint=projects/demo/branches/main -> connected to %s; %lld listing(s), %lld look-up(s)\n", server,
           emulator_count(LIST_MAIN), emulator_count(GET_PRIMARY));
    assert_int_equal(emulator_count(LIST_MAIN), 1);
    assert_int_equal(emulator_count(GET_PRIMARY), 1); /* the chosen endpoint's host */
    assert_int_equal(emulator_count(CREDENTIALS), 1); /* for the full name: the emulator refuses a branch */
    connect_ok("Endpoint=projects/demo/branches/main;", server, sizeof(server));
    assert_int_equal(emulator_count(LIST_MAIN), 1); /* cached */
    /* With Servername: the listing still names the endpoint for the credential. */
    connect_ok("Endpoint=projects/demo/branches/main;Servername=localhost;", server, sizeof(server));
    assert_int_equal(emulator_count(CREDENTIALS), 1);
}

static void test_branch_none(void **state)
{
    (void)state;
    reset();
    set_endpoints("", "{\"name\": \"projects/demo/branches/ro/endpoints/r1\", \"host\": \"localhost\", "
                      "\"endpoint_type\": \"ENDPOINT_TYPE_READ_ONLY\"}");
    char all[4096];
    SQLINTEGER native = 0;
    connect_fails_native("Endpoint=projects/demo/branches/ro;", all, sizeof(all), &native);
    printf("branch with only a read-only endpoint -> %s\n", all);
    assert_non_null(strstr(all, "[08001]"));
    assert_non_null(strstr(all, "has no read-write endpoint"));
    connect_fails_native("Endpoint=projects/demo/branches/nosuch;", all, sizeof(all), &native);
    printf("unknown branch -> %s\n", all);
    assert_non_null(strstr(all, "was not found"));
    assert_int_equal(emulator_count(CREDENTIALS), 0);
}

static void test_branch_several(void **state)
{
    (void)state;
    reset();
    char more[1024];
    snprintf(more, sizeof(more),
             "{\"name\": \"projects/demo/branches/two/endpoints/a\", \"host\": \"localhost\", \"port\": %s}, "
             "{\"name\": \"projects/demo/branches/two/endpoints/b\", \"host\": \"localhost\", \"port\": %s}",
             pg_port, pg_port);
    set_endpoints("", more);
    char all[4096];
    SQLINTEGER native = 0;
    connect_fails_native("Endpoint=projects/demo/branches/two;", all, sizeof(all), &native);
    printf("branch with two read-write endpoints -> %s\n", all);
    assert_non_null(strstr(all, "[HY000]"));
    assert_non_null(strstr(all, "has 2 read-write endpoints"));
    assert_non_null(strstr(all, "projects/demo/branches/two/endpoints/a"));
    assert_non_null(strstr(all, "projects/demo/branches/two/endpoints/b"));
    assert_int_equal(emulator_count(CREDENTIALS), 0);
}

/* One endpoint per page (the emulator's max_page_size): the read-write one is on the
 * third page, found by following next_page_token. */
static void test_branch_paged(void **state)
{
    (void)state;
    reset();
    char json[4096];
    snprintf(json, sizeof(json),
             "{\"max_page_size\": 1, \"endpoints\": [{\"name\": \"" PRIMARY "\", \"host\": \"localhost\", \"port\": %s}, "
             "{\"name\": \"projects/demo/branches/paged/endpoints/e0\", \"host\": \"nowhere.invalid\", "
             "\"endpoint_type\": \"ENDPOINT_TYPE_READ_ONLY\"}, "
             "{\"name\": \"projects/demo/branches/paged/endpoints/e1\", \"host\": \"nowhere.invalid\", "
             "\"endpoint_type\": \"ENDPOINT_TYPE_READ_ONLY\"}, "
             "{\"name\": \"projects/demo/branches/paged/endpoints/e2\", \"host\": \"127.0.0.1\", \"port\": %s}]}",
             pg_port, pg_port);
    emulator_call("POST", "/_emulator/config", json);
    char server[256];
    connect_ok("Endpoint=projects/demo/branches/paged;", server, sizeof(server));
    long long pages = emulator_count("GET /api/2.0/postgres/projects/demo/branches/paged/endpoints");
    printf("read-write endpoint on page 3 of 3 -> connected to %s after %lld list request(s)\n", server, pages);
    assert_int_equal(pages, 3);
    assert_string_equal(server, "127.0.0.1");
    assert_int_equal(emulator_count("GET /api/2.0/postgres/projects/demo/branches/paged/endpoints/e2"), 1);
}

/* -- States ------------------------------------------------------------------------------ */

static void refused_state(const char *fields, const char *phrase)
{
    /* What the workspace said is reused for LB_ENDPOINT_STATE_CACHE_MS (3 s) in a process. */
    usleep(3100 * 1000);
    reset();
    set_endpoints(fields, "");
    char all[4096];
    SQLINTEGER native = 0;
    double t0 = now_s();
    connect_fails_native("Endpoint=" PRIMARY ";", all, sizeof(all), &native);
    printf("%s, no Servername -> refused in %.2f s: %s\n", fields, now_s() - t0, all);
    assert_non_null(strstr(all, "[08001]"));
    assert_int_equal(native, 30005);
    assert_non_null(strstr(all, phrase));
    assert_int_equal(emulator_count(CREDENTIALS), 0);
}

static void test_states(void **state)
{
    (void)state;
    refused_state("\"state\": \"INIT\"", "is INIT");
    refused_state("\"state\": \"DEGRADED\"", "is DEGRADED");
    refused_state("\"disabled\": true", "is disabled");
    /* IDLE connects (a connection wakes it). */
    usleep(3100 * 1000);
    reset();
    set_endpoints("\"state\": \"IDLE\"", "");
    char server[256];
    connect_ok("Endpoint=" PRIMARY ";", server, sizeof(server));
    printf("IDLE -> connected to %s\n", server);
    /* With Servername, no look-up before connecting: the state is not read, and the
     * driver never refuses what PostgreSQL takes. */
    reset();
    set_endpoints("\"state\": \"DEGRADED\"", "");
    connect_ok("Endpoint=" PRIMARY ";Servername=localhost;", server, sizeof(server));
    assert_int_equal(emulator_count(GET_PRIMARY), 0);
}

/* A Servername given, the compute suspended, and the endpoint disabled meanwhile: the
 * refused connection makes the driver read the state, and it fails at once instead of
 * waiting WakeTimeout for a compute that cannot wake. */
static void test_disabled_while_suspended(void **state)
{
    (void)state;
    reset();
    char server[256];
    connect_ok("Endpoint=" PRIMARY ";Servername=localhost;", server, sizeof(server)); /* caches the credential */
    emulator_call("POST", "/_emulator/suspend", "{\"wake_delay_ms\": 30000}");
    set_endpoints("\"state\": \"IDLE\", \"disabled\": true", "");
    char all[4096];
    SQLINTEGER native = 0;
    double t0 = now_s();
    connect_fails_native("Endpoint=" PRIMARY ";Servername=localhost;WakeTimeout=60;", all, sizeof(all), &native);
    double took = now_s() - t0;
    printf("suspended and disabled, WakeTimeout=60 -> failed in %.2f s: %s\n", took, all);
    assert_true(took < 20.0);
    assert_non_null(strstr(all, "is disabled"));
    assert_int_equal(native, 30005);
    set_endpoints("", "");
    emulator_call("POST", "/_emulator/resume", "{}");
}

/* -- ReadReplica ----------------------------------------------------------------------- */

static void test_replica(void **state)
{
    (void)state;
    reset();
    char server[256];
    connect_ok("Endpoint=" PRIMARY ";ReadReplica=yes;ReadOnly=1;", server, sizeof(server));
    printf("ReadReplica=yes -> connected to %s\n", server);
    assert_string_equal(server, "127.0.0.1");
    connect_ok("Endpoint=" PRIMARY ";", server, sizeof(server));
    assert_string_equal(server, "localhost"); /* the read-write host, cached apart */
    printf("read-only then read-write host: %lld look-up(s) (the second may come from the 3 s endpoint cache)\n",
           emulator_count(GET_PRIMARY));
    assert_true(emulator_count(GET_PRIMARY) <= 2);
    /* An endpoint without readable secondaries (another one: this process has cached the first's). */
    set_endpoints("", "{\"name\": \"projects/demo/branches/main/endpoints/norep\", \"host\": \"localhost\", "
                      "\"endpoint_type\": \"ENDPOINT_TYPE_READ_ONLY\"}");
    char all[4096];
    SQLINTEGER native = 0;
    connect_fails_native("Endpoint=projects/demo/branches/main/endpoints/norep;ReadReplica=yes;", all, sizeof(all), &native);
    printf("ReadReplica=yes, no read-only host -> %s\n", all);
    assert_non_null(strstr(all, "[08001]"));
    assert_non_null(strstr(all, "has no read-only host"));
    connect_fails_native("Endpoint=" PRIMARY ";ReadReplica=maybe;", all, sizeof(all), &native);
    assert_non_null(strstr(all, "[HY000]"));
    assert_non_null(strstr(all, "ReadReplica"));
}

/* -- The pooled host -------------------------------------------------------------------- */

/* Servername names the endpoint's pooled host and PostgreSQL refuses the login (here a
 * credential the emulator never issued, as PgBouncer refuses an OAuth token). */
static void test_pooled(void **state)
{
    (void)state;
    reset();
    set_endpoints("\"read_write_pooled_host\": \"127.0.0.1\"", "");
    emulator_call("POST", "/_emulator/faults",
                  "{\"method\": \"POST\", \"path\": \"/api/2.0/postgres/credentials\", \"count\": 1, \"body\": "
                  "\"{\\\"token\\\": \\\"not-a-live-credential\\\", \\\"expire_time\\\": \\\"2099-01-01T00:00:00Z\\\"}\"}");
    char log[] = "/tmp/lb-discovery-log-XXXXXX";
    int fd = mkstemp(log);
    assert_true(fd >= 0);
    close(fd);
    char extra[512], all[4096];
    snprintf(extra, sizeof(extra), "Endpoint=" PRIMARY ";Servername=127.0.0.1;LogLevel=info;LogFile=%s;", log);
    SQLINTEGER native = 0;
    connect_fails_native(extra, all, sizeof(all), &native);
    printf("login refused at the pooled host -> %s\n", all);
    assert_non_null(strstr(all, "pooled host"));
    assert_non_null(strstr(all, "direct host localhost"));
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "grep -q 'is the endpoint.s pooled host' '%s'", log);
    assert_int_equal(system(cmd), 0);
    unlink(log);
    /* Not the pooled host: no such note. */
    reset();
    emulator_call("POST", "/_emulator/faults",
                  "{\"method\": \"POST\", \"path\": \"/api/2.0/postgres/credentials\", \"count\": 1, \"body\": "
                  "\"{\\\"token\\\": \\\"not-a-live-credential\\\", \\\"expire_time\\\": \\\"2099-01-01T00:00:00Z\\\"}\"}");
    connect_fails_native("Endpoint=" PRIMARY ";Servername=localhost;", all, sizeof(all), &native);
    assert_non_null(strstr(all, "PAM authentication failed"));
    assert_null(strstr(all, "pooled host"));
}

/* -- CredentialLifetime ------------------------------------------------------------------ */

/* The expiry (Unix seconds) of the newest live credential in the emulator's live file. */
static long long newest_expiry(void)
{
    char path[1024], line[512];
    snprintf(path, sizeof(path), "%s/runtime-dir", need_env("LAKEBASE_LOCAL_STATE"));
    FILE *r = fopen(path, "r");
    assert_non_null(r);
    char dir[512] = "";
    assert_non_null(fgets(dir, sizeof(dir), r));
    fclose(r);
    dir[strcspn(dir, "\r\n")] = '\0';
    snprintf(path, sizeof(path), "%s/live-credentials", dir);
    r = fopen(path, "r");
    assert_non_null(r);
    long long newest = 0; /* the last line: the emulator appends */
    while (fgets(line, sizeof(line), r)) {
        char role[256], digest[128];
        long long exp = 0;
        if (sscanf(line, "%255s %127s %lld", role, digest, &exp) == 3)
            newest = exp;
    }
    fclose(r);
    return newest;
}

static void test_lifetime(void **state)
{
    (void)state;
    reset();
    char server[256];
    connect_ok("Endpoint=" PRIMARY ";Servername=localhost;", server, sizeof(server));
    long long now = time(NULL);
    connect_ok("Endpoint=" PRIMARY ";Servername=localhost;CredentialLifetime=300;", server, sizeof(server));
    long long left = newest_expiry() - now;
    printf("CredentialLifetime=300 -> a second credential request (%lld in all), living %lld s\n",
           emulator_count(CREDENTIALS), left);
    assert_int_equal(emulator_count(CREDENTIALS), 2); /* not the cached 1-hour credential */
    assert_true(left >= 290 && left <= 310);
    /* The cache goes by the answer's expire_time. The default TokenRefreshMargin (300 s)
     * shrinks to a quarter of a 300 s credential's life, so it is reused (it was never
     * reused when the margin took all of its life); a margin the user sets is kept. */
    connect_ok("Endpoint=" PRIMARY ";Servername=localhost;CredentialLifetime=300;", server, sizeof(server));
    long long default_margin = emulator_count(CREDENTIALS);
    for (int i = 0; i < 2; i++)
        connect_ok("Endpoint=" PRIMARY ";Servername=localhost;CredentialLifetime=300;TokenRefreshMargin=60;", server,
                   sizeof(server));
    printf("CredentialLifetime=300 again: %lld credential requests in all; with TokenRefreshMargin=60 %lld\n",
           default_margin, emulator_count(CREDENTIALS));
    assert_int_equal(default_margin, 2);
    assert_int_equal(emulator_count(CREDENTIALS), 2);
    static const char *const bad[] = {"299", "3601", "0", "ten"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char extra[256], all[4096];
        SQLINTEGER native = 0;
        snprintf(extra, sizeof(extra), "Endpoint=" PRIMARY ";Servername=localhost;CredentialLifetime=%s;", bad[i]);
        connect_fails_native(extra, all, sizeof(all), &native);
        printf("CredentialLifetime=%s -> %s\n", bad[i], all);
        assert_non_null(strstr(all, "[HY000]"));
        assert_non_null(strstr(all, "between 300 and 3600"));
    }
    assert_int_equal(emulator_count(CREDENTIALS), 2);
}

/* -- The seed's environment ------------------------------------------------------------- */

/* Driver=Lakebase and the variables of the Lakebase guide, nothing else (CAFile stands in
 * for the system CA store that trusts a real workspace). */
static void seed_env(int with_pghost)
{
    reset();
    setenv("DATABRICKS_HOST", emulator_url, 1);
    setenv("DATABRICKS_CLIENT_ID", client_id, 1);
    setenv("DATABRICKS_CLIENT_SECRET", secret, 1);
    setenv("ENDPOINT_NAME", PRIMARY, 1);
    if (with_pghost)
        setenv("PGHOST", "localhost", 1);
    else
        unsetenv("PGHOST");
    setenv("PGPORT", pg_port, 1);
    setenv("PGDATABASE", "databricks_postgres", 1);
    setenv("PGUSER", client_id, 1);
    setenv("PGSSLMODE", "require", 1);
    char in[2048];
    snprintf(in, sizeof(in), "Driver=Lakebase;CAFile={%s}", ca_file);
    conn c = new_conn();
    assert_connected(c.dbc, SQLDriverConnect(c.dbc, NULL, (SQLCHAR *)in, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT));
    check_identity(c.dbc);
    char server[256];
    SQLSMALLINT len;
    assert_true(SQL_SUCCEEDED(SQLGetInfo(c.dbc, SQL_SERVER_NAME, server, sizeof(server), &len)));
    printf("Driver=Lakebase with the seed's environment%s -> connected to %s; %lld look-up(s)\n",
           with_pghost ? "" : " (no PGHOST)", server, emulator_count(GET_PRIMARY));
    assert_string_equal(server, "localhost");
    assert_int_equal(emulator_count(GET_PRIMARY), with_pghost ? 0 : 1);
    SQLDisconnect(c.dbc);
    free_conn(&c);
}

static void test_seed_env(void **state)
{
    (void)state;
    seed_env(1);
}

static void test_seed_env_no_pghost(void **state)
{
    (void)state;
    seed_env(0);
}

int main(int argc, char **argv)
{
    read_state();
    if (argc == 3 && strcmp(argv[1], "--connect") == 0)
        return connect_main(argv[2]);
    const struct CMUnitTest cases[] = {
        cmocka_unit_test_teardown(test_memory, restore),
        cmocka_unit_test_teardown(test_file, restore),
        cmocka_unit_test_teardown(test_wrong_port, restore),
        cmocka_unit_test_teardown(test_branch_one, restore),
        cmocka_unit_test_teardown(test_branch_none, restore),
        cmocka_unit_test_teardown(test_branch_several, restore),
        cmocka_unit_test_teardown(test_branch_paged, restore),
        cmocka_unit_test_teardown(test_states, restore),
        cmocka_unit_test_teardown(test_disabled_while_suspended, restore),
        cmocka_unit_test_teardown(test_replica, restore),
        cmocka_unit_test_teardown(test_pooled, restore),
        cmocka_unit_test_teardown(test_lifetime, restore),
        cmocka_unit_test_teardown(test_seed_env, restore),
        cmocka_unit_test_teardown(test_seed_env_no_pghost, restore),
    };
    return testenv_run_case(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
