/* The credential cache: the reuse window, single-flight under concurrency (the same
 * code runs under ThreadSanitizer in CI), shared errors, invalidation and the file
 * cache's permission checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lb_buf.h"
#include "lb_cache.h"
#include "lb_retry.h"

static atomic_int fetches;
static atomic_int fail_next;

static lb_result fetch(void *ctx, lb_cache_item *out, lb_error *err)
{
    (void)ctx;
    int n = atomic_fetch_add(&fetches, 1) + 1;
    usleep(100 * 1000); /* long enough for every thread to pile up behind this fetch */
    if (atomic_exchange(&fail_next, 0))
        return lb_error_set(err, LB_ERR_AUTH, "refused %d", n);
    char v[32];
    snprintf(v, sizeof(v), "value-%d", n);
    out->value = strdup(v);
    out->lifetime_s = 3600;
    return LB_OK;
}

static lb_logger quiet = {.level = LB_LOG_OFF};

static lb_cache_opts opts(lb_cache_mode mode)
{
    lb_cache_opts o = {.mode = mode, .margin_s = 300, .log = &quiet, .what = "test"};
    return o;
}

static int setup(void **state)
{
    (void)state;
    lb_cache_clear();
    atomic_store(&fetches, 0);
    atomic_store(&fail_next, 0);
    return 0;
}

static void test_window(void **state)
{
    (void)state;
    assert_int_equal(lb_cache_window(3600, 300), 1800); /* never past half its life */
    assert_int_equal(lb_cache_window(3600, 2000), 1600);
    assert_int_equal(lb_cache_window(6, 2), 3);
    assert_int_equal(lb_cache_window(6, 6), 0);
    assert_int_equal(lb_cache_window(0, 0), 0);
    assert_int_equal(lb_cache_window(-5, 0), 0);
}

static void test_reuse_and_invalidate(void **state)
{
    (void)state;
    lb_cache_opts o = opts(LB_CACHE_MEMORY);
    char *v = NULL;
    lb_cache_origin origin;
    lb_error err;
    lb_error_init(&err);
    assert_int_equal(lb_cache_get("k1", &o, fetch, NULL, &v, &origin, &err), LB_OK);
    assert_string_equal(v, "value-1");
    assert_int_equal(origin, LB_FROM_FETCH);
    lb_secret_free(v);
    assert_int_equal(lb_cache_get("k1", &o, fetch, NULL, &v, &origin, &err), LB_OK);
    assert_string_equal(v, "value-1");
    assert_int_equal(origin, LB_FROM_MEMORY);
    /* Another key is another value. */
    char *w = NULL;
    assert_int_equal(lb_cache_get("k2", &o, fetch, NULL, &w, &origin, &err), LB_OK);
    assert_string_equal(w, "value-2");
    /* Invalidating with a stale value keeps the cached one; with the cached one, drops it. */
    lb_cache_invalidate("k1", "value-0", &o);
    lb_secret_free(v);
    assert_int_equal(lb_cache_get("k1", &o, fetch, NULL, &v, &origin, &err), LB_OK);
    assert_int_equal(origin, LB_FROM_MEMORY);
    lb_cache_invalidate("k1", v, &o);
    lb_secret_free(v);
    assert_int_equal(lb_cache_get("k1", &o, fetch, NULL, &v, &origin, &err), LB_OK);
    assert_string_equal(v, "value-3");
    assert_int_equal(origin, LB_FROM_FETCH);
    lb_secret_free(v);
    lb_secret_free(w);
    /* Off: every call fetches. */
    o.mode = LB_CACHE_OFF;
    assert_int_equal(lb_cache_get("k1", &o, fetch, NULL, &v, &origin, &err), LB_OK);
    assert_string_equal(v, "value-4");
    lb_secret_free(v);
}

#define THREADS 64
static pthread_barrier_t barrier;
static atomic_int failures;
static atomic_int successes;

static void *worker(void *arg)
{
    (void)arg;
    lb_cache_opts o = opts(LB_CACHE_MEMORY);
    pthread_barrier_wait(&barrier);
    char *v = NULL;
    lb_cache_origin origin;
    lb_error err;
    lb_error_init(&err);
    if (lb_cache_get("shared", &o, fetch, NULL, &v, &origin, &err) == LB_OK)
        atomic_fetch_add(&successes, strcmp(v, "value-1") == 0);
    else
        atomic_fetch_add(&failures, err.code == LB_ERR_AUTH && strcmp(err.message, "refused 1") == 0);
    lb_secret_free(v);
    return NULL;
}

