/* lb_listing: the pages of the project, branch, endpoint and instance lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "lb_listing.h"

static lb_result page(lb_listing_kind kind, const char *body, const char *parent, lb_listing *l, char *next,
                      lb_error *err)
{
    lb_error_init(err);
    return lb_listing_parse_page(kind, body, strlen(body), parent, l, next, 256, err);
}

static void test_projects_and_next(void **state)
{
    (void)state;
    lb_listing l;
    lb_listing_init(&l);
    lb_error err;
    char next[256];
    assert_int_equal(page(LB_LISTING_PROJECT,
                          "{\"projects\": [{\"name\": \"projects/a\", \"status\": {\"display_name\": \"Sales\"}}, "
                          "{\"name\": \"projects/b\", \"spec\": {\"display_name\": \"Ops\"}}], \"next_page_token\": \"t2\"}",
                          "", &l, next, &err), LB_OK);
    assert_int_equal(l.count, 2);
    assert_string_equal(l.items[0].display, "Sales");
    assert_string_equal(l.items[1].display, "Ops"); /* the spec's when the status has none */
    assert_string_equal(next, "t2");
    assert_int_equal(page(LB_LISTING_PROJECT, "{}", "", &l, next, &err), LB_OK); /* empty: the field left out */
    assert_string_equal(next, "");
    assert_int_equal(l.count, 2);
    lb_listing_free(&l);
}

static void test_branches_and_endpoints(void **state)
{
    (void)state;
    lb_listing l;
    lb_listing_init(&l);
    lb_error err;
    char next[256];
    assert_int_equal(page(LB_LISTING_BRANCH,
                          "{\"branches\": [{\"name\": \"projects/a/branches/main\", \"status\": {\"current_state\": "
                          "\"READY\", \"default\": true}}, {\"name\": \"projects/a/branches/dev\"}]}",
                          "projects/a", &l, next, &err), LB_OK);
    assert_int_equal(l.count, 2);
    assert_string_equal(l.items[0].state, "READY");
    assert_true(l.items[0].is_default);
    assert_false(l.items[1].is_default);
    assert_int_equal(page(LB_LISTING_ENDPOINT,
                          "{\"endpoints\": [{\"name\": \"projects/a/branches/main/endpoints/e\", \"spec\": "
                          "{\"endpoint_type\": \"ENDPOINT_TYPE_READ_ONLY\"}, \"status\": {\"current_state\": \"IDLE\", "
                          "\"disabled\": true, \"hosts\": {\"host\": \"ep-1.database.x.com\"}}}]}",
                          "projects/a/branches/main", &l, next, &err), LB_OK);
    assert_int_equal(l.count, 3);
    assert_string_equal(l.items[2].type, "ENDPOINT_TYPE_READ_ONLY");
    assert_string_equal(l.items[2].host, "ep-1.database.x.com");
    assert_true(l.items[2].disabled);
    lb_listing_free(&l);
}

static void test_instances(void **state)
{
    (void)state;
    lb_listing l;
    lb_listing_init(&l);
    lb_error err;
    char next[256];
    assert_int_equal(page(LB_LISTING_INSTANCE,
                          "{\"database_instances\": [{\"name\": \"inst-1\", \"state\": \"STOPPED\", \"capacity\": "
                          "\"CU_2\", \"read_write_dns\": \"instance-1.database.x.com\"}, {\"name\": \"inst-2\", "
                          "\"state\": \"STARTING\", \"read_write_dns\": \"bad host;rm\"}]}",
                          "", &l, next, &err), LB_OK);
    assert_int_equal(l.count, 2);
    assert_string_equal(l.items[0].state, "STOPPED");
    assert_string_equal(l.items[0].host, "instance-1.database.x.com");
    assert_string_equal(l.items[0].display, "CU_2");
    assert_string_equal(l.items[1].host, ""); /* not a host name: not shown */
    lb_listing_free(&l);
}

static void test_refused(void **state)
{
    (void)state;
    lb_listing l;
    lb_listing_init(&l);
    lb_error err;
    char next[256];
    /* A name outside the parent, a name with a path in it, no name, not JSON, not an array. */
    assert_int_equal(page(LB_LISTING_BRANCH, "{\"branches\": [{\"name\": \"projects/other/branches/main\"}]}",
                          "projects/a", &l, next, &err), LB_ERR_PROTOCOL);
    assert_non_null(strstr(err.message, "not a branch name"));
    assert_int_equal(page(LB_LISTING_ENDPOINT, "{\"endpoints\": [{\"name\": \"projects/a/branches/b/endpoints/e/x\"}]}",
                          "projects/a/branches/b", &l, next, &err), LB_ERR_PROTOCOL);
    assert_int_equal(page(LB_LISTING_INSTANCE, "{\"database_instances\": [{\"state\": \"AVAILABLE\"}]}", "", &l, next,
                          &err), LB_ERR_PROTOCOL);
    assert_int_equal(page(LB_LISTING_PROJECT, "<html>", "", &l, next, &err), LB_ERR_PROTOCOL);
    assert_int_equal(page(LB_LISTING_PROJECT, "{\"projects\": {}}", "", &l, next, &err), LB_ERR_PROTOCOL);
    assert_int_equal(l.count, 0);
    lb_listing_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_projects_and_next),
        cmocka_unit_test(test_branches_and_endpoints),
        cmocka_unit_test(test_instances),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
