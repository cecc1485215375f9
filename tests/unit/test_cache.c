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

static lb_cache_opts worker_opts; /* what the threads of run_threads ask with: setup sets memory */

static int setup(void **state)
{
    (void)state;
    lb_cache_clear();
    atomic_store(&fetches, 0);
    atomic_store(&fail_next, 0);
    worker_opts = opts(LB_CACHE_MEMORY);
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
    lb_cache_opts o = worker_opts;
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

/* Runs the threads against a fetch that fails once: those that arrived during the failed
 * fetch share its error; none retries it. (A thread scheduled after the failure starts
 * the next fetch, which succeeds.) */
static void run_threads_failing_once(void)
{
    atomic_store(&fetches, 0);
    atomic_store(&fail_next, 1);
    run_threads();
    int f = atomic_load(&fetches);
    assert_true(f == 1 || f == 2);
    assert_int_equal(atomic_load(&failures) + atomic_load(&successes), THREADS);
    assert_true(atomic_load(&failures) >= 1);
}

static void test_failure_wakes_all_waiters(void **state)
{
    (void)state;
    run_threads_failing_once();
}

/* TokenCache=off for workspace tokens (a shared flight): the threads that arrive during
 * one fetch share it, a failure included; its value is shared until the fetching caller's
 * flight ends, and then nothing is kept: the next caller fetches again. */
static void test_off_shares_flight(void **state)
{
    (void)state;
    lb_cache_flight flight;
    memset(&flight, 0, sizeof(flight));
    worker_opts = opts(LB_CACHE_OFF);
    worker_opts.flight = &flight;
    run_threads();
    assert_int_equal(atomic_load(&fetches), 1);
    assert_int_equal(atomic_load(&successes), THREADS);
    assert_int_equal(lb_cache_count(), 1);

    char *v = NULL;
    lb_cache_origin origin;
    lb_error err;
    lb_error_init(&err);
    assert_int_equal(lb_cache_get("shared", &worker_opts, fetch, NULL, &v, &origin, &err), LB_OK);
    assert_string_equal(v, "value-1"); /* the first fetch's connect is still under way */
    lb_secret_free(v);
    /* The value goes with the last connect that holds it: here every thread held it through
     * the one flight of worker_opts. */
    lb_cache_flight_end(&flight);
    assert_int_equal(lb_cache_count(), 0);
    assert_int_equal(lb_cache_get("shared", &worker_opts, fetch, NULL, &v, &origin, &err), LB_OK);
    assert_string_equal(v, "value-2");
    assert_int_equal(origin, LB_FROM_FETCH);
    lb_secret_free(v);
    lb_cache_flight_end(&flight);
    assert_int_equal(lb_cache_count(), 0);
    lb_cache_flight_end(&flight); /* zeroed: nothing to end */

    /* Without a flight, off shares nothing. */
    worker_opts.flight = NULL;
    assert_int_equal(lb_cache_get("shared", &worker_opts, fetch, NULL, &v, &origin, &err), LB_OK);
    assert_string_equal(v, "value-3");
    lb_secret_free(v);

    worker_opts.flight = &flight;
    run_threads_failing_once();
    lb_cache_flight_end(&flight);
    assert_int_equal(lb_cache_count(), 0);
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


/* ---- the sealed file cache (TokenCache=auto) --------------------------------------- */

static char sealed_home[] = "/tmp/lb-cache-sealed-XXXXXX";

static lb_cache_opts sealed_opts(const char *secret)
{
    lb_cache_opts o = opts(LB_CACHE_AUTO);
    o.stable_secret = secret;
    return o;
}

static void key_path(const char *key, char *path, size_t size)
{
    char dir[512], id[65];
    assert_int_equal(lb_cache_dir(dir, sizeof(dir)), 0);
    lb_sha256_hex(key, id);
    snprintf(path, size, "%s/%s.cred", dir, id);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static lb_result get(const char *key, const lb_cache_opts *o, char **v, lb_cache_origin *origin)
{
    lb_error err;
    lb_error_init(&err);
    return lb_cache_get(key, o, fetch, NULL, v, origin, &err);
}

/* Sealed under the identity's secret: round trip through the file, no value in clear,
 * a tampered file and a file sealed under another secret are refused and replaced. */
static void test_sealed_file(void **state)
{
    (void)state;
    assert_non_null(mkdtemp(sealed_home));
    setenv("XDG_CACHE_HOME", sealed_home, 1);
    lb_cache_opts o = sealed_opts("secret-one");
    char *v = NULL, path[700];
    lb_cache_origin origin;
    assert_int_equal(get("sk", &o, &v, &origin), LB_OK);
    assert_string_equal(v, "value-1");
    lb_secret_free(v);
    key_path("sk", path, sizeof(path));
    char *text = slurp(path);
    assert_non_null(text);
    assert_non_null(strstr(text, "lakebase-odbc-cache 2\nsealed\n"));
    assert_null(strstr(text, "value-1"));
    free(text);

    /* Another process (an empty memory cache) with the same secret reads it. */
    lb_cache_clear();
    assert_int_equal(get("sk", &o, &v, &origin), LB_OK);
    assert_int_equal(origin, LB_FROM_FILE);
    assert_string_equal(v, "value-1");
    lb_secret_free(v);

    /* Another secret (same key, same file): refused, fetched, never the other's value. */
    lb_cache_clear();
    lb_cache_opts other = sealed_opts("secret-two");
    assert_int_equal(get("sk", &other, &v, &origin), LB_OK);
    assert_int_equal(origin, LB_FROM_FETCH);
    assert_string_equal(v, "value-2");
    lb_secret_free(v);

    /* The file is now sealed under secret-two: secret-one refuses it in turn. */
    lb_cache_clear();
    assert_int_equal(get("sk", &o, &v, &origin), LB_OK);
    assert_int_equal(origin, LB_FROM_FETCH);
    assert_string_equal(v, "value-3");
    lb_secret_free(v);

    /* Tampered: each of a header digit and a ciphertext digit changed. */
    const char *where[] = {"sealed\n", NULL};
    for (int t = 0; t < 2; t++) {
        text = slurp(path);
        assert_non_null(text);
        char *p = where[t] ? strstr(text, where[t]) + strlen(where[t]) : text + strlen(text) - 10;
        *p = *p == '1' ? '2' : '1';
        FILE *f = fopen(path, "w");
        fputs(text, f);
        fclose(f);
        free(text);
        lb_cache_clear();
        int before = atomic_load(&fetches);
        assert_int_equal(get("sk", &o, &v, &origin), LB_OK);
        assert_int_equal(origin, LB_FROM_FETCH);
        assert_int_equal(atomic_load(&fetches), before + 1);
        lb_secret_free(v);
        /* ... and replaced: the next reader takes the file. */
        lb_cache_clear();
        assert_int_equal(get("sk", &o, &v, &origin), LB_OK);
        assert_int_equal(origin, LB_FROM_FILE);
        lb_secret_free(v);
    }

    /* An earlier version's plain file where a sealed one belongs: refused, replaced. */
    FILE *f = fopen(path, "w");
    fprintf(f, "lakebase-odbc-cache 1\n9999999999\nplanted\n");
    fclose(f);
    lb_cache_clear();
    assert_int_equal(get("sk", &o, &v, &origin), LB_OK);
    assert_int_equal(origin, LB_FROM_FETCH);
    assert_string_not_equal(v, "planted");
    lb_secret_free(v);

    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sealed_home);
    assert_int_equal(system(cmd), 0);
}

/* auto: a sealed file with a stable secret and a private directory; memory without a
 * secret, or with a directory others can write. Public values: a plain file. */
static char auto_home[] = "/tmp/lb-cache-auto-XXXXXX";

static void test_auto_picks(void **state)
{
    (void)state;
    assert_non_null(mkdtemp(auto_home));
    setenv("XDG_CACHE_HOME", auto_home, 1);
    char *v = NULL, path[700];
    lb_cache_origin origin;
    struct stat st;
    lb_cache_opts none = sealed_opts(NULL);
    assert_int_equal(get("no-secret", &none, &v, &origin), LB_OK);
    lb_secret_free(v);
    key_path("no-secret", path, sizeof(path));
    assert_int_not_equal(stat(path, &st), 0); /* memory only */

    lb_cache_opts pub = sealed_opts(NULL);
    pub.public_value = 1;
    assert_int_equal(get("public", &pub, &v, &origin), LB_OK);
    lb_secret_free(v);
    key_path("public", path, sizeof(path));
    char *text = slurp(path);
    assert_non_null(text);
    assert_non_null(strstr(text, "lakebase-odbc-cache 2\npublic\n"));
    free(text);

    lb_cache_opts o = sealed_opts("s");
    char dir[512];
    assert_int_equal(lb_cache_dir(dir, sizeof(dir)), 0);
    chmod(dir, 0770);
    assert_int_equal(get("not-private", &o, &v, &origin), LB_OK);
    lb_secret_free(v);
    key_path("not-private", path, sizeof(path));
    assert_int_not_equal(stat(path, &st), 0); /* memory only */
    chmod(dir, 0700);
    assert_int_equal(get("private", &o, &v, &origin), LB_OK);
    lb_secret_free(v);
    key_path("private", path, sizeof(path));
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    /* TokenCache=file without a stable secret: a plain file, as before the sealed cache. */
    lb_cache_opts plain = opts(LB_CACHE_FILE);
    assert_int_equal(get("plain", &plain, &v, &origin), LB_OK);
    lb_secret_free(v);
    key_path("plain", path, sizeof(path));
    text = slurp(path);
    assert_non_null(text);
    assert_non_null(strstr(text, "lakebase-odbc-cache 2\nplain\n"));
    free(text);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", auto_home);
    assert_int_equal(system(cmd), 0);
}

/* ---- refresh ahead ------------------------------------------------------------------ */

static atomic_int refresh_fetches;
static atomic_int copies_alive;
static lb_deadline refresh_deadline;

/* A 4 s value (margin 1: fresh for 2 s, used until 3 s); the second fetch takes 1.5 s. */
static lb_result fetch_short(void *ctx, lb_cache_item *out, lb_error *err)
{
    (void)err;
    int n = atomic_fetch_add(&refresh_fetches, 1) + 1;
    assert_true(ctx != NULL);
    if (n > 1)
        usleep(1500 * 1000);
    char v[32];
    snprintf(v, sizeof(v), "short-%d", n);
    out->value = strdup(v);
    out->lifetime_s = 4;
    return LB_OK;
}

static void *copy_ctx(void *ctx, lb_cache_opts *o)
{
    (void)ctx;
    atomic_fetch_add(&copies_alive, 1);
    lb_deadline_start(&refresh_deadline, 0, 10);
    o->deadline = &refresh_deadline;
    return strdup("copy");
}

static void free_ctx(void *copy)
{
    atomic_fetch_sub(&copies_alive, 1);
    free(copy);
}

static void test_refresh_ahead(void **state)
{
    (void)state;
    lb_cache_opts o = opts(LB_CACHE_MEMORY);
    o.margin_s = 1;
    o.ctx_copy = copy_ctx;
    o.ctx_free = free_ctx;
    char *v = NULL, ctx[] = "ctx";
    lb_cache_origin origin;
    lb_error err;
    lb_error_init(&err);
    assert_int_equal(lb_cache_get("ra", &o, fetch_short, ctx, &v, &origin, &err), LB_OK);
    assert_string_equal(v, "short-1");
    lb_secret_free(v);
    usleep(2200 * 1000); /* past the refresh point (2 s), before the end of use (3 s) */
    long long t0 = lb_now_ms();
    assert_int_equal(lb_cache_get("ra", &o, fetch_short, ctx, &v, &origin, &err), LB_OK);
    long long took = lb_now_ms() - t0;
    assert_string_equal(v, "short-1"); /* at once, the value it had */
    assert_int_equal(origin, LB_FROM_MEMORY);
    lb_secret_free(v);
    /* Concurrent callers meanwhile share it, and start no second refresh. */
    assert_int_equal(lb_cache_get("ra", &o, fetch_short, ctx, &v, &origin, &err), LB_OK);
    assert_string_equal(v, "short-1");
    lb_secret_free(v);
    assert_int_equal(lb_cache_refreshing(), 1);
    for (int i = 0; i < 100 && lb_cache_refreshing() > 0; i++)
        usleep(50 * 1000);
    assert_int_equal(lb_cache_refreshing(), 0);
    assert_int_equal(lb_cache_get("ra", &o, fetch_short, ctx, &v, &origin, &err), LB_OK);
    printf("refresh ahead: the look-up past the refresh point took %lld ms (the refresh takes 1500 ms); then %s\n",
           took, v);
    assert_string_equal(v, "short-2");
    assert_int_equal(origin, LB_FROM_MEMORY);
    lb_secret_free(v);
    assert_int_equal(atomic_load(&refresh_fetches), 2);
    assert_int_equal(atomic_load(&copies_alive), 0); /* the refresh's copy was freed */
    assert_true(took < 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_window, setup),
        cmocka_unit_test_setup(test_reuse_and_invalidate, setup),
        cmocka_unit_test_setup(test_single_flight, setup),
        cmocka_unit_test_setup(test_failure_wakes_all_waiters, setup),
        cmocka_unit_test_setup(test_off_shares_flight, setup),
        cmocka_unit_test_setup(test_file_cache, setup),
        cmocka_unit_test_setup(test_clamp, setup),
        cmocka_unit_test_setup(test_huge_lifetime_reused, setup),
        cmocka_unit_test_setup(test_forged_file, setup),
        cmocka_unit_test_setup(test_wait_deadline, setup),
        cmocka_unit_test_setup(test_timeout_not_shared, setup),
        cmocka_unit_test_setup(test_bounded, setup),
        cmocka_unit_test_setup(test_sealed_file, setup),
        cmocka_unit_test_setup(test_auto_picks, setup),
        cmocka_unit_test_setup(test_refresh_ahead, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
