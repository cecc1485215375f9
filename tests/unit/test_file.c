/* lb_file: FIFOs, directories and links are refused without blocking, ownership and
 * mode are checked on the opened descriptor, and bounded reads report truncation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lb_file.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/lb-file-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void path_of(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", dir, name);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    fchmod(fd, mode);
    close(fd);
}

static void test_regular_file(void **state)
{
    (void)state;
    char p[128];
    path_of(p, sizeof(p), "f");
    write_file(p, "hello\n", 0600);
    lb_file_info info;
    size_t len = 0;
    char *s = lb_file_slurp(p, LB_FILE_PRIVATE, 100, &len, &info);
    assert_non_null(s);
    assert_int_equal(info.status, LB_FILE_OK);
    assert_int_equal(len, 6);
    assert_string_equal(s, "hello\n");
    free(s);
    /* The descriptor is close-on-exec and blocking again. */
    int fd = lb_file_open(p, O_RDONLY, 0, 0, &info);
    assert_true(fd >= 0);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
    close(fd);
}

static void test_fifo_is_refused_at_once(void **state)
{
    (void)state;
    char p[128];
    path_of(p, sizeof(p), "fifo");
    assert_int_equal(mkfifo(p, 0600), 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    alarm(10); /* a hang fails the test instead of blocking it */
    lb_file_info info;
    size_t len;
    assert_null(lb_file_slurp(p, 0, 100, &len, &info));
    int fd = lb_file_open(p, O_RDWR | O_CREAT, 0600, LB_FILE_PRIVATE, &info);
    alarm(0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(fd, -1);
    assert_int_equal(info.status, LB_FILE_NOT_REGULAR);
    assert_int_equal(errno, EPERM);
    char why[200];
    lb_file_explain(&info, why, sizeof(why));
    assert_non_null(strstr(why, "FIFO"));
    printf("FIFO refused in %.3f s: %s\n", (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9, why);
    /* As a device-like target (a log), a FIFO without a reader fails instead of waiting. */
    fd = lb_file_open(p, O_WRONLY | O_APPEND, 0, LB_FILE_ANY_KIND, &info);
    assert_int_equal(fd, -1);
    assert_int_equal(info.status, LB_FILE_OPEN_FAILED);
}

static void test_directory_is_refused(void **state)
{
    (void)state;
    lb_file_info info;
    size_t len;
    assert_null(lb_file_slurp(dir, LB_FILE_FOLLOW | LB_FILE_ANY_KIND, 100, &len, &info));
    assert_true(info.status == LB_FILE_NOT_REGULAR || info.status == LB_FILE_READ_FAILED);
    char why[200];
    lb_file_explain(&info, why, sizeof(why));
    printf("directory: %s\n", why);
}

static void test_symlink(void **state)
{
    (void)state;
    char target[128], link[128];
    path_of(target, sizeof(target), "target");
    path_of(link, sizeof(link), "link");
    write_file(target, "x", 0600);
    assert_int_equal(symlink(target, link), 0);
    lb_file_info info;
    assert_int_equal(lb_file_open(link, O_RDONLY, 0, LB_FILE_PRIVATE, &info), -1);
    assert_int_equal(info.status, LB_FILE_SYMLINK);
    int fd = lb_file_open(link, O_RDONLY, 0, LB_FILE_FOLLOW | LB_FILE_PRIVATE, &info);
    assert_true(fd >= 0);
    close(fd);
    /* O_CREAT through a refused link creates nothing where it points. */
    char dangling[128], nowhere[128];
    path_of(dangling, sizeof(dangling), "dangling");
    path_of(nowhere, sizeof(nowhere), "nowhere");
    assert_int_equal(symlink(nowhere, dangling), 0);
    assert_int_equal(lb_file_open(dangling, O_WRONLY | O_CREAT | O_APPEND, 0600, 0, &info), -1);
    assert_int_equal(info.status, LB_FILE_SYMLINK);
    assert_int_equal(access(nowhere, F_OK), -1);
}

static void test_owner_and_mode(void **state)
{
    (void)state;
    char p[128];
    path_of(p, sizeof(p), "open");
    write_file(p, "x", 0644);
    lb_file_info info;
    assert_int_equal(lb_file_open(p, O_RDONLY, 0, LB_FILE_PRIVATE, &info), -1);
    assert_int_equal(info.status, LB_FILE_NOT_PRIVATE);
    int fd = lb_file_open(p, O_RDONLY, 0, LB_FILE_OWNED, &info);
    assert_true(fd >= 0);
    close(fd);
    struct passwd *nobody = getpwnam("nobody");
    if (geteuid() != 0 || nobody == NULL) {
        printf("not root: skipping the other-owner case\n");
        return;
    }
    chmod(p, 0600);
    assert_int_equal(chown(p, nobody->pw_uid, (gid_t)-1), 0);
    assert_int_equal(lb_file_open(p, O_RDONLY, 0, LB_FILE_OWNED, &info), -1);
    assert_int_equal(info.status, LB_FILE_NOT_OWNED);
    char why[200];
    lb_file_explain(&info, why, sizeof(why));
    assert_non_null(strstr(why, "owned by uid"));
    fd = lb_file_open(p, O_RDONLY, 0, 0, &info); /* no ownership asked for */
    assert_true(fd >= 0);
    close(fd);
}

static void test_bounded_read(void **state)
{
    (void)state;
    char p[128];
    path_of(p, sizeof(p), "ten");
    write_file(p, "0123456789", 0600);
    lb_file_info info;
    size_t len = 0;
    char *s = lb_file_slurp(p, 0, 10, &len, &info); /* exactly fits */
    assert_non_null(s);
    assert_int_equal(len, 10);
    free(s);
    assert_null(lb_file_slurp(p, 0, 9, &len, &info)); /* one byte too many */
    assert_int_equal(info.status, LB_FILE_TOO_BIG);
    int fd = lb_file_open(p, O_RDONLY, 0, 0, &info);
    char buf[5];
    assert_int_equal(lb_file_read(fd, buf, sizeof(buf), &len, &info), LB_FILE_TOO_BIG);
    assert_int_equal(len, 4);
    assert_string_equal(buf, "0123");
    close(fd);
    path_of(p, sizeof(p), "empty");
    write_file(p, "", 0600);
    s = lb_file_slurp(p, 0, 10, &len, &info);
    assert_non_null(s);
    assert_int_equal(len, 0);
    free(s);
    path_of(p, sizeof(p), "absent");
    assert_null(lb_file_slurp(p, 0, 10, &len, &info));
    assert_int_equal(info.status, LB_FILE_MISSING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_regular_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo_is_refused_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_directory_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_owner_and_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounded_read, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
