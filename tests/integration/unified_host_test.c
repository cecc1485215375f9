/* Unified workspace URLs end to end (unixODBC, psqlODBC, the local Lakebase with the
 * emulator in unified-host mode): a URL that serves several workspaces and learns which one
 * from X-Databricks-Workspace-Id. The workspace id comes from DatabricksHost's ?o=, the
 * WorkspaceID key, DATABRICKS_WORKSPACE_ID or a profile's workspace_id; the OIDC endpoints
 * come from /.well-known/databricks-config; an HTML login page gets a message that says what
 * to add; cached tokens and credentials are never shared between workspaces. One process per
 * case (argv[1]), so each starts with an empty cache. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lb_http.h"
#include "lb_json.h"
#include "testenv.h"

#define WS1 "1234567890123456"
#define WS2 "6051921418418893"
#define ACCOUNT "0c5a4c2e-1111-4222-8333-444455556666"
#define ENDPOINT_GET "GET /api/2.0/postgres/projects/demo/branches/main/endpoints/primary"
#define HOST_CONFIG "GET /.well-known/databricks-config"
#define ACCOUNT_TOKENS "POST /oidc/accounts/" ACCOUNT "/v1/token"
#define ACCOUNT_DISCOVERY "GET /oidc/accounts/" ACCOUNT "/.well-known/oauth-authorization-server"
#define WORKSPACE_DISCOVERY "GET /oidc/.well-known/oauth-authorization-server"

static void unified_on(void)
{
    emulator_call("POST", "/_emulator/unified", "{\"workspace_ids\": [\"" WS1 "\", \"" WS2 "\"], \"account_id\": \"" ACCOUNT "\"}");
}

static void reset(int unified)
{
    emulator_call("DELETE", "/_emulator/faults", NULL);
    emulator_call("POST", "/_emulator/stats/reset", "{}");
    emulator_call("POST", "/_emulator/unified", "{}");
    if (unified)
        unified_on();
}

/* counts.with[id] of GET /_emulator/unified, or counts[which] when id is NULL. */
static long long unified_count(const char *which, const char *id)
{
    char url[1024];
    snprintf(url, sizeof(url), "%s/_emulator/unified", emulator_url);
    lb_http_opts opts = {.cafile = ca_file};
    lb_http_request req = {.method = "GET", .url = url};
    lb_http_response resp;
    lb_error err;
    lb_error_init(&err);
    if (lb_http_send(&opts, &req, &resp, &err) != LB_OK)
        fail_msg("emulator unified: %s", err.message);
    assert_int_equal(resp.status, 200);
    struct json_object *obj = lb_json_parse_object(resp.body, resp.body_len), *counts = NULL, *with = NULL;
    assert_non_null(obj);
    assert_true(json_object_object_get_ex(obj, "counts", &counts));
    long long n = 0;
    if (id && json_object_object_get_ex(counts, "with", &with))
        lb_json_int64(with, id, &n);
    else if (!id)
        lb_json_int64(counts, which, &n);
    json_object_put(obj);
    lb_http_response_free(&resp);
    return n;
}

/* The local Lakebase's connection string with DatabricksHost = the emulator's URL + host_suffix. */
static void conn_string(char *buf, size_t size, const char *host_suffix, const char *extra)
{
    snprintf(buf, size,
             "Driver={%s};DatabricksHost=%s%s;ClientID=%s;ClientSecret={%s};"
             "Endpoint=projects/demo/branches/main/endpoints/primary;Servername=localhost;Port=%s;CAFile={%s};%s",
             driver, emulator_url, host_suffix, client_id, secret, pg_port, ca_file, extra);
}

