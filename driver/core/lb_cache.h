/* The credential cache: one per process, for workspace OAuth tokens and database
 * credentials. A value is fresh until min(lifetime - margin, lifetime / 2) has passed
 * since it was fetched (monotonic clock), its refresh point; lifetimes are clamped to
 * 0..24 h. Past the refresh point, while more than the margin is left, a caller that
 * offers a way to copy its fetch context (lb_cache_opts.ctx_copy) gets the value at once
 * and one background refresh starts (refresh ahead: single flight, its own deadline,
 * fork- and unload-safe); otherwise, and once only the margin is left, the caller
 * fetches. Concurrent callers of the same key wait for a single fetch (single-flight),
 * each at most until its own deadline; a failed fetch wakes them all with its error,
 * except a timeout (the leader's own deadline), after which a waiter with time left
 * fetches itself. With LB_CACHE_OFF nothing is kept: each caller fetches, except that
 * callers asking for it (a shared flight) share a value while a connect that took it is
 * under way. At most LB_CACHE_MAX_ENTRIES entries; failures are not kept. Safe across
 * fork(): a child neither waits on its parent's fetches nor refreshes nor keeps
 * its lock files. The file cache (TokenCache=auto or file; database credentials only:
 * callers decide) shares values between processes of the same user through 0600 files
 * in a 0700 directory, under a lock so that processes starting together fetch once;
 * entries of an identity with a stable secret are sealed (AES-256-GCM under a key
 * derived with HKDF-SHA256 from that secret and the cache key, lb_cache_seal). */
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

typedef struct lb_cache_opts lb_cache_opts;

/* A fetch whose value is shared (lb_cache_opts.flight); zero: none. */
typedef struct {
    char id[65];
    unsigned long generation;
} lb_cache_flight;

/* Refresh ahead: a copy of ctx that outlives the caller (its settings, secrets and
 * logger, and a deadline of its own), and in *opts (pre-filled with the caller's) the
 * log, deadline and stable_secret pointing into that copy; NULL when it cannot be made.
 * The free function wipes and frees the copy. */
typedef void *(*lb_ctx_copy_fn)(void *ctx, lb_cache_opts *opts);
typedef void (*lb_ctx_free_fn)(void *copy);

struct lb_cache_opts {
    lb_cache_mode mode;    /* LB_CACHE_AUTO: a sealed file when stable_secret (or public_value)
                            * and a private cache directory, else memory */
    int margin_s;
    const lb_logger *log;
    const char *what;      /* "workspace token", "database credential": for log lines */
    const lb_deadline *deadline; /* the connect's; bounds waits on another's fetch (NULL: none) */
    /* The identity's stable secret (a client secret; later a PAT): what file entries are
     * sealed under. NULL: the identity has none (CLI login, federation): auto keeps its
     * values in memory, file writes them as plain 0600 files. The connect plan decides. */
    const char *stable_secret;
    /* The value is public metadata, no secret: auto and file keep it in a plain file
     * (kind "public": neither encrypted nor authenticated), with or without a secret. */
    int public_value;
    /* With LB_CACHE_OFF, non-NULL: callers of the same key share a fetch under way (its
     * value or its error) instead of fetching too, and the value of the last fetch while a
     * connect that took it is under way (before its refresh point). A caller that takes
     * the value holds it through *flight until its connect ends (lb_cache_flight_end); the
     * value goes with its last holder, and the next caller fetches again. Workspace
     * tokens: a storm of connects with TokenCache=off asks for one, and connects one after
     * another ask for one each. */
    lb_cache_flight *flight;
    lb_ctx_copy_fn ctx_copy; /* NULL: no refresh ahead (past the refresh point the caller fetches) */
    lb_ctx_free_fn ctx_free;
    /* Called by a background refresh's thread when its fetch is over, before it reports the
     * refresh done (the exit wait ends then): the caller's per-thread state is released. */
    void (*thread_done)(void);
};

/* The longest a background refresh may take (its own deadline, whatever the connect's). */
#define LB_CACHE_REFRESH_TIMEOUT_S 30
/* At exit, how long the process waits for a background refresh still under way. */
#define LB_CACHE_EXIT_WAIT_MS 5000

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

/* The file cache's rule for its directory (which exists): a directory, owned by this
 * user, not writable by group or others. 0 when the cache may use it; -1 with why. */
int lb_cache_dir_problem(const char *dir, char *why, size_t size);

/* A connect that holds a shared value ends: the value is wiped and freed when it was
 * the last holder; flight is zeroed. Nothing when it is zero. */
void lb_cache_flight_end(lb_cache_flight *flight);

/* Background refreshes under way in this process (tests). */
int lb_cache_refreshing(void);

/* The sealed format (file kind "sealed"): AES-256-GCM of plain under a key derived with
 * HKDF-SHA256 from secret (salt: a fixed label; info: the label and key), a fresh random
 * 96-bit nonce, and aad (the file's header) plus key as additional authenticated data.
 * Writes nonce (12 bytes), ciphertext (as long as plain) and tag (16 bytes) to out,
 * which holds plain_len + 28 bytes. 0, or -1 (OpenSSL failed). Keys are wiped. */
int lb_cache_seal(const char *secret, const char *key, const char *aad, const unsigned char *plain, size_t plain_len,
                  unsigned char *out);
/* The reverse: plain (sealed_len - 28 bytes) when the tag verifies under secret, key and
 * aad; -1 otherwise (tampered, another secret, another key), with plain wiped. */
int lb_cache_open_sealed(const char *secret, const char *key, const char *aad, const unsigned char *sealed,
                         size_t sealed_len, unsigned char *plain);
#define LB_CACHE_SEAL_OVERHEAD 28

/* sha256 of s as 64 hex characters plus NUL. */
void lb_sha256_hex(const char *s, char out[65]);

#endif
