/* Wire-format tolerance and rate limits end to end (issue 9): the workspace's answers in
 * every shape the real service (and the Databricks SDKs) use, through unixODBC, the
 * driver, psqlODBC, PostgreSQL and the emulator: expires_in as a number, a string or a
 * non-integer; token and REST error bodies in their several shapes; rate limits said in a
 * 4xx body; Retry-After; retries that run to the connect's deadline; the Private Link
 * redirect; expire_time with 0 to 9 fraction digits. One process per case (each starts
 * with an empty in-process cache). Usage: wireformat_test <case> (see main). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lb_oauth.h"
#include "testenv.h"

static void reset(void)
{
    emulator_call("DELETE", "/_emulator/faults", NULL);
    emulator_call("POST", "/_emulator/stats/reset", "{}");
}

/* One connect with the DSN-less string plus extra (and a login timeout when > 0): the
 * result, its first diagnostic and how long it took. */
static double connect_ok(const char *extra)
{
    char st[6], msg[2048];
    double took;
    SQLRETURN rc = timed_connect(extra, 0, st, msg, sizeof(msg), &took);
    if (!SQL_SUCCEEDED(rc))
        fail_msg("connect failed: [%s] %s", st, msg);
    return took;
}

/* A connect with this login timeout (0: none) that must fail with sqlstate; its messages in msg. */
static double connect_fails_with(const char *extra, long login_timeout, const char *sqlstate, char *msg, size_t size)
{
    char st[6];
    double took;
    assert_int_equal(timed_connect(extra, login_timeout, st, msg, size, &took), SQL_ERROR);
    if (strcmp(st, sqlstate) != 0)
        fail_msg("want %s, got [%s] %s", sqlstate, st, msg);
    return took;
}

static void must_hold(const char *msg, const char *phrase)
{
    if (strstr(msg, phrase) == NULL)
        fail_msg("\"%s\" lacks \"%s\"", msg, phrase);
}

/* ---- expires_in --------------------------------------------------------------------- */

/* The token answer, with a real token the emulator accepts, carries expires_in as value.
 * The credential lives 10 s and TokenRefreshMargin=10 keeps it out of the cache, so the
 * second connect fetches a credential again: with the workspace token from the cache when
 * expires_in was understood (one token request), else with a new token (two). */
static void expires_in_case(const char *value, int want_tokens)
{
    reset();
    lb_http_opts http = {.cafile = ca_file};
    lb_token t = {0};
    lb_error err;
    lb_error_init(&err);
    lb_oauth_client client = {.host = emulator_url, .client_id = client_id, .client_secret = secret};
    assert_int_equal(lb_oauth_m2m_token(&http, &client, &t, &err), LB_OK);
    char fault[2048];
    snprintf(fault, sizeof(fault),
             "{\"method\": \"POST\", \"path\": \"/oidc/v1/token\", \"count\": 1, \"body\": \"{\\\"access_token\\\": "
             "\\\"%s\\\", \\\"token_type\\\": \\\"Bearer\\\", \\\"expires_in\\\": %s, \\\"scope\\\": \\\"all-apis\\\"}\"}",
             t.access_token, value);
    lb_token_clear(&t);
    emulator_call("POST", "/_emulator/config", "{\"credential_lifetime\": 10}");
    emulator_call("POST", "/_emulator/stats/reset", "{}");
    emulator_call("POST", "/_emulator/faults", fault);
    connect_ok("TokenRefreshMargin=10");
    connect_ok("TokenRefreshMargin=10");
    emulator_call("POST", "/_emulator/config", "{\"credential_lifetime\": 3600}");
    long long tokens = emulator_count(TOKENS), creds = emulator_count(CREDENTIALS);
    printf("expires_in %s: two connects, %lld token and %lld credential requests (workspace token %s)\n", value,
           tokens, creds, tokens == 1 ? "cached" : "not cached");
    assert_int_equal(creds, 2);
    assert_int_equal(tokens, want_tokens);
}

static void test_expires_in_string(void **state)
{
    (void)state;
    expires_in_case("\\\"3599\\\"", 1);
}

static void test_expires_in_float(void **state)
{
    (void)state;
    expires_in_case("3599.0", 1);
}

static void test_expires_in_fraction(void **state)
{
    (void)state;
    expires_in_case("3599.5", 1);
}

/* Nonsense is an unknown lifetime: the connect works, the token is not kept. */
static void test_expires_in_garbage(void **state)
{
    (void)state;
    expires_in_case("\\\"soon\\\"", 2);
}

/* ---- error bodies ------------------------------------------------------------------- */

#define TOKEN_FAULT(status, body) \
    "{\"method\": \"POST\", \"path\": \"/oidc/v1/token\", \"status\": " #status ", \"body\": \"" body "\"}"
