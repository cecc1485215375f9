/* The credential cache (see lb_cache.h). */
#include "lb_cache.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
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

/* Version 1 (plain files of TokenCache=file before the sealed cache): "<magic 1>", the
 * epoch second until which the value is used, the value. Still read when plain files
 * are asked for; refused (and replaced) where a sealed file is expected. */
#define FILE_MAGIC_V1 "lakebase-odbc-cache 1\n"
/* Version 2: "<magic 2>", the kind (plain, public or sealed), the refresh point and the
 * end of use (epoch seconds), then the value (plain, public) or, sealed, the hex of nonce,
 * ciphertext and tag. The four header lines are authenticated with the cache key. */
#define FILE_MAGIC "lakebase-odbc-cache 2\n"
#define FILE_MAX (64 * 1024)
#define SEAL_LABEL "lakebase-odbc sealed cache v2"

typedef struct entry {
    char id[65];                /* sha256 of the key */
    char *value;                /* NULL when nothing usable is cached */
    long long usable_until_ms;  /* monotonic: the refresh point (fresh until then) */
    long long stale_until_ms;   /* monotonic: the end of use (>= usable_until_ms) */
    int refreshing;             /* the fetch under way is a background refresh */
    long long used_ms;          /* last looked up (monotonic): the least recently used goes first */
    int fetching;               /* a fetch is under way */
    int waiters;                /* threads waiting for that fetch: the entry stays while > 0 */
    unsigned long generation;   /* counts fetches started */
    unsigned long failed_generation;
    lb_error failure;           /* the error of fetch failed_generation */
    char *shared;               /* off, shared flight: the value of fetch shared_generation, */
    unsigned long shared_generation; /* shared until shared_until_ms (monotonic) by the */
    long long shared_until_ms;       /* connects under way that took it, shared_holders */
    int shared_holders;
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
static int refreshes_running;                          /* background refreshes (under mu) */

static void drop_value(entry *e)
{
    lb_secret_free(e->value);
    e->value = NULL;
    e->usable_until_ms = e->stale_until_ms = 0;
}

static void drop_shared(entry *e)
{
    lb_secret_free(e->shared);
    e->shared = NULL;
    e->shared_holders = 0;
}

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
        drop_shared(e); /* held by the parent's connects */
        e->fetching = 0;
        e->refreshing = 0; /* the refresh thread is the parent's: the child may start its own */
        e->waiters = 0;
    }
    refreshes_running = 0;
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

/* Fresh: before its refresh point. */
static int usable(const entry *e, long long now)
{
    return e->value && now < e->usable_until_ms;
}

/* Still handed out (past its refresh point, a refresh ahead renews it). */
static int holds(const entry *e, long long now)
{
    return e->value && now < e->stale_until_ms;
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
    lb_secret_free(e->shared);
    free(e);
    entry_count--;
}

/* Holds a value that may still be handed out: a kept one, or a shared one (until its
 * flight ends). */
static int keeps(const entry *e, long long now)
{
    return holds(e, now) || e->shared;
}

/* Frees e when nothing uses it and it holds nothing usable (a failed fetch, an
 * expired or dropped value): failures are not kept. */
static void forget_if_unused(entry *e)
{
    if (!idle(e) || keeps(e, lb_now_ms()))
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
        if (idle(*link) && !keeps(*link, now))
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

/* Takes mu and finds (or makes) id's entry; NULL, with mu released, when out of memory. */
static entry *lock_entry(const char *id)
{
    lock_cache();
    entry *e = find(id, 1);
    if (e == NULL)
        pthread_mutex_unlock(&mu);
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

static const char *mode_name(const lb_cache_opts *opts)
{
    return opts->mode == LB_CACHE_AUTO ? "auto" : "file";
}

/* A reason the file cache cannot be used: an error with TokenCache=file (asked for),
 * information with auto (the default quietly falls back to memory). */
#define DIR_LOG(opts, fmt, ...)                                                                                    \
    lb_log((opts)->log, (opts)->mode == LB_CACHE_AUTO ? LB_LOG_INFO : LB_LOG_ERROR, "TokenCache=%s: " fmt,         \
           mode_name(opts), __VA_ARGS__)

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

int lb_cache_dir_problem(const char *dir, char *why, size_t size)
{
    struct stat st;
    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(why, size, "%s is not a directory", dir);
        return -1;
    }
    if (st.st_uid != geteuid()) {
        snprintf(why, size, "refusing %s: it is owned by uid %ld, not by this user (uid %ld)", dir, (long)st.st_uid,
                 (long)geteuid());
        return -1;
    }
    if (st.st_mode & 022) {
        snprintf(why, size, "refusing %s: it is writable by group or others (mode %03o; want 0700)", dir,
                 (unsigned)(st.st_mode & 0777));
        return -1;
    }
    return 0;
}

/* The cache directory, created 0700 if missing, checked to be ours and not writable by
 * others. 0 when usable; otherwise logs why and returns -1. */
static int usable_dir(const lb_cache_opts *opts, char *dir, size_t size)
{
    if (lb_cache_dir(dir, size) != 0) {
        DIR_LOG(opts, "no cache directory (set XDG_CACHE_HOME or HOME); %s", "using the in-memory cache");
        return -1;
    }
    char parent[4096];
    snprintf(parent, sizeof(parent), "%s", dir);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = '\0';
        if (mkdir(parent, 0700) != 0 && errno != EEXIST) {
            DIR_LOG(opts, "cannot create %s (%s); using the in-memory cache", parent, strerror(errno));
            return -1;
        }
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        DIR_LOG(opts, "cannot create %s (%s); using the in-memory cache", dir, strerror(errno));
        return -1;
    }
    char why[512];
    if (lb_cache_dir_problem(dir, why, sizeof(why)) != 0) {
        DIR_LOG(opts, "%s; using the in-memory cache", why);
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
               "TokenCache=%s: refusing %s: it %s (want a regular file of this user with mode 0600)", mode_name(opts),
               path, why);
        errno = EPERM;
    }
    return fd;
}

