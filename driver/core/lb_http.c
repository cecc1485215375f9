/* libcurl behind lb_http_send (see lb_http.h). */
#include "lb_http.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lb_buf.h"
#include "lb_json.h"
#include "lb_log.h"
#include "lb_secmem.h"
#include "lb_version.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <time.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_OK;
static int curl_wipes; /* libcurl allocates through lb_secmem: every block it frees is wiped */

/* libcurl gets the wiping allocator, so that its copies of the Authorization header, the
 * request and the answers are wiped when it frees them. Only the first initialisation in
 * a process sets the allocator: when the application initialised libcurl before the
 * driver, libcurl keeps the application's (the check below notices it). */
static void curl_init(void)
{
    curl_init_rc = curl_global_init_mem(CURL_GLOBAL_DEFAULT, lb_secmem_malloc, lb_secmem_free, lb_secmem_realloc,
                                        lb_secmem_strdup, lb_secmem_calloc);
    if (curl_init_rc != CURLE_OK)
        return;
    unsigned long before = lb_secmem_handed_out();
    char *probe = curl_easy_escape(NULL, "x", 1);
    curl_wipes = probe != NULL && lb_secmem_handed_out() != before;
    curl_free(probe);
}

/* Connection reuse. Each thread keeps up to HANDLES_PER_THREAD libcurl easy handles, one per
 * TLS and proxy setting (CAFile and the whole proxy URL, user and password included, entered
 * as a SHA-256), reset between requests: an easy handle keeps its live connections, its TLS
 * session IDs, its DNS cache and its parsed CA store (CURLOPT_CA_CACHE_TIMEOUT), so a connect's
 * requests to the workspace share one TCP and TLS connection, and later connects on the thread
 * reuse it. A handle is never used for another setting, so a connection made through one proxy
 * or with one CA bundle never serves a request with others. Handles are per thread, not shared
 * through a share handle: libcurl 7.88 documents its shared connection cache as unsafe between
 * concurrent threads. A thread's handles are cleaned up after it exits, by the next request
 * of a live thread (handles_reap); after fork() the child abandons every handle it inherited
 * (their TLS state is the parent's: closing them would send the parent's close_notify) and
 * makes its own; at exit or unload (handles_unload) the calling thread's are cleaned up and
 * caching stops. A kept handle is reset after each request (curl_easy_reset) and every
 * option is set again for the next, so redirects, limits, timeouts and proxy handling are
 * as for a fresh handle. */
#define HANDLES_PER_THREAD 4
typedef struct {
    unsigned char key[32];
    CURL *curl;
    unsigned generation;    /* fork generation it was made in */
    long long last_used;
} cached_handle;
typedef struct thread_handles {
    cached_handle slot[HANDLES_PER_THREAD];
    struct thread_handles *prev, *next;   /* every thread's set, for fork and unload */
} thread_handles;
static pthread_mutex_t handles_mu = PTHREAD_MUTEX_INITIALIZER;
static thread_handles *all_handles;      /* guarded by handles_mu */
static thread_handles *dead_handles;     /* exited threads' sets, to close (handles_reap); handles_mu */
static unsigned fork_generation;         /* guarded by handles_mu */
static int handles_closed;               /* handles_unload ran: no more caching */
static pthread_key_t handles_key;
static pthread_once_t handles_once = PTHREAD_ONCE_INIT;
static int handles_ready;

static void handles_unlink(thread_handles *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        all_handles = t->next;
    if (t->next)
        t->next->prev = t->prev;
    t->prev = t->next = NULL;
}

/* Closes a set's connections (those of this process: see handles_fork_child) and frees it. */
static void handles_close(thread_handles *t, unsigned gen)
{
    for (int i = 0; i < HANDLES_PER_THREAD; i++)
        if (t->slot[i].curl && t->slot[i].generation == gen)
            curl_easy_cleanup(t->slot[i].curl);
    free(t);
}

/* A thread exits: its set waits for a live thread to close it (handles_reap). Closing TLS
 * connections in the thread-exit destructor ran after OpenSSL's own per-thread clean-up
 * and corrupted the heap when many threads exited at once (a 64-thread storm aborted in
 * about 1 run of 8). */
static void handles_thread_exit(void *arg)
{
    thread_handles *t = arg;
    pthread_mutex_lock(&handles_mu);
    handles_unlink(t);
    t->next = dead_handles;
    dead_handles = t;
    pthread_mutex_unlock(&handles_mu);
}

/* Closes the sets of threads that have exited, from a live thread. */
static void handles_reap(void)
{
    pthread_mutex_lock(&handles_mu);
    thread_handles *dead = dead_handles;
    dead_handles = NULL;
    unsigned gen = fork_generation;
    pthread_mutex_unlock(&handles_mu);
    while (dead) {
        thread_handles *next = dead->next;
        handles_close(dead, gen);
        dead = next;
    }
}

/* Under handles_mu: the calling thread's set, taken out of every thread's list and off
 * the thread (to close after the lock); NULL when it has none. */
static thread_handles *handles_detach_mine(void)
{
    thread_handles *mine = pthread_getspecific(handles_key);
    if (mine) {
        handles_unlink(mine);
        pthread_setspecific(handles_key, NULL);
    }
    return mine;
}