static void run_threads(void)
{
    pthread_t t[THREADS];
    atomic_store(&failures, 0);
    atomic_store(&successes, 0);
    pthread_barrier_init(&barrier, NULL, THREADS);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, NULL), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&barrier);
}

static void test_single_flight(void **state)
{
    (void)state;
    run_threads();
    assert_int_equal(atomic_load(&fetches), 1);
    assert_int_equal(atomic_load(&successes), THREADS);
}

static void test_failure_wakes_all_waiters(void **state)
{
    (void)state;
    atomic_store(&fail_next, 1);
    run_threads();
    /* Threads that arrived during the failed fetch share its error; none retries it.
     * (A thread scheduled after the failure starts the next fetch, which succeeds.) */
    int f = atomic_load(&fetches);
    assert_true(f == 1 || f == 2);
    assert_int_equal(atomic_load(&failures) + atomic_load(&successes), THREADS);
    assert_true(atomic_load(&failures) >= 1);
}

static char cache_home[] = "/tmp/lb-cache-test-XXXXXX";

static void file_paths(char *dir, size_t size)
{
    assert_int_equal(lb_cache_dir(dir, size), 0);
}

static void test_file_cache(void **state)
{
    (void)state;
    assert_non_null(mkdtemp(cache_home));
    setenv("XDG_CACHE_HOME", cache_home, 1);
    char dir[512];
    file_paths(dir, sizeof(dir));
    lb_cache_opts o = opts(LB_CACHE_FILE);
    char *v = NULL;
    lb_cache_origin origin;
    lb_error err;
    lb_error_init(&err);
    assert_int_equal(lb_cache_get("fk", &o, fetch, NULL, &v, &origin, &err), LB_OK);
    assert_int_equal(origin, LB_FROM_FETCH);
    lb_secret_free(v);
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    char id[65], path[700];
    lb_sha256_hex("fk", id);
    snprintf(path, sizeof(path), "%s/%s.cred", dir, id);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    /* Another process would find it in the file: simulate with an empty memory cache. */
    lb_cache_clear();
    assert_int_equal(lb_cache_get("fk", &o, fetch, NULL, &v, &origin, &err), LB_OK);
    assert_int_equal(origin, LB_FROM_FILE);
    assert_string_equal(v, "value-1");
    lb_secret_free(v);

    /* A file others can read is refused (and replaced by a fresh fetch). */
    lb_cache_clear();
    chmod(path, 0644);
    assert_int_equal(lb_cache_get("fk", &o, fetch, NULL, &v, &origin, &err), LB_OK);
    assert_int_equal(origin, LB_FROM_FETCH);
    lb_secret_free(v);

    /* A directory writable by the group is refused: memory only, no file written. */
    lb_cache_clear();
    chmod(dir, 0770);
    assert_int_equal(lb_cache_get("fk2", &o, fetch, NULL, &v, &origin, &err), LB_OK);
    assert_int_equal(origin, LB_FROM_FETCH);
    lb_secret_free(v);
    lb_sha256_hex("fk2", id);
    snprintf(path, sizeof(path), "%s/%s.cred", dir, id);
    assert_int_not_equal(stat(path, &st), 0);
    chmod(dir, 0700);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cache_home);
    assert_int_equal(system(cmd), 0);
}

/* ---- lifetimes from the network or a file are clamped --------------------------- */

static void test_clamp(void **state)
{
    (void)state;
    assert_int_equal(lb_cache_clamp_lifetime(3600), 3600);
    assert_int_equal(lb_cache_clamp_lifetime(0), 0);
    assert_int_equal(lb_cache_clamp_lifetime(-1), 0);
    assert_int_equal(lb_cache_clamp_lifetime(LLONG_MIN), 0);
    assert_int_equal(lb_cache_clamp_lifetime(86400), 86400);
    assert_int_equal(lb_cache_clamp_lifetime(86401), 86400);
    assert_int_equal(lb_cache_clamp_lifetime(LLONG_MAX), 86400);
    assert_int_equal(lb_cache_window(LLONG_MAX, 300), 43200);
    assert_int_equal(lb_cache_window(LLONG_MAX, 0), 43200);
    assert_int_equal(lb_cache_window(LLONG_MIN, 300), 0);
    assert_int_equal(lb_cache_window(LLONG_MIN, 0), 0);
    assert_int_equal(lb_cache_window(86400LL * 365 * 1000, 300), 43200);
}

