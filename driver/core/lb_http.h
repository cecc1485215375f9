/* HTTPS requests to the Databricks workspace. The only file that includes curl.h.
 * Every request is https-only, never follows redirects, has connect and total
 * timeouts and a bounded response size. The response body may hold tokens: free it
 * with lb_http_response_free, which wipes it. Connections (TCP, TLS session, parsed CA
 * store) are reused by later requests of the same thread with the same CAFile and proxy. */
#ifndef LB_HTTP_H
#define LB_HTTP_H

#include <stddef.h>

#include "lb_error.h"
#include "lb_retry.h"

/* The largest response body we read. */
#define LB_HTTP_MAX_BODY (1024 * 1024)


typedef struct {
    const char *cafile;        /* PEM bundle, or NULL for the system store */
    const char *proxy;         /* proxy URL (checked with lb_proxy_parse), or NULL: none */
    long connect_timeout_ms;   /* per attempt; 0: 10 s */
    long total_timeout_ms;     /* per attempt; 0: 30 s */
    const lb_deadline *deadline; /* the connect's; every attempt and wait ends by it (NULL: none) */
    int max_attempts;          /* 0: the policy's (lb_retry_http) */
    const void *log;           /* const lb_logger *, or NULL */
    const char *workspace_id;  /* WorkspaceID (digits), or NULL: sent as X-Databricks-Workspace-Id on
                                  every workspace API request (a URL whose path starts with /api/) */
} lb_http_opts;

typedef struct {
    long status;
    char *body;                /* NUL-terminated */
    size_t body_len;
    char request_id[80];       /* x-request-id, when the server sent one */
    char retry_after[64];      /* Retry-After, when the server sent one */
    char location[256];        /* Location of a 3xx, without user, password or query */
    int attempts;              /* how many times the request was sent */
} lb_http_response;

typedef struct {
    const char *method;        /* "GET" or "POST" */
    const char *url;
    const char *authorization; /* full header value ("Basic ...", "Bearer ..."), or NULL */
    const char *content_type;  /* for a body, or NULL */
    const char *body;          /* or NULL */
    size_t body_len;
    const char *const *headers; /* more header lines ("Name: value"), NULL-terminated, or NULL; wiped after */
    int metadata_service;      /* 1: the Azure instance metadata service: plain http:// only, never
                                  through a proxy (the caller checks that the URL is link-local or
                                  loopback) */
} lb_http_request;

/* Sends the request. A 1xx, 2xx or 4xx/5xx status is a success here (the caller
 * interprets it); a failure is a transport failure (LB_ERR_NETWORK; LB_ERR_PROTOCOL
 * for an answer that is not HTTP or too large) with a message naming what to check,
 * a 3xx (LB_ERR_PROTOCOL; redirects are never followed: secrets go only where they
 * were sent) naming its Location (LB_ERR_NETWORK for the login page's
 * private-link-validation-error: the workspace needs Private Link), or LB_ERR_TIMEOUT once
 * the deadline has passed, naming the last answer. What is retried, and how long to wait,
 * is lb_retry's policy (lb_retry_http): 429, 502, 503, 504, a rate limit said in the body
 * (lb_retry_http_answer) and transient network errors, waiting at least what Retry-After
 * asks (seconds or an HTTP date), until the deadline. A workspace API call (path /api/...)
 * answered 2xx with an HTML page (the sign-in page of a URL that serves several
 * workspaces, when the workspace id is missing or wrong) fails with LB_ERR_SETTINGS saying
 * so. No message or log line shows a URL's user or password. */
lb_result lb_http_send(const lb_http_opts *opts, const lb_http_request *req, lb_http_response *out,
                       lb_error *err);
void lb_http_response_free(lb_http_response *resp);
/* Cleans up the calling thread's cached connections and OpenSSL state now, as its exit
 * would: for a thread that must leave nothing behind before it signals that it is done (a
 * background refresh, whose process may exit, and unregister the thread-exit clean-up,
 * right after). */
void lb_http_thread_release(void);

/* A workspace API call with the OAuth token as bearer: GET (json_body NULL) or POST of a
 * JSON body; the answer, whatever its status, in resp. The header holding the token is
 * wiped after. access_token may carry header lines after its first line ("token\nName:
 * value\n..."): an Azure source's management token and workspace resource id
 * (auth/lb_auth_azure.c); they are sent as headers of their own. */
lb_result lb_http_bearer(const lb_http_opts *opts, const char *method, const char *url, const char *access_token,
                         const char *json_body, lb_http_response *resp, lb_error *err);

/* One page of a list answer for lb_http_get_pages: interprets resp (whatever its status)
 * and writes the next page's token (next_page_token) into next, or leaves it "" on the last page. */
typedef lb_result (*lb_http_page_fn)(void *ctx, const lb_http_response *resp, char *next, size_t next_size,
                                     lb_error *err);

/* GETs every page of a workspace list (url, with its query, e.g. ?page_size=100), adding
 * page_token=<next> for each next page, at most 100 pages (then LB_ERR_PROTOCOL naming what);
 * *status is the last answer's HTTP status. */
lb_result lb_http_get_pages(const lb_http_opts *opts, const char *url, const char *access_token, const char *what,
                            lb_http_page_fn page, void *ctx, long *status, lb_error *err);

/* opts for a quick look-up (a caller deciding how to treat a refused connection must
 * not wait long): 3 s to connect, 5 s per attempt, two attempts at most. */
lb_http_opts lb_http_quick(const lb_http_opts *opts);

/* Base64 (standard alphabet, padded) and application/x-www-form-urlencoded escaping.
 * Both return malloc'd strings or NULL when out of memory. */
char *lb_base64(const unsigned char *data, size_t len);
char *lb_form_escape(const char *s);

/* A proxy URL taken apart with libcurl's URL parser: scheme://host:port without the
 * user and password, which come apart (percent-decoded) so that they are handed to
 * libcurl separately and never appear in a URL that a message could quote. */
typedef struct {
    char *url;
    char *user;      /* NULL when none; a secret */
    char *password;  /* NULL when none; a secret */
} lb_proxy;

/* 0 on success; -1 with *problem (static text that quotes nothing of the URL) when it
 * is not an http://, https://, socks5:// or socks5h:// URL with a host. */
int lb_proxy_parse(const char *text, lb_proxy *out, const char **problem);
void lb_proxy_free(lb_proxy *p);

/* "scheme://host:port" of an https URL (the port always written), or -1 when it is
 * not an absolute https URL with a host. Two URLs have the same origin when these
 * are equal. */
int lb_url_origin(const char *url, char *buf, size_t size);

/* Milliseconds to wait for a Retry-After value at wall-clock time now: -1 when malformed. */
long long lb_retry_after_ms(const char *value, long long now_epoch_s);

#endif