void lb_http_thread_release(void)
{
    if (!handles_ready)
        return;
    pthread_mutex_lock(&handles_mu);
    thread_handles *mine = handles_closed ? NULL : handles_detach_mine();
    unsigned gen = fork_generation;
    pthread_mutex_unlock(&handles_mu);
    if (mine)
        handles_close(mine, gen);
    OPENSSL_thread_stop(); /* this thread's OpenSSL state (error queue, random state) */
}

static void handles_fork_prepare(void)
{
    pthread_mutex_lock(&handles_mu);
}

static void handles_fork_parent(void)
{
    pthread_mutex_unlock(&handles_mu);
}

/* The child: every inherited handle belongs to the parent's connections. They stay
 * allocated (reachable through all_handles) and are never used or closed here. */
static void handles_fork_child(void)
{
    fork_generation++;
    pthread_mutex_unlock(&handles_mu);
}

static void handles_unload(void);

/* Runs after curl_init (send_with_retries), so that handles_unload, registered with atexit
 * after OpenSSL registered its own clean-up, runs before OpenSSL's: at exit, and at an
 * unload (glibc runs a library's atexit functions when it is unloaded). A destructor would run
 * after OpenSSL had cleaned up. */
static void handles_init(void)
{
    if (pthread_key_create(&handles_key, handles_thread_exit) != 0)
        return;
    pthread_atfork(handles_fork_prepare, handles_fork_parent, handles_fork_child);
    atexit(handles_unload);
    handles_ready = 1;
}

/* Unload or exit: the calling thread's handles are cleaned up (their connections closed);
 * other threads' are left alone (one may be in use), and no handle is cached any more. */
static void handles_unload(void)
{
    if (!handles_ready)
        return;
    handles_reap();
    pthread_mutex_lock(&handles_mu);
    handles_closed = 1;
    unsigned gen = fork_generation;
    thread_handles *mine = handles_detach_mine();
    pthread_mutex_unlock(&handles_mu);
    if (mine)
        handles_close(mine, gen);
    /* Once unloaded, no thread's exit may call into this library. */
    pthread_key_delete(handles_key);
}

static void setting_key(const lb_http_opts *opts, unsigned char key[32])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int n = 0;
    memset(key, 0, 32);
    if (md == NULL)
        return;
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    EVP_DigestUpdate(md, opts->cafile ? "C" : "-", 1);
    if (opts->cafile)
        EVP_DigestUpdate(md, opts->cafile, strlen(opts->cafile) + 1);
    EVP_DigestUpdate(md, opts->proxy ? "P" : "-", 1);
    if (opts->proxy)
        EVP_DigestUpdate(md, opts->proxy, strlen(opts->proxy) + 1);
    EVP_DigestFinal_ex(md, key, &n);
    EVP_MD_CTX_free(md);
}

/* An easy handle for a request with these settings: this thread's cached one (reset), or a
 * new one it keeps. *cached says whether handle_release keeps it. */
static CURL *handle_take(const lb_http_opts *opts, int *cached)
{
    *cached = 0;
    pthread_once(&handles_once, handles_init);
    if (!handles_ready)
        return curl_easy_init();
    handles_reap();
    pthread_mutex_lock(&handles_mu);
    int closed = handles_closed;
    unsigned gen = fork_generation;
    pthread_mutex_unlock(&handles_mu);
    if (closed)
        return curl_easy_init();
    thread_handles *t = pthread_getspecific(handles_key);
    if (t == NULL) {
        if ((t = calloc(1, sizeof(*t))) == NULL || pthread_setspecific(handles_key, t) != 0) {
            free(t);
            return curl_easy_init();
        }
        pthread_mutex_lock(&handles_mu);
        t->next = all_handles;
        if (all_handles)
            all_handles->prev = t;
        all_handles = t;
        pthread_mutex_unlock(&handles_mu);
    }
    unsigned char key[32];
    setting_key(opts, key);
    int free_slot = -1, oldest = -1;
    for (int i = 0; i < HANDLES_PER_THREAD; i++) {
        cached_handle *h = &t->slot[i];
        if (h->curl && h->generation != gen)
            continue; /* the parent's (see handles_fork_child): abandoned, never used or closed */
        if (h->curl && memcmp(h->key, key, sizeof(key)) == 0) {
            h->last_used = lb_now_ms();
            *cached = 1;
            return h->curl;
        }
        if (h->curl == NULL && free_slot < 0)
            free_slot = i;
        if (h->curl && (oldest < 0 || h->last_used < t->slot[oldest].last_used))
            oldest = i;
    }
    if (free_slot < 0 && oldest < 0)
        return curl_easy_init(); /* every slot holds a parent's handle */
    if (free_slot < 0) { /* the least recently used setting makes room */
        free_slot = oldest;
        curl_easy_cleanup(t->slot[free_slot].curl);
        t->slot[free_slot].curl = NULL;
    }
    cached_handle *h = &t->slot[free_slot];
    if ((h->curl = curl_easy_init()) == NULL)
        return NULL;
    memcpy(h->key, key, sizeof(key));
    h->generation = gen;
    h->last_used = lb_now_ms();
    *cached = 1;
    return h->curl;
}