/* ---- sealing ---------------------------------------------------------------------- */

/* HKDF-SHA256: salt the label, input key material the secret, info the label and the
 * SHA-256 of the cache key (HKDF's info is bounded; the whole key is bound as AAD). */
static int derive_key(const char *secret, const char *key, unsigned char out[32])
{
    unsigned char info[sizeof(SEAL_LABEL) + 32];
    unsigned int n = 0;
    memcpy(info, SEAL_LABEL, sizeof(SEAL_LABEL)); /* with its NUL, as a separator */
    if (EVP_Digest(key, strlen(key), info + sizeof(SEAL_LABEL), &n, EVP_sha256(), NULL) != 1)
        return -1;
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
    size_t len = 32;
    int ok = pc && EVP_PKEY_derive_init(pc) > 0 && EVP_PKEY_CTX_set_hkdf_md(pc, EVP_sha256()) > 0 &&
             EVP_PKEY_CTX_set1_hkdf_salt(pc, (const unsigned char *)SEAL_LABEL, (int)strlen(SEAL_LABEL)) > 0 &&
             EVP_PKEY_CTX_set1_hkdf_key(pc, (const unsigned char *)secret, (int)strlen(secret)) > 0 &&
             EVP_PKEY_CTX_add1_hkdf_info(pc, info, (int)sizeof(info)) > 0 && EVP_PKEY_derive(pc, out, &len) > 0 &&
             len == 32;
    EVP_PKEY_CTX_free(pc); /* OpenSSL wipes its copy of the secret */
    if (!ok)
        lb_wipe(out, 32);
    return ok ? 0 : -1;
}

static int add_aad(EVP_CIPHER_CTX *c, int enc, const char *aad, const char *key)
{
    int n = 0;
    if (enc)
        return EVP_EncryptUpdate(c, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
               EVP_EncryptUpdate(c, NULL, &n, (const unsigned char *)key, (int)strlen(key)) == 1;
    return EVP_DecryptUpdate(c, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
           EVP_DecryptUpdate(c, NULL, &n, (const unsigned char *)key, (int)strlen(key)) == 1;
}

int lb_cache_seal(const char *secret, const char *key, const char *aad, const unsigned char *plain, size_t plain_len,
                  unsigned char *out)
{
    unsigned char k[32];
    if (plain_len > FILE_MAX || derive_key(secret, key, k) != 0)
        return -1;
    unsigned char *nonce = out, *ct = out + 12, *tag = out + 12 + plain_len;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, fin = 0;
    int ok = c && RAND_bytes(nonce, 12) == 1 && EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, k, nonce) == 1 &&
             add_aad(c, 1, aad, key) && EVP_EncryptUpdate(c, ct, &n, plain, (int)plain_len) == 1 &&
             EVP_EncryptFinal_ex(c, ct + n, &fin) == 1 && (size_t)(n + fin) == plain_len &&
             EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
    EVP_CIPHER_CTX_free(c); /* frees its key schedule cleansed */
    lb_wipe(k, sizeof(k));
    return ok ? 0 : -1;
}

int lb_cache_open_sealed(const char *secret, const char *key, const char *aad, const unsigned char *sealed,
                         size_t sealed_len, unsigned char *plain)
{
    if (sealed_len < LB_CACHE_SEAL_OVERHEAD || sealed_len - LB_CACHE_SEAL_OVERHEAD > FILE_MAX)
        return -1;
    size_t plain_len = sealed_len - LB_CACHE_SEAL_OVERHEAD;
    unsigned char k[32];
    if (derive_key(secret, key, k) != 0)
        return -1;
    const unsigned char *nonce = sealed, *ct = sealed + 12, *tag = sealed + 12 + plain_len;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, fin = 0;
    int ok = c && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, k, nonce) == 1 && add_aad(c, 0, aad, key) &&
             EVP_DecryptUpdate(c, plain, &n, ct, (int)plain_len) == 1 &&
             EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, (void *)tag) == 1 &&
             EVP_DecryptFinal_ex(c, plain + n, &fin) == 1 && (size_t)(n + fin) == plain_len;
    EVP_CIPHER_CTX_free(c);
    lb_wipe(k, sizeof(k));
    if (!ok)
        lb_wipe(plain, plain_len);
    return ok ? 0 : -1;
}

