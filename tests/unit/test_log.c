/* lb_log: one line per event, whatever the text holds: a CR or LF in a message (from a
 * server's answer, say) must not start a forged log line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "lb_log.h"

static void test_one_line_per_event(void **state)
{
    (void)state;
    char dir[] = "/tmp/lb-log-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof(path), "%s/driver.log", dir);
    lb_logger log;
    lb_logger_init(&log, LB_LOG_INFO, path);
    lb_log(&log, LB_LOG_INFO, "answer: %s", "ok\r\n2030-01-01T00:00:00.000Z lakebase-odbc[1:1] conn=1 ERROR forged\rx");
    lb_log(&log, LB_LOG_DEBUG, "not at info level");
    lb_log(&log, LB_LOG_ERROR, "proxy http://me:topsecret@proxy:3128 refused");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char lines[4][1024];
    int n = 0;
    while (n < 4 && fgets(lines[n], sizeof(lines[n]), f))
        n++;
    fclose(f);
    unlink(path);
    rmdir(dir);
    assert_int_equal(n, 2);
    printf("%s%s", lines[0], lines[1]);
    assert_non_null(strstr(lines[0], " INFO answer: ok  2030-01-01T00:00:00.000Z lakebase-odbc[1:1] conn=1 ERROR forged x\n"));
    assert_null(strchr(lines[0], '\r'));
    assert_non_null(strstr(lines[1], " ERROR proxy http://proxy:3128 refused\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_line_per_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
