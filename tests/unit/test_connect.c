/* lb_connect: the cache key holds everything that changes what a cached value grants,
 * so that no connect reuses a value fetched for other settings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "auth/lb_auth.h"
#include "lb_connect.h"

static char host[] = "https://ws.example.com", id[] = "c00f575e", sec[] = "the-secret", other_sec[] = "another",
            proxy[] = "http://proxy:3128", ep[] = "projects/p/branches/b/endpoints/e",
            other_ep[] = "projects/p/branches/b/endpoints/f", te[] = "https://ws.example.com/oidc/v1/token",
            ws1[] = "1234567890123456", ws2[] = "6051921418418893";

static lb_plan base(void)
{
    lb_plan p;
    memset(&p, 0, sizeof(p));
    p.settings.value[LB_KEY_HOST] = host;
    p.settings.value[LB_KEY_CLIENT_ID] = id;
    p.settings.value[LB_KEY_CLIENT_SECRET] = sec;
    p.settings.value[LB_KEY_ENDPOINT] = ep;
    return p;
}

/* Whether kind's key of a and b differ. */
static int differ(const lb_plan *a, const lb_plan *b, const char *kind)
{
    lb_buf ka, kb;
    lb_buf_init(&ka, 0);
    lb_buf_init(&kb, 0);
    lb_plan_cache_key(a, kind, &ka);
    lb_plan_cache_key(b, kind, &kb);
    assert_false(ka.overflow || kb.overflow);
    int d = strcmp(ka.data, kb.data) != 0;
    assert_null(strstr(ka.data, sec)); /* the secret enters only as a hash */
    lb_buf_free(&ka);
    lb_buf_free(&kb);
    return d;
}

static void test_cache_key(void **state)
{
    (void)state;
    lb_plan a = base(), b = base();
    assert_false(differ(&a, &b, "credential"));
    assert_false(differ(&a, &b, "token"));

    b = base();
    b.settings.value[LB_KEY_CLIENT_SECRET] = other_sec;
    assert_true(differ(&a, &b, "credential"));
    assert_true(differ(&a, &b, "token"));

    b = base();
    b.settings.value[LB_KEY_PROXY] = proxy;
    assert_true(differ(&a, &b, "credential"));
    assert_true(differ(&a, &b, "token"));

    b = base();
    b.settings.value[LB_KEY_ENDPOINT] = other_ep;
    assert_true(differ(&a, &b, "credential"));
    assert_false(differ(&a, &b, "token")); /* one workspace token serves every endpoint */

    b = base();
    b.settings.value[LB_KEY_TOKEN_ENDPOINT] = te;
    assert_true(differ(&a, &b, "token"));

    b = base();
    b.settings.value[LB_KEY_CLIENT_ID] = other_sec;
    assert_true(differ(&a, &b, "credential"));
    b = base();
    b.settings.value[LB_KEY_HOST] = te;
    assert_true(differ(&a, &b, "credential"));

    /* Workspaces served by one URL never share a value (and a key without one is unchanged). */
    lb_buf plain;
    lb_buf_init(&plain, 0);
    lb_plan_cache_key(&a, "credential", &plain);
    assert_null(strstr(plain.data, "workspace"));
    lb_buf_free(&plain);
    b = base();
    b.settings.value[LB_KEY_WORKSPACE_ID] = ws1;
    assert_true(differ(&a, &b, "credential"));
    assert_true(differ(&a, &b, "token"));
    lb_plan c = base();
    c.settings.value[LB_KEY_WORKSPACE_ID] = ws2;
    assert_true(differ(&b, &c, "credential"));
    assert_true(differ(&b, &c, "token"));

    /* A token and a credential never share a key. */
    lb_buf kt, kc;
    lb_buf_init(&kt, 0);
    lb_buf_init(&kc, 0);
    lb_plan_cache_key(&a, "token", &kt);
    lb_plan_cache_key(&a, "credential", &kc);
    assert_string_not_equal(kt.data, kc.data);
    lb_buf_free(&kt);
    lb_buf_free(&kc);
}

