/* Unit tests of the deadline and retry policy (lb_retry), and of the URL helpers that
 * keep secrets out of messages: proxy parsing, origins, userinfo redaction. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lb_http.h"
#include "lb_log.h"
#include "lb_retry.h"

static void test_retryable(void **state)
{
    (void)state;
    long yes[] = {429, 502, 503, 504};
    long no[] = {200, 301, 302, 400, 401, 403, 404, 409, 500, 501};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        assert_true(lb_retry_http_status(yes[i]));
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        assert_false(lb_retry_http_status(no[i]));
    /* A rate limit said in the body is a rate limit whatever the status; 401, 403 and 404
     * stay final. */
    assert_true(lb_retry_http_answer(400, "REQUEST_LIMIT_EXCEEDED"));
    assert_true(lb_retry_http_answer(400, "RESOURCE_EXHAUSTED"));
    assert_true(lb_retry_http_answer(409, "RESOURCE_EXHAUSTED"));
    assert_true(lb_retry_http_answer(500, "REQUEST_LIMIT_EXCEEDED"));
    assert_true(lb_retry_http_answer(503, NULL));
    assert_true(lb_retry_http_answer(429, "INVALID_PARAMETER_VALUE"));
    assert_false(lb_retry_http_answer(400, "INVALID_PARAMETER_VALUE"));
    assert_false(lb_retry_http_answer(400, NULL));
    assert_false(lb_retry_http_answer(400, "request_limit_exceeded_not"));
    assert_false(lb_retry_http_answer(200, "REQUEST_LIMIT_EXCEEDED"));
    assert_false(lb_retry_http_answer(302, "REQUEST_LIMIT_EXCEEDED"));
    for (long st = 401; st <= 404; st++)
        if (st != 402)
            assert_false(lb_retry_http_answer(st, "REQUEST_LIMIT_EXCEEDED"));
    assert_true(lb_retry_net(LB_NET_REFUSED));
    assert_true(lb_retry_net(LB_NET_DROPPED));
    assert_true(lb_retry_net(LB_NET_TIMEOUT));
    assert_false(lb_retry_net(LB_NET_FINAL));
}

/* Backoff doubles from the base, jittered to 50..100 %, capped; attempts are counted. */
static void test_backoff(void **state)
{
    (void)state;
    lb_retry_policy p = {.base_ms = 100, .cap_ms = 1000, .max_attempts = 0, .budget_ms = 0};
    lb_retry r;
    lb_retry_start(&r, &p, NULL);
    long long lo[] = {50, 100, 200, 400, 500, 500, 500};
    long long hi[] = {100, 200, 400, 800, 1000, 1000, 1000};
    for (int i = 0; i < 7; i++) {
        long long wait = -1;
        assert_int_equal(lb_retry_next(&r, -1, &wait), LB_RETRY_NOW);
        assert_in_range(wait, lo[i], hi[i]);
    }
    assert_int_equal(r.attempts, 7);
}

/* Retry-After is a floor, never scaled; the HTTP policy counts no attempts, waits at most
 * 10 s and stops only at the deadline (or 5 minutes without one); max_attempts still
 * stops a policy that sets it. */
static void test_retry_after_and_limits(void **state)
{
    (void)state;
    lb_retry r;
    long long wait = 0;
    lb_retry_start(&r, &lb_retry_http, NULL);
    assert_int_equal(lb_retry_next(&r, 7000, &wait), LB_RETRY_NOW);
    assert_int_equal(wait, 7000);
    for (int i = 2; i <= 40; i++) {
        assert_int_equal(lb_retry_next(&r, -1, &wait), LB_RETRY_NOW);
        assert_in_range(wait, 1, 10000);
    }
    assert_in_range(wait, 5000, 10000); /* the cap, jittered */
    assert_int_equal(r.attempts, 40);

    lb_retry_start(&r, &lb_retry_http, NULL);
    assert_int_equal(lb_retry_next(&r, 301000, &wait), LB_RETRY_STOP_BUDGET);

    /* Transport failures: 6 attempts, however many answers came before them. */
    lb_retry_start(&r, &lb_retry_http, NULL);
    for (int i = 0; i < 10; i++)
        assert_int_equal(lb_retry_next(&r, 0, &wait), LB_RETRY_NOW);
    for (int i = 1; i < 6; i++)
        assert_int_equal(lb_retry_next_net(&r, &wait), LB_RETRY_NOW);
    assert_int_equal(lb_retry_next_net(&r, &wait), LB_RETRY_STOP_ATTEMPTS);
    assert_int_equal(r.attempts, 16);

    lb_retry_policy two = lb_retry_http;
    two.max_attempts = 2;
    lb_retry_start(&r, &two, NULL);
    assert_int_equal(lb_retry_next(&r, -1, &wait), LB_RETRY_NOW);
    assert_int_equal(lb_retry_next(&r, -1, &wait), LB_RETRY_STOP_ATTEMPTS);
}

