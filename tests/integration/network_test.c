/* What a hostile or broken network must not get out of the driver, end to end through
 * unixODBC, psqlODBC and the local Lakebase: the client secret goes only to the
 * workspace's own origin (or an explicit TokenEndpoint); a proxy's password never shows
 * in a message or a log; odd answers (not HTTP, huge headers, redirects) get messages
 * that name what happened; ConnectTimeout bounds a connect that trickles; a wrong UID
 * does not cost everyone the shared credential. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testenv.h"

#define TOK "\"path\": \"/oidc/v1/token\", \"method\": \"POST\""
#define CRED "\"path\": \"/api/2.0/postgres/credentials\", \"method\": \"POST\""
#define DISC "\"path\": \"/oidc/.well-known/oauth-authorization-server\", \"method\": \"GET\""
#define DISCOVERY "GET /oidc/.well-known/oauth-authorization-server"

static char log_path[256];
static char ip_url[256];    /* the emulator as https://127.0.0.1:port: the same server, another origin */
static char other_port[256];

static void connect_ok(const char *extra)
{
    conn c = new_conn();
    assert_connected(c.dbc, connect_first(&c, extra));
    check_identity(c.dbc);
    SQLDisconnect(c.dbc);
    free_conn(&c);
}

static char *read_log(void)
{
    FILE *f = fopen(log_path, "r");
    static char buf[1 << 20];
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
    return buf;
}

static void reset(void)
{
    emulator_call("DELETE", "/_emulator/faults", NULL);
    emulator_call("POST", "/_emulator/stats/reset", "{}");
}

/* A discovery answer that names a token endpoint on another host or port: nothing is
 * sent there, the error names both origins, and the answer is not remembered. */
static void test_token_endpoint_other_origin(void **state)
{
    (void)state;
    const char *bad[] = {ip_url, other_port};
    for (int i = 0; i < 2; i++) {
        reset();
        char fault[1024], st[6], all[4096], extra[512];
        snprintf(fault, sizeof(fault), "{" DISC ", \"body\": \"{\\\"token_endpoint\\\": \\\"%s/oidc/v1/token\\\"}\"}",
                 bad[i]);
        emulator_call("POST", "/_emulator/faults", fault);
        snprintf(extra, sizeof(extra), "TokenCache=off;LogLevel=debug;LogFile=%s;", log_path);
        connect_fails(extra, st, all, sizeof(all));
        printf("token endpoint %s -> %s %.300s\n", bad[i], st, all);
        assert_string_equal(st, "08001");
        assert_non_null(strstr(all, "another origin"));
        assert_non_null(strstr(all, "TokenEndpoint"));
        char origin[300];
        snprintf(origin, sizeof(origin), "%s", bad[i]);
        assert_non_null(strstr(all, strchr(origin, '/') + 2)); /* the foreign host:port */
        assert_non_null(strstr(all, strstr(emulator_url, "://") + 3));
        assert_int_equal(emulator_count(TOKENS), 0); /* the secret went nowhere */
    }
    /* Not remembered: the next connect asks again, and connects. */
    reset();
    connect_ok("TokenCache=off;");
    assert_int_equal(emulator_count(DISCOVERY), 1);
    /* Debug logs name the origin of every request, not only its path. */
    char want[300];
    snprintf(want, sizeof(want), "HTTP GET %s/oidc/.well-known/oauth-authorization-server", emulator_url);
    assert_non_null(strstr(read_log(), want));
}

/* TokenEndpoint names a token URL on another origin explicitly: used without discovery. */
static void test_token_endpoint_key(void **state)
{
    (void)state;
    reset();
    char extra[512];
    snprintf(extra, sizeof(extra), "TokenCache=off;TokenEndpoint=%s/oidc/v1/token;", ip_url);
    connect_ok(extra);
    assert_int_equal(emulator_count(DISCOVERY), 0);
    assert_int_equal(emulator_count(TOKENS), 1);
    char st[6], all[4096];
    connect_fails("TokenEndpoint=http://127.0.0.1/oidc/v1/token;", st, all, sizeof(all));
    assert_string_equal(st, "HY000");
    assert_non_null(strstr(all, "TokenEndpoint"));
}

/* A proxy's password, valid URL or not, from Proxy or https_proxy, never reaches a
 * message or the log. */