/* A Provisioned instance's credential: keyed by the instance, and never shared with an
 * endpoint of the same string (or with the instance's looked-up host). */
static void test_cache_key_instance(void **state)
{
    (void)state;
    static char same[] = "same-name", other[] = "other-name";
    lb_plan a = base(), b = base();
    a.settings.value[LB_KEY_ENDPOINT] = same;
    b.settings.value[LB_KEY_ENDPOINT] = NULL;
    b.settings.value[LB_KEY_INSTANCE] = same;
    assert_true(differ(&a, &b, "credential"));
    assert_false(differ(&a, &b, "token")); /* one workspace token serves both services */
    lb_plan c = base();
    c.settings.value[LB_KEY_ENDPOINT] = NULL;
    c.settings.value[LB_KEY_INSTANCE] = other;
    assert_true(differ(&b, &c, "credential"));
    assert_true(differ(&b, &c, "host"));
    lb_plan d = b;
    assert_false(differ(&b, &d, "credential"));
    assert_true(differ(&b, &b, "credential") == 0);
    lb_buf kc, kh;
    lb_buf_init(&kc, 0);
    lb_buf_init(&kh, 0);
    lb_plan_cache_key(&b, "credential", &kc);
    lb_plan_cache_key(&b, "host", &kh);
    assert_string_not_equal(kc.data, kh.data);
    assert_non_null(strstr(kc.data, "\ninstance\nsame-name"));
    lb_buf_free(&kc);
    lb_buf_free(&kh);
    assert_string_equal(lb_plan_target_kind(&b), "instance");
    assert_string_equal(lb_plan_target_kind(&a), "endpoint");
    assert_true(lb_plan_state_awake(&b, "AVAILABLE"));
    assert_false(lb_plan_state_awake(&b, "ACTIVE"));
    assert_true(lb_plan_state_awake(&a, "ACTIVE"));
    assert_false(lb_plan_state_awake(&a, "AVAILABLE"));
}

/* A personal access token enters the keys only as a hash; two tokens, or a token and a
 * service principal, never share a value. */
static void test_cache_key_pat(void **state)
{
    (void)state;
    static char pat[] = "dapi-the-personal-token", other_pat[] = "dapi-another-token";
    lb_plan a = base(), b = base();
    a.settings.value[LB_KEY_CLIENT_ID] = a.settings.value[LB_KEY_CLIENT_SECRET] = NULL;
    a.settings.value[LB_KEY_TOKEN] = pat;
    a.settings.auth_type = LB_AUTH_PAT;
    assert_true(differ(&a, &b, "credential")); /* b: the service principal */
    assert_true(differ(&a, &b, "token"));
    b = a;
    assert_false(differ(&a, &b, "credential"));
    b.settings.value[LB_KEY_TOKEN] = other_pat;
    assert_true(differ(&a, &b, "credential"));
    assert_true(differ(&a, &b, "user"));
    lb_buf k;
    lb_buf_init(&k, 0);
    lb_plan_cache_key(&a, "credential", &k);
    assert_null(strstr(k.data, pat));
    char hash[65];
    lb_sha256_hex(pat, hash);
    assert_non_null(strstr(k.data, hash));
    lb_buf_free(&k);
    /* databricks-cli: the profile asked for is the identity. */
    static char p1[] = "dev", p2[] = "prod";
    a.settings.auth_type = b.settings.auth_type = LB_AUTH_DATABRICKS_CLI;
    a.settings.value[LB_KEY_PROFILE] = p1;
    b.settings.value[LB_KEY_PROFILE] = p2;
    assert_true(differ(&a, &b, "credential"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cache_key),
        cmocka_unit_test(test_cache_key_pat),
        cmocka_unit_test(test_cache_key_instance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
