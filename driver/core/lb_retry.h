/* How long and how often a connect tries: the one deadline of a connect and the one
 * retry policy (what is retryable, backoff with jitter, Retry-After) that every layer
 * asks: the HTTP requests to the workspace, the waits on another connection's fetch
 * and the wake-up retries while a compute starts from scale-to-zero. */
#ifndef LB_RETRY_H
#define LB_RETRY_H

#include "lb_error.h"

/* The deadline of one connect: the application's login timeout when it set one, else
 * ConnectTimeout. Everything a connect does (HTTP attempts and their retries, waiting
 * on another connection's fetch, file locks, wake-up retries, PostgreSQL) ends by it. */
typedef struct {
    long long at_ms;   /* monotonic (lb_now_ms); 0: none (tests of the core only) */
    long seconds;      /* as configured, for messages */
    int from_login_timeout; /* 1: SQL_ATTR_LOGIN_TIMEOUT, 0: ConnectTimeout */
} lb_deadline;

void lb_deadline_start(lb_deadline *d, long login_timeout_s, long connect_timeout_s);
/* Milliseconds left (> 0), 0 when passed, LLONG_MAX when there is none. */
long long lb_deadline_left_ms(const lb_deadline *d);
int lb_deadline_passed(const lb_deadline *d);
/* Records LB_ERR_TIMEOUT: "<Login timeout|ConnectTimeout> (N s) expired while <doing>. <fix>".
 * doing is printf-style text such as "waiting for the workspace at https://host/path". */
lb_result lb_deadline_error(const lb_deadline *d, lb_error *err, const char *doing_fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A retry policy: exponential backoff from base_ms doubling up to cap_ms, each wait
 * jittered to 50..100 %, at most max_attempts attempts (0: no limit) within budget_ms
 * of the first attempt (0: no budget), never past the deadline. With last_try_ms > 0, a
 * backoff that would pass the deadline is cut short so that one last attempt still gets
 * last_try_ms before it (the retries run to the deadline); a wait the server asked for
 * (Retry-After) is never cut. */
typedef struct {
    long long base_ms, cap_ms;
    int max_attempts;
    long long budget_ms;
    long long last_try_ms;
    int max_net_attempts; /* transport failures (lb_retry_next_net): at most this many attempts (0: no limit) */
} lb_retry_policy;

/* 250 ms .. 10 s, no attempt limit, to the deadline (and at most 5 minutes, as the
 * Databricks SDKs), a last attempt with at least 500 ms left; but a transport failure
 * (refused, reset, an attempt's own timeout) is tried at most 6 times, so that a wrong
 * host or port fails in seconds rather than at the deadline. */
extern const lb_retry_policy lb_retry_http;
extern const lb_retry_policy lb_retry_wake;  /* 250 ms .. 2 s, budget: WakeTimeout */
extern const lb_retry_policy lb_retry_instance; /* 250 ms .. 1 s, until the deadline: a Provisioned
                                                   instance in a transient state */

typedef struct {
    lb_retry_policy policy;
    const lb_deadline *deadline;
    long long start_ms;
    int attempts;      /* attempts made so far */
    int net_failures;  /* of which transport failures */
} lb_retry;

/* Starts counting attempts; the first attempt is made right after. */
void lb_retry_start(lb_retry *r, const lb_retry_policy *p, const lb_deadline *d);

typedef enum { LB_RETRY_NOW, LB_RETRY_STOP_ATTEMPTS, LB_RETRY_STOP_BUDGET, LB_RETRY_STOP_DEADLINE } lb_retry_verdict;

/* After a failed attempt that may be retried: counts it and gives the wait before the
 * next attempt in *wait_ms (at least asked_ms, what the server asked with Retry-After;
 * -1 when it asked nothing), or says why there is no next attempt. */
lb_retry_verdict lb_retry_next(lb_retry *r, long long asked_ms, long long *wait_ms);
/* The same after a transport failure, which also counts against max_net_attempts. */
lb_retry_verdict lb_retry_next_net(lb_retry *r, long long *wait_ms);

/* What is retryable. HTTP statuses: 429, 502, 503, 504 (throttled, or a gateway in
 * front of the workspace); everything else (400, 401, 403, 404, 3xx, ...) is final. */
int lb_retry_http_status(long status);
/* An answer: its status is retryable, or it is a 4xx/5xx other than 401, 403 and 404 whose
 * body's error_code (error_code may be NULL) says the workspace is rate limiting:
 * REQUEST_LIMIT_EXCEEDED or RESOURCE_EXHAUSTED (as the Databricks SDKs retry them). */
int lb_retry_http_answer(long status, const char *error_code);

/* Transport failures, as lb_http classifies libcurl's codes. */
typedef enum {
    LB_NET_REFUSED,   /* connection refused or could not connect */
    LB_NET_DROPPED,   /* reset, closed, or nothing received: a transient failure */
    LB_NET_TIMEOUT,   /* an attempt ran out of its own time */
    LB_NET_FINAL      /* DNS, TLS, protocol, proxy refusal, size: retrying will not help */
} lb_net_failure;
int lb_retry_net(lb_net_failure f);

#endif