static void test_proxy_password_never_shown(void **state)
{
    (void)state;
    reset();
    struct {
        const char *proxy, *env, *state, *phrase;
    } cases[] = {
        {"http://user:Pa#ssw0rdX@127.0.0.1:1", NULL, "HY000", "not a proxy URL"},
        {"http://user:Pa ssw0rdX@127.0.0.1:1", NULL, "HY000", "not a proxy URL"},
        {"http://user:Pa%23ssw0rdX@127.0.0.1:1", NULL, "08001", "Could not reach"},
        {"http://user:Pa/ssw0rdX@127.0.0.1:1", NULL, "HY000", "not a proxy URL"},
        {NULL, "http://user:Pa#ssw0rdX@127.0.0.1:1", "HY000", "https_proxy"},
        {NULL, "http://user:Pa%40ssw0rdX@127.0.0.1:1", "08001", "Could not reach"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char extra[512], st[6], all[4096];
        if (cases[i].env)
            setenv("https_proxy", cases[i].env, 1);
        snprintf(extra, sizeof(extra), "TokenCache=off;LogLevel=debug;LogFile=%s;%s%s%s", log_path,
                 cases[i].proxy ? "Proxy={" : "", cases[i].proxy ? cases[i].proxy : "", cases[i].proxy ? "};" : "");
        double took = connect_fails(extra, st, all, sizeof(all));
        unsetenv("https_proxy");
        printf("proxy case %zu -> %s in %.2f s: %.300s\n", i, st, took, all);
        assert_string_equal(st, cases[i].state);
        assert_non_null(strstr(all, cases[i].phrase));
        assert_null(strstr(all, "ssw0rdX"));
        assert_null(strstr(all, "user:Pa"));
        const char *logged = read_log();
        assert_null(strstr(logged, "ssw0rdX"));
        assert_null(strstr(logged, "user:Pa"));
    }
}

/* Answers that are not what they seem get messages that say what happened. */
static void test_odd_answers(void **state)
{
    (void)state;
    reset();
    struct {
        const char *what, *fault, *phrase, *absent;
    } cases[] = {
        {"HTTP/0.9", "{" TOK ", \"raw\": \"SSH-2.0-OpenSSH_9.2\\r\\n\"}", "did not answer in HTTP", "https://"},
        {"redirect", "{" TOK ", \"status\": 302, \"headers\": {\"Location\": \"https://login.example.invalid/sso?state=s3cr3t\"}}",
         "redirect to https://login.example.invalid/sso", "s3cr3t"},
        {"one big header", NULL, "KiB of headers", "Out of memory"},
        {"many big headers", NULL, "KiB of headers", "Out of memory"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        emulator_call("DELETE", "/_emulator/faults", NULL);
        if (cases[i].fault) {
            emulator_call("POST", "/_emulator/faults", cases[i].fault);
        } else {
            /* One 900 KB header (over libcurl's own limit for one header), or 20 of 40 KB
             * (over the driver's for all of them): the emulator takes faults up to 1 MB. */
            int one = strstr(cases[i].what, "one") != NULL;
            size_t n = one ? 900 * 1024 : 40 * 1024;
            char *big = malloc(22 * (n + 40) + 200);
            int o = snprintf(big, 200, "{" TOK ", \"status\": 503, \"headers\": {");
            for (int h = 0; h < (one ? 1 : 20); h++) {
                o += sprintf(big + o, "%s\"X-Big-%d\": \"", h ? ", " : "", h);
                memset(big + o, 'a', n);
                o += (int)n;
                big[o++] = '"';
            }
            strcpy(big + o, "}}");
            emulator_call("POST", "/_emulator/faults", big);
            free(big);
        }
        char st[6], all[4096];
        double took = connect_fails("TokenCache=off;", st, all, sizeof(all));
        printf("%s -> %s in %.2f s: %.300s\n", cases[i].what, st, took, all);
        assert_string_equal(st, "08001");
        assert_non_null(strstr(all, cases[i].phrase));
        if (strcmp(cases[i].absent, "https://") != 0)
            assert_null(strstr(all, cases[i].absent));
        else
            assert_null(strstr(all, "only https:// is allowed"));
    }
    emulator_call("DELETE", "/_emulator/faults", NULL);
}

/* An answer that trickles in forever: without a login timeout, ConnectTimeout ends the
 * connect, HTTP retries included. */
static void test_connect_timeout_bounds_trickle(void **state)
{
    (void)state;
    reset();
    emulator_call("POST", "/_emulator/faults", "{" CRED ", \"count\": -1, \"trickle_bytes_per_s\": 100}");
    char st[6], all[4096];
    double took = connect_fails("TokenCache=off;ConnectTimeout=3;", st, all, sizeof(all));
    printf("trickling credential answer, ConnectTimeout=3 -> %s after %.2f s: %.300s\n", st, took, all);
    assert_string_equal(st, "HYT00");
    assert_non_null(strstr(all, "ConnectTimeout (3 s)"));
    assert_true(took < 8);
    emulator_call("DELETE", "/_emulator/faults", NULL);
    connect_fails("ConnectTimeout=0;", st, all, sizeof(all));
    assert_string_equal(st, "HY000");
    assert_non_null(strstr(all, "between 1 and 3600"));
}

/* A login refused because of a wrong UID leaves the shared credential cached. */
static void test_wrong_uid_keeps_credential(void **state)
{
    (void)state;
    reset();
    connect_ok("");
    long long before = emulator_count(CREDENTIALS);
    for (int i = 0; i < 3; i++) {
        char st[6], all[4096];
        connect_fails("UID=postgres;", st, all, sizeof(all));
        assert_non_null(strstr(all, "is not the service principal's client id"));
    }
    connect_ok("");
    long long after = emulator_count(CREDENTIALS);
    printf("credential requests for 3 wrong-UID connects and 1 good one after them: %lld (0 expected)\n",
           after - before);
    assert_int_equal(after - before, 0);
}

int main(void)
{
    read_state();
    snprintf(log_path, sizeof(log_path), "/tmp/lb-network-test-%ld.log", (long)getpid());
    const char *port = strrchr(emulator_url, ':') + 1;
    snprintf(ip_url, sizeof(ip_url), "https://127.0.0.1:%s", port);
    snprintf(other_port, sizeof(other_port), "%s", need_env("LAKEBASE_WRONG_HOST_URL"));
    const struct CMUnitTest tests[] = {
        /* First: no discovery has been remembered in this process yet. */
        cmocka_unit_test(test_token_endpoint_other_origin),
        cmocka_unit_test(test_token_endpoint_key),
        cmocka_unit_test(test_proxy_password_never_shown),
        cmocka_unit_test(test_odd_answers),
        cmocka_unit_test(test_connect_timeout_bounds_trickle),
        cmocka_unit_test(test_wrong_uid_keeps_credential),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(log_path);
    return rc;
}