/* After a request: a cached handle stays with its thread, reset (its options pointed into
 * the request's frame: the error buffer, the header and body contexts, the header list),
 * so that nothing that later closes it (another thread, an exit) meets a stale pointer; any
 * other is cleaned up. */
static void handle_release(CURL *curl, int cached)
{
    if (cached)
        curl_easy_reset(curl);
    else
        curl_easy_cleanup(curl);
}

/* OpenSSL cleanses the plaintext of every TLS record it has handed to libcurl. */
static CURLcode on_ssl_ctx(CURL *curl, void *ssl_ctx, void *ctx)
{
    (void)curl;
    (void)ctx;
    SSL_CTX_set_options(ssl_ctx, SSL_OP_CLEANSE_PLAINTEXT);
    return CURLE_OK;
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    lb_buf *b = ctx;
    return lb_buf_append(b, data, size * n) == 0 ? size * n : 0;
}

/* Copies the value of header name from the line into buf when the line is that header. */
static void header_value(const char *line, size_t len, const char *name, char *buf, size_t size)
{
    size_t nl = strlen(name);
    if (len <= nl || strncasecmp(line, name, nl) != 0)
        return;
    const char *v = line + nl;
    size_t vl = len - nl;
    while (vl && (*v == ' ' || *v == '\t')) {
        v++;
        vl--;
    }
    while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
        vl--;
    if (vl >= size)
        vl = size - 1;
    for (size_t i = 0; i < vl; i++)
        buf[i] = (v[i] >= 0x20 && v[i] < 0x7f) ? v[i] : '?';
    buf[vl] = '\0';
}

/* All the headers of one answer, together, may not exceed this. */
#define MAX_HEADER_BYTES (64 * 1024)

typedef struct {
    lb_http_response *resp;
    size_t bytes;
    int too_big;
} header_ctx;

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
    header_ctx *h = ctx;
    lb_http_response *resp = h->resp;
    size_t len = size * n;
    if ((h->bytes += len) > MAX_HEADER_BYTES) {
        h->too_big = 1;
        return 0; /* libcurl stops with CURLE_WRITE_ERROR */
    }
    if (len > 9 && strncmp(data, "HTTP/", 5) == 0) {
        /* A new response (after a 100 Continue, say): forget the previous headers. */
        resp->request_id[0] = resp->retry_after[0] = resp->location[0] = '\0';
    }
    header_value(data, len, "x-request-id:", resp->request_id, sizeof(resp->request_id));
    header_value(data, len, "retry-after:", resp->retry_after, sizeof(resp->retry_after));
    header_value(data, len, "location:", resp->location, sizeof(resp->location));
    return len;
}

/* "https://host:port/path" without user, password, query or fragment, for messages
 * and logs. */
static void url_for_message(const char *url, char *buf, size_t size)
{
    snprintf(buf, size, "%.*s", (int)strcspn(url, "?#"), url);
    lb_text_redact_userinfo(buf);
}

/* libcurl's codes, as the retry policy sees them. */
static lb_net_failure net_failure(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
        return LB_NET_REFUSED;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        return LB_NET_DROPPED;
    case CURLE_OPERATION_TIMEDOUT:
        return LB_NET_TIMEOUT;
    default:
        return LB_NET_FINAL;
    }
}

static lb_result transport_error(lb_error *err, CURLcode rc, const char *errbuf, const char *url,
                                 const lb_http_opts *opts, long total_ms, const header_ctx *headers)
{
    char where[512], detail[CURL_ERROR_SIZE];
    url_for_message(url, where, sizeof(where));
    snprintf(detail, sizeof(detail), "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
    lb_text_redact_userinfo(detail); /* libcurl may quote a URL */
    /* libcurl refuses one header line over 100 KB with CURLE_OUT_OF_MEMORY and no text:
     * after a status line, that is what it means. */
    if (headers->too_big || (rc == CURLE_OUT_OF_MEMORY && headers->bytes > 0))
        return lb_error_set(err, LB_ERR_PROTOCOL,
                            "The answer at %s has more than %d KiB of headers; DatabricksHost (or the "
                            "proxy) may not be a Databricks workspace.", where, MAX_HEADER_BYTES / 1024);
    switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
#if LIBCURL_VERSION_NUM < 0x073e00
    case CURLE_SSL_CACERT:
#endif
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CONNECT_ERROR:
        return lb_error_set(err, LB_ERR_NETWORK,
                            "TLS with the workspace failed at %s: %s. Check DatabricksHost; "
                            "behind a TLS-inspecting proxy set CAFile to its CA bundle%s.",
                            where, detail, opts->cafile ? " (CAFile is set: is it the right bundle?)" : "");
    case CURLE_OPERATION_TIMEDOUT:
        return lb_error_set(err, LB_ERR_NETWORK,
                            "The workspace did not answer within %ld ms at %s (%s). Check "
                            "DatabricksHost and the network path (proxy, firewall).",
                            total_ms, where, detail);
    case CURLE_WRITE_ERROR:
        return lb_error_set(err, LB_ERR_PROTOCOL,
                            "The workspace's answer at %s is larger than %d bytes; "
                            "DatabricksHost may not point at a Databricks workspace.", where, LB_HTTP_MAX_BODY);
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_WEIRD_SERVER_REPLY:
        if (strstr(detail, "HTTP/0.9") || rc == CURLE_WEIRD_SERVER_REPLY)
            return lb_error_set(err, LB_ERR_PROTOCOL,
                                "The server at %s did not answer in HTTP (%s): DatabricksHost or its "
                                "port points at another kind of service.", where, detail);
        return lb_error_set(err, LB_ERR_NETWORK,
                            "Refused to talk to %s: only https:// is allowed (%s).", where, detail);
    default:
        return lb_error_set(err, LB_ERR_NETWORK,
                            "Could not reach the Databricks workspace at %s: %s. Check "
                            "DatabricksHost and the network path (DNS, proxy, firewall).", where, detail);
    }
}