static void connect_ok(const char *in)
{
    conn c = new_conn();
    SQLRETURN rc = SQLDriverConnect(c.dbc, NULL, (SQLCHAR *)in, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
    assert_connected(c.dbc, rc);
    check_identity(c.dbc);
    SQLDisconnect(c.dbc);
    free_conn(&c);
}

/* A connect that fails; all its diagnostics in all (printed with what), and the time taken. */
static double string_fails(const char *in, const char *what, char *all, size_t size)
{
    conn c = new_conn();
    double t0 = now_s();
    SQLRETURN rc = SQLDriverConnect(c.dbc, NULL, (SQLCHAR *)in, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
    double took = now_s() - t0;
    all_diags(c.dbc, all, size);
    printf("%s -> failed in %.2f s: %s\n", what, took, all);
    assert_int_equal(rc, SQL_ERROR);
    assert_null(strstr(all, secret));
    free_conn(&c);
    return took;
}

static void expect_in(const char *all, const char *phrase)
{
    if (strstr(all, phrase) == NULL)
        fail_msg("diagnostics lack \"%s\": %s", phrase, all);
}

/* ?o= in DatabricksHost: the OIDC endpoints from /.well-known/databricks-config (the
 * account's, here), the header on the credential call, and a working connection. */
static void test_connect_with_o(void **state)
{
    (void)state;
    reset(1);
    char in[4096];
    conn_string(in, sizeof(in), "/?o=" WS1, "TokenCache=off");
    double t0 = now_s();
    connect_ok(in);
    printf("unified host with ?o=%s: connected in %.2f s\n", WS1, now_s() - t0);
    assert_int_equal(emulator_count(HOST_CONFIG), 1);
    assert_int_equal(emulator_count(ACCOUNT_DISCOVERY), 1);
    assert_int_equal(emulator_count(ACCOUNT_TOKENS), 1);
    assert_int_equal(emulator_count(TOKENS), 0);
    assert_int_equal(emulator_count(CREDENTIALS), 1);
    assert_int_equal(unified_count(NULL, WS1), 1); /* the credential call named the workspace */
    assert_int_equal(unified_count("without", NULL), 0);
    assert_int_equal(unified_count("elsewhere", NULL), 0); /* no header outside /api/ */
    reset(0);
}

/* Without the workspace id, the API answers the HTML login page: the message says what it
 * likely means and what to add, instead of "not a JSON object". */
static void test_refused_without_id(void **state)
{
    (void)state;
    reset(1);
    char in[4096], all[4096];
    conn_string(in, sizeof(in), "", "TokenCache=off");
    double took = string_fails(in, "unified host without the workspace id", all, sizeof(all));
    assert_true(took < 10.0);
    expect_in(all, "[HY000]");
    expect_in(all, "HTML");
    expect_in(all, "?o=<workspace id>");
    expect_in(all, "WorkspaceID");
    assert_null(strstr(all, "not a JSON object"));
    assert_int_equal(unified_count("without", NULL), 1);
    assert_int_equal(emulator_count(HOST_CONFIG), 0); /* only asked when the workspace id is known */

    /* A workspace id the host does not serve: the same page, and a message naming the id. */
    conn_string(in, sizeof(in), "?o=42", "TokenCache=off");
    string_fails(in, "unified host, ?o=42 (not served)", all, sizeof(all));
    expect_in(all, "[HY000]");
    expect_in(all, "HTML");
    expect_in(all, "42");
    assert_int_equal(unified_count("unknown", NULL), 1);
    reset(0);
}

/* WorkspaceID as a key, in the environment and in a ~/.databrickscfg profile. */
static void test_key_env_profile(void **state)
{
    (void)state;
    reset(1);
    char in[4096];
    conn_string(in, sizeof(in), "", "TokenCache=off;WorkspaceID=" WS1);
    connect_ok(in);
    assert_int_equal(unified_count(NULL, WS1), 1);

    setenv("DATABRICKS_WORKSPACE_ID", WS2, 1);
    conn_string(in, sizeof(in), "", "TokenCache=off");
    connect_ok(in);
    unsetenv("DATABRICKS_WORKSPACE_ID");
    assert_int_equal(unified_count(NULL, WS2), 1);

    char path[] = "/tmp/lb-unified-cfg-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    char cfg[1024];
    int n = snprintf(cfg, sizeof(cfg), "[unified]\nhost = %s/\nworkspace_id = %s\nclient_id = %s\n", emulator_url, WS2,
                     client_id);
    assert_int_equal(write(fd, cfg, (size_t)n), n);
    close(fd);
    setenv("DATABRICKS_CONFIG_FILE", path, 1);
    snprintf(in, sizeof(in),
             "Driver={%s};Profile=unified;ClientSecret={%s};Endpoint=projects/demo/branches/main/endpoints/primary;"
             "Servername=localhost;Port=%s;CAFile={%s};TokenCache=off",
             driver, secret, pg_port, ca_file);
    connect_ok(in);
    unlink(path);
    assert_int_equal(unified_count(NULL, WS2), 2);
    assert_int_equal(unified_count("without", NULL), 0);
    reset(0);
}

/* Two sources naming different workspaces, or an id that is no id: HY000 before any request. */
static void test_conflicts(void **state)
{
    (void)state;
    reset(1);
    char in[4096], all[4096];
    conn_string(in, sizeof(in), "/?o=" WS1, "WorkspaceID=" WS2);
    string_fails(in, "?o= and WorkspaceID disagree", all, sizeof(all));
    expect_in(all, "[HY000]");
    expect_in(all, "WorkspaceID \"" WS2 "\" (from the connection string)");
    expect_in(all, "different workspaces");

    setenv("DATABRICKS_WORKSPACE_ID", WS2, 1);
    conn_string(in, sizeof(in), "/?o=" WS1, "");
    string_fails(in, "?o= and DATABRICKS_WORKSPACE_ID disagree", all, sizeof(all));
    unsetenv("DATABRICKS_WORKSPACE_ID");
    expect_in(all, "[HY000]");
    expect_in(all, "(from the environment)");

    conn_string(in, sizeof(in), "/?o=adb-123", "");
    string_fails(in, "?o=adb-123", all, sizeof(all));
    expect_in(all, "[HY000]");
    expect_in(all, "not a workspace id");

    conn_string(in, sizeof(in), "", "WorkspaceID=12ab");
    string_fails(in, "WorkspaceID=12ab", all, sizeof(all));
    expect_in(all, "[HY000]");
    expect_in(all, "digits");
    assert_int_equal(emulator_count(TOKENS) + emulator_count(ACCOUNT_TOKENS) + emulator_count(HOST_CONFIG), 0);
    reset(0);
}

/* Tokens and credentials for different workspaces on one host are never shared: a second
 * workspace fetches its own, and an id the host does not serve is refused even though a
 * credential for another workspace of the same host and client is cached. */
static void test_cache_separation(void **state)
{
    (void)state;
    reset(1);
    char in[4096], all[4096];
    conn_string(in, sizeof(in), "/?o=" WS1, "TokenCache=memory");
    connect_ok(in);
    connect_ok(in); /* cached */
    assert_int_equal(emulator_count(CREDENTIALS), 1);
    assert_int_equal(emulator_count(ACCOUNT_TOKENS), 1);

    conn_string(in, sizeof(in), "/?o=" WS2, "TokenCache=memory");
    connect_ok(in);
    assert_int_equal(emulator_count(CREDENTIALS), 2);
    assert_int_equal(emulator_count(ACCOUNT_TOKENS), 2);
    assert_int_equal(unified_count(NULL, WS1), 1);
    assert_int_equal(unified_count(NULL, WS2), 1);

    conn_string(in, sizeof(in), "/?o=777", "TokenCache=memory");
    string_fails(in, "?o=777 with credentials for two other workspaces cached", all, sizeof(all));
    expect_in(all, "HTML");
    assert_int_equal(unified_count("unknown", NULL), 1);
    printf("credentials fetched: %lld for 3 workspaces (one refused), tokens: %lld\n", emulator_count(CREDENTIALS),
           emulator_count(ACCOUNT_TOKENS));
    reset(0);
}

/* A host without /.well-known/databricks-config (404: a workspace that predates it): the
 * driver falls back to /oidc/.well-known/oauth-authorization-server, as the SDKs do, and still
 * sends the header. */
static void test_host_config_missing(void **state)
{
    (void)state;
    reset(0);
    char in[4096];
    conn_string(in, sizeof(in), "", "TokenCache=off;WorkspaceID=" WS1);
    connect_ok(in);
    assert_int_equal(emulator_count(HOST_CONFIG), 1);
    assert_int_equal(emulator_count(WORKSPACE_DISCOVERY), 1);
    assert_int_equal(emulator_count(TOKENS), 1);
    assert_int_equal(unified_count(NULL, WS1), 1);
    assert_int_equal(unified_count("elsewhere", NULL), 0);
    reset(0);
}

/* A malformed /.well-known/databricks-config: not JSON, or without oidc_endpoint, is
 * skipped for the workspace's own discovery (as the SDKs do), and when that fails too the
 * message names both; an oidc_endpoint on another origin is refused before anything is sent. */
static void test_host_config_malformed(void **state)
{
    (void)state;
    reset(1);
    char in[4096], all[4096];
    conn_string(in, sizeof(in), "/?o=" WS1, "TokenCache=off");
    emulator_call("POST", "/_emulator/faults",
                  "{\"method\": \"GET\", \"path\": \"/.well-known/databricks-config\", \"body\": \"<html>hello</html>\"}");
    connect_ok(in); /* fell back to /oidc/.well-known/oauth-authorization-server */
    assert_int_equal(emulator_count(WORKSPACE_DISCOVERY), 1);
    assert_int_equal(emulator_count(TOKENS), 1);

    /* The token endpoint found is remembered per host and workspace: other ids from here on. */
    conn_string(in, sizeof(in), "/?o=" WS2, "TokenCache=off");
    emulator_call("POST", "/_emulator/faults",
                  "[{\"method\": \"GET\", \"path\": \"/.well-known/databricks-config\", \"body\": \"{\\\"cloud\\\": \\\"AWS\\\"}\"},"
                  " {\"method\": \"GET\", \"path\": \"/oidc/.well-known/oauth-authorization-server\", \"status\": 404}]");
    string_fails(in, "databricks-config without oidc_endpoint, /oidc discovery 404", all, sizeof(all));
    expect_in(all, "/.well-known/databricks-config");
    expect_in(all, "no oidc_endpoint");
    expect_in(all, "HTTP 404");

    emulator_call("POST", "/_emulator/faults",
                  "{\"method\": \"GET\", \"path\": \"/.well-known/databricks-config\","
                  " \"body\": \"{\\\"oidc_endpoint\\\": \\\"https://login.example.invalid/oidc\\\"}\"}");
    conn_string(in, sizeof(in), "/?o=31", "TokenCache=off");
    long long tokens = emulator_count(TOKENS) + emulator_count(ACCOUNT_TOKENS);
    string_fails(in, "databricks-config naming another origin", all, sizeof(all));
    expect_in(all, "[08001]");
    expect_in(all, "https://login.example.invalid:443");
    expect_in(all, "TokenEndpoint");
    assert_int_equal(emulator_count(TOKENS) + emulator_count(ACCOUNT_TOKENS), tokens);
    reset(0);
}

/* The endpoint-state look-up (a refused connection) also names the workspace: the state is
 * read (ACTIVE), so a wrong Port fails at once instead of retrying for WakeTimeout. */
static void test_endpoint_state_header(void **state)
{
    (void)state;
    reset(1);
    char in[4096], all[4096];
    conn_string(in, sizeof(in), "/?o=" WS1, "TokenCache=off");
    connect_ok(in); /* the compute is up */
    snprintf(in, sizeof(in),
             "Driver={%s};DatabricksHost=%s/?o=%s;ClientID=%s;ClientSecret={%s};"
             "Endpoint=projects/demo/branches/main/endpoints/primary;Servername=localhost;Port=1;CAFile={%s};"
             "TokenCache=off;WakeTimeout=20",
             driver, emulator_url, WS1, client_id, secret, ca_file);
    double took = string_fails(in, "unified host, wrong Port", all, sizeof(all));
    assert_true(took < 10.0);
    expect_in(all, "ACTIVE");
    assert_int_equal(emulator_count(ENDPOINT_GET), 1);
    assert_int_equal(unified_count(NULL, WS1), 3); /* two credential calls and the look-up */
    assert_int_equal(unified_count("without", NULL), 0);
    reset(0);
}

int main(int argc, char **argv)
{
    read_state();
    const struct CMUnitTest cases[] = {
        cmocka_unit_test(test_connect_with_o),
        cmocka_unit_test(test_refused_without_id),
        cmocka_unit_test(test_key_env_profile),
        cmocka_unit_test(test_conflicts),
        cmocka_unit_test(test_cache_separation),
        cmocka_unit_test(test_host_config_missing),
        cmocka_unit_test(test_host_config_malformed),
        cmocka_unit_test(test_endpoint_state_header),
    };
    return testenv_run_case(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
