/* lb_pgerror: which of PostgreSQL's refusals (as psqlODBC words them) the connect
 * retries, PostgreSQL's reason cut out of psqlODBC's text, and the driver's explanation
 * (reason first, then the fix) with its result code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "auth/lb_auth.h"
#include "lb_pgerror.h"

#define AUTH "connection to server at \"localhost\" (127.0.0.1), port 5432 failed: FATAL:  password authentication failed for user \"someone\"\n"
#define NODB "connection to server at \"localhost\" (127.0.0.1), port 5432 failed: FATAL:  database \"nope\" does not exist\n"
#define NOROLE "connection to server at \"h\" (10.0.0.1), port 5432 failed: FATAL:  role \"c00f\" does not exist\n"
#define REFUSED "connection to server at \"localhost\" (::1), port 5432 failed: Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?\nconnection to server at \"localhost\" (127.0.0.1), port 5432 failed: Connection refused\n"
#define TLS "connection to server at \"localhost\" (127.0.0.1), port 5432 failed: SSL error: certificate verify failed\n"

static lb_settings settings(const char *uid)
{
    static char id[] = "c00f575e-d706-4f6b-b62c-e7a14850571b", db[] = "nope", mode[] = "verify-full",
                server[] = "localhost", root[] = "/etc/ssl/certs/ca-certificates.crt";
    static char u[64];
    lb_settings s;
    memset(&s, 0, sizeof(s));
    snprintf(u, sizeof(u), "%s", uid ? uid : id);
    s.value[LB_KEY_CLIENT_ID] = id;
    s.value[LB_KEY_UID] = u;
    s.value[LB_KEY_DATABASE] = db;
    s.value[LB_KEY_SSLMODE] = mode;
    s.value[LB_KEY_SERVER] = server;
    s.value[LB_KEY_SSL_ROOT_CERT] = root;
    s.source[LB_KEY_SSL_ROOT_CERT] = LB_SRC_DEFAULT;
    s.port = 5432;
    return s;
}

static void test_classify(void **state)
{
    (void)state;
    assert_true(lb_pgerror_is_auth(AUTH));
    assert_false(lb_pgerror_is_waking(AUTH));
    assert_true(lb_pgerror_is_waking(REFUSED));
    assert_false(lb_pgerror_is_auth(REFUSED));
    assert_true(lb_pgerror_is_waking("FATAL:  the database system is starting up"));
    assert_true(lb_pgerror_is_waking("server closed the connection unexpectedly"));
    assert_false(lb_pgerror_is_waking(NODB));
    assert_false(lb_pgerror_is_waking(NOROLE));
    assert_false(lb_pgerror_is_waking(TLS));
    assert_false(lb_pgerror_is_waking(""));
}

static void test_reason(void **state)
{
    (void)state;
    char buf[120];
    lb_pgerror_reason(AUTH, buf, sizeof(buf));
    assert_string_equal(buf, "password authentication failed for user \"someone\"");
    lb_pgerror_reason(REFUSED, buf, sizeof(buf)); /* the last attempt's */
    assert_string_equal(buf, "Connection refused");
    lb_pgerror_reason(TLS, buf, sizeof(buf));
    assert_string_equal(buf, "SSL error: certificate verify failed");
    lb_pgerror_reason("  no markers here\tat all  \nsecond line", buf, sizeof(buf));
    assert_string_equal(buf, "no markers here at all"); /* a tab is a space */
    lb_pgerror_reason(AUTH, buf, 9);
    assert_string_equal(buf, "password");
    lb_pgerror_reason("FATAL:", buf, sizeof(buf));
    assert_string_equal(buf, "");
}

static void test_explain(void **state)
{
    (void)state;
    lb_error err;
    lb_settings s = settings("someone");
    lb_error_init(&err);
    assert_int_equal(lb_pgerror_explain(AUTH, &s, &err), LB_ERR_PG_LOGIN);
    assert_int_equal(err.code, LB_ERR_PG_LOGIN);
    const char *want = "password authentication failed for user \"someone\": UID \"someone\" is not the service "
                       "principal's client id";
    assert_int_equal(strncmp(err.message, want, strlen(want)), 0);
    assert_non_null(strstr(err.message, "set UID to c00f575e-d706-4f6b-b62c-e7a14850571b, or leave it out"));
    assert_true(strlen(err.message) < 500);

    s = settings(NULL); /* UID is the client id: the credential itself was refused */
    lb_error_init(&err);
    assert_int_equal(lb_pgerror_explain(AUTH, &s, &err), LB_ERR_PG_LOGIN);
    assert_non_null(strstr(err.message, ": PostgreSQL refused a credential the workspace had just issued"));

    lb_error_init(&err);
    assert_int_equal(lb_pgerror_explain(NODB, &s, &err), LB_ERR_PG_DATABASE);
    assert_int_equal(strncmp(err.message, "database \"nope\" does not exist: Database \"nope\"", 47), 0);

    lb_error_init(&err);
    assert_int_equal(lb_pgerror_explain(NOROLE, &s, &err), LB_ERR_PG_LOGIN);
    assert_non_null(strstr(err.message, "databricks_create_role('c00f575e-d706-4f6b-b62c-e7a14850571b'"));
    /* A person's role (pat, databricks-cli) is made for their user name, as a USER. */
    lb_settings person = settings("someone@example.com");
    person.value[LB_KEY_CLIENT_ID] = NULL;
    person.auth_type = LB_AUTH_PAT;
    lb_error_init(&err);
    assert_int_equal(lb_pgerror_explain(NOROLE, &person, &err), LB_ERR_PG_LOGIN);
    assert_non_null(strstr(err.message, "databricks_create_role('someone@example.com', 'USER')"));

    lb_error_init(&err);
    assert_int_equal(lb_pgerror_explain(TLS, &s, &err), LB_ERR_PG_TLS);
    assert_int_equal(strncmp(err.message, "SSL error: certificate verify failed: PostgreSQL's TLS certificate", 66), 0);
    assert_non_null(strstr(err.message, "the system CA bundle"));
    assert_non_null(strstr(err.message, "these CAs did not sign"));
    assert_true(strlen(err.message) < 512);

    /* Nothing to add: psqlODBC's record stands alone. */
    lb_error_init(&err);
    assert_int_equal(lb_pgerror_explain(REFUSED, &s, &err), LB_OK);
    assert_false(lb_error_isset(&err));

    lb_error_init(&err);
    assert_int_equal(lb_pgerror_wake_timeout(REFUSED, "IDLE", 1234, &err), LB_ERR_PG_WAKE);
    assert_string_equal(err.message, "Connection refused: the Lakebase compute did not accept connections within "
                                     "WakeTimeout (1234 ms; the endpoint's state: IDLE); it may still be waking from "
                                     "scale-to-zero. Retry, or "
                                     "raise WakeTimeout (seconds).");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_reason),
        cmocka_unit_test(test_explain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