/* The workspace's login page with error=private-link-validation-error: the workspace
 * takes requests only through Private Link (AWS PrivateLink, Azure Private Link, Google
 * Private Service Connect), and this network does not come through it. */
static int private_link_redirect(const char *location)
{
    const char *q = strchr(location, '?');
    if (q == NULL)
        return 0;
    size_t path_len = (size_t)(q - location);
    if (path_len < 11 || strncmp(q - 11, "/login.html", 11) != 0)
        return 0;
    for (const char *p = q + 1; *p;) {
        size_t n = strcspn(p, "&#");
        if (n == 35 && strncmp(p, "error=private-link-validation-error", 35) == 0)
            return 1;
        if (p[n] != '&')
            break;
        p += n + 1;
    }
    return 0;
}

static lb_result redirect_error(lb_error *err, const char *url, const lb_http_response *resp)
{
    char where[512], to[256];
    url_for_message(url, where, sizeof(where));
    url_for_message(resp->location, to, sizeof(to));
    if (private_link_redirect(resp->location))
        return lb_error_set(err, LB_ERR_NETWORK,
                            "%s answered HTTP %ld, a redirect to the login page with "
                            "error=private-link-validation-error: this workspace accepts requests only through "
                            "Private Link (AWS PrivateLink, Azure Private Link or Google Private Service Connect), "
                            "and this network does not reach it that way. Connect from a network with Private Link "
                            "access to the workspace (a VPC or VNet peered with it, or a VPN into one), or ask the "
                            "workspace admin to allow public access from your network.", where, resp->status);
    return lb_error_set(err, LB_ERR_PROTOCOL,
                        "%s answered HTTP %ld, a redirect to %s. The driver follows no redirect (the "
                        "client secret and tokens go only to DatabricksHost): check DatabricksHost, and use the "
                        "redirect's address if it is your workspace.", where, resp->status,
                        to[0] ? to : "nowhere (no Location)");
}

/* True when the URL's path starts with /api/: a workspace API call (not OAuth, not the
 * host's metadata). */
static int is_api_url(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    p += strcspn(p, "/?#");
    return strncmp(p, "/api/", 5) == 0;
}