#define CRED_FAULT(status, body) \
    "{\"method\": \"POST\", \"path\": \"/api/2.0/postgres/credentials\", \"status\": " #status ", \"body\": \"" body "\"}"

static void error_case(const char *fault, const char *sqlstate, const char *phrase, const char *phrase2)
{
    reset();
    emulator_call("POST", "/_emulator/faults", fault);
    char msg[2048];
    connect_fails_with("TokenCache=off", 0, sqlstate, msg, sizeof(msg));
    printf("%s -> %s %s\n", strstr(fault, "\"body\""), sqlstate, msg);
    must_hold(msg, phrase);
    if (phrase2)
        must_hold(msg, phrase2);
}

/* A token error as errorCode / errorSummary: the message names both. */
static void test_token_error_shapes(void **state)
{
    (void)state;
    error_case(TOKEN_FAULT(401, "{\\\"errorCode\\\": \\\"invalid_client\\\", \\\"errorSummary\\\": "
                                "\\\"Client authentication failed\\\"}"),
               "28000", "invalid_client: Client authentication failed", "Check ClientID and ClientSecret");
    error_case(TOKEN_FAULT(400, "{\\\"error\\\": \\\"invalid_client\\\", \\\"error_description\\\": "
                                "\\\"Client authentication failed\\\"}"),
               "28000", "invalid_client: Client authentication failed", NULL);
}

/* REST errors: error_code an integer, google.rpc details (an ErrorInfo reason that says
 * more than the code is shown), the older {"error": text}. */
static void test_rest_error_shapes(void **state)
{
    (void)state;
    error_case(CRED_FAULT(403, "{\\\"error_code\\\": 403, \\\"message\\\": \\\"API is disabled for users without "
                               "workspace-access entitlement\\\", \\\"details\\\": [{\\\"@type\\\": "
                               "\\\"type.googleapis.com/google.rpc.ErrorInfo\\\", \\\"reason\\\": \\\"PERMISSION_DENIED\\\", "
                               "\\\"domain\\\": \\\"postgres.databricks.com\\\"}]}"),
               "28000", "HTTP 403, 403: API is disabled", "Workspace access");
    error_case(CRED_FAULT(400, "{\\\"error_code\\\": \\\"INVALID_PARAMETER_VALUE\\\", \\\"message\\\": \\\"Invalid endpoint\\\", "
                               "\\\"details\\\": [{\\\"@type\\\": \\\"type.googleapis.com/google.rpc.ErrorInfo\\\", "
                               "\\\"reason\\\": \\\"ENDPOINT_NAME_MALFORMED\\\", \\\"domain\\\": \\\"postgres.databricks.com\\\", "
                               "\\\"metadata\\\": {}}, {\\\"@type\\\": \\\"type.googleapis.com/google.rpc.RequestInfo\\\", "
                               "\\\"request_id\\\": \\\"0d4f\\\", \\\"serving_data\\\": \\\"\\\"}]}"),
               "HY000", "INVALID_PARAMETER_VALUE: Invalid endpoint (reason: ENDPOINT_NAME_MALFORMED)", NULL);
    error_case(CRED_FAULT(400, "{\\\"error\\\": \\\"Bad Request: endpoint is required\\\"}"), "HY000",
               "HTTP 400, Bad Request: endpoint is required", NULL);
}

/* ---- rate limits and retries ---------------------------------------------------------- */

/* A 400 whose body says REQUEST_LIMIT_EXCEEDED or RESOURCE_EXHAUSTED is a rate limit:
 * retried like a 429. */
static void test_rate_limit_body(void **state)
{
    (void)state;
    reset();
    emulator_call("POST", "/_emulator/faults",
                  "[{\"method\": \"POST\", \"path\": \"/oidc/v1/token\", \"count\": 1, \"status\": 400, \"headers\": "
                  "{\"Retry-After\": \"0\"}, \"body\": \"{\\\"error_code\\\": \\\"RESOURCE_EXHAUSTED\\\", \\\"message\\\": "
                  "\\\"rate limit\\\"}\"},"
                  " {\"method\": \"POST\", \"path\": \"/api/2.0/postgres/credentials\", \"count\": 2, \"status\": 400, "
                  "\"headers\": {\"Retry-After\": \"0\"}, \"body\": \"{\\\"error_code\\\": \\\"REQUEST_LIMIT_EXCEEDED\\\", "
                  "\\\"message\\\": \\\"Exceeded rate limit\\\"}\"}]");
    double took = connect_ok("TokenCache=off");
    long long tokens = emulator_count(TOKENS), creds = emulator_count(CREDENTIALS);
    printf("400 RESOURCE_EXHAUSTED x1 on the token, 400 REQUEST_LIMIT_EXCEEDED x2 on the credential: connected "
           "after %.2f s with %lld token and %lld credential requests\n", took, tokens, creds);
    assert_int_equal(tokens, 2);
    assert_int_equal(creds, 3);
}

