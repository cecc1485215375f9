/* The credential cache (see lb_cache.h). */
#include "lb_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include "lb_file.h"
#include "lb_secmem.h"

#define FILE_MAGIC "lakebase-odbc-cache 1\n"
#define FILE_MAX (64 * 1024)

typedef struct entry {
    char id[65];                /* sha256 of the key */
    char *value;                /* NULL when nothing usable is cached */
    long long usable_until_ms;  /* monotonic */
    long long used_ms;          /* last looked up (monotonic): the least recently used goes first */
    int fetching;               /* a fetch is under way */
    int waiters;                /* threads waiting for that fetch: the entry stays while > 0 */
    unsigned long generation;   /* counts fetches started */
    unsigned long failed_generation;
    lb_error failure;           /* the error of fetch failed_generation */
    struct entry *next;
} entry;

/* The lock files this process holds (file cache), so that a forked child can close
 * its inherited copies: a flock belongs to the open file description, which the child
 * shares through the inherited descriptor, so a child that kept it would keep the lock
 * for as long as it lives. The nodes live on the holders' stacks. */
typedef struct held_lock {
    int fd;
    struct held_lock *next;
} held_lock;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER; /* entries, entry_count */
static pthread_cond_t fetched;                         /* CLOCK_MONOTONIC, for timed waits */
static pthread_condattr_t fetched_attr;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static entry *entries;
static size_t entry_count;
static pthread_mutex_t locks_mu = PTHREAD_MUTEX_INITIALIZER; /* held_locks */
static held_lock *held_locks;

/* fork(): the prepare handler takes both mutexes, so that the child never inherits
 * one in the middle of an update; the parent just releases them. The child first
 * forgets what only the parent's threads were doing: fetches under way (no thread of
 * the child will finish them), their waiters, and the lock files (closed: the parent
 * still holds the lock through its own descriptor). */
static void fork_prepare(void)
{
    pthread_mutex_lock(&locks_mu);
    pthread_mutex_lock(&mu);
}

static void fork_parent(void)
{
    pthread_mutex_unlock(&mu);
    pthread_mutex_unlock(&locks_mu);
}

static void fork_child(void)
{
    for (held_lock *h = held_locks; h; h = h->next)
        close(h->fd);
    held_locks = NULL;
    for (entry *e = entries; e; e = e->next) {
        e->fetching = 0;
        e->waiters = 0;
    }
    /* The parent's waiters are not in the child: a fresh condition variable. */
    pthread_cond_init(&fetched, &fetched_attr);
    pthread_mutex_unlock(&mu);
    pthread_mutex_unlock(&locks_mu);
}