/* ---- cache files ------------------------------------------------------------------ */

/* What a cache file of this caller holds: nothing (memory only), a plain value (an
 * identity without a stable secret, TokenCache=file), public metadata, or a sealed value. */
typedef enum { KIND_NONE, KIND_PLAIN, KIND_PUBLIC, KIND_SEALED } file_kind;
static const char *const kind_names[] = {"none", "plain", "public", "sealed"};

static file_kind kind_for(const lb_cache_opts *opts)
{
    if (opts->mode != LB_CACHE_FILE && opts->mode != LB_CACHE_AUTO)
        return KIND_NONE;
    if (opts->public_value)
        return KIND_PUBLIC;
    if (opts->stable_secret && opts->stable_secret[0])
        return KIND_SEALED;
    return opts->mode == LB_CACHE_FILE ? KIND_PLAIN : KIND_NONE;
}

typedef struct {
    char *value;         /* a secret: lb_secret_free */
    long long refresh_s; /* seconds left to its refresh point (0: past it) */
    long long use_s;     /* seconds left to its end of use (> 0) */
} file_value;

typedef enum { READ_OK, READ_MISSING, READ_REFUSED } read_status;

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The four header lines of a version 2 file: also the sealed value's AAD. */
static void header(char *buf, size_t size, file_kind kind, long long refresh_at, long long use_until)
{
    snprintf(buf, size, "%s%s\n%lld\n%lld\n", FILE_MAGIC, kind_names[kind], refresh_at, use_until);
}

/* Parses buf (NUL-terminated, wiped by the caller) as a file of this caller's kind. */
static read_status parse_file(const lb_cache_opts *opts, const char *key, file_kind want, char *buf, file_value *out)
{
    long long now = (long long)time(NULL);
    char *end = NULL;
    size_t l1 = strlen(FILE_MAGIC_V1);
    if (strncmp(buf, FILE_MAGIC_V1, l1) == 0) {
        if (want != KIND_PLAIN)
            return READ_REFUSED; /* an earlier version's plain file where a sealed one belongs */
        long long until = strtoll(buf + l1, &end, 10);
        char *v = end && *end == '\n' ? end + 1 : NULL, *nl = v ? strchr(v, '\n') : NULL;
        if (nl == NULL || nl == v)
            return READ_REFUSED;
        *nl = '\0';
        long long left = until > now ? lb_cache_clamp_lifetime(until - now) : 0;
        if (left <= 0)
            return READ_MISSING;
        out->refresh_s = out->use_s = left;
        return (out->value = lb_secmem_dup(v)) ? READ_OK : READ_MISSING;
    }
    size_t l2 = strlen(FILE_MAGIC);
    if (strncmp(buf, FILE_MAGIC, l2) != 0)
        return READ_REFUSED;
    char *kind = buf + l2, *nl = strchr(kind, '\n');
    if (nl == NULL)
        return READ_REFUSED;
    *nl = '\0';
    int is_want = strcmp(kind, kind_names[want]) == 0;
    *nl = '\n';
    if (!is_want)
        return READ_REFUSED;
    long long refresh_at = strtoll(nl + 1, &end, 10);
    if (end == nl + 1 || *end != '\n')
        return READ_REFUSED;
    char *u = end + 1;
    long long use_until = strtoll(u, &end, 10);
    if (end == u || *end != '\n')
        return READ_REFUSED;
    char *payload = end + 1, *pend = strchr(payload, '\n');
    if (pend == NULL || pend == payload)
        return READ_REFUSED;
    *pend = '\0';
    if (want == KIND_SEALED) {
        char aad[200];
        header(aad, sizeof(aad), want, refresh_at, use_until);
        if (strncmp(buf, aad, strlen(aad)) != 0)
            return READ_REFUSED; /* not the canonical header (say, "+5" for "5") */
        size_t hl = strlen(payload);
        if (hl % 2 || hl / 2 < LB_CACHE_SEAL_OVERHEAD + 1)
            return READ_REFUSED;
        size_t n = hl / 2;
        unsigned char *sealed = malloc(n), *plain = lb_secmem_malloc(n - LB_CACHE_SEAL_OVERHEAD + 1);
        read_status st = READ_REFUSED;
        int ok = sealed && plain;
        for (size_t i = 0; ok && i < n; i++) {
            int hi = hexval(payload[2 * i]), lo = hexval(payload[2 * i + 1]);
            ok = hi >= 0 && lo >= 0;
            if (ok)
                sealed[i] = (unsigned char)(hi << 4 | lo);
        }
        if (ok && lb_cache_open_sealed(opts->stable_secret, key, aad, sealed, n, plain) == 0) {
            plain[n - LB_CACHE_SEAL_OVERHEAD] = '\0';
            if (strlen((char *)plain) == n - LB_CACHE_SEAL_OVERHEAD) {
                out->value = (char *)plain;
                plain = NULL;
                st = READ_OK;
            }
        }
        free(sealed); /* ciphertext: nothing to wipe */
        lb_secmem_free(plain);
        if (st != READ_OK)
            return st;
    } else if ((out->value = lb_secmem_dup(payload)) == NULL) {
        return READ_MISSING;
    }
    /* The lifetime read from a file is clamped like any other. */
    long long use_left = use_until > now ? lb_cache_clamp_lifetime(use_until - now) : 0;
    long long refresh_left = refresh_at > now ? lb_cache_clamp_lifetime(refresh_at - now) : 0;
    if (use_left <= 0) {
        lb_secret_free(out->value);
        out->value = NULL;
        return READ_MISSING;
    }
    out->use_s = use_left;
    out->refresh_s = refresh_left < use_left ? refresh_left : use_left;
    return READ_OK;
}