/* ... but never for 401, 403 or 404, whatever the body says. */
static void test_rate_limit_final(void **state)
{
    (void)state;
    const int statuses[] = {401, 403, 404};
    for (int i = 0; i < 3; i++) {
        reset();
        char fault[512], msg[2048];
        snprintf(fault, sizeof(fault),
                 "{\"method\": \"POST\", \"path\": \"/api/2.0/postgres/credentials\", \"status\": %d, \"body\": "
                 "\"{\\\"error_code\\\": \\\"REQUEST_LIMIT_EXCEEDED\\\", \\\"message\\\": \\\"x\\\"}\"}", statuses[i]);
        emulator_call("POST", "/_emulator/faults", fault);
        char st[6];
        double took;
        assert_int_equal(timed_connect("TokenCache=off", 0, st, msg, sizeof(msg), &took), SQL_ERROR);
        printf("HTTP %d REQUEST_LIMIT_EXCEEDED -> [%s] after %.2f s, %lld credential request(s)\n", statuses[i], st,
               took, emulator_count(CREDENTIALS));
        assert_int_equal(emulator_count(CREDENTIALS), 1);
    }
}

/* A workspace that throttles for good: the driver keeps retrying until the connect's
 * deadline (ConnectTimeout=10), not for a fixed 6 attempts (which ended with 08001 after
 * 6 to 9 s), and then says which timeout ran out and what the last answer was. */
static void test_retry_to_deadline(void **state)
{
    (void)state;
    reset();
    emulator_call("POST", "/_emulator/faults",
                  "{\"method\": \"POST\", \"path\": \"/api/2.0/postgres/credentials\", \"count\": -1, \"status\": 503, "
                  "\"headers\": {\"Retry-After\": \"1\"}, \"body\": \"{\\\"error_code\\\": \\\"TEMPORARILY_UNAVAILABLE\\\", "
                  "\\\"message\\\": \\\"The service is busy\\\"}\"}");
    char msg[2048];
    double took = connect_fails_with("TokenCache=off;ConnectTimeout=10", 0, "HYT00", msg, sizeof(msg));
    long long creds = emulator_count(CREDENTIALS);
    emulator_call("DELETE", "/_emulator/faults", NULL);
    printf("503 for good, ConnectTimeout=10: %lld attempts over %.2f s, then HYT00: %s\n", creds, took, msg);
    must_hold(msg, "ConnectTimeout (10 s) expired");
    must_hold(msg, "HTTP 503");
    must_hold(msg, "TEMPORARILY_UNAVAILABLE: The service is busy");
    /* It stops once less than Retry-After plus 500 ms for a last attempt is left. */
    assert_true(took >= 8.0 && took < 13.0);
    assert_true(creds >= 6);
}

/* The same with the application's login timeout (5 s), and a 429. */
static void test_retry_to_login_timeout(void **state)
{
    (void)state;
    reset();
    emulator_call("POST", "/_emulator/faults",
                  "{\"method\": \"POST\", \"path\": \"/oidc/v1/token\", \"count\": -1, \"status\": 429, "
                  "\"body\": \"{\\\"error_code\\\": \\\"REQUEST_LIMIT_EXCEEDED\\\", \\\"message\\\": \\\"slow down\\\"}\"}");
    char msg[2048];
    double took = connect_fails_with("TokenCache=off", 5, "HYT00", msg, sizeof(msg));
    long long tokens = emulator_count(TOKENS);
    emulator_call("DELETE", "/_emulator/faults", NULL);
    printf("429 for good, login timeout 5 s: %lld attempts over %.2f s, then HYT00: %s\n", tokens, took, msg);
    must_hold(msg, "Login timeout (5 s) expired");
    must_hold(msg, "HTTP 429");
    assert_true(took >= 3.2 && took < 8.0); /* Retry-After 1 (the emulator's default) + 500 ms */
    assert_true(tokens >= 3);
}

/* Retry-After as an HTTP date is honoured; one that asks more than the deadline leaves
 * ends the connect at once, naming it. */