/* The HTTP retries run to the deadline: a backoff that would pass it is cut short so that
 * one last attempt gets 500 ms; a Retry-After that would pass it stops at once, and so
 * does a deadline too close for a last attempt. */
static void test_runs_to_deadline(void **state)
{
    (void)state;
    lb_deadline d;
    lb_deadline_start(&d, 0, 3);
    lb_retry r;
    long long wait = 0;
    lb_retry_start(&r, &lb_retry_http, &d);
    r.attempts = 10; /* backoff at its 10 s cap */
    assert_int_equal(lb_retry_next(&r, -1, &wait), LB_RETRY_NOW);
    assert_in_range(wait, 2000, 2500);
    assert_int_equal(lb_retry_next(&r, 2800, &wait), LB_RETRY_STOP_DEADLINE);

    lb_deadline close = {.at_ms = lb_now_ms() + 400, .seconds = 5, .from_login_timeout = 0};
    lb_retry_start(&r, &lb_retry_http, &close);
    r.attempts = 10;
    assert_int_equal(lb_retry_next(&r, -1, &wait), LB_RETRY_STOP_DEADLINE);

    /* The wake-up policy keeps its own rule: no cut, the wait that would pass stops. */
    lb_retry_policy wake = lb_retry_wake;
    lb_retry_start(&r, &wake, &close);
    r.attempts = 10;
    assert_int_equal(lb_retry_next(&r, 300, &wait), LB_RETRY_STOP_DEADLINE);
}