static void init(void)
{
    pthread_condattr_init(&fetched_attr);
    pthread_condattr_setclock(&fetched_attr, CLOCK_MONOTONIC);
    pthread_cond_init(&fetched, &fetched_attr);
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

static void lock_cache(void)
{
    pthread_once(&init_once, init);
    pthread_mutex_lock(&mu);
}

void lb_sha256_hex(const char *s, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Every lifetime read from the network (expires_in, expire_time) or from a cache file
 * goes through here before any arithmetic. */
long long lb_cache_clamp_lifetime(long long lifetime_s)
{
    if (lifetime_s < 0)
        return 0;
    return lifetime_s > LB_CACHE_MAX_LIFETIME_S ? LB_CACHE_MAX_LIFETIME_S : lifetime_s;
}

long long lb_cache_window(long long lifetime_s, int margin_s)
{
    lifetime_s = lb_cache_clamp_lifetime(lifetime_s);
    if (lifetime_s <= 0)
        return 0;
    long long w = lifetime_s - (margin_s > 0 ? margin_s : 0);
    if (w > lifetime_s / 2)
        w = lifetime_s / 2;
    return w > 0 ? w : 0;
}

size_t lb_cache_count(void)
{
    lock_cache();
    size_t n = entry_count;
    pthread_mutex_unlock(&mu);
    return n;
}

static void drop_value(entry *e)
{
    lb_secret_free(e->value);
    e->value = NULL;
    e->usable_until_ms = 0;
}

static int usable(const entry *e, long long now)
{
    return e->value && now < e->usable_until_ms;
}

/* No fetch under way and nobody waiting: the entry may go. */
static int idle(const entry *e)
{
    return !e->fetching && e->waiters == 0;
}

static void unlink_free(entry **link)
{
    entry *e = *link;
    *link = e->next;
    drop_value(e);
    free(e);
    entry_count--;
}

/* Frees e when nothing uses it and it holds nothing usable (a failed fetch, an
 * expired or dropped value): failures are not kept. */
static void forget_if_unused(entry *e)
{
    if (!idle(e) || usable(e, lb_now_ms()))
        return;
    for (entry **link = &entries; *link; link = &(*link)->next)
        if (*link == e) {
            unlink_free(link);
            return;
        }
}

/* Makes room for one more entry: frees the idle entries with nothing usable, then,
 * while still at the cap, the least recently used idle one. */
static void make_room(void)
{
    long long now = lb_now_ms();
    for (entry **link = &entries; *link;) {
        if (idle(*link) && !usable(*link, now))
            unlink_free(link);
        else
            link = &(*link)->next;
    }
    while (entry_count >= LB_CACHE_MAX_ENTRIES) {
        entry **oldest = NULL;
        for (entry **link = &entries; *link; link = &(*link)->next)
            if (idle(*link) && (oldest == NULL || (*link)->used_ms < (*oldest)->used_ms))
                oldest = link;
        if (oldest == NULL)
            return; /* every entry is busy: over the cap until their fetches end */
        unlink_free(oldest);
    }
}

static entry *find(const char *id, int create)
{
    entry *e = entries;
    while (e && strcmp(e->id, id) != 0)
        e = e->next;
    if (e == NULL && create) {
        if (entry_count >= LB_CACHE_MAX_ENTRIES)
            make_room();
        if ((e = calloc(1, sizeof(*e))) != NULL) {
            memcpy(e->id, id, sizeof(e->id));
            e->next = entries;
            entries = e;
            entry_count++;
        }
    }
    return e;
}

void lb_cache_clear(void)
{
    lock_cache();
    for (entry **link = &entries; *link;) {
        if (idle(*link)) {
            unlink_free(link);
        } else {
            if (!(*link)->fetching)
                drop_value(*link);
            link = &(*link)->next;
        }
    }
    pthread_mutex_unlock(&mu);
}

/* Waits on fetched until the deadline; 0 when woken (or spuriously), ETIMEDOUT. */
static int wait_fetched(const lb_deadline *deadline)
{
    long long left = lb_deadline_left_ms(deadline);
    if (left == LLONG_MAX)
        return pthread_cond_wait(&fetched, &mu) == 0 ? 0 : ETIMEDOUT;
    if (left == 0)
        return ETIMEDOUT;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(left / 1000);
    ts.tv_nsec += (long)(left % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return pthread_cond_timedwait(&fetched, &mu, &ts) == ETIMEDOUT ? ETIMEDOUT : 0;
}

/* A failure that was the leader's own deadline: never shared with waiters. */
static int leader_timed_out(const lb_error *failure)
{
    return failure->code == LB_ERR_TIMEOUT;
}

static lb_result wait_expired(const lb_cache_opts *opts, lb_error *err)
{
    return lb_deadline_error(opts->deadline, err, "waiting for another connection's request for the %s", opts->what);
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

/* Opens path (never blocking on a FIFO, never through a link) and checks it is a
 * regular file of ours that nobody else can read. */
static int open_private(const lb_cache_opts *opts, const char *path, int flags)
{
    lb_file_info info;
    int fd = lb_file_open(path, flags, 0600, LB_FILE_PRIVATE, &info);
    if (fd < 0 && info.status != LB_FILE_MISSING && info.status != LB_FILE_OPEN_FAILED) {
        char why[200];
        lb_file_explain(&info, why, sizeof(why));
        lb_log(opts->log, LB_LOG_ERROR,
               "TokenCache=file: refusing %s: it %s (want a regular file of this user with mode 0600)", path, why);
        errno = EPERM;
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
    size_t got = 0;
    lb_file_info info;
    ssize_t n = buf && lb_file_read(fd, buf, FILE_MAX + 1, &got, &info) == LB_FILE_OK ? (ssize_t)got : -1;
    close(fd);
    if (n <= 0) {
        if (buf)
            lb_wipe(buf, got);
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
                long long now = (long long)time(NULL);
                long long left = until > now ? lb_cache_clamp_lifetime(until - now) : 0;
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


/* Releases a lock taken by lock_key: unregistered and closed under locks_mu, so that a
 * forked child never closes a descriptor number that was reused meanwhile. */
static void unlock_key(held_lock *h)
{
    pthread_mutex_lock(&locks_mu);
    for (held_lock **link = &held_locks; *link; link = &(*link)->next)
        if (*link == h) {
            *link = h->next;
            break;
        }
    close(h->fd); /* releases the lock */
    h->fd = -1;
    pthread_mutex_unlock(&locks_mu);
}

#define LOCK_TIMED_OUT (-2)

/* Takes the key's lock file, waiting for another process's fetch at most until the
 * deadline: 0 (h->fd holds the lock, registered for fork), LOCK_TIMED_OUT, or -1
 * (and logs) when the file cache cannot be used. */
static int lock_key(const lb_cache_opts *opts, const char *id, char *dir, size_t dsize, char *path, size_t psize,
                    held_lock *h)
{
    if (usable_dir(opts, dir, dsize) != 0)
        return -1;
    char lock[4200];
    snprintf(lock, sizeof(lock), "%s/%s.lock", dir, id);
    snprintf(path, psize, "%s/%s.cred", dir, id);
    /* Opened and registered under locks_mu, so that no fork falls in between. */
    pthread_once(&init_once, init);
    pthread_mutex_lock(&locks_mu);
    int fd = open_private(opts, lock, O_RDWR | O_CREAT);
    int open_errno = errno;
    if (fd >= 0) {
        h->fd = fd;
        h->next = held_locks;
        held_locks = h;
    }
    pthread_mutex_unlock(&locks_mu);
    if (fd < 0) {
        if (open_errno != EPERM)
            lb_log(opts->log, LB_LOG_ERROR, "TokenCache=file: cannot open %s (%s); using the in-memory cache", lock,
                   strerror(open_errno));
        return -1;
    }
    /* flock has no timeout: poll, with short pauses, until the deadline. */
    long long pause_ms = 5;
    for (;;) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return 0;
        if (errno == EINTR)
            continue;
        int failed = errno != EWOULDBLOCK;
        long long left = lb_deadline_left_ms(opts->deadline);
        if (failed || left == 0) {
            unlock_key(h);
            return failed ? -1 : LOCK_TIMED_OUT;
        }
        lb_sleep_ms(pause_ms < left ? pause_ms : left);
        if (pause_ms < 50)
            pause_ms *= 2;
    }
}

/* The fetch run by the single flight: the file cache first (file mode), then fetch. */
static lb_result fetch_through(const char *id, const lb_cache_opts *opts, lb_fetch_fn fetch, void *ctx,
                               lb_cache_item *item, long long *window_s, lb_cache_origin *origin, lb_error *err)
{
    char dir[4096], path[4200];
    held_lock h = {.fd = -1};
    int lock = opts->mode == LB_CACHE_FILE ? lock_key(opts, id, dir, sizeof(dir), path, sizeof(path), &h) : -1;
    if (lock == LOCK_TIMED_OUT)
        return wait_expired(opts, err);
    if (lock == 0) {
        long long left = 0;
        if (read_file(opts, path, &item->value, &left) == 0) {
            unlock_key(&h);
            *window_s = left;
            *origin = LB_FROM_FILE;
            return LB_OK;
        }
    }
    lb_result rc = fetch(ctx, item, err);
    *origin = LB_FROM_FETCH;
    if (rc == LB_OK) {
        *window_s = lb_cache_window(item->lifetime_s, opts->margin_s);
        if (lock == 0 && *window_s > 0)
            write_file(opts, dir, path, item->value, *window_s);
    }
    if (lock == 0)
        unlock_key(&h);
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

    lock_cache();
    entry *e = find(id, 1);
    if (e == NULL) {
        pthread_mutex_unlock(&mu);
        return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    }
    for (;;) {
        long long now = lb_now_ms();
        e->used_ms = now;
        if (usable(e, now)) {
            *value = lb_secmem_dup(e->value);
            *origin = LB_FROM_MEMORY;
            pthread_mutex_unlock(&mu);
            if (*value == NULL)
                return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
            lb_log(opts->log, LB_LOG_DEBUG, "%s: cache hit (memory)", opts->what);
            return LB_OK;
        }
        if (!e->fetching)
            break;
        /* Someone is fetching this key: wait for that fetch, within this connect's own
         * deadline, and share its result. */
        unsigned long gen = e->generation;
        e->waiters++;
        while (e->fetching && e->generation == gen)
            if (wait_fetched(opts->deadline) == ETIMEDOUT)
                break;
        e->waiters--;
        if (e->fetching && e->generation == gen) {
            pthread_mutex_unlock(&mu);
            return wait_expired(opts, err);
        }
        /* A failure is shared (no thundering herd of retries), except a timeout: that
         * was the leader's own deadline, and a waiter with time left fetches itself. */
        if (e->failed_generation == gen && !leader_timed_out(&e->failure)) {
            *err = e->failure;
            forget_if_unused(e);
            pthread_mutex_unlock(&mu);
            return err->code;
        }
        if (lb_deadline_passed(opts->deadline)) {
            forget_if_unused(e);
            pthread_mutex_unlock(&mu);
            return wait_expired(opts, err);
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

    lock_cache();
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
    forget_if_unused(e);
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
    lock_cache();
    entry *e = find(id, 0);
    if (e && e->value && strcmp(e->value, value) == 0) {
        drop_value(e);
        forget_if_unused(e);
    }
    pthread_mutex_unlock(&mu);
    if (opts->mode != LB_CACHE_FILE)
        return;
    char dir[4096], path[4200];
    held_lock h = {.fd = -1};
    if (lock_key(opts, id, dir, sizeof(dir), path, sizeof(path), &h) != 0)
        return;
    char *cached = NULL;
    long long left = 0;
    if (read_file(opts, path, &cached, &left) == 0 && strcmp(cached, value) == 0)
        unlink(path);
    lb_secret_free(cached);
    unlock_key(&h);
}
