/* The deadline of a connect and the retry policy (see lb_retry.h). */
#include "lb_retry.h"

#include <limits.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lb_log.h"

const lb_retry_policy lb_retry_http = {.base_ms = 250, .cap_ms = 10000, .max_attempts = 0, .budget_ms = 300000,
                                       .last_try_ms = 500, .max_net_attempts = 6};
const lb_retry_policy lb_retry_wake = {.base_ms = 250, .cap_ms = 2000, .max_attempts = 0, .budget_ms = 0,
                                       .last_try_ms = 0, .max_net_attempts = 0};
/* A Provisioned instance in a transient state (STARTING, UPDATING, FAILING_OVER): asked
 * again often enough that a connect goes on within about a second of it turning AVAILABLE;
 * the connect's deadline is the only bound. */
const lb_retry_policy lb_retry_instance = {.base_ms = 250, .cap_ms = 1000, .max_attempts = 0, .budget_ms = 0,
                                           .last_try_ms = 0, .max_net_attempts = 0};

void lb_deadline_start(lb_deadline *d, long login_timeout_s, long connect_timeout_s)
{
    d->from_login_timeout = login_timeout_s > 0;
    d->seconds = login_timeout_s > 0 ? login_timeout_s : connect_timeout_s;
    d->at_ms = d->seconds > 0 ? lb_now_ms() + d->seconds * 1000LL : 0;
}

long long lb_deadline_left_ms(const lb_deadline *d)
{
    if (d == NULL || d->at_ms == 0)
        return LLONG_MAX;
    long long left = d->at_ms - lb_now_ms();
    return left > 0 ? left : 0;
}

int lb_deadline_passed(const lb_deadline *d)
{
    return lb_deadline_left_ms(d) == 0;
}

lb_result lb_deadline_error(const lb_deadline *d, lb_error *err, const char *doing_fmt, ...)
{
    char doing[600];
    va_list ap;
    va_start(ap, doing_fmt);
    vsnprintf(doing, sizeof(doing), doing_fmt, ap);
    va_end(ap);
    int login = d && d->from_login_timeout;
    return lb_error_set(err, LB_ERR_TIMEOUT, "%s (%ld s) expired while %s. %s",
                        login ? "Login timeout" : "ConnectTimeout", d ? d->seconds : 0L, doing,
                        login ? "Raise the application's login timeout, or check the network path."
                              : "Raise ConnectTimeout (seconds), or check the network path.");
}

void lb_retry_start(lb_retry *r, const lb_retry_policy *p, const lb_deadline *d)
{
    r->policy = *p;
    r->deadline = d;
    r->start_ms = lb_now_ms();
    r->attempts = 0;
    r->net_failures = 0;
}

/* base * 2^n capped, times a random factor in 0.5..1. */
static long long backoff_ms(const lb_retry_policy *p, int n)
{
    long long base = p->base_ms;
    for (int i = 0; i < n && base < p->cap_ms; i++)
        base *= 2;
    if (base > p->cap_ms)
        base = p->cap_ms;
    unsigned short r = 0;
    if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
        r = (unsigned short)(lb_now_ms() & 0xffff);
    return base / 2 + (base / 2) * r / 65535;
}

lb_retry_verdict lb_retry_next(lb_retry *r, long long asked_ms, long long *wait_ms)
{
    r->attempts++;
    *wait_ms = 0;
    if (r->policy.max_attempts > 0 && r->attempts >= r->policy.max_attempts)
        return LB_RETRY_STOP_ATTEMPTS;
    long long wait = backoff_ms(&r->policy, r->attempts - 1);
    if (asked_ms > wait)
        wait = asked_ms;
    long long left = lb_deadline_left_ms(r->deadline);
    if (wait >= left && r->policy.last_try_ms > 0 && asked_ms < left - r->policy.last_try_ms &&
        left - r->policy.last_try_ms > 0)
        wait = left - r->policy.last_try_ms; /* one last attempt before the deadline */
    *wait_ms = wait;
    long long resume = lb_now_ms() + wait;
    if (wait >= left)
        return LB_RETRY_STOP_DEADLINE;
    if (r->policy.budget_ms > 0 && resume > r->start_ms + r->policy.budget_ms)
        return LB_RETRY_STOP_BUDGET;
    return LB_RETRY_NOW;
}

int lb_retry_http_status(long status)
{
    return status == 429 || status == 502 || status == 503 || status == 504;
}

lb_retry_verdict lb_retry_next_net(lb_retry *r, long long *wait_ms)
{
    r->net_failures++;
    if (r->policy.max_net_attempts > 0 && r->net_failures >= r->policy.max_net_attempts) {
        r->attempts++;
        *wait_ms = 0;
        return LB_RETRY_STOP_ATTEMPTS;
    }
    return lb_retry_next(r, -1, wait_ms);
}

int lb_retry_http_answer(long status, const char *error_code)
{
    if (lb_retry_http_status(status))
        return 1;
    if (status < 400 || status == 401 || status == 403 || status == 404 || error_code == NULL)
        return 0;
    return strcmp(error_code, "REQUEST_LIMIT_EXCEEDED") == 0 || strcmp(error_code, "RESOURCE_EXHAUSTED") == 0;
}

int lb_retry_net(lb_net_failure f)
{
    return f != LB_NET_FINAL;
}
