/* HTTPS requests to the Databricks workspace. The only file that includes curl.h.
 * Every request is https-only, never follows redirects, has connect and total
 * timeouts and a bounded response size. The response body may hold tokens: free it
 * with lb_http_response_free, which wipes it. */
#ifndef LB_HTTP_H
#define LB_HTTP_H

#include <stddef.h>

#include "lb_error.h"

/* The largest response body we read. */
#define LB_HTTP_MAX_BODY (1024 * 1024)


typedef struct {
    const char *cafile;        /* PEM bundle, or NULL for the system store */
    const char *proxy;         /* proxy URL, or NULL for libcurl's environment variables */
    long connect_timeout_ms;   /* per attempt; 0: 10 s */
    long total_timeout_ms;     /* per attempt; 0: 30 s */
    long long deadline_ms;     /* monotonic time (lb_now_ms) when the login timeout expires; 0: none */
    long retry_budget_ms;      /* retries stop when they would end later than this from the first
                                  attempt; 0: 60 s */
    int max_attempts;          /* 0: 6 */
    const void *log;           /* const lb_logger *, or NULL */
} lb_http_opts;

typedef struct {
    long status;
    char *body;                /* NUL-terminated */
    size_t body_len;
    char request_id[80];       /* x-request-id, when the server sent one */
    char retry_after[64];      /* Retry-After, when the server sent one */
    int attempts;              /* how many times the request was sent */
} lb_http_response;

typedef struct {
    const char *method;        /* "GET" or "POST" */
    const char *url;
    const char *authorization; /* full header value ("Basic ...", "Bearer ..."), or NULL */
    const char *content_type;  /* for a body, or NULL */
    const char *body;          /* or NULL */
    size_t body_len;
} lb_http_request;

/* Sends the request. Any HTTP status is a success here (the caller interprets it);
 * a failure is a transport failure (08001) with a message naming what to check, or
 * HYT00 once the deadline has passed. 429, 502, 503, 504 and transient network
 * errors are retried with exponential backoff and jitter, waiting at least what
 * Retry-After asks (seconds or an HTTP date), within the deadline and budget; other
 * statuses (400, 401, 403, 404, ...) are returned at once. */
lb_result lb_http_send(const lb_http_opts *opts, const lb_http_request *req, lb_http_response *out,
                       lb_error *err);
void lb_http_response_free(lb_http_response *resp);

/* Base64 (standard alphabet, padded) and application/x-www-form-urlencoded escaping.
 * Both return malloc'd strings or NULL when out of memory. */
char *lb_base64(const unsigned char *data, size_t len);
char *lb_form_escape(const char *s);

/* Milliseconds to wait for a Retry-After value at wall-clock time now: -1 when malformed. */
long long lb_retry_after_ms(const char *value, long long now_epoch_s);

#endif
