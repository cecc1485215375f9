/* lb_form_escape: application/x-www-form-urlencoded for the client id and secret of the
 * token request (RFC 6749 2.3.1): unreserved characters as they are, a space as '+',
 * everything else (including '+', '%', '&', '=' and bytes above 0x7F) as %XX. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lb_http.h"

static void check(const char *in, const char *want)
{
    char *out = lb_form_escape(in);
    assert_non_null(out);
    assert_string_equal(out, want);
    free(out);
}

static void test_form_escape(void **state)
{
    (void)state;
    check("", "");
    check("AZaz09-._~", "AZaz09-._~");
    check("a b", "a+b");
    check("a+b", "a%2Bb");
    check("100%", "100%25");
    check("k=v&x", "k%3Dv%26x");
    check(":/?#[]@!$'()*,;", "%3A%2F%3F%23%5B%5D%40%21%24%27%28%29%2A%2C%3B");
    check("\x01\x7f\xc3\xa9", "%01%7F%C3%A9");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_form_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