/* Reads a cached value: READ_OK and *out; READ_MISSING (no file, expired); READ_REFUSED
 * (an unsafe file, or one that is not this caller's kind or fails authentication: logged). */
static read_status read_file(const lb_cache_opts *opts, const char *key, file_kind want, const char *path,
                             file_value *out)
{
    memset(out, 0, sizeof(*out));
    int fd = open_private(opts, path, O_RDONLY);
    if (fd < 0)
        return errno == EPERM ? READ_REFUSED : READ_MISSING;
    char *buf = lb_secmem_malloc(FILE_MAX + 1);
    size_t got = 0;
    lb_file_info info;
    int ok = buf && lb_file_read(fd, buf, FILE_MAX + 1, &got, &info) == LB_FILE_OK && got > 0;
    close(fd);
    read_status st = ok ? parse_file(opts, key, want, buf, out) : READ_REFUSED;
    lb_secmem_free(buf); /* wipes the whole block */
    if (st == READ_REFUSED && ok)
        lb_log(opts->log, LB_LOG_ERROR,
               "TokenCache=%s: refusing %s: not a %s cache file of this identity%s; it is ignored and replaced",
               mode_name(opts), path, kind_names[want],
               want == KIND_SEALED ? " (tampered, written under another secret, or by an earlier version)" : "");
    return st;
}

/* Writes the value atomically (temporary file, then rename). */
static void write_file(const lb_cache_opts *opts, const char *key, file_kind kind, const char *dir, const char *path,
                       const char *value, long long refresh_s, long long use_s)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s/.tmp.%ld.%ld", dir, (long)getpid(), (long)syscall(SYS_gettid));
    long long now = (long long)time(NULL);
    char head[200];
    header(head, sizeof(head), kind, now + refresh_s, now + use_s);
    lb_buf b;
    lb_buf_init(&b, 2 * FILE_MAX + 256);
    lb_buf_puts(&b, head);
    int ok = 1;
    if (kind == KIND_SEALED) {
        size_t n = strlen(value), sn = n + LB_CACHE_SEAL_OVERHEAD;
        unsigned char *sealed = malloc(sn);
        ok = sealed && lb_cache_seal(opts->stable_secret, key, head, (const unsigned char *)value, n, sealed) == 0;
        for (size_t i = 0; ok && i < sn; i++)
            lb_buf_printf(&b, "%02x", sealed[i]);
        lb_buf_puts(&b, "\n");
        free(sealed);
    } else {
        lb_buf_printf(&b, "%s\n", value);
    }
    if (!ok || b.overflow) {
        lb_log(opts->log, LB_LOG_ERROR, "TokenCache=%s: cannot seal the %s; not written to %s", mode_name(opts),
               opts->what, path);
        lb_buf_free_secret(&b);
        return;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        lb_log(opts->log, LB_LOG_ERROR, "TokenCache=%s: cannot write %s (%s)", mode_name(opts), tmp, strerror(errno));
        lb_buf_free_secret(&b);
        return;
    }
    ok = write(fd, b.data, b.len) == (ssize_t)b.len;
    lb_buf_free_secret(&b);
    if (close(fd) != 0)
        ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        lb_log(opts->log, LB_LOG_ERROR, "TokenCache=%s: cannot write %s (%s)", mode_name(opts), path, strerror(errno));
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