/* One attempt. *net says how a failure looks to the retry policy. */
static lb_result attempt(const lb_http_opts *opts, const lb_http_request *req, long connect_ms, long total_ms,
                         lb_http_response *out, lb_net_failure *net, lb_error *err)
{
    memset(out, 0, sizeof(*out));
    *net = LB_NET_FINAL;
    if (!curl_wipes)
        lb_log(opts->log, LB_LOG_DEBUG, "libcurl was initialised by the application before the driver: its copies "
               "of requests and answers are freed without being wiped");
    int cached = 0;
    CURL *curl = handle_take(opts, &cached);
    if (curl == NULL)
        return lb_error_set(err, LB_ERR_NOMEM, "Out of memory (libcurl handle).");

    lb_buf body;
    lb_buf_init(&body, LB_HTTP_MAX_BODY);
    struct curl_slist *headers = NULL;
    lb_buf auth;
    lb_buf_init(&auth, 0);
    char errbuf[CURL_ERROR_SIZE] = "";
    header_ctx hctx = {.resp = out};
    lb_proxy proxy = {0};
    const char *problem = NULL;
    lb_result rc = LB_OK;

    if (opts->proxy && lb_proxy_parse(opts->proxy, &proxy, &problem) != 0) {
        /* Settings are checked before any request: only a changed environment gets here. */
        rc = lb_error_set(err, LB_ERR_SETTINGS, "The proxy URL %s.", problem);
        goto out;
    }

    headers = curl_slist_append(headers, "Accept: application/json");
    if (req->content_type) {
        char ct[128];
        snprintf(ct, sizeof(ct), "Content-Type: %s", req->content_type);
        headers = curl_slist_append(headers, ct);
    }
    if (req->authorization) {
        lb_buf_puts(&auth, "Authorization: ");
        lb_buf_puts(&auth, req->authorization);
        headers = curl_slist_append(headers, auth.data);
    }
    for (int i = 0; headers && req->headers && req->headers[i]; i++) {
        struct curl_slist *more = curl_slist_append(headers, req->headers[i]);
        if (more == NULL) {
            for (struct curl_slist *h = headers; h; h = h->next)
                lb_wipe(h->data, strlen(h->data));
            curl_slist_free_all(headers);
        }
        headers = more; /* NULL: out of memory, below */
    }
    if (headers && opts->workspace_id && is_api_url(req->url)) {
        /* A URL that serves several workspaces routes the call by this header. */
        char ws[96];
        snprintf(ws, sizeof(ws), "X-Databricks-Workspace-Id: %.60s", opts->workspace_id);
        struct curl_slist *more = curl_slist_append(headers, ws);
        if (more == NULL) {
            for (struct curl_slist *h = headers; h; h = h->next)
                lb_wipe(h->data, strlen(h->data));
            curl_slist_free_all(headers);
        }
        headers = more; /* NULL: out of memory, below */
    }
    if (headers == NULL || auth.overflow) {
        rc = lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
        goto out;
    }

    curl_easy_setopt(curl, CURLOPT_URL, req->url);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, req->metadata_service ? "http" : "https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, req->metadata_service ? "http" : "https");
#else
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS, req->metadata_service ? (long)CURLPROTO_HTTP : (long)CURLPROTO_HTTPS);
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS, req->metadata_service ? (long)CURLPROTO_HTTP : (long)CURLPROTO_HTTPS);
#endif
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, total_ms);
    /* An answer that trickles in (under 64 bytes/s for 10 s) is given up on early. */
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 64L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 10L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
    if (opts->cafile)
        curl_easy_setopt(curl, CURLOPT_CAINFO, opts->cafile);
    /* Without a proxy, none: settings already took https_proxy and the like from the
     * environment, checked, and libcurl must not read them again on its own. */
    /* The metadata service is the machine's own: never through a proxy (as Azure's SDKs do). */
    curl_easy_setopt(curl, CURLOPT_PROXY, proxy.url && !req->metadata_service ? proxy.url : "");
    if (proxy.user && !req->metadata_service)
        curl_easy_setopt(curl, CURLOPT_PROXYUSERNAME, proxy.user);
    if (proxy.password && !req->metadata_service)
        curl_easy_setopt(curl, CURLOPT_PROXYPASSWORD, proxy.password);
    char agent[64];
    snprintf(agent, sizeof(agent), "lakebase-odbc/%s", lb_version());
    curl_easy_setopt(curl, CURLOPT_USERAGENT, agent);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &hctx);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    if (strcmp(req->method, "POST") == 0) {
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
    } else {
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
        if (strcmp(req->method, "GET") != 0)
            curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method);
    }

    CURLcode cc = curl_easy_perform(curl);
    *net = net_failure(cc);
    long proxy_code = 0;
    if (cc != CURLE_OK && curl_easy_getinfo(curl, CURLINFO_HTTP_CONNECTCODE, &proxy_code) == CURLE_OK &&
        proxy_code >= 400) {
        /* The proxy answered and said no: retrying would not change its mind. */
        char where[512];
        url_for_message(req->url, where, sizeof(where));
        rc = lb_error_set(err, LB_ERR_NETWORK,
                          "The proxy refused to open a tunnel to %s (HTTP %ld%s). Check Proxy (or "
                          "https_proxy)%s.", where, proxy_code,
                          proxy_code == 407 ? ", Proxy Authentication Required" : "",
                          proxy_code == 407 ? " and the user and password in it" : " and whether it allows the workspace");
        *net = LB_NET_FINAL;
        goto out;
    }
    if (cc != CURLE_OK) {
        rc = transport_error(err, cc, errbuf, req->url, opts, total_ms, &hctx);
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
    out->body_len = body.len;
    out->body = lb_buf_steal(&body);
    if (out->body == NULL)
        rc = lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
out:
    for (struct curl_slist *h = headers; h; h = h->next)
        lb_wipe(h->data, strlen(h->data)); /* the Authorization line */
    curl_slist_free_all(headers);
    lb_proxy_free(&proxy);
    lb_buf_free_secret(&auth);
    lb_buf_free_secret(&body);
    handle_release(curl, cached);
    return rc;
}

void lb_http_response_free(lb_http_response *resp)
{
    if (resp->body) {
        lb_wipe(resp->body, resp->body_len);
        free(resp->body);
    }
    memset(resp, 0, sizeof(*resp));
}

char *lb_base64(const unsigned char *data, size_t len)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    if (out == NULL)
        return NULL;
    char *o = out;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)data[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)data[i + 1] << 8;
        if (i + 2 < len)
            v |= data[i + 2];
        *o++ = tbl[(v >> 18) & 63];
        *o++ = tbl[(v >> 12) & 63];
        *o++ = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
        *o++ = i + 2 < len ? tbl[v & 63] : '=';
    }
    *o = '\0';
    return out;
}

char *lb_form_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = malloc(3 * strlen(s) + 1);
    if (out == NULL)
        return NULL;
    char *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            *o++ = (char)*p;
        } else if (*p == ' ') {
            *o++ = '+';
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}

void lb_proxy_free(lb_proxy *p)
{
    free(p->url);
    lb_secret_free(p->user);
    lb_secret_free(p->password);
    memset(p, 0, sizeof(*p));
}

/* A part of a parsed URL, or NULL when it has none (libcurl's string, freed with curl_free). */
static char *url_part(CURLU *u, CURLUPart part, unsigned flags)
{
    char *v = NULL;
    return curl_url_get(u, part, &v, flags) == CURLUE_OK ? v : NULL;
}

