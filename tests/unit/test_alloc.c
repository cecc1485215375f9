/* Out of memory, one allocation at a time: the connection-string parser, the settings'
 * resolution and the building of both connection strings, run again and again with the
 * n-th allocation made by the core failing (n = 1, 2, ...), until a run makes no more
 * allocations than n. Each run must end cleanly: an LB_ERR_NOMEM with a message (or a
 * NULL string from the builders), no crash, and every block it allocated freed.
 * Linked with -Wl,--wrap for malloc, calloc, realloc, strdup, strndup and free, which
 * reach only the core's and this file's calls (not those inside libc or other libraries). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lb_connect.h"
#include "lb_secmem.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void __real_free(void *p);

static long calls, fail_at = -1, live;
static int injected;

/* 1 when this allocation is the one to fail. */
static int should_fail(void)
{
    if (fail_at < 0)
        return 0;
    if (++calls == fail_at) {
        injected = 1;
        return 1;
    }
    return 0;
}

void *__wrap_malloc(size_t n)
{
    void *p = should_fail() ? NULL : __real_malloc(n);
    live += p != NULL;
    return p;
}

void *__wrap_calloc(size_t n, size_t size)
{
    void *p = should_fail() ? NULL : __real_calloc(n, size);
    live += p != NULL;
    return p;
}

void *__wrap_realloc(void *old, size_t n)
{
    if (should_fail())
        return NULL;
    void *p = __real_realloc(old, n);
    live += old == NULL && p != NULL;
    return p;
}

char *__wrap_strdup(const char *s)
{
    char *p = should_fail() ? NULL : __real_strdup(s);
    live += p != NULL;
    return p;
}

char *__wrap_strndup(const char *s, size_t n)
{
    char *p = should_fail() ? NULL : __real_strndup(s, n);
    live += p != NULL;
    return p;
}

void __wrap_free(void *p)
{
    live -= p != NULL;
    __real_free(p);
}

static const char connstr[] =
    "Driver={Lakebase};DatabricksHost=ws.example.com;ClientID=c00f575e-d706-4f6b-b62c-e7a14850571b;"
    "ClientSecret={s3cr}}et;x};Endpoint=projects/p/branches/b/endpoints/e;Servername=ep.example.com;Port=5433;"
    "UID=c00f575e-d706-4f6b-b62c-e7a14850571b;pqopt={keepalives_idle=30};UseDeclareFetch=1;ReadOnly=1;"
    "ReadOnly=0;TokenCache=off;WakeTimeout=5";

typedef enum { STEP_PARSE = 1, STEP_RESOLVE, STEP_PSQL, STEP_OUTPUT, STEP_DONE } step;

/* One run; returns the step that failed (STEP_DONE: none) and checks the failure. */
static step run(void)
{
    lb_error err;
    lb_error_init(&err);
    lb_kvlist kv;
    if (lb_connstr_parse(connstr, strlen(connstr), &kv, &err) != LB_OK) {
        assert_int_equal(err.code, LB_ERR_NOMEM);
        assert_true(err.message[0] != '\0');
        return STEP_PARSE;
    }
    lb_sources sources = {0};
    lb_settings s;
    step failed = STEP_DONE;
    if (lb_settings_resolve(&kv, &sources, &s, &err) != LB_OK) {
        if (err.code != LB_ERR_NOMEM)
            fail_msg("settings failed with code %d: %s", (int)err.code, err.message);
        assert_true(err.message[0] != '\0');
        lb_kvlist_free(&kv);
        return STEP_RESOLVE;
    }
    char *psql = lb_build_psql_connstr(&s, &kv, "credential}");
    char *out = lb_build_output_connstr(&kv);
    if (psql == NULL)
        failed = STEP_PSQL;
    else if (out == NULL)
        failed = STEP_OUTPUT;
    else {
        assert_non_null(strstr(psql, "PWD={credential}}}"));
        assert_null(strstr(out, "s3cr"));
    }
    lb_secret_free(psql);
    free(out);
    lb_settings_free(&s);
    lb_kvlist_free(&kv);
    return failed;
}

static void test_each_allocation_fails(void **state)
{
    (void)state;
    /* A clean run first: it must succeed and free all it allocates. */
    live = 0;
    assert_int_equal(run(), STEP_DONE);
    assert_int_equal(live, 0);
    long n = 0;
    int by_step[STEP_DONE + 1] = {0};
    for (n = 1; n < 100000; n++) {
        calls = 0;
        injected = 0;
        live = 0;
        fail_at = n;
        step st = run();
        fail_at = -1;
        if (!injected) {
            assert_int_equal(st, STEP_DONE);
            break;
        }
        if (st == STEP_DONE)
            fail_msg("allocation %ld failed, yet the run reported success", n);
        if (live != 0)
            fail_msg("allocation %ld failed (in step %d): %ld block(s) not freed", n, (int)st, live);
        by_step[st]++;
    }
    printf("%ld allocations failed one at a time: %d in parsing, %d in settings, %d in the psqlODBC string, "
           "%d in the output string; each a clean error, nothing leaked\n",
           n - 1, by_step[STEP_PARSE], by_step[STEP_RESOLVE], by_step[STEP_PSQL], by_step[STEP_OUTPUT]);
    assert_true(n > 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_allocation_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