/* Retry-After as the server wrote it: seconds or an HTTP date, in milliseconds. */
static void test_retry_after_parse(void **state)
{
    (void)state;
    assert_int_equal(lb_retry_after_ms("7", 0), 7000);
    assert_int_equal(lb_retry_after_ms("0", 0), 0);
    assert_int_equal(lb_retry_after_ms("86399", 0), 86399000LL);
    assert_int_equal(lb_retry_after_ms("86400", 0), -1); /* a day or more: not a wait */
    assert_int_equal(lb_retry_after_ms("7s", 0), -1);
    assert_int_equal(lb_retry_after_ms("", 0), -1);
    assert_int_equal(lb_retry_after_ms(NULL, 0), -1);
    /* Sun, 06 Nov 1994 08:49:37 GMT is 784111777 s after the epoch. */
    assert_int_equal(lb_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", 784111772LL), 5000);
    assert_int_equal(lb_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", 784111800LL), 0); /* past */
    assert_int_equal(lb_retry_after_ms("soon", 0), -1);
}

static void test_deadline(void **state)
{
    (void)state;
    lb_deadline none = {0};
    assert_int_equal(lb_deadline_left_ms(&none), LLONG_MAX);
    assert_int_equal(lb_deadline_left_ms(NULL), LLONG_MAX);
    assert_false(lb_deadline_passed(&none));

    lb_deadline d;
    lb_deadline_start(&d, 0, 5);
    assert_false(d.from_login_timeout);
    assert_in_range(lb_deadline_left_ms(&d), 4000, 5000);
    lb_deadline_start(&d, 2, 90); /* the application's login timeout wins */
    assert_true(d.from_login_timeout);
    assert_in_range(lb_deadline_left_ms(&d), 1000, 2000);

    /* A wait that would pass the deadline is not started. */
    lb_retry r;
    long long wait = 0;
    lb_retry_start(&r, &lb_retry_http, &d);
    assert_int_equal(lb_retry_next(&r, 3000, &wait), LB_RETRY_STOP_DEADLINE);

    lb_deadline past = {.at_ms = lb_now_ms() - 1, .seconds = 3, .from_login_timeout = 0};
    assert_true(lb_deadline_passed(&past));
    lb_error err;
    lb_error_init(&err);
    assert_int_equal(lb_deadline_error(&past, &err, "waiting for %s", "the workspace"), LB_ERR_TIMEOUT);
    assert_int_equal(err.code, LB_ERR_TIMEOUT);
    assert_non_null(strstr(err.message, "ConnectTimeout (3 s) expired while waiting for the workspace"));
    lb_error_init(&err);
    past.from_login_timeout = 1;
    lb_deadline_error(&past, &err, "x");
    assert_non_null(strstr(err.message, "Login timeout (3 s)"));
}

static void test_redact_userinfo(void **state)
{
    (void)state;
    struct {
        const char *in, *out;
    } cases[] = {
        {"at http://user:pw@host:1/x now", "at http://host:1/x now"},
        {"'http://user:Pa#ss@host:1'", "'http://host:1'"},
        {"socks5h://a:b?c@h", "socks5h://h"},
        {"x https://u:p@ss@h/p@q y", "x https://h/p@q y"},
        {"two: http://a:b@h1 and https://c@h2/", "two: http://h1 and https://h2/"},
        {"no userinfo https://host/a@b", "no userinfo https://host/a@b"},
        {"mail a@b.c", "mail a@b.c"},
        {"://@", "://"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[200];
        strcpy(buf, cases[i].in);
        lb_text_redact_userinfo(buf);
        assert_string_equal(buf, cases[i].out);
    }
    /* Every error message goes through it. */
    lb_error err;
    lb_error_init(&err);
    lb_error_set(&err, LB_ERR_NETWORK, "proxy %s failed", "http://me:topsecret@proxy:3128");
    assert_null(strstr(err.message, "topsecret"));
}

static void test_proxy_parse(void **state)
{
    (void)state;
    lb_proxy p;
    const char *problem = NULL;
    assert_int_equal(lb_proxy_parse("http://us%40er:Pa%23ss@proxy.example:3128", &p, &problem), 0);
    assert_null(problem);
    assert_string_equal(p.url, "http://proxy.example:3128");
    assert_string_equal(p.user, "us@er");
    assert_string_equal(p.password, "Pa#ss");
    lb_proxy_free(&p);
    assert_int_equal(lb_proxy_parse("socks5h://[::1]:1080", &p, &problem), 0);
    assert_string_equal(p.url, "socks5h://[::1]:1080");
    assert_null(p.user);
    lb_proxy_free(&p);
    assert_int_equal(lb_proxy_parse("http://proxy", &p, &problem), 0);
    assert_string_equal(p.url, "http://proxy"); /* libcurl's default proxy port applies */
    lb_proxy_free(&p);
    const char *bad[] = {"http://user:Pa#ss@host:1", "http://user:pa/ss@host:1", "ftp://proxy:21", "proxy:3128",
                         "http://", "http://host:1/path", "http://host:99999", "http://u:p%0Aq@host:1", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        problem = NULL;
        assert_int_equal(lb_proxy_parse(bad[i], &p, &problem), -1);
        assert_non_null(problem);
        assert_null(strstr(problem, "Pa"));
        assert_null(p.url);
    }
}

static void test_origin(void **state)
{
    (void)state;
    char a[256], b[256];
    assert_int_equal(lb_url_origin("https://WS.example.com/oidc/v1/token", a, sizeof(a)), 0);
    assert_string_equal(a, "https://ws.example.com:443");
    assert_int_equal(lb_url_origin("https://ws.example.com:443", b, sizeof(b)), 0);
    assert_string_equal(a, b);
    assert_int_equal(lb_url_origin("https://ws.example.com:8443/x", b, sizeof(b)), 0);
    assert_string_not_equal(a, b);
    assert_int_equal(lb_url_origin("https://ws.example.com.evil.example/x", b, sizeof(b)), 0);
    assert_string_not_equal(a, b);
    assert_int_equal(lb_url_origin("https://user@ws.example.com/x", b, sizeof(b)), 0);
    assert_string_equal(a, b);
    assert_int_equal(lb_url_origin("http://ws.example.com/x", b, sizeof(b)), -1);
    assert_int_equal(lb_url_origin("/oidc/v1/token", b, sizeof(b)), -1);
    assert_int_equal(lb_url_origin("https://ws.example.com/x", b, 10), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retryable),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_retry_after_and_limits),
        cmocka_unit_test(test_runs_to_deadline),
        cmocka_unit_test(test_retry_after_parse),
        cmocka_unit_test(test_deadline),
        cmocka_unit_test(test_redact_userinfo),
        cmocka_unit_test(test_proxy_parse),
        cmocka_unit_test(test_origin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
