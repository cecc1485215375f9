/* The workspace's JSON answers (token, credential, errors), RFC 3339 times and the
 * UTF-16 conversions of the W entry points. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_json.h"
#include "lb_lakebase.h"
#include "lb_oauth.h"
#include "lb_utf16.h"

#define S(x) x, strlen(x)

static void test_token_ok(void **state)
{
    (void)state;
    lb_token t;
    lb_error err;
    lb_error_init(&err);
    assert_int_equal(lb_oauth_parse_token(S("{\"access_token\":\"abc\",\"token_type\":\"Bearer\","
                                            "\"expires_in\":3600,\"scope\":\"all-apis\"}"), &t, &err), LB_OK);
    assert_string_equal(t.access_token, "abc");
    assert_int_equal(t.expires_in, 3600);
    lb_token_clear(&t);
    assert_null(t.access_token);
}

static void token_fails(const char *body, const char *phrase)
{
    lb_token t;
    lb_error err;
    lb_error_init(&err);
    assert_int_not_equal(lb_oauth_parse_token(body, strlen(body), &t, &err), LB_OK);
    assert_null(t.access_token);
    assert_int_equal(err.code, LB_ERR_PROTOCOL);
    if (strstr(err.message, phrase) == NULL)
        fail_msg("\"%s\" lacks \"%s\"", err.message, phrase);
}

static void test_token_bad_shapes(void **state)
{
    (void)state;
    token_fails("", "not a JSON object");
    token_fails("not json", "not a JSON object");
    token_fails("[1,2]", "not a JSON object");
    token_fails("{\"access_token\":\"abc\"} trailing", "not a JSON object");
    token_fails("{\"access_token\":\"abc\"", "not a JSON object");
    token_fails("{\"access_token\":42}", "no access_token");
    token_fails("{\"access_token\":\"\"}", "no access_token");
    token_fails("{\"token_type\":\"Bearer\"}", "no access_token");
    token_fails("{\"access_token\":\"abc\",\"token_type\":\"MAC\"}", "expected Bearer");
}

/* expires_in as the real service (and other OAuth servers) write it: a number, a numeric
 * string, a non-integer number. Anything else is an unknown lifetime (0: used, not cached). */
static long long expires_in_of(const char *value)
{
    char body[200];
    snprintf(body, sizeof(body), "{\"access_token\":\"abc\",\"token_type\":\"Bearer\",\"expires_in\":%s}", value);
    lb_token t;
    lb_error err;
    lb_error_init(&err);
    assert_int_equal(lb_oauth_parse_token(body, strlen(body), &t, &err), LB_OK);
    assert_string_equal(t.access_token, "abc");
    long long e = t.expires_in;
    lb_token_clear(&t);
    return e;
}

static void test_token_expires_in_shapes(void **state)
{
    (void)state;
    assert_int_equal(expires_in_of("3599"), 3599);
    assert_int_equal(expires_in_of("\"3599\""), 3599);
    assert_int_equal(expires_in_of("3599.0"), 3599);
    assert_int_equal(expires_in_of("3599.5"), 3599);
    assert_int_equal(expires_in_of("\"3599.5\""), 3599);
    assert_int_equal(expires_in_of("3.6e3"), 3600);
    const char *unknown[] = {"\"soon\"", "\"3599s\"", "\"\"", "\" 3599\"", "\"-5\"", "-5", "-0.5", "0", "true",
                             "null", "{}", "[3599]", "\"0x10\"", "\"1e3\"", "\"3599.\"", NULL};
    for (int i = 0; unknown[i]; i++) {
        if (expires_in_of(unknown[i]) != 0)
            fail_msg("expires_in %s should be an unknown lifetime", unknown[i]);
    }
    /* Huge values stay positive (the cache clamps them to 24 h). */
    assert_true(expires_in_of("1e300") > 86400);
    assert_true(expires_in_of("\"99999999999999999999999\"") > 86400);
}