/* The cache directory and the key's file, when the file cache can be used (-1 and a
 * log line otherwise). */
static int key_paths(const lb_cache_opts *opts, const char *id, char *dir, size_t dsize, char *path, size_t psize)
{
    if (usable_dir(opts, dir, dsize) != 0)
        return -1;
    snprintf(path, psize, "%s/%s.cred", dir, id);
    return 0;
}

/* Takes the key's lock file, waiting for another process's fetch at most until the
 * deadline: 0 (h->fd holds the lock, registered for fork), LOCK_TIMED_OUT, or -1
 * (and logs) when the file cache cannot be used. */
static int lock_key(const lb_cache_opts *opts, const char *id, const char *dir, held_lock *h)
{
    char lock[4200];
    snprintf(lock, sizeof(lock), "%s/%s.lock", dir, id);
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
            DIR_LOG(opts, "cannot open %s (%s); using the in-memory cache", lock, strerror(open_errno));
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

/* What a fetch (through the file cache or the network) gives the memory entry. */
typedef struct {
    lb_cache_item item;
    long long refresh_s; /* fresh for this long */
    long long use_s;     /* handed out for this long (past refresh_s, with a refresh ahead) */
    lb_cache_origin origin;
} fetched_value;

/* The fetch run by the single flight: the file cache first (auto, file), then fetch.
 * A file is read without the lock first (files are replaced by rename, so a reader sees
 * one whole file): a process never waits on another's fetch while the file holds a
 * usable value. Otherwise, under the key's lock, the file again (another process may
 * have just written it), then fetch and write. A refresh (refresh ahead) takes only a
 * value fresher than the one it renews. */
static lb_result fetch_through(const char *key, const char *id, const lb_cache_opts *opts, int refresh,
                               lb_fetch_fn fetch, void *ctx, fetched_value *out, lb_error *err)
{
    char dir[4096], path[4200];
    held_lock h = {.fd = -1};
    file_kind kind = kind_for(opts);
    int files = kind != KIND_NONE && key_paths(opts, id, dir, sizeof(dir), path, sizeof(path)) == 0;
    file_value fv;
    out->origin = LB_FROM_FILE;
    if (files && !refresh && read_file(opts, key, kind, path, &fv) == READ_OK) {
        out->item.value = fv.value;
        out->refresh_s = fv.refresh_s;
        out->use_s = fv.use_s;
        return LB_OK;
    }
    int lock = files ? lock_key(opts, id, dir, &h) : -1;
    if (lock == LOCK_TIMED_OUT)
        return wait_expired(opts, err);
    if (lock == 0 && read_file(opts, key, kind, path, &fv) == READ_OK) {
        if (!refresh || fv.refresh_s > 0) {
            unlock_key(&h);
            out->item.value = fv.value;
            out->refresh_s = fv.refresh_s;
            out->use_s = fv.use_s;
            return LB_OK;
        }
        lb_secret_free(fv.value);
    }
    lb_result rc = fetch(ctx, &out->item, err);
    out->origin = LB_FROM_FETCH;
    if (rc == LB_OK) {
        out->refresh_s = lb_cache_window(out->item.lifetime_s, opts->margin_s);
        long long use = lb_cache_clamp_lifetime(out->item.lifetime_s) - (opts->margin_s > 0 ? opts->margin_s : 0);
        out->use_s = out->refresh_s > 0 && use > out->refresh_s ? use : out->refresh_s;
        if (lock == 0 && out->refresh_s > 0)
            write_file(opts, key, kind, dir, path, out->item.value, out->refresh_s, out->use_s);
    }
    if (lock == 0)
        unlock_key(&h);
    return rc;
}

/* ---- refresh ahead ---------------------------------------------------------------- */

static pthread_cond_t refresh_done; /* CLOCK_MONOTONIC; a background refresh ended */
static pthread_once_t refresh_once = PTHREAD_ONCE_INIT;
static int refresh_ok; /* the code cannot be unloaded under a refresh thread */

/* At exit, waits (bounded) for refreshes under way, so that none is cut off in the
 * middle of OpenSSL's and libcurl's state while the process tears them down. Registered
 * after they were initialized (the first connect), so it runs before their cleanup. */
static void wait_refreshes_at_exit(void)
{
    pthread_mutex_lock(&mu);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += LB_CACHE_EXIT_WAIT_MS / 1000;
    while (refreshes_running > 0)
        if (pthread_cond_timedwait(&refresh_done, &mu, &ts) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&mu);
}

/* The driver may be dlclose'd by the driver manager while a refresh runs: the code a
 * refresh thread runs is pinned (RTLD_NODELETE), or is the main program's. Only then
 * does the cache refresh ahead. */
static void refresh_init(void)
{
    pthread_cond_init(&refresh_done, &fetched_attr);
    Dl_info info;
    struct link_map *mine = NULL, *main_map = NULL;
    if (dladdr1((void *)lb_cache_get, &info, (void **)&mine, RTLD_DL_LINKMAP) == 0 || mine == NULL)
        return;
    void *self = dlopen(NULL, RTLD_NOW);
    if (self && dlinfo(self, RTLD_DI_LINKMAP, &main_map) == 0 && main_map == mine) {
        refresh_ok = 1; /* linked into the program itself */
    } else if (info.dli_fname && dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE) != NULL) {
        refresh_ok = 1; /* a shared object that now stays loaded (its handle is never closed) */
    }
    if (self)
        dlclose(self);
    if (refresh_ok)
        atexit(wait_refreshes_at_exit);
}