static lb_result fetch_forever(void *ctx, lb_cache_item *out, lb_error *err)
{
    (void)ctx;
    (void)err;
    atomic_fetch_add(&fetches, 1);
    out->value = strdup("forever");
    out->lifetime_s = LLONG_MAX;
    return LB_OK;
}

static void test_huge_lifetime_reused(void **state)
{
    (void)state;
    lb_cache_opts o = opts(LB_CACHE_MEMORY);
    char *v = NULL;
    lb_cache_origin origin;
    lb_error err;
    lb_error_init(&err);
    assert_int_equal(lb_cache_get("huge", &o, fetch_forever, NULL, &v, &origin, &err), LB_OK);
    lb_secret_free(v);
    assert_int_equal(lb_cache_get("huge", &o, fetch_forever, NULL, &v, &origin, &err), LB_OK);
    assert_int_equal(origin, LB_FROM_MEMORY);
    assert_int_equal(atomic_load(&fetches), 1);
    lb_secret_free(v);
}

static char forged_home[] = "/tmp/lb-cache-forged-XXXXXX";

static void write_forged(const char *key, const char *until)
{
    char dir[512], id[65], path[700];
    assert_int_equal(lb_cache_dir(dir, sizeof(dir)), 0);
    lb_sha256_hex(key, id);
    snprintf(path, sizeof(path), "%s/%s.cred", dir, id);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "lakebase-odbc-cache 1\n%s\nforged\n", until);
    fclose(f);
    chmod(path, 0600);
}

static void test_forged_file(void **state)
{
    (void)state;
    assert_non_null(mkdtemp(forged_home));
    setenv("XDG_CACHE_HOME", forged_home, 1);
    lb_cache_opts o = opts(LB_CACHE_FILE);
    char *v = NULL;
    lb_cache_origin origin;
    lb_error err;
    lb_error_init(&err);
    /* Creates the directory. */
    assert_int_equal(lb_cache_get("setup", &o, fetch, NULL, &v, &origin, &err), LB_OK);
    lb_secret_free(v);
    /* until far in the future: used, for at most the clamped lifetime, and reused. */
    write_forged("max", "9223372036854775807");
    assert_int_equal(lb_cache_get("max", &o, fetch, NULL, &v, &origin, &err), LB_OK);
    assert_int_equal(origin, LB_FROM_FILE);
    assert_string_equal(v, "forged");
    lb_secret_free(v);
    assert_int_equal(lb_cache_get("max", &o, fetch, NULL, &v, &origin, &err), LB_OK);
    assert_int_equal(origin, LB_FROM_MEMORY);
    lb_secret_free(v);
    /* until long past: not used. */
    write_forged("min", "-9223372036854775808");
    assert_int_equal(lb_cache_get("min", &o, fetch, NULL, &v, &origin, &err), LB_OK);
    assert_int_equal(origin, LB_FROM_FETCH);
    lb_secret_free(v);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", forged_home);
    assert_int_equal(system(cmd), 0);
}

/* ---- the cache stays bounded ---------------------------------------------------- */

static lb_result fetch_fail(void *ctx, lb_cache_item *out, lb_error *err)
{
    (void)ctx;
    (void)out;
    return lb_error_set(err, LB_ERR_AUTH, "The workspace rejected the service principal's credentials.");
}

static lb_result fetch_ok(void *ctx, lb_cache_item *out, lb_error *err)
{
    (void)ctx;
    (void)err;
    out->value = strdup("a-value");
    out->lifetime_s = 3600;
    return LB_OK;
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void test_bounded(void **state)
{
    (void)state;
    lb_cache_opts o = opts(LB_CACHE_MEMORY);
    long before = rss_kb();
    char key[64];
    char *v = NULL;
    lb_cache_origin origin;
    lb_error err;
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "wrong-secret-%d", i);
        lb_error_init(&err);
        assert_int_equal(lb_cache_get(key, &o, fetch_fail, NULL, &v, &origin, &err), LB_ERR_AUTH);
    }
    size_t failed_entries = lb_cache_count();
    long grown = rss_kb() - before;
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "identity-%d", i);
        lb_error_init(&err);
        assert_int_equal(lb_cache_get(key, &o, fetch_ok, NULL, &v, &origin, &err), LB_OK);
        lb_secret_free(v);
    }
    size_t ok_entries = lb_cache_count();
    /* The most recent identity is still cached. */
    assert_int_equal(lb_cache_get("identity-4999", &o, fetch_fail, NULL, &v, &origin, &err), LB_OK);
    assert_int_equal(origin, LB_FROM_MEMORY);
    lb_secret_free(v);
    printf("5000 failed keys: %zu entries, RSS +%ld KB; then 5000 cached keys: %zu entries (cap %d)\n",
           failed_entries, grown, ok_entries, LB_CACHE_MAX_ENTRIES);
    assert_true(failed_entries < LB_CACHE_MAX_ENTRIES);
    assert_true(ok_entries <= LB_CACHE_MAX_ENTRIES);
}