/* curl_free for a part that may hold a secret. */
static void part_free_secret(char *v)
{
    if (v)
        lb_wipe(v, strlen(v));
    curl_free(v);
}

static char *strdup_or_null(const char *v, int *oom)
{
    char *d = v ? strdup(v) : NULL;
    if (v && d == NULL)
        *oom = 1;
    return d;
}

int lb_proxy_parse(const char *text, lb_proxy *out, const char **problem)
{
    memset(out, 0, sizeof(*out));
    static const char *const schemes[] = {"http", "https", "socks5", "socks5h", NULL};
    CURLU *u = curl_url();
    if (u == NULL) {
        *problem = "could not be checked (out of memory)";
        return -1;
    }
    int rc = -1;
    char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL, *password = NULL, *path = NULL;
    char *query = NULL, *fragment = NULL;
    *problem = "is not a proxy URL (http://, https://, socks5:// or socks5h://host:port); write a user or "
               "password that holds : @ / ? # % or a space percent-encoded (%3A %40 %2F %3F %23 %25 %20)";
    /* socks5 is no scheme libcurl fetches URLs with: parse it all the same. */
    if (strstr(text, "://") == NULL || curl_url_set(u, CURLUPART_URL, text, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
        goto out;
    scheme = url_part(u, CURLUPART_SCHEME, 0);
    host = url_part(u, CURLUPART_HOST, 0);
    port = url_part(u, CURLUPART_PORT, 0); /* none: libcurl's proxy default applies, as before */
    user = url_part(u, CURLUPART_USER, CURLU_URLDECODE);
    password = url_part(u, CURLUPART_PASSWORD, CURLU_URLDECODE);
    path = url_part(u, CURLUPART_PATH, 0);
    query = url_part(u, CURLUPART_QUERY, 0);
    fragment = url_part(u, CURLUPART_FRAGMENT, 0);
    int known = 0;
    for (int i = 0; scheme && schemes[i]; i++)
        known |= strcmp(scheme, schemes[i]) == 0;
    if (!known || host == NULL || host[0] == '\0')
        goto out;
    if ((path && strcmp(path, "/") != 0) || query || fragment) {
        *problem = "has a path, query or fragment; a proxy URL is scheme://[user:password@]host:port (write a "
                   "user or password that holds / ? # @ percent-encoded)";
        goto out;
    }
    /* libcurl will not decode a control character: a part that is there but does not
     * decode must not be dropped silently. */
    char *raw_user = url_part(u, CURLUPART_USER, 0), *raw_password = url_part(u, CURLUPART_PASSWORD, 0);
    int undecodable = (raw_user && user == NULL) || (raw_password && password == NULL) ||
                      (user && strpbrk(user, "\r\n")) || (password && strpbrk(password, "\r\n"));
    part_free_secret(raw_user);
    part_free_secret(raw_password);
    if (undecodable) {
        *problem = "has a control character (such as a line break) in its user or password";
        goto out;
    }
    lb_buf b;
    lb_buf_init(&b, 0);
    lb_buf_printf(&b, "%s://%s%s%s", scheme, host, port ? ":" : "", port ? port : "");
    int oom = b.overflow;
    out->url = oom ? NULL : lb_buf_steal(&b);
    lb_buf_free(&b);
    out->user = strdup_or_null(user, &oom);
    out->password = strdup_or_null(password, &oom);
    if (oom || out->url == NULL) {
        lb_proxy_free(out);
        *problem = "could not be checked (out of memory)";
        goto out;
    }
    *problem = NULL;
    rc = 0;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    curl_free(fragment);
    part_free_secret(user);
    part_free_secret(password);
    curl_url_cleanup(u);
    return rc;
}

int lb_url_origin(const char *url, char *buf, size_t size)
{
    CURLU *u = curl_url();
    if (u == NULL)
        return -1;
    int rc = -1;
    char *scheme = NULL, *host = NULL, *port = NULL;
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
        scheme = url_part(u, CURLUPART_SCHEME, 0);
        host = url_part(u, CURLUPART_HOST, 0);
        port = url_part(u, CURLUPART_PORT, CURLU_DEFAULT_PORT);
        if (scheme && strcmp(scheme, "https") == 0 && host && host[0] && port) {
            for (char *p = host; *p; p++)
                *p = (char)tolower((unsigned char)*p);
            rc = snprintf(buf, size, "https://%s:%s", host, port) < (int)size ? 0 : -1;
        }
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

long long lb_retry_after_ms(const char *value, long long now_epoch_s)
{
    if (value == NULL || value[0] == '\0')
        return -1;
    if (isdigit((unsigned char)value[0])) {
        char *end = NULL;
        long long s = strtoll(value, &end, 10);
        return (*end == '\0' && s >= 0 && s < 86400) ? s * 1000 : -1;
    }
    time_t when = curl_getdate(value, NULL);
    if (when == (time_t)-1)
        return -1;
    long long d = ((long long)when - now_epoch_s) * 1000;
    return d > 0 ? d : 0;
}

/* The text of a failed attempt for log lines and the deadline message: the status,
 * Retry-After and what the body says. */
static void last_failure(lb_result rc, const lb_http_response *resp, const lb_error *aerr, char *buf, size_t size)
{
    if (rc == LB_OK) {
        char why[400];
        lb_json_describe_error(resp->body, resp->body_len, why, sizeof(why));
        snprintf(buf, size, "HTTP %ld%s%s: %s", resp->status, resp->retry_after[0] ? ", Retry-After " : "",
                 resp->retry_after, why);
    } else
        snprintf(buf, size, "%s", aerr->message);
}

static lb_result send_with_retries(const lb_http_opts *opts, const lb_http_request *req, lb_http_response *out,
                                   lb_error *err);

/* An answer whose body is an HTML page (its first byte past white space is '<'). */
static int is_html(const lb_http_response *resp)
{
    size_t i = 0;
    while (i < resp->body_len && (resp->body[i] == ' ' || resp->body[i] == '\t' || resp->body[i] == '\r' ||
                                  resp->body[i] == '\n'))
        i++;
    return i < resp->body_len && resp->body[i] == '<';
}

lb_result lb_http_send(const lb_http_opts *opts, const lb_http_request *req, lb_http_response *out,
                       lb_error *err)
{
    lb_result rc = send_with_retries(opts, req, out, err);
    if (rc != LB_OK || out->status < 200 || out->status > 299 || !is_api_url(req->url) || !is_html(out))
        return rc;
    /* A URL that serves several workspaces answers an API call it cannot route with its
     * sign-in page (200, HTML): say so, rather than "not JSON". */
    char where[512];
    url_for_message(req->url, where, sizeof(where));
    lb_http_response_free(out);
    if (opts->workspace_id)
        return lb_error_set(err, LB_ERR_SETTINGS,
                            "The workspace answered %s with an HTML page (most likely its sign-in page) instead of "
                            "JSON, although the request named workspace %.30s (X-Databricks-Workspace-Id): check that "
                            "WorkspaceID (or the ?o= of DatabricksHost) is this workspace's id, the number after ?o= in "
                            "its URL in your browser, and that DatabricksHost is right.", where, opts->workspace_id);
    return lb_error_set(err, LB_ERR_SETTINGS,
                        "The workspace answered %s with an HTML page (most likely its sign-in page) instead of JSON: "
                        "DatabricksHost is probably a URL that serves several workspaces, and the request did not "
                        "say which. Add ?o=<workspace id> to DatabricksHost (the number after ?o= in the workspace's "
                        "URL in your browser), or set WorkspaceID.", where);
}

static lb_result send_with_retries(const lb_http_opts *opts, const lb_http_request *req, lb_http_response *out,
                                   lb_error *err)
{
    memset(out, 0, sizeof(*out));
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return lb_error_set(err, LB_ERR_INTERNAL, "libcurl failed to initialize: %s.",
                            curl_easy_strerror(curl_init_rc));
    const lb_logger *log = opts->log;
    lb_retry_policy policy = lb_retry_http;
    if (opts->max_attempts > 0)
        policy.max_attempts = opts->max_attempts;
    lb_retry retry;
    lb_retry_start(&retry, &policy, opts->deadline);
    char where[512];
    url_for_message(req->url, where, sizeof(where));

    for (int n = 1;; n++) {
        long connect_ms = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : 10000;
        long total_ms = opts->total_timeout_ms > 0 ? opts->total_timeout_ms : 30000;
        long long left = lb_deadline_left_ms(opts->deadline);
        if (left == 0)
            return lb_deadline_error(opts->deadline, err, "waiting for the workspace at %s", where);
        if (left < total_ms)
            total_ms = (long)left;
        if (left < connect_ms)
            connect_ms = (long)left;
        long long now = lb_now_ms();
        lb_error aerr;
        lb_error_init(&aerr);
        lb_net_failure net;
        lb_result rc = attempt(opts, req, connect_ms, total_ms, out, &net, &aerr);
        long long took = lb_now_ms() - now;
        out->attempts = n;
        if (rc == LB_OK && out->status >= 400 && lb_log_enabled(log, LB_LOG_DEBUG)) {
            char why[400];
            lb_json_describe_error(out->body, out->body_len, why, sizeof(why));
            lb_log(log, LB_LOG_DEBUG, "HTTP %s %s -> %ld (%lld ms, attempt %d%s%s): %s", req->method, where,
                   out->status, took, n, out->request_id[0] ? ", x-request-id " : "", out->request_id, why);
        } else if (rc == LB_OK)
            lb_log(log, LB_LOG_DEBUG, "HTTP %s %s -> %ld (%lld ms, attempt %d%s%s)", req->method, where,
                   out->status, took, n, out->request_id[0] ? ", x-request-id " : "", out->request_id);
        else
            lb_log(log, LB_LOG_DEBUG, "HTTP %s %s failed after %lld ms (attempt %d): %s", req->method, where, took,
                   n, aerr.message);

        if (rc == LB_OK && out->status >= 300 && out->status < 400) {
            rc = redirect_error(err, req->url, out);
            lb_http_response_free(out);
            return rc;
        }
        char last[LB_ERROR_MESSAGE_MAX];
        last_failure(rc, out, &aerr, last, sizeof(last));
        if (rc != LB_OK && lb_deadline_passed(opts->deadline)) {
            lb_deadline_error(opts->deadline, err, "waiting for the workspace at %s (%s)", where, last);
            return LB_ERR_TIMEOUT;
        }
        int again = rc == LB_OK ? lb_retry_http_status(out->status) : lb_retry_net(net);
        if (rc == LB_OK && !again && out->status >= 400) {
            /* A rate limit said in the body (REQUEST_LIMIT_EXCEEDED on a 400, say). */
            char code[64];
            lb_json_error_code(out->body, out->body_len, code, sizeof(code));
            again = lb_retry_http_answer(out->status, code);
        }
        if (!again) {
            if (rc != LB_OK)
                *err = aerr;
            return rc;
        }
        long long asked = rc == LB_OK ? lb_retry_after_ms(out->retry_after, (long long)time(NULL)) : -1;
        long long wait = 0;
        lb_retry_verdict v = rc == LB_OK ? lb_retry_next(&retry, asked, &wait) : lb_retry_next_net(&retry, &wait);
        if (v == LB_RETRY_STOP_DEADLINE) {
            lb_log(log, LB_LOG_INFO, "HTTP %s %s: not retrying (a wait of %lld ms would pass the deadline)",
                   req->method, where, wait);
            if (rc == LB_OK)
                lb_http_response_free(out);
            lb_deadline_error(opts->deadline, err, "retrying %s (last: %s)", where, last);
            return LB_ERR_TIMEOUT;
        }
        if (v != LB_RETRY_NOW) {
            /* Out of attempts or budget: give the caller this answer (or error). */
            lb_log(log, LB_LOG_INFO, "HTTP %s %s: not retrying (%s)", req->method, where,
                   v == LB_RETRY_STOP_ATTEMPTS ? "no attempts left" : "a wait would pass the retry budget");
            if (rc != LB_OK)
                *err = aerr;
            return rc;
        }
        lb_log(log, LB_LOG_INFO, "HTTP %s %s: %s, retrying in %lld ms", req->method, where, last, wait);
        if (rc == LB_OK)
            lb_http_response_free(out);
        lb_sleep_ms(wait);
    }
}

lb_result lb_http_bearer(const lb_http_opts *opts, const char *method, const char *url, const char *access_token,
                         const char *json_body, lb_http_response *resp, lb_error *err)
{
    /* The token's first line is the bearer; each further line a header of its own. */
    enum { MAX_LINES = 4 };
    lb_buf auth, more;
    lb_buf_init(&auth, 0);
    lb_buf_init(&more, 0);
    size_t first = strcspn(access_token, "\n");
    lb_buf_puts(&auth, "Bearer ");
    lb_buf_append(&auth, access_token, first);
    const char *lines[MAX_LINES + 1] = {NULL};
    if (access_token[first] == '\n')
        lb_buf_puts(&more, access_token + first + 1);
    int n = 0;
    for (char *p = more.data; p && *p && n < MAX_LINES;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        if (*p)
            lines[n++] = p;
        p = nl ? nl + 1 : NULL;
    }
    if (auth.overflow || more.overflow) {
        lb_buf_free_secret(&auth);
        lb_buf_free_secret(&more);
        return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    }
    lb_http_request req = {.method = method, .url = url, .authorization = auth.data,
                           .content_type = json_body ? "application/json" : NULL, .body = json_body,
                           .body_len = json_body ? strlen(json_body) : 0, .headers = n ? lines : NULL};
    lb_result rc = lb_http_send(opts, &req, resp, err);
    lb_buf_free_secret(&auth);
    lb_buf_free_secret(&more);
    return rc;
}

lb_http_opts lb_http_quick(const lb_http_opts *opts)
{
    lb_http_opts quick = *opts;
    quick.connect_timeout_ms = 3000;
    quick.total_timeout_ms = 5000;
    quick.max_attempts = 2;
    return quick;
}

#define LB_HTTP_MAX_PAGES 100

lb_result lb_http_get_pages(const lb_http_opts *opts, const char *url, const char *access_token, const char *what,
                            lb_http_page_fn page, void *ctx, long *status, lb_error *err)
{
    *status = 0;
    char next[1024] = "";
    for (int n = 0;; n++) {
        if (n == LB_HTTP_MAX_PAGES)
            return lb_error_set(err, LB_ERR_PROTOCOL, "The %s did not end after %d pages.", what, n);
        lb_buf u;
        lb_buf_init(&u, 0);
        lb_buf_puts(&u, url);
        if (next[0]) {
            char *esc = lb_form_escape(next);
            if (esc == NULL)
                u.overflow = 1;
            else
                lb_buf_printf(&u, "%spage_token=%s", strchr(url, '?') ? "&" : "?", esc);
            free(esc);
        }
        if (u.overflow) {
            lb_buf_free(&u);
            return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
        }
        lb_http_response resp;
        lb_result rc = lb_http_bearer(opts, "GET", u.data, access_token, NULL, &resp, err);
        lb_buf_free(&u);
        if (rc != LB_OK)
            return rc;
        *status = resp.status;
        next[0] = '\0';
        rc = page(ctx, &resp, next, sizeof(next), err);
        lb_http_response_free(&resp);
        if (rc != LB_OK || next[0] == '\0')
            return rc;
    }
}
