/* The credential cache (see lb_cache.h). */
#include "lb_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lb_buf.h"
#include "lb_secmem.h"

#define FILE_MAGIC "lakebase-odbc-cache 1\n"
#define FILE_MAX (64 * 1024)

typedef struct entry {
    char id[65];                /* sha256 of the key */
    char *value;                /* NULL when nothing usable is cached */
    long long usable_until_ms;  /* monotonic */
    int fetching;               /* a fetch is under way */
    unsigned long generation;   /* counts fetches started */
    unsigned long failed_generation;
    lb_error failure;           /* the error of fetch failed_generation */
    struct entry *next;
} entry;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fetched = PTHREAD_COND_INITIALIZER;
static entry *entries;

void lb_sha256_hex(const char *s, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

long long lb_cache_window(long long lifetime_s, int margin_s)
{
    if (lifetime_s <= 0)
        return 0;
    long long w = lifetime_s - margin_s;
    if (w > lifetime_s / 2)
        w = lifetime_s / 2;
    return w > 0 ? w : 0;
}

static entry *find(const char *id, int create)
{
    entry *e = entries;
    while (e && strcmp(e->id, id) != 0)
        e = e->next;
    if (e == NULL && create && (e = calloc(1, sizeof(*e))) != NULL) {
        memcpy(e->id, id, sizeof(e->id));
        e->next = entries;
        entries = e;
    }
    return e;
}

static void drop_value(entry *e)
{
    lb_secret_free(e->value);
    e->value = NULL;
    e->usable_until_ms = 0;
}

void lb_cache_clear(void)
{
    pthread_mutex_lock(&mu);
    for (entry *e = entries; e; e = e->next)
        if (!e->fetching)
            drop_value(e);
    pthread_mutex_unlock(&mu);
}

/* ---- the file cache ------------------------------------------------------------ */

int lb_cache_dir(char *buf, size_t size)
{
    const char *base = secure_getenv("XDG_CACHE_HOME");
    if (base && base[0] == '/')
        return snprintf(buf, size, "%s/lakebase-odbc", base) < (int)size ? 0 : -1;
    const char *home = secure_getenv("HOME");
    if (home == NULL || home[0] != '/') {
        struct passwd *pw = getpwuid(geteuid());
        home = pw ? pw->pw_dir : NULL;
    }
    if (home == NULL)
        return -1;
    return snprintf(buf, size, "%s/.cache/lakebase-odbc", home) < (int)size ? 0 : -1;
}

/* The cache directory, created 0700 if missing, checked to be ours and not writable by
 * others. 0 when usable; otherwise logs why and returns -1. */
static int usable_dir(const lb_cache_opts *opts, char *dir, size_t size)
{
    if (lb_cache_dir(dir, size) != 0) {
        lb_log(opts->log, LB_LOG_ERROR, "TokenCache=file: no cache directory (set XDG_CACHE_HOME or HOME); "
                                        "using the in-memory cache");
        return -1;
    }
    char parent[4096];
    snprintf(parent, sizeof(parent), "%s", dir);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = '\0';
        if (mkdir(parent, 0700) != 0 && errno != EEXIST) {
            lb_log(opts->log, LB_LOG_ERROR, "TokenCache=file: cannot create %s (%s); using the in-memory cache",
                   parent, strerror(errno));
            return -1;
        }
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        lb_log(opts->log, LB_LOG_ERROR, "TokenCache=file: cannot create %s (%s); using the in-memory cache", dir,
               strerror(errno));
        return -1;
    }
    struct stat st;
    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        lb_log(opts->log, LB_LOG_ERROR, "TokenCache=file: %s is not a directory; using the in-memory cache", dir);
        return -1;
    }
    if (st.st_uid != geteuid()) {
        lb_log(opts->log, LB_LOG_ERROR,
               "TokenCache=file: refusing %s: it is owned by uid %ld, not by this user (uid %ld); using the "
               "in-memory cache", dir, (long)st.st_uid, (long)geteuid());
        return -1;
    }
    if (st.st_mode & 022) {
        lb_log(opts->log, LB_LOG_ERROR,
               "TokenCache=file: refusing %s: it is writable by group or others (mode %03o; want 0700); using "
               "the in-memory cache", dir, (unsigned)(st.st_mode & 0777));
        return -1;
    }
    return 0;
}