/* ---- waits end at the waiter's deadline; a timeout is never shared --------------- */

static atomic_int slow_ms;
static atomic_int timeout_next;

static lb_result fetch_slow(void *ctx, lb_cache_item *out, lb_error *err)
{
    (void)ctx;
    int n = atomic_fetch_add(&fetches, 1) + 1;
    usleep((useconds_t)atomic_load(&slow_ms) * 1000);
    if (atomic_exchange(&timeout_next, 0))
        return lb_error_set(err, LB_ERR_TIMEOUT, "leader timed out %d", n);
    char v[32];
    snprintf(v, sizeof(v), "slow-%d", n);
    out->value = strdup(v);
    out->lifetime_s = 3600;
    return LB_OK;
}

static void *slow_leader(void *arg)
{
    lb_cache_opts o = opts(LB_CACHE_MEMORY);
    char *v = NULL;
    lb_cache_origin origin;
    lb_error *err = arg;
    lb_error_init(err);
    lb_cache_get("slow", &o, fetch_slow, NULL, &v, &origin, err);
    lb_secret_free(v);
    return NULL;
}

static double mono_s(void)
{
    return lb_now_ms() / 1000.0;
}

static void test_wait_deadline(void **state)
{
    (void)state;
    atomic_store(&slow_ms, 1500);
    pthread_t t;
    lb_error lerr;
    assert_int_equal(pthread_create(&t, NULL, slow_leader, &lerr), 0);
    while (atomic_load(&fetches) == 0)
        usleep(1000);
    lb_deadline d;
    lb_deadline_start(&d, 1, 0);
    lb_cache_opts o = opts(LB_CACHE_MEMORY);
    o.deadline = &d;
    char *v = NULL;
    lb_cache_origin origin;
    lb_error err;
    lb_error_init(&err);
    double t0 = mono_s();
    lb_result rc = lb_cache_get("slow", &o, fetch_slow, NULL, &v, &origin, &err);
    double took = mono_s() - t0;
    printf("waiter with a 1 s deadline behind a 1.5 s fetch: code %d after %.2f s\n", (int)err.code, took);
    assert_int_equal(rc, LB_ERR_TIMEOUT);
    assert_int_equal(err.code, LB_ERR_TIMEOUT);
    assert_non_null(strstr(err.message, "waiting for another connection's request for the test"));
    assert_true(took < 1.45);
    pthread_join(t, NULL);
    assert_int_equal(lerr.code, LB_OK);
}

static void test_timeout_not_shared(void **state)
{
    (void)state;
    atomic_store(&slow_ms, 500);
    atomic_store(&timeout_next, 1);
    pthread_t t;
    lb_error lerr;
    assert_int_equal(pthread_create(&t, NULL, slow_leader, &lerr), 0);
    while (atomic_load(&fetches) == 0)
        usleep(1000);
    lb_cache_opts o = opts(LB_CACHE_MEMORY);
    char *v = NULL;
    lb_cache_origin origin;
    lb_error err;
    lb_error_init(&err);
    assert_int_equal(lb_cache_get("slow", &o, fetch_slow, NULL, &v, &origin, &err), LB_OK);
    assert_string_equal(v, "slow-2");
    assert_int_equal(origin, LB_FROM_FETCH);
    lb_secret_free(v);
    pthread_join(t, NULL);
    assert_int_equal(lerr.code, LB_ERR_TIMEOUT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_window, setup),
        cmocka_unit_test_setup(test_reuse_and_invalidate, setup),
        cmocka_unit_test_setup(test_single_flight, setup),
        cmocka_unit_test_setup(test_failure_wakes_all_waiters, setup),
        cmocka_unit_test_setup(test_file_cache, setup),
        cmocka_unit_test_setup(test_clamp, setup),
        cmocka_unit_test_setup(test_huge_lifetime_reused, setup),
        cmocka_unit_test_setup(test_forged_file, setup),
        cmocka_unit_test_setup(test_wait_deadline, setup),
        cmocka_unit_test_setup(test_timeout_not_shared, setup),
        cmocka_unit_test_setup(test_bounded, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
