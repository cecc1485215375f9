/* lb_provisioned: the request id's UUID v4 format, the credential and instance answers'
 * parsing, and the state policy's classes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lb_provisioned.h"
#include "lb_secmem.h"

static int hex_digit(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static void test_uuid4_format(void **state)
{
    (void)state;
    char seen[64][37];
    int variants[4] = {0};
    for (int n = 0; n < 64; n++) {
        char u[37];
        memset(u, 'x', sizeof(u));
        assert_int_equal(lb_provisioned_uuid4(u), 0);
        assert_int_equal(strlen(u), 36);
        for (int i = 0; i < 36; i++) {
            if (i == 8 || i == 13 || i == 18 || i == 23)
                assert_int_equal(u[i], '-');
            else if (!hex_digit(u[i]))
                fail_msg("\"%s\": character %d is not a lower-case hex digit", u, i);
        }
        assert_int_equal(u[14], '4'); /* version 4 */
        const char *v = strchr("89ab", u[19]);
        if (v == NULL)
            fail_msg("\"%s\": variant digit %c is not 8, 9, a or b", u, u[19]);
        variants[v - "89ab"]++;
        for (int m = 0; m < n; m++)
            assert_string_not_equal(seen[m], u); /* fresh each time */
        memcpy(seen[n], u, sizeof(u));
    }
    /* 64 random draws over 4 variant digits: each is seen (a chance of ~4e-8 to miss one). */
    for (int i = 0; i < 4; i++)
        assert_true(variants[i] > 0);
}

static void test_parse_credential(void **state)
{
    (void)state;
    lb_credential c;
    lb_error err;
    lb_error_init(&err);
    const char *ok = "{\"token\": \"jwt.x.y\", \"expiration_time\": \"2026-11-24T18:00:00.123456Z\"}";
    assert_int_equal(lb_provisioned_parse_credential(ok, strlen(ok), &c, &err), LB_OK);
    assert_string_equal(c.token, "jwt.x.y");
    assert_int_equal((long long)c.expire_time, 1795543200LL);
    lb_credential_clear(&c);
    /* Autoscaling's field name is not this service's: no expiry read, the token still used. */
    const char *other = "{\"token\": \"t\", \"expire_time\": \"2026-11-24T18:00:00Z\"}";
    assert_int_equal(lb_provisioned_parse_credential(other, strlen(other), &c, &err), LB_OK);
    assert_int_equal((long long)c.expire_time, 0);
    lb_credential_clear(&c);
    const char *bad_time = "{\"token\": \"t\", \"expiration_time\": \"tomorrow\"}";
    assert_int_equal(lb_provisioned_parse_credential(bad_time, strlen(bad_time), &c, &err), LB_ERR_PROTOCOL);
    assert_non_null(strstr(err.message, "expiration_time \"tomorrow\""));
    lb_error_init(&err);
    const char *none = "{\"expiration_time\": \"2026-11-24T18:00:00Z\"}";
    assert_int_equal(lb_provisioned_parse_credential(none, strlen(none), &c, &err), LB_ERR_PROTOCOL);
    assert_non_null(strstr(err.message, "has no token"));
    lb_error_init(&err);
    assert_int_equal(lb_provisioned_parse_credential("[1]", 3, &c, &err), LB_ERR_PROTOCOL);
    assert_null(c.token);
}

static void test_parse_instance(void **state)
{
    (void)state;
    lb_instance i;
    lb_error err;
    lb_error_init(&err);
    const char *ok = "{\"name\": \"inst\", \"state\": \"AVAILABLE\", \"read_write_dns\": "
                     "\"instance-1.database.cloud.databricks.com\", \"read_only_dns\": \"ro.example\", \"uid\": \"u\"}";
    assert_int_equal(lb_provisioned_parse_instance(ok, strlen(ok), "inst", &i, &err), LB_OK);
    assert_string_equal(i.state, "AVAILABLE");
    assert_string_equal(i.read_write_dns, "instance-1.database.cloud.databricks.com");
    assert_string_equal(i.read_only_dns, "ro.example");
    const char *starting = "{\"name\": \"inst\", \"state\": \"STARTING\"}";
    assert_int_equal(lb_provisioned_parse_instance(starting, strlen(starting), "inst", &i, &err), LB_OK);
    assert_string_equal(i.read_write_dns, "");
    const char *no_state = "{\"name\": \"inst\", \"read_write_dns\": \"h\"}";
    assert_int_equal(lb_provisioned_parse_instance(no_state, strlen(no_state), "inst", &i, &err), LB_ERR_PROTOCOL);
    assert_non_null(strstr(err.message, "instance inst answered no state"));
    lb_error_init(&err);
    const char *hostile = "{\"state\": \"AVAILABLE\", \"read_write_dns\": \"h;PWD=x\"}";
    assert_int_equal(lb_provisioned_parse_instance(hostile, strlen(hostile), "inst", &i, &err), LB_ERR_PROTOCOL);
    assert_non_null(strstr(err.message, "not a host name"));
    lb_error_init(&err);
    assert_int_equal(lb_provisioned_parse_instance("nope", 4, "inst", &i, &err), LB_ERR_PROTOCOL);
}

static void test_classify(void **state)
{
    (void)state;
    assert_int_equal(lb_provisioned_classify("AVAILABLE"), LB_INSTANCE_READY);
    assert_int_equal(lb_provisioned_classify("STARTING"), LB_INSTANCE_TRANSIENT);
    assert_int_equal(lb_provisioned_classify("UPDATING"), LB_INSTANCE_TRANSIENT);
    assert_int_equal(lb_provisioned_classify("FAILING_OVER"), LB_INSTANCE_TRANSIENT);
    assert_int_equal(lb_provisioned_classify("STOPPED"), LB_INSTANCE_REFUSED);
    assert_int_equal(lb_provisioned_classify("DELETING"), LB_INSTANCE_REFUSED);
    assert_int_equal(lb_provisioned_classify("SOMETHING_NEW"), LB_INSTANCE_READY); /* the server decides */
    /* The named policy: short waits, bounded by the deadline only. */
    assert_true(lb_retry_instance.cap_ms <= 1000);
    assert_int_equal(lb_retry_instance.max_attempts, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid4_format),
        cmocka_unit_test(test_parse_credential),
        cmocka_unit_test(test_parse_instance),
        cmocka_unit_test(test_classify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
