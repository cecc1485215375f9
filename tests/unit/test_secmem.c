/* Secret memory: the wiping allocator handed to libcurl (lb_secmem) and the wiping of
 * json-c's strings before an answer is freed (lb_json_put_wiped). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "lb_json.h"
#include "lb_secmem.h"

static void test_realloc_keeps_contents(void **state)
{
    (void)state;
    unsigned long before = lb_secmem_handed_out();
    char *p = lb_secmem_realloc(NULL, 16);
    assert_non_null(p);
    memcpy(p, "0123456789abcde", 16);
    char *q = lb_secmem_realloc(p, 8); /* shrinking keeps the block */
    assert_ptr_equal(q, p);
    q = lb_secmem_realloc(q, 100000); /* growing moves it, contents kept */
    assert_non_null(q);
    assert_memory_equal(q, "0123456789abcde", 16);
    assert_null(lb_secmem_realloc(q, 0)); /* frees, as realloc(p, 0) does in glibc */
    assert_true(lb_secmem_handed_out() >= before + 2);
}

static void test_strdup_calloc(void **state)
{
    (void)state;
    char *s = lb_secmem_strdup("secret");
    assert_string_equal(s, "secret");
    lb_secmem_free(s);
    unsigned char *z = lb_secmem_calloc(4, 8);
    assert_non_null(z);
    for (int i = 0; i < 32; i++)
        assert_int_equal(z[i], 0);
    lb_secmem_free(z);
    lb_secmem_free(NULL);
}

static void test_json_strings_wiped(void **state)
{
    (void)state;
    const char text[] = "{\"token\":\"eyJ-credential-value\",\"n\":[{\"x\":\"nested-secret\"}],\"expire_time\":1}";
    struct json_object *obj = lb_json_parse_object(text, sizeof(text) - 1);
    assert_non_null(obj);
    const char *tok = lb_json_string(obj, "token");
    struct json_object *arr = NULL, *inner = NULL;
    assert_true(json_object_object_get_ex(obj, "n", &arr));
    inner = json_object_array_get_idx(arr, 0);
    const char *nested = lb_json_string(inner, "x");
    size_t tl = strlen(tok), nl = strlen(nested);
    /* An extra reference keeps the object alive after the put, so the test may look. */
    json_object_get(obj);
    lb_json_put_wiped(obj);
    for (size_t i = 0; i < tl; i++)
        assert_int_equal(tok[i], 0);
    for (size_t i = 0; i < nl; i++)
        assert_int_equal(nested[i], 0);
    json_object_put(obj);
    lb_json_put_wiped(NULL);
}

static void test_scrub_stack_returns(void **state)
{
    (void)state;
    lb_secmem_scrub_stack(256 * 1024);
    lb_secmem_scrub_stack((size_t)1 << 40); /* bounded by the stack: no crash */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_realloc_keeps_contents),
        cmocka_unit_test(test_strdup_calloc),
        cmocka_unit_test(test_json_strings_wiped),
        cmocka_unit_test(test_scrub_stack_returns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