/* Opens path and checks it is a regular file of ours that nobody else can read. */
static int open_private(const lb_cache_opts *opts, const char *path, int flags)
{
    int fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
        lb_log(opts->log, LB_LOG_ERROR,
               "TokenCache=file: refusing %s: not a regular file of this user with mode 0600", path);
        close(fd);
        errno = EPERM;
        return -1;
    }
    return fd;
}

/* Reads a cached value: 0 and *value (malloc'd) with its remaining seconds, or -1. */
static int read_file(const lb_cache_opts *opts, const char *path, char **value, long long *remaining_s)
{
    int fd = open_private(opts, path, O_RDONLY);
    if (fd < 0)
        return -1;
    char *buf = malloc(FILE_MAX + 1);
    ssize_t n = buf ? read(fd, buf, FILE_MAX) : -1;
    close(fd);
    if (n <= 0) {
        free(buf);
        return -1;
    }
    buf[n] = '\0';
    int rc = -1;
    size_t ml = strlen(FILE_MAGIC);
    char *end = NULL;
    if ((size_t)n > ml && memcmp(buf, FILE_MAGIC, ml) == 0) {
        long long until = strtoll(buf + ml, &end, 10);
        if (end && *end == '\n') {
            char *v = end + 1;
            char *nl = strchr(v, '\n');
            if (nl && nl > v) {
                *nl = '\0';
                long long left = until - (long long)time(NULL);
                if (left > 0 && (*value = lb_secmem_dup(v)) != NULL) {
                    *remaining_s = left;
                    rc = 0;
                }
            }
        }
    }
    lb_wipe(buf, (size_t)n);
    free(buf);
    return rc;
}

/* Writes the value atomically (temporary file, then rename). */
static void write_file(const lb_cache_opts *opts, const char *dir, const char *path, const char *value,
                       long long window_s)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s/.tmp.%ld.%ld", dir, (long)getpid(), (long)syscall(SYS_gettid));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        lb_log(opts->log, LB_LOG_ERROR, "TokenCache=file: cannot write %s (%s)", tmp, strerror(errno));
        return;
    }
    lb_buf b;
    lb_buf_init(&b, FILE_MAX);
    lb_buf_printf(&b, "%s%lld\n%s\n", FILE_MAGIC, (long long)time(NULL) + window_s, value);
    int ok = !b.overflow && write(fd, b.data, b.len) == (ssize_t)b.len;
    lb_buf_free_secret(&b);
    if (close(fd) != 0)
        ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        lb_log(opts->log, LB_LOG_ERROR, "TokenCache=file: cannot write %s (%s)", path, strerror(errno));
        unlink(tmp);
    }
}

