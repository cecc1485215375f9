/* The credential cache: one per process, for workspace OAuth tokens and database
 * credentials. A value is reused until min(lifetime - margin, lifetime / 2) has
 * passed since it was fetched (monotonic clock), so it is never handed out close to
 * its expiry nor past half its life; lifetimes are clamped to 0..24 h. Concurrent
 * callers of the same key wait for a single fetch (single-flight), each at most until
 * its own deadline; a failed fetch wakes them all with its error, except a timeout
 * (the leader's own deadline), after which a waiter with time left fetches itself.
 * At most LB_CACHE_MAX_ENTRIES entries; failures are not kept. Safe across fork():
 * a child neither waits on its parent's fetches nor keeps its lock files. With
 * TokenCache=file, values (database credentials only: callers decide) are also
 * shared between processes of the same user through 0600 files in a 0700 directory,
 * under a lock so that processes starting together fetch once. */
#ifndef LB_CACHE_H
#define LB_CACHE_H

#include <stddef.h>

#include "lb_error.h"
#include "lb_log.h"
#include "lb_retry.h"
#include "lb_settings.h"

typedef struct {
    char *value;           /* a secret: the fetch function allocates, the cache owns */
    long long lifetime_s;  /* seconds the server said it lives; <= 0: unknown, not cached */
} lb_cache_item;

typedef lb_result (*lb_fetch_fn)(void *ctx, lb_cache_item *out, lb_error *err);

typedef enum { LB_FROM_FETCH, LB_FROM_MEMORY, LB_FROM_FILE } lb_cache_origin;

typedef struct {
    lb_cache_mode mode;
    int margin_s;
    const lb_logger *log;
    const char *what;      /* "workspace token", "database credential": for log lines */
    const lb_deadline *deadline; /* the connect's; bounds waits on another's fetch (NULL: none) */
} lb_cache_opts;

/* Gives a malloc'd copy of a usable value for key (free it with lb_secret_free) and
 * where it came from. key is any string that identifies what the value grants
 * (host, identity, secret hash, target); it is hashed, never stored or written. */
lb_result lb_cache_get(const char *key, const lb_cache_opts *opts, lb_fetch_fn fetch, void *ctx, char **value,
                       lb_cache_origin *origin, lb_error *err);

/* Forgets the cached value for key if it is still value (a newer one stays). */
void lb_cache_invalidate(const char *key, const char *value, const lb_cache_opts *opts);

/* Drops every in-memory entry (tests). */
void lb_cache_clear(void);

/* The usable window of a value with the given lifetime and margin, in seconds. */
long long lb_cache_window(long long lifetime_s, int margin_s);

/* The longest lifetime the cache believes, from the network or from a file. */
#define LB_CACHE_MAX_LIFETIME_S (24LL * 3600)
/* A lifetime (seconds) from the network or a file, clamped to 0..LB_CACHE_MAX_LIFETIME_S. */
long long lb_cache_clamp_lifetime(long long lifetime_s);

/* The most in-memory entries kept; past it the least recently used idle one goes. */
#define LB_CACHE_MAX_ENTRIES 1024
/* The number of in-memory entries (tests). */
size_t lb_cache_count(void);

/* The directory of the file cache: $XDG_CACHE_HOME/lakebase-odbc or
 * ~/.cache/lakebase-odbc. */
int lb_cache_dir(char *buf, size_t size);

/* sha256 of s as 64 hex characters plus NUL. */
void lb_sha256_hex(const char *s, char out[65]);

#endif