typedef struct {
    entry *e;
    char *key;               /* the cache key (hashes the secret): wiped */
    char id[65];
    lb_cache_opts opts;      /* log, deadline and secret point into ctx */
    lb_fetch_fn fetch;
    void *ctx;               /* the caller's ctx_copy */
    lb_ctx_free_fn ctx_free;
    unsigned long gen;
} refresh_job;

static void free_job(refresh_job *j)
{
    if (j->ctx)
        j->ctx_free(j->ctx);
    lb_secret_free(j->key);
    free(j);
}

/* Ends a fetch of e (leader or refresh): stores the value or the failure and wakes the
 * waiters. Called under mu. A failed refresh keeps the value it was renewing. */
static void finish_fetch(entry *e, unsigned long gen, lb_result rc, const fetched_value *fv, const lb_error *ferr)
{
    e->fetching = 0;
    e->refreshing = 0;
    if (rc == LB_OK) {
        drop_value(e);
        /* A value read from a file may be past its refresh point (use_s > 0 with
         * refresh_s 0): kept, so that it is refreshed ahead. */
        if (fv->use_s > 0) {
            if ((e->value = lb_secmem_dup(fv->item.value)) != NULL) {
                long long now = lb_now_ms();
                e->usable_until_ms = now + fv->refresh_s * 1000;
                e->stale_until_ms = now + fv->use_s * 1000;
            }
        }
    } else {
        e->failed_generation = gen;
        e->failure = *ferr;
    }
    pthread_cond_broadcast(&fetched);
}

static void *refresh_run(void *arg)
{
    refresh_job *j = arg;
    fetched_value fv;
    memset(&fv, 0, sizeof(fv));
    lb_error ferr;
    lb_error_init(&ferr);
    long long t0 = lb_now_ms();
    lb_result rc = fetch_through(j->key, j->id, &j->opts, 1, j->fetch, j->ctx, &fv, &ferr);
    if (j->opts.thread_done)
        j->opts.thread_done();
    if (rc == LB_OK)
        lb_log(j->opts.log, LB_LOG_INFO, "%s: refreshed in the background in %lld ms (%s), reused for up to %lld s",
               j->opts.what, lb_now_ms() - t0, fv.origin == LB_FROM_FILE ? "from the file cache" : "fetched",
               fv.refresh_s);
    else
        lb_log(j->opts.log, LB_LOG_ERROR, "%s: background refresh failed after %lld ms (the cached value is used "
               "until its end of use): %s", j->opts.what, lb_now_ms() - t0, ferr.message);
    lock_cache();
    finish_fetch(j->e, j->gen, rc, &fv, &ferr);
    forget_if_unused(j->e);
    refreshes_running--;
    pthread_cond_broadcast(&refresh_done);
    pthread_mutex_unlock(&mu);
    lb_secret_free(fv.item.value);
    free_job(j);
    lb_secmem_scrub_stack(64 * 1024);
    return NULL;
}

/* Starts one background refresh of e (called under mu, which it drops and takes again).
 * Marks e as fetching first, so that the flight is single; undone when no thread starts. */
