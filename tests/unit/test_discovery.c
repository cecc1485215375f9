/* lb_discovery: the endpoint answer, a branch listing's pages and the state check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "lb_discovery.h"

#define EP "projects/p/branches/b/endpoints/e"

static lb_result parse(const char *body, lb_endpoint_info *info, lb_error *err)
{
    lb_error_init(err);
    return lb_discovery_parse_endpoint(body, strlen(body), EP, info, err);
}

static void test_endpoint_full(void **state)
{
    (void)state;
    lb_endpoint_info i;
    lb_error err;
    assert_int_equal(parse("{\"name\": \"" EP "\", \"status\": {\"current_state\": \"IDLE\", \"endpoint_type\": "
                           "\"ENDPOINT_TYPE_READ_WRITE\", \"disabled\": true, \"hosts\": {\"host\": "
                           "\"ep-1.database.us-east-1.cloud.databricks.com\", \"read_only_host\": \"ep-1-ro.x\", "
                           "\"read_write_pooled_host\": \"ep-1-pooler.x\", \"read_only_pooled_host\": \"ep-1-ro-pooler.x\"}, "
                           "\"group\": {\"min\": 1, \"max\": 2, \"enable_readable_secondaries\": true}}}",
                           &i, &err), LB_OK);
    assert_string_equal(i.host, "ep-1.database.us-east-1.cloud.databricks.com");
    assert_string_equal(i.read_only_host, "ep-1-ro.x");
    assert_string_equal(i.rw_pooled_host, "ep-1-pooler.x");
    assert_string_equal(i.ro_pooled_host, "ep-1-ro-pooler.x");
    assert_string_equal(i.state, "IDLE");
    assert_string_equal(i.type, "ENDPOINT_TYPE_READ_WRITE");
    assert_int_equal(i.disabled, 1);
}

static void test_endpoint_sparse(void **state)
{
    (void)state;
    lb_endpoint_info i;
    lb_error err;
    /* Absent fields stay empty; the type may be in spec only; disabled must be a boolean. */
    assert_int_equal(parse("{\"spec\": {\"endpoint_type\": \"ENDPOINT_TYPE_READ_ONLY\"}, \"status\": "
                           "{\"disabled\": \"yes\", \"hosts\": {\"host\": \"h\", \"read_only_host\": 7}}}", &i, &err),
                     LB_OK);
    assert_string_equal(i.host, "h");
    assert_string_equal(i.read_only_host, "");
    assert_string_equal(i.state, "");
    assert_string_equal(i.type, "ENDPOINT_TYPE_READ_ONLY");
    assert_int_equal(i.disabled, 0);
    assert_int_equal(parse("{\"status\": {}}", &i, &err), LB_OK);
    assert_string_equal(i.host, "");
}

static void test_endpoint_bad(void **state)
{
    (void)state;
    lb_endpoint_info i;
    lb_error err;
    static const char *const bad[] = {
        "not json", "[]", "{}", "{\"status\": 3}", "{\"status\": \"ACTIVE\"}",
        "{\"status\": {\"hosts\": {\"host\": \"evil;PWD=x\"}}}",
        "{\"status\": {\"hosts\": {\"host\": \"a b\"}}}",
        "{\"status\": {\"hosts\": {\"read_only_host\": \"x}y\"}}}",
        "{\"status\": {\"hosts\": {\"read_write_pooled_host\": \"x\\ny\"}}}",
    };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        assert_int_equal(parse(bad[k], &i, &err), LB_ERR_PROTOCOL);
        assert_non_null(strstr(err.message, EP));
    }
    char big[600];
    snprintf(big, sizeof(big), "{\"status\": {\"hosts\": {\"host\": \"%0300d\"}}}", 0);
    assert_int_equal(parse(big, &i, &err), LB_ERR_PROTOCOL);
}

#define BR "projects/p/branches/b"

static lb_result page(const char *body, lb_branch_scan *scan, char *next, lb_error *err)
{
    lb_error_init(err);
    return lb_discovery_parse_page(body, strlen(body), BR, scan, next, 64, err);
}

static void test_pages(void **state)
{
    (void)state;
    lb_branch_scan scan;
    memset(&scan, 0, sizeof(scan));
    char next[64];
    lb_error err;
    assert_int_equal(page("{\"endpoints\": [{\"name\": \"" BR "/endpoints/ro\", \"status\": {\"endpoint_type\": "
                          "\"ENDPOINT_TYPE_READ_ONLY\"}}], \"next_page_token\": \"abc\"}", &scan, next, &err), LB_OK);
    assert_string_equal(next, "abc");
    assert_int_equal(scan.read_write_count, 0);
    assert_int_equal(page("{\"endpoints\": [{\"name\": \"" BR "/endpoints/rw\", \"spec\": {\"endpoint_type\": "
                          "\"ENDPOINT_TYPE_READ_WRITE\"}}]}", &scan, next, &err), LB_OK);
    assert_string_equal(next, "");
    assert_int_equal(scan.total, 2);
    assert_int_equal(scan.read_write_count, 1);
    assert_string_equal(scan.read_write[0], BR "/endpoints/rw");
    /* An empty page may leave the array out. */
    assert_int_equal(page("{}", &scan, next, &err), LB_OK);
    assert_int_equal(scan.total, 2);
    static const char *const bad[] = {
        "[]", "{\"endpoints\": {}}",
        "{\"endpoints\": [{\"name\": \"projects/p/branches/other/endpoints/x\"}]}",
        "{\"endpoints\": [{\"name\": \"" BR "/endpoints/x/y\"}]}",
        "{\"endpoints\": [{\"name\": \"" BR "/endpoints/\"}]}",
        "{\"endpoints\": [{}]}",
        "{\"next_page_token\": \"0123456789012345678901234567890123456789012345678901234567890123456789\"}",
    };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
        assert_int_equal(page(bad[k], &scan, next, &err), LB_ERR_PROTOCOL);
}

static void test_state_check(void **state)
{
    (void)state;
    lb_endpoint_info i;
    memset(&i, 0, sizeof(i));
    lb_error err;
    static const char *const ok[] = {"ACTIVE", "IDLE", "", "SOMETHING_NEW"};
    for (size_t k = 0; k < sizeof(ok) / sizeof(ok[0]); k++) {
        snprintf(i.state, sizeof(i.state), "%s", ok[k]);
        lb_error_init(&err);
        assert_int_equal(lb_discovery_check_state(&i, EP, &err), LB_OK);
    }
    static const char *const refused[] = {"INIT", "DEGRADED"};
    for (size_t k = 0; k < 2; k++) {
        snprintf(i.state, sizeof(i.state), "%s", refused[k]);
        lb_error_init(&err);
        assert_int_equal(lb_discovery_check_state(&i, EP, &err), LB_ERR_UNAVAILABLE);
        assert_non_null(strstr(err.message, refused[k]));
        assert_non_null(strstr(err.message, EP));
    }
    snprintf(i.state, sizeof(i.state), "ACTIVE");
    i.disabled = 1;
    lb_error_init(&err);
    assert_int_equal(lb_discovery_check_state(&i, EP, &err), LB_ERR_UNAVAILABLE);
    assert_non_null(strstr(err.message, "disabled"));
    assert_true(lb_discovery_is_branch(BR));
    assert_false(lb_discovery_is_branch(EP));
    assert_false(lb_discovery_is_branch(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoint_full),
        cmocka_unit_test(test_endpoint_sparse),
        cmocka_unit_test(test_endpoint_bad),
        cmocka_unit_test(test_pages),
        cmocka_unit_test(test_state_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