static void test_depth_limit(void **state)
{
    (void)state;
    char deep[400];
    size_t n = 0;
    deep[n++] = '{';
    memcpy(deep + n, "\"a\":", 4);
    n += 4;
    for (int i = 0; i < 100; i++)
        deep[n++] = '[';
    for (int i = 0; i < 100; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    assert_null(lb_json_parse_object(deep, n));
}

static void test_credential(void **state)
{
    (void)state;
    lb_credential c;
    lb_error err;
    lb_error_init(&err);
    assert_int_equal(lb_lakebase_parse_credential(S("{\"token\":\"eyJ.x.y\",\"expire_time\":\"2026-11-24T18:00:00.123Z\"}"),
                                                  &c, &err), LB_OK);
    assert_string_equal(c.token, "eyJ.x.y");
    assert_int_equal(c.expire_time, 1795543200);
    lb_credential_clear(&c);

    lb_error_init(&err);
    assert_int_not_equal(lb_lakebase_parse_credential(S("{\"expire_time\":\"2026-11-24T18:00:00Z\"}"), &c, &err), LB_OK);
    assert_non_null(strstr(err.message, "no token"));
    lb_error_init(&err);
    assert_int_not_equal(lb_lakebase_parse_credential(S("{\"token\":\"t\",\"expire_time\":\"tomorrow\"}"), &c, &err), LB_OK);
    assert_non_null(strstr(err.message, "RFC 3339"));
    lb_error_init(&err);
    assert_int_not_equal(lb_lakebase_parse_credential(S("{\"token\":[\"t\"]}"), &c, &err), LB_OK);
    assert_null(c.token);
}

static void test_rfc3339(void **state)
{
    (void)state;
    time_t t = 0;
    assert_int_equal(lb_parse_rfc3339("1970-01-01T00:00:00Z", &t), 0);
    assert_int_equal(t, 0);
    assert_int_equal(lb_parse_rfc3339("2026-11-24T18:00:00+01:00", &t), 0);
    assert_int_equal(t, 1795543200 - 3600);
    assert_int_equal(lb_parse_rfc3339("2026-11-24t18:00:00.5-00:30", &t), 0);
    assert_int_equal(t, 1795543200 + 1800);
    const char *bad[] = {"", "2026-11-24", "2026-11-24T18:00:00", "2026-13-24T18:00:00Z", "2026-11-24T18:00:00Zjunk",
                         "2026-11-24T18:00:00.Z", "2026-11-24T25:00:00Z", "2026-11-24T18:00:00+0100",
                         "2026-02-31T00:00:00Z", "2025-02-29T00:00:00Z", NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(lb_parse_rfc3339(bad[i], &t), -1);
}

static void test_describe_error(void **state)
{
    (void)state;
    char buf[200];
    lb_json_describe_error(S("{\"error_code\":\"NOT_FOUND\",\"message\":\"endpoint id not found\"}"), buf, sizeof(buf));
    assert_string_equal(buf, "NOT_FOUND: endpoint id not found");
    lb_json_describe_error(S("{\"error\":\"invalid_client\",\"error_description\":\"Client authentication failed\"}"),
                           buf, sizeof(buf));
    assert_string_equal(buf, "invalid_client: Client authentication failed");
    lb_json_describe_error(S("<html>\n502 Bad Gateway</html>"), buf, sizeof(buf));
    assert_string_equal(buf, "answer is not JSON: \"<html> 502 Bad Gateway</html>\"");
    lb_json_describe_error("", 0, buf, sizeof(buf));
    assert_string_equal(buf, "empty answer");
    lb_json_describe_error(S("{}"), buf, sizeof(buf));
    assert_string_equal(buf, "no error description");
    lb_json_describe_error(S("{\"error\":\"\"}"), buf, sizeof(buf));
    assert_string_equal(buf, "no error description");
}

/* Error bodies in every shape the workspace uses: REST (error_code a string or an
 * integer, google.rpc details), OAuth (error / error_description, errorCode /
 * errorSummary) and the older {"error": "message"}. */
static void describe(const char *body, const char *want)
{
    char buf[400];
    lb_json_describe_error(body, strlen(body), buf, sizeof(buf));
    if (strcmp(buf, want) != 0)
        fail_msg("%s -> \"%s\", want \"%s\"", body, buf, want);
}

static void test_describe_error_shapes(void **state)
{
    (void)state;
    describe("{\"errorCode\":\"invalid_client\",\"errorSummary\":\"Client authentication failed\"}",
             "invalid_client: Client authentication failed");
    describe("{\"errorCode\":\"invalid_client\"}", "invalid_client");
    describe("{\"error_code\":429,\"message\":\"Too many requests\"}", "429: Too many requests");
    describe("{\"error_code\":\"\",\"message\":\"m\"}", "m");
    describe("{\"error\":\"Bad Request: endpoint is required\"}", "Bad Request: endpoint is required");
    /* google.rpc details: tolerated, whatever their shape; an ErrorInfo reason that says
     * more than the code is kept. */
    describe("{\"error_code\":\"NOT_FOUND\",\"message\":\"endpoint id not found\",\"details\":["
             "{\"@type\":\"type.googleapis.com/google.rpc.ErrorInfo\",\"reason\":\"NOT_FOUND\",\"domain\":\"x\"},"
             "{\"@type\":\"type.googleapis.com/google.rpc.RequestInfo\",\"request_id\":\"r1\",\"serving_data\":\"\"}]}",
             "NOT_FOUND: endpoint id not found");
    describe("{\"error_code\":\"INVALID_PARAMETER_VALUE\",\"message\":\"Invalid endpoint\",\"details\":["
             "{\"@type\":\"type.googleapis.com/google.rpc.ErrorInfo\",\"reason\":\"ENDPOINT_NAME_MALFORMED\","
             "\"domain\":\"postgres.databricks.com\",\"metadata\":{\"k\":\"v\"}}]}",
             "INVALID_PARAMETER_VALUE: Invalid endpoint (reason: ENDPOINT_NAME_MALFORMED)");
    describe("{\"error_code\":\"X\",\"message\":\"m\",\"details\":\"not an array\"}", "X: m");
    describe("{\"error_code\":\"X\",\"message\":\"m\",\"details\":[1,null,\"s\",[],{},{\"reason\":5},"
             "{\"@type\":7,\"reason\":\"R\"}]}", "X: m");
    describe("{\"error_code\":{\"nested\":1},\"message\":\"m\"}", "m");
}

/* Found by fuzz_connstr: a %.40s precision could cut a UTF-8 character, and the W
 * diagnostic path then had no message to give. Every error message is valid UTF-8. */
static void test_messages_are_valid_utf8(void **state)
{
    (void)state;
    lb_error err;
    lb_error_init(&err);
    lb_error_set(&err, LB_ERR_SETTINGS, "cut %.1s|quoted %c|ctl \x1b\x7f|ok \xc3\xa9", "\xc3\xa9", '\xc3');
    assert_string_equal(err.message, "cut ?|quoted ?|ctl   |ok \xc3\xa9");
    uint16_t *w = lb_utf8_to_utf16(err.message, NULL);
    assert_non_null(w);
    free(w);
}

static void test_utf16(void **state)
{
    (void)state;
    const char *text = "DSN=caf\xc3\xa9;X=\xf0\x9f\x98\x80";
    size_t units = 0, bytes = 0;
    uint16_t *w = lb_utf8_to_utf16(text, &units);
    assert_non_null(w);
    assert_int_equal(units, 13);
    assert_int_equal(w[11], 0xD83D);
    int bad = 0;
    char *back = lb_utf16_to_utf8(w, units, &bytes, &bad);
    assert_string_equal(back, text);
    assert_int_equal(bytes, strlen(text));
    free(back);
    free(w);

    const uint16_t lone_high[] = {'A', 0xD800, 'B'};
    assert_null(lb_utf16_to_utf8(lone_high, 3, NULL, &bad));
    assert_int_equal(bad, 1);
    const uint16_t lone_low[] = {0xDC00};
    assert_null(lb_utf16_to_utf8(lone_low, 1, NULL, &bad));
    assert_int_equal(bad, 1);
    assert_null(lb_utf8_to_utf16("\xc3", NULL));
    assert_null(lb_utf8_to_utf16("\xc0\xaf", NULL));     /* overlong */
    assert_null(lb_utf8_to_utf16("\xed\xa0\x80", NULL)); /* encoded surrogate */
    const uint16_t nul_term[] = {'a', 'b', 0, 'c'};
    assert_int_equal(lb_utf16_len(nul_term, 4), 2);
    assert_int_equal(lb_utf16_len(nul_term, 1), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_ok),
        cmocka_unit_test(test_token_bad_shapes),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_credential),
        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_describe_error),
        cmocka_unit_test(test_describe_error_shapes),
        cmocka_unit_test(test_token_expires_in_shapes),
        cmocka_unit_test(test_utf16),
        cmocka_unit_test(test_messages_are_valid_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