static void test_retry_after_shapes(void **state)
{
    (void)state;
    reset();
    char date[64], fault[512];
    time_t when = time(NULL) + 3;
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", gmtime(&when));
    snprintf(fault, sizeof(fault),
             "{\"method\": \"POST\", \"path\": \"/oidc/v1/token\", \"status\": 429, \"headers\": {\"Retry-After\": \"%s\"}}",
             date);
    emulator_call("POST", "/_emulator/faults", fault);
    double took = connect_ok("TokenCache=off");
    printf("429 with Retry-After: %s -> connected after %.2f s\n", date, took);
    assert_true(took >= 1.5 && took < 8.0);
    assert_int_equal(emulator_count(TOKENS), 2);

    reset();
    emulator_call("POST", "/_emulator/faults",
                  "{\"method\": \"POST\", \"path\": \"/oidc/v1/token\", \"status\": 429, \"headers\": {\"Retry-After\": \"30\"}}");
    char msg[2048];
    took = connect_fails_with("TokenCache=off;ConnectTimeout=5", 0, "HYT00", msg, sizeof(msg));
    printf("429 with Retry-After: 30, ConnectTimeout=5 -> HYT00 after %.2f s: %s\n", took, msg);
    must_hold(msg, "HTTP 429, Retry-After 30");
    assert_true(took < 3.0);
    assert_int_equal(emulator_count(TOKENS), 1);
}

/* ---- Private Link ---------------------------------------------------------------------- */

static void private_link_case(const char *method, const char *path, const char *location)
{
    reset();
    char fault[768], msg[2048];
    snprintf(fault, sizeof(fault),
             "{\"method\": \"%s\", \"path\": \"%s\", \"status\": 302, \"headers\": {\"Location\": "
             "\"%s\"}, \"body\": \"\"}", method, path, location);
    emulator_call("POST", "/_emulator/faults", fault);
    connect_fails_with("TokenCache=off", 0, "08001", msg, sizeof(msg));
    printf("%s %s -> 302 to %s: %s\n", method, path, location, msg);
    must_hold(msg, "Private Link");
    must_hold(msg, "network");
    assert_null(strstr(msg, "follows no redirect"));
}

static void test_private_link(void **state)
{
    (void)state;
    char absolute[512];
    snprintf(absolute, sizeof(absolute), "%s/login.html?error=private-link-validation-error", emulator_url);
    private_link_case("GET", "/oidc/.well-known/oauth-authorization-server", absolute);
    private_link_case("POST", "/oidc/v1/token", absolute);
    private_link_case("POST", "/api/2.0/postgres/credentials", absolute);
    private_link_case("POST", "/api/2.0/postgres/credentials", "/login.html?o=1234&error=private-link-validation-error");
    /* Any other redirect keeps the generic message. */
    reset();
    emulator_call("POST", "/_emulator/faults",
                  "{\"method\": \"POST\", \"path\": \"/api/2.0/postgres/credentials\", \"status\": 302, \"headers\": "
                  "{\"Location\": \"https://elsewhere.example/login.html?error=other\"}, \"body\": \"\"}");
    char msg[2048];
    connect_fails_with("TokenCache=off", 0, "08001", msg, sizeof(msg));
    must_hold(msg, "follows no redirect");
    assert_null(strstr(msg, "Private Link"));
}

/* ---- expire_time --------------------------------------------------------------------- */

/* expire_time with 0, 3, 6 and 9 fraction digits (the emulator's default is 9): each
 * connect fetches a credential (TokenCache=off) and logs in with it; with the default, a
 * second connect reuses the cached credential, so its lifetime was read. */
static void test_expire_time_digits(void **state)
{
    (void)state;
    reset();
    const int digits[] = {0, 3, 6, 9};
    for (int i = 0; i < 4; i++) {
        char cfg[64];
        snprintf(cfg, sizeof(cfg), "{\"fractional_seconds\": %d}", digits[i]);
        emulator_call("POST", "/_emulator/config", cfg);
        double took = connect_ok("TokenCache=off");
        printf("expire_time with %d fraction digits: connected in %.2f s\n", digits[i], took);
    }
    assert_int_equal(emulator_count(CREDENTIALS), 4);
    emulator_call("POST", "/_emulator/config", "{\"fractional_seconds\": 9}");
    emulator_call("POST", "/_emulator/stats/reset", "{}");
    connect_ok("");
    connect_ok("");
    printf("9 digits, two connects with the memory cache: %lld credential request(s)\n", emulator_count(CREDENTIALS));
    assert_int_equal(emulator_count(CREDENTIALS), 1);
}

int main(int argc, char **argv)
{
    read_state();
    const struct CMUnitTest cases[] = {
        cmocka_unit_test(test_expires_in_string),
        cmocka_unit_test(test_expires_in_float),
        cmocka_unit_test(test_expires_in_fraction),
        cmocka_unit_test(test_expires_in_garbage),
        cmocka_unit_test(test_token_error_shapes),
        cmocka_unit_test(test_rest_error_shapes),
        cmocka_unit_test(test_rate_limit_body),
        cmocka_unit_test(test_rate_limit_final),
        cmocka_unit_test(test_retry_to_deadline),
        cmocka_unit_test(test_retry_to_login_timeout),
        cmocka_unit_test(test_retry_after_shapes),
        cmocka_unit_test(test_private_link),
        cmocka_unit_test(test_expire_time_digits),
    };
    return testenv_run_case(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
