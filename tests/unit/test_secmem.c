/* Secret memory: the wiping allocator handed to libcurl (lb_secmem), the pages kept out
 * of core dumps, and the wiping of json-c's strings before an answer is freed
 * (lb_json_put_wiped). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include "lb_buf.h"
#include "lb_cache.h"
#include "lb_connstr.h"
#include "lb_json.h"
#include "lb_secmem.h"
#include "lb_settings.h"

/* The VmFlags of the mapping that holds p, from /proc/self/smaps. */
static void vm_flags(const void *p, char *out, size_t size)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    assert_non_null(f);
    char line[512];
    int in = 0;
    out[0] = '\0';
    while (fgets(line, sizeof(line), f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
            in = (unsigned long)p >= lo && (unsigned long)p < hi;
        else if (in && strncmp(line, "VmFlags:", 8) == 0) {
            snprintf(out, size, "%s", line + 8);
            break;
        }
    }
    fclose(f);
}

static void test_dup_kept_out_of_core_dumps(void **state)
{
    (void)state;
    char *a = lb_secmem_dup("a-database-credential");
    assert_string_equal(a, "a-database-credential");
    assert_true(lb_secmem_owns(a));
    char flags[512];
    vm_flags(a, flags, sizeof(flags));
    printf("VmFlags of the secret's mapping:%s", flags);
    assert_non_null(strstr(flags, " dd")); /* MADV_DONTDUMP */

    char big[10000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    char *b = lb_secmem_dup(big); /* more than a page */
    assert_true(lb_secmem_owns(b));
    assert_string_equal(b, big);
    lb_secret_free(a);
    char *c = lb_secmem_dup("next"); /* first fit: a's page again, freed and wiped */
    assert_ptr_equal(c, a);
    assert_string_equal(c, "next");
    lb_secret_free(b);
    lb_secret_free(c);

    char *m = malloc(8);
    assert_false(lb_secmem_owns(m));
    strcpy(m, "plain");
    lb_secret_free(m); /* an ordinary malloc'd secret still works */
}

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

static const char *no_env(const char *name)
{
    (void)name;
    return NULL;
}

static lb_result fetch_value(void *ctx, lb_cache_item *out, lb_error *err)
{
    (void)ctx;
    (void)err;
    out->value = lb_secmem_dup("cached-credential");
    out->lifetime_s = 3600;
    return LB_OK;
}

/* The long-lived secrets: the client secret in the settings, the cached values and the
 * copies the cache hands out. */
static void test_long_lived_secrets_in_region(void **state)
{
    (void)state;
    static const char cs[] = "DatabricksHost=https://ws.example.com;ClientID=cid;ClientSecret=sec;"
                             "Endpoint=projects/p/branches/b/endpoints/e;Servername=db.example;";
    lb_kvlist kv;
    lb_error err;
    lb_error_init(&err);
    assert_int_equal(lb_connstr_parse(cs, strlen(cs), &kv, &err), LB_OK);
    lb_sources src = {.env_get = no_env};
    lb_settings st;
    assert_int_equal(lb_settings_resolve(&kv, &src, &st, &err), LB_OK);
    assert_string_equal(lb_settings_get(&st, LB_KEY_CLIENT_SECRET), "sec");
    assert_true(lb_secmem_owns(lb_settings_get(&st, LB_KEY_CLIENT_SECRET)));
    assert_false(lb_secmem_owns(lb_settings_get(&st, LB_KEY_CLIENT_ID)));
    lb_settings_free(&st);
    lb_kvlist_free(&kv);

    lb_cache_opts o = {.mode = LB_CACHE_MEMORY, .margin_s = 300, .what = "test value"};
    char *v = NULL;
    lb_cache_origin origin;
    assert_int_equal(lb_cache_get("secmem-test-key", &o, fetch_value, NULL, &v, &origin, &err), LB_OK);
    lb_secret_free(v);
    assert_int_equal(lb_cache_get("secmem-test-key", &o, fetch_value, NULL, &v, &origin, &err), LB_OK);
    assert_int_equal(origin, LB_FROM_MEMORY);
    assert_string_equal(v, "cached-credential");
    assert_true(lb_secmem_owns(v));
    lb_cache_invalidate("secmem-test-key", v, &o);
    lb_secret_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_realloc_keeps_contents),
        cmocka_unit_test(test_strdup_calloc),
        cmocka_unit_test(test_json_strings_wiped),
        cmocka_unit_test(test_scrub_stack_returns),
        cmocka_unit_test(test_dup_kept_out_of_core_dumps),
        cmocka_unit_test(test_long_lived_secrets_in_region),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
