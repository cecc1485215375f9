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

#include <ctype.h>
#include <openssl/rand.h>
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

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
    lb_http_response *resp = ctx;
    size_t len = size * n;
    if (len > 9 && strncmp(data, "HTTP/", 5) == 0) {
        /* A new response (after a 100 Continue, say): forget the previous headers. */
        resp->request_id[0] = resp->retry_after[0] = '\0';
    }
    header_value(data, len, "x-request-id:", resp->request_id, sizeof(resp->request_id));
    header_value(data, len, "retry-after:", resp->retry_after, sizeof(resp->retry_after));
    return len;
}

/* "https://host/path" without any query string, for messages. */
static void url_for_message(const char *url, char *buf, size_t size)
{
    snprintf(buf, size, "%.*s", (int)strcspn(url, "?#"), url);
}

static lb_result transport_error(lb_error *err, CURLcode rc, const char *errbuf, const char *url,
                                 const lb_http_opts *opts, long total_ms, size_t max)
{
    char where[512];
    url_for_message(url, where, sizeof(where));
    const char *detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
#if LIBCURL_VERSION_NUM < 0x073e00
    case CURLE_SSL_CACERT:
#endif
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CONNECT_ERROR:
        return lb_error_set(err, LB_ERR_NETWORK, "08001",
                            "[Lakebase] TLS with the workspace failed at %s: %s. Check DatabricksHost; "
                            "behind a TLS-inspecting proxy set CAFile to its CA bundle%s.",
                            where, detail, opts->cafile ? " (CAFile is set: is it the right bundle?)" : "");
    case CURLE_OPERATION_TIMEDOUT:
        return lb_error_set(err, LB_ERR_NETWORK, "08001",
                            "[Lakebase] The workspace did not answer within %ld ms at %s (%s). Check "
                            "DatabricksHost and the network path (proxy, firewall).",
                            total_ms, where, detail);
    case CURLE_WRITE_ERROR:
        return lb_error_set(err, LB_ERR_PROTOCOL, "08001",
                            "[Lakebase] The workspace's answer at %s is larger than %zu bytes; "
                            "DatabricksHost may not point at a Databricks workspace.", where, max);
    case CURLE_UNSUPPORTED_PROTOCOL:
        return lb_error_set(err, LB_ERR_NETWORK, "08001",
                            "[Lakebase] Refused to talk to %s: only https:// is allowed.", where);
    default:
        return lb_error_set(err, LB_ERR_NETWORK, "08001",
                            "[Lakebase] Could not reach the Databricks workspace at %s: %s. Check "
                            "DatabricksHost and the network path (DNS, proxy, firewall).", where, detail);
    }
}

/* One attempt. *cc gets libcurl's code (CURLE_OK when an answer came). */
static lb_result attempt(const lb_http_opts *opts, const lb_http_request *req, long connect_ms, long total_ms,
                         lb_http_response *out, CURLcode *cc_out, lb_error *err)
{
    memset(out, 0, sizeof(*out));
    *cc_out = CURLE_OK;
    if (!curl_wipes)
        lb_log(opts->log, LB_LOG_DEBUG, "libcurl was initialised by the application before the driver: its copies "
               "of requests and answers are freed without being wiped");
    CURL *curl = curl_easy_init();
    if (curl == NULL)
        return lb_error_set(err, LB_ERR_NOMEM, "HY001", "[Lakebase] Out of memory (libcurl handle).");

    lb_buf body;
    lb_buf_init(&body, LB_HTTP_MAX_BODY);
    struct curl_slist *headers = NULL;
    lb_buf auth;
    lb_buf_init(&auth, 0);
    char errbuf[CURL_ERROR_SIZE] = "";
    lb_result rc = LB_OK;

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
    if (headers == NULL || auth.overflow) {
        rc = lb_error_set(err, LB_ERR_NOMEM, "HY001", "[Lakebase] Out of memory.");
        goto out;
    }

    curl_easy_setopt(curl, CURLOPT_URL, req->url);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "https");
#else
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS, (long)CURLPROTO_HTTPS);
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
    if (opts->proxy)
        curl_easy_setopt(curl, CURLOPT_PROXY, opts->proxy);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "lakebase-odbc/" LB_VERSION);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, out);
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
    *cc_out = cc;
    long proxy_code = 0;
    if (cc != CURLE_OK && curl_easy_getinfo(curl, CURLINFO_HTTP_CONNECTCODE, &proxy_code) == CURLE_OK &&
        proxy_code >= 400) {
        /* The proxy answered and said no: retrying would not change its mind. */
        char where[512];
        url_for_message(req->url, where, sizeof(where));
        rc = lb_error_set(err, LB_ERR_NETWORK, "08001",
                          "[Lakebase] The proxy refused to open a tunnel to %s (HTTP %ld%s). Check Proxy (or "
                          "https_proxy)%s.", where, proxy_code,
                          proxy_code == 407 ? ", Proxy Authentication Required" : "",
                          proxy_code == 407 ? " and the user and password in it" : " and whether it allows the workspace");
        *cc_out = CURLE_COULDNT_RESOLVE_PROXY; /* not retried */
        goto out;
    }
    if (cc != CURLE_OK) {
        rc = transport_error(err, cc, errbuf, req->url, opts, total_ms, (size_t)LB_HTTP_MAX_BODY);
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
    out->body_len = body.len;
    out->body = lb_buf_steal(&body);
    if (out->body == NULL)
        rc = lb_error_set(err, LB_ERR_NOMEM, "HY001", "[Lakebase] Out of memory.");
out:
    for (struct curl_slist *h = headers; h; h = h->next)
        lb_wipe(h->data, strlen(h->data)); /* the Authorization line */
    curl_slist_free_all(headers);
    lb_buf_free_secret(&auth);
    lb_buf_free_secret(&body);
    curl_easy_cleanup(curl);
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

static int retryable_status(long status)
{
    return status == 429 || status == 502 || status == 503 || status == 504;
}

static int retryable_curl(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_OPERATION_TIMEDOUT:
        return 1;
    default:
        return 0;
    }
}

