/* lb_error: the first failure recorded wins (the root cause, not a later symptom), and
 * every message is made printable and loses URL credentials. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lb_error.h"

static void test_first_wins(void **state)
{
    (void)state;
    lb_error err;
    lb_error_init(&err);
    assert_false(lb_error_isset(&err));
    assert_int_equal(lb_error_set(&err, LB_ERR_NETWORK, "root cause %d", 1), LB_ERR_NETWORK);
    assert_true(lb_error_isset(&err));
    /* A later failure returns its own code to its caller but leaves the record alone. */
    assert_int_equal(lb_error_set(&err, LB_ERR_NOMEM, "later symptom"), LB_ERR_NOMEM);
    assert_int_equal(err.code, LB_ERR_NETWORK);
    assert_string_equal(err.message, "root cause 1");
    /* No error record: nothing to write, the code still comes back. */
    assert_int_equal(lb_error_set(NULL, LB_ERR_AUTH, "nowhere"), LB_ERR_AUTH);
}

static void test_message_cleaned(void **state)
{
    (void)state;
    lb_error err;
    lb_error_init(&err);
    lb_error_set(&err, LB_ERR_SETTINGS, "line\r\nbreak via https://user:pw@host:1/x");
    assert_string_equal(err.message, "line  break via https://host:1/x");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_wins),
        cmocka_unit_test(test_message_cleaned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