static void start_refresh(entry *e, const char *key, const char *id, const lb_cache_opts *opts, lb_fetch_fn fetch,
                          void *ctx)
{
    pthread_once(&refresh_once, refresh_init);
    if (!refresh_ok || opts->ctx_copy == NULL || opts->ctx_free == NULL)
        return;
    e->fetching = 1;
    e->refreshing = 1;
    e->waiters++; /* e stays while mu is dropped, even if the refresh ends meanwhile */
    unsigned long gen = ++e->generation;
    refreshes_running++;
    pthread_mutex_unlock(&mu);

    refresh_job *j = calloc(1, sizeof(*j));
    int started = 0;
    if (j) {
        j->e = e;
        j->gen = gen;
        memcpy(j->id, id, sizeof(j->id));
        j->opts = *opts;
        j->opts.ctx_copy = NULL; /* a refresh never starts another */
        j->fetch = fetch;
        j->ctx_free = opts->ctx_free;
        j->key = lb_secmem_dup(key);
        j->ctx = j->key ? opts->ctx_copy(ctx, &j->opts) : NULL;
        pthread_attr_t attr;
        pthread_t t;
        if (j->ctx && pthread_attr_init(&attr) == 0) {
            pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
            started = pthread_create(&t, &attr, refresh_run, j) == 0;
            pthread_attr_destroy(&attr);
        }
        if (!started)
            free_job(j);
    }
    lock_cache();
    e->waiters--;
    if (started) {
        lb_log(opts->log, LB_LOG_INFO, "%s: past its refresh point: used now, refreshed in the background", opts->what);
        return;
    }
    lb_log(opts->log, LB_LOG_ERROR, "%s: cannot start a background refresh; the next connect past the end of use "
           "fetches", opts->what);
    e->fetching = 0;
    e->refreshing = 0;
    refreshes_running--;
    pthread_cond_broadcast(&fetched);
    pthread_cond_broadcast(&refresh_done);
}

int lb_cache_refreshing(void)
{
    lock_cache();
    int n = refreshes_running;
    pthread_mutex_unlock(&mu);
    return n;
}

/* ---- look-ups ---------------------------------------------------------------------- */

/* A fetch whose value nothing keeps (TokenCache=off). */
static lb_result fetch_uncached(lb_fetch_fn fetch, void *ctx, char **value, lb_error *err)
{
    lb_cache_item item = {0};
    lb_result rc = fetch(ctx, &item, err);
    *value = item.value;
    return rc;
}

/* The id of key's shared-flight entry: apart from the other modes' kept values. */
static void flight_id(const char *key, char id[65])
{
    char plain_id[70];
    lb_sha256_hex(key, id);
    snprintf(plain_id, sizeof(plain_id), "off\n%s", id);
    lb_sha256_hex(plain_id, id);
}

/* Under mu: the caller's connect no longer holds what flight names (the value goes with
 * its last holder); flight is zeroed. */
static void release_hold(lb_cache_flight *flight)
{
    if (flight->id[0] == '\0')
        return;
    entry *e = find(flight->id, 0);
    if (e && e->shared && e->shared_generation == flight->generation && --e->shared_holders <= 0) {
        drop_shared(e);
        forget_if_unused(e);
    }
    memset(flight, 0, sizeof(*flight));
}

/* Under mu: the caller's connect holds generation gen of e's shared value (instead of
 * what it held before). */
static void hold_shared(entry *e, unsigned long gen, lb_cache_flight *flight)
{
    if (strcmp(flight->id, e->id) == 0 && flight->generation == gen)
        return;
    release_hold(flight);
    memcpy(flight->id, e->id, sizeof(flight->id));
    flight->generation = gen;
    e->shared_holders++;
}

void lb_cache_flight_end(lb_cache_flight *flight)
{
    if (flight->id[0] == '\0')
        return;
    lock_cache();
    release_hold(flight);
    pthread_mutex_unlock(&mu);
}

/* TokenCache=off with a shared flight: a caller that finds a fetch of the key under way
 * waits for it (within its own deadline) and takes a copy of its value or its error; a
 * caller that finds the last fetch's value held by a connect under way, and before its
 * refresh point, takes a copy and holds it too; otherwise it fetches. The value goes
 * when the last connect holding it ends. A waiter that cannot share (the leader's deadline
 * ran out, or no copy could be made) fetches on its own. */