/* Exponential backoff with jitter: 250 ms, 500 ms, 1 s, ... up to 8 s, times 0.5..1. */
static long long backoff_ms(int attempt_no)
{
    long long base = 250LL << (attempt_no < 6 ? attempt_no : 6);
    if (base > 8000)
        base = 8000;
    unsigned short r = 0;
    if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
        r = (unsigned short)(lb_now_ms() & 0xffff);
    return base / 2 + (base / 2) * r / 65535;
}

static lb_result login_timeout(lb_error *err, const char *url)
{
    char where[512];
    url_for_message(url, where, sizeof(where));
    return lb_error_set(err, LB_ERR_NETWORK, "HYT00",
                        "[Lakebase] Login timeout expired while waiting for the workspace at %s. Raise the "
                        "application's login timeout, or check the network path.", where);
}

lb_result lb_http_send(const lb_http_opts *opts, const lb_http_request *req, lb_http_response *out,
                       lb_error *err)
{
    memset(out, 0, sizeof(*out));
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return lb_error_set(err, LB_ERR_INTERNAL, "HY000", "[Lakebase] libcurl failed to initialize: %s.",
                            curl_easy_strerror(curl_init_rc));
    const lb_logger *log = opts->log;
    long long start = lb_now_ms();
    long long budget_end = start + (opts->retry_budget_ms > 0 ? opts->retry_budget_ms : 60000);
    int max_attempts = opts->max_attempts > 0 ? opts->max_attempts : 6;
    char where[512];
    url_for_message(req->url, where, sizeof(where));
    const char *path = strstr(where, "://") ? strchr(strstr(where, "://") + 3, '/') : NULL;

    for (int n = 1;; n++) {
        long connect_ms = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : 10000;
        long total_ms = opts->total_timeout_ms > 0 ? opts->total_timeout_ms : 30000;
        long long now = lb_now_ms();
        if (opts->deadline_ms) {
            long long left = opts->deadline_ms - now;
            if (left <= 0)
                return login_timeout(err, req->url);
            if (left < total_ms)
                total_ms = (long)left;
            if (left < connect_ms)
                connect_ms = (long)left;
        }
        lb_error aerr;
        lb_error_init(&aerr);
        CURLcode cc;
        lb_result rc = attempt(opts, req, connect_ms, total_ms, out, &cc, &aerr);
        long long took = lb_now_ms() - now;
        out->attempts = n;
        if (rc == LB_OK && out->status >= 400 && lb_log_enabled(log, LB_LOG_DEBUG)) {
            char why[400];
            lb_json_describe_error(out->body, out->body_len, why, sizeof(why));
            lb_log(log, LB_LOG_DEBUG, "HTTP %s %s -> %ld (%lld ms, attempt %d%s%s): %s", req->method,
                   path ? path : "/", out->status, took, n, out->request_id[0] ? ", x-request-id " : "",
                   out->request_id, why);
        } else if (rc == LB_OK)
            lb_log(log, LB_LOG_DEBUG, "HTTP %s %s -> %ld (%lld ms, attempt %d%s%s)", req->method, path ? path : "/",
                   out->status, took, n, out->request_id[0] ? ", x-request-id " : "", out->request_id);
        else
            lb_log(log, LB_LOG_DEBUG, "HTTP %s %s failed after %lld ms (attempt %d): %s", req->method,
                   path ? path : "/", took, n, aerr.message);

        int again = rc == LB_OK ? retryable_status(out->status) : retryable_curl(cc);
        if (rc != LB_OK && opts->deadline_ms && lb_now_ms() >= opts->deadline_ms)
            return login_timeout(err, req->url);
        if (!again || n >= max_attempts) {
            if (rc != LB_OK)
                *err = aerr;
            return rc;
        }
        long long wait = backoff_ms(n - 1);
        long long asked = rc == LB_OK ? lb_retry_after_ms(out->retry_after, (long long)time(NULL)) : -1;
        if (asked > wait)
            wait = asked;
        long long resume = lb_now_ms() + wait;
        if ((opts->deadline_ms && resume >= opts->deadline_ms) || resume > budget_end) {
            /* Waiting would overrun: give the caller this answer (or error) now. */
            lb_log(log, LB_LOG_INFO, "HTTP %s %s: not retrying (a wait of %lld ms would pass the %s)", req->method,
                   path ? path : "/", wait, opts->deadline_ms && resume >= opts->deadline_ms ? "login timeout" : "retry budget");
            if (rc != LB_OK)
                *err = aerr;
            return rc;
        }
        lb_log(log, LB_LOG_INFO, "HTTP %s %s: %s%ld, retrying in %lld ms", req->method, path ? path : "/",
               rc == LB_OK ? "status " : "network error ", rc == LB_OK ? out->status : (long)cc, wait);
        if (rc == LB_OK)
            lb_http_response_free(out);
        lb_sleep_ms(wait);
    }
}