/* Takes the key's lock file; -1 (and logs) when the file cache cannot be used. */
static int lock_key(const lb_cache_opts *opts, const char *id, char *dir, size_t dsize, char *path, size_t psize)
{
    if (usable_dir(opts, dir, dsize) != 0)
        return -1;
    char lock[4200];
    snprintf(lock, sizeof(lock), "%s/%s.lock", dir, id);
    snprintf(path, psize, "%s/%s.cred", dir, id);
    int fd = open_private(opts, lock, O_RDWR | O_CREAT);
    if (fd < 0) {
        if (errno != EPERM)
            lb_log(opts->log, LB_LOG_ERROR, "TokenCache=file: cannot open %s (%s); using the in-memory cache", lock,
                   strerror(errno));
        return -1;
    }
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

/* The fetch run by the single flight: the file cache first (file mode), then fetch. */
static lb_result fetch_through(const char *id, const lb_cache_opts *opts, lb_fetch_fn fetch, void *ctx,
                               lb_cache_item *item, long long *window_s, lb_cache_origin *origin, lb_error *err)
{
    char dir[4096], path[4200];
    int lock = opts->mode == LB_CACHE_FILE ? lock_key(opts, id, dir, sizeof(dir), path, sizeof(path)) : -1;
    if (lock >= 0) {
        long long left = 0;
        if (read_file(opts, path, &item->value, &left) == 0) {
            close(lock); /* releases the lock */
            *window_s = left;
            *origin = LB_FROM_FILE;
            return LB_OK;
        }
    }
    lb_result rc = fetch(ctx, item, err);
    *origin = LB_FROM_FETCH;
    if (rc == LB_OK) {
        *window_s = lb_cache_window(item->lifetime_s, opts->margin_s);
        if (lock >= 0 && *window_s > 0)
            write_file(opts, dir, path, item->value, *window_s);
    }
    if (lock >= 0)
        close(lock);
    return rc;
}

lb_result lb_cache_get(const char *key, const lb_cache_opts *opts, lb_fetch_fn fetch, void *ctx, char **value,
                       lb_cache_origin *origin, lb_error *err)
{
    *value = NULL;
    *origin = LB_FROM_FETCH;
    if (opts->mode == LB_CACHE_OFF) {
        lb_cache_item item = {0};
        lb_result rc = fetch(ctx, &item, err);
        *value = item.value;
        return rc;
    }
    char id[65];
    lb_sha256_hex(key, id);

    pthread_mutex_lock(&mu);
    entry *e = find(id, 1);
    if (e == NULL) {
        pthread_mutex_unlock(&mu);
        return lb_error_set(err, LB_ERR_NOMEM, "HY001", "[Lakebase] Out of memory.");
    }
    for (;;) {
        if (e->value && lb_now_ms() < e->usable_until_ms) {
            *value = lb_secmem_dup(e->value);
            *origin = LB_FROM_MEMORY;
            pthread_mutex_unlock(&mu);
            if (*value == NULL)
                return lb_error_set(err, LB_ERR_NOMEM, "HY001", "[Lakebase] Out of memory.");
            lb_log(opts->log, LB_LOG_DEBUG, "%s: cache hit (memory)", opts->what);
            return LB_OK;
        }
        if (!e->fetching)
            break;
        /* Someone is fetching this key: wait for that fetch, and share its result. */
        unsigned long gen = e->generation;
        while (e->fetching && e->generation == gen)
            pthread_cond_wait(&fetched, &mu);
        if (e->failed_generation == gen) {
            *err = e->failure;
            pthread_mutex_unlock(&mu);
            return err->code;
        }
    }
    e->fetching = 1;
    unsigned long gen = ++e->generation;
    pthread_mutex_unlock(&mu);

    lb_cache_item item = {0};
    long long window_s = 0;
    lb_error ferr;
    lb_error_init(&ferr);
    lb_result rc = fetch_through(id, opts, fetch, ctx, &item, &window_s, origin, &ferr);

    pthread_mutex_lock(&mu);
    e->fetching = 0;
    if (rc == LB_OK) {
        drop_value(e);
        if (window_s > 0 && (e->value = lb_secmem_dup(item.value)) != NULL)
            e->usable_until_ms = lb_now_ms() + window_s * 1000;
    } else {
        e->failed_generation = gen;
        e->failure = ferr;
    }
    pthread_cond_broadcast(&fetched);
    pthread_mutex_unlock(&mu);

    if (rc != LB_OK) {
        *err = ferr;
        return rc;
    }
    lb_log(opts->log, LB_LOG_INFO, "%s: %s, reused for up to %lld s", opts->what,
           *origin == LB_FROM_FILE ? "cache hit (file)" : "fetched", window_s);
    *value = item.value;
    return LB_OK;
}

void lb_cache_invalidate(const char *key, const char *value, const lb_cache_opts *opts)
{
    if (opts->mode == LB_CACHE_OFF)
        return;
    char id[65];
    lb_sha256_hex(key, id);
    pthread_mutex_lock(&mu);
    entry *e = find(id, 0);
    if (e && e->value && strcmp(e->value, value) == 0)
        drop_value(e);
    pthread_mutex_unlock(&mu);
    if (opts->mode != LB_CACHE_FILE)
        return;
    char dir[4096], path[4200];
    int lock = lock_key(opts, id, dir, sizeof(dir), path, sizeof(path));
    if (lock < 0)
        return;
    char *cached = NULL;
    long long left = 0;
    if (read_file(opts, path, &cached, &left) == 0 && strcmp(cached, value) == 0)
        unlink(path);
    lb_secret_free(cached);
    close(lock);
}