static lb_result get_sharing_flight(const char *key, const lb_cache_opts *opts, lb_fetch_fn fetch, void *ctx,
                                    char **value, lb_error *err)
{
    char id[65];
    flight_id(key, id);

    entry *e = lock_entry(id);
    if (e == NULL)
        return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    if (e->fetching || (e->shared && lb_now_ms() < e->shared_until_ms)) {
        unsigned long gen = e->fetching ? e->generation : e->shared_generation;
        e->waiters++;
        while (e->fetching && e->generation == gen)
            if (wait_fetched(opts->deadline) == ETIMEDOUT)
                break;
        e->waiters--;
        lb_result rc = LB_OK;
        int shared = 0;
        if (e->fetching && e->generation == gen) {
            rc = wait_expired(opts, err);
        } else if (e->failed_generation == gen && !leader_timed_out(&e->failure)) {
            *err = e->failure;
            rc = err->code;
        } else if (e->shared && e->shared_generation == gen && (*value = lb_secmem_dup(e->shared)) != NULL) {
            shared = 1;
            hold_shared(e, gen, opts->flight);
        }
        forget_if_unused(e);
        pthread_mutex_unlock(&mu);
        if (shared)
            lb_log(opts->log, LB_LOG_DEBUG, "%s: shared with a connect under way (TokenCache=off)", opts->what);
        return rc != LB_OK || shared ? rc : fetch_uncached(fetch, ctx, value, err);
    }
    e->fetching = 1;
    unsigned long gen = ++e->generation;
    pthread_mutex_unlock(&mu);

    lb_cache_item item = {0};
    lb_result rc = fetch(ctx, &item, err);
    long long window_s = rc == LB_OK ? lb_cache_window(item.lifetime_s, opts->margin_s) : 0;

    lock_cache();
    e->fetching = 0;
    if (rc != LB_OK) {
        e->failed_generation = gen;
        e->failure = *err;
    } else if (window_s > 0) {
        drop_shared(e); /* past its refresh point */
        if ((e->shared = lb_secmem_dup(item.value)) != NULL) {
            e->shared_generation = gen;
            e->shared_until_ms = lb_now_ms() + window_s * 1000;
            hold_shared(e, gen, opts->flight);
        }
    }
    pthread_cond_broadcast(&fetched);
    forget_if_unused(e);
    pthread_mutex_unlock(&mu);
    *value = item.value;
    return rc;
}

lb_result lb_cache_get(const char *key, const lb_cache_opts *opts, lb_fetch_fn fetch, void *ctx, char **value,
                       lb_cache_origin *origin, lb_error *err)
{
    *value = NULL;
    *origin = LB_FROM_FETCH;
    if (opts->mode == LB_CACHE_OFF && opts->flight)
        return get_sharing_flight(key, opts, fetch, ctx, value, err);
    if (opts->mode == LB_CACHE_OFF)
        return fetch_uncached(fetch, ctx, value, err);
    char id[65];
    lb_sha256_hex(key, id);

    entry *e = lock_entry(id);
    if (e == NULL)
        return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    for (;;) {
        long long now = lb_now_ms();
        e->used_ms = now;
        int fresh = usable(e, now);
        /* Past its refresh point with more than the margin left: used at once, while
         * one background refresh renews it (when the caller offers one, or one runs). */
        if (fresh || (holds(e, now) && (e->refreshing || (opts->ctx_copy && !e->fetching)))) {
            if (!fresh && !e->fetching)
                start_refresh(e, key, id, opts, fetch, ctx);
            if (e->value == NULL) { /* dropped while the refresh started: look again */
                forget_if_unused(e);
                pthread_mutex_unlock(&mu);
                return lb_cache_get(key, opts, fetch, ctx, value, origin, err);
            }
            *value = lb_secmem_dup(e->value);
            *origin = LB_FROM_MEMORY;
            pthread_mutex_unlock(&mu);
            if (*value == NULL)
                return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
            lb_log(opts->log, LB_LOG_DEBUG, "%s: cache hit (memory%s)", opts->what, fresh ? "" : ", refreshing");
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

    fetched_value fv;
    memset(&fv, 0, sizeof(fv));
    lb_error ferr;
    lb_error_init(&ferr);
    lb_result rc = fetch_through(key, id, opts, 0, fetch, ctx, &fv, &ferr);

    lock_cache();
    finish_fetch(e, gen, rc, &fv, &ferr);
    /* A value from a file may already be past its refresh point: renew it ahead. */
    if (rc == LB_OK && fv.refresh_s <= 0 && holds(e, lb_now_ms()) && opts->ctx_copy && !e->fetching)
        start_refresh(e, key, id, opts, fetch, ctx);
    forget_if_unused(e);
    pthread_mutex_unlock(&mu);

    *origin = fv.origin;
    if (rc != LB_OK) {
        *err = ferr;
        return rc;
    }
    lb_log(opts->log, LB_LOG_INFO, "%s: %s, reused for up to %lld s", opts->what,
           *origin == LB_FROM_FILE ? "cache hit (file)" : "fetched", fv.refresh_s);
    *value = fv.item.value;
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
    file_kind kind = kind_for(opts);
    char dir[4096], path[4200];
    held_lock h = {.fd = -1};
    if (kind == KIND_NONE || key_paths(opts, id, dir, sizeof(dir), path, sizeof(path)) != 0 ||
        lock_key(opts, id, dir, &h) != 0)
        return;
    file_value fv;
    if (read_file(opts, key, kind, path, &fv) == READ_OK && strcmp(fv.value, value) == 0)
        unlink(path);
    lb_secret_free(fv.value);
    unlock_key(&h);
}
