/* PostgreSQL's refusals of a connection, as psqlODBC reports them (libpq's text): which
 * kind of refusal it is (what the connect retries, what it explains) and the driver's
 * explanation, written as one message that holds PostgreSQL's reason and the fix.
 * ODBC-free: the driver passes psqlODBC's message text in. */
#ifndef LB_PGERROR_H
#define LB_PGERROR_H

#include <stddef.h>

#include "lb_error.h"
#include "lb_settings.h"

/* libpq's words for a refused password. */
int lb_pgerror_is_auth(const char *msg);

/* A compute that is asleep or waking refuses or drops the connection, or its proxy
 * says it cannot reach it. An authentication failure or a missing role or database is
 * not waking. */
int lb_pgerror_is_waking(const char *msg);

/* PostgreSQL's own reason in psqlODBC's message: the text after the last "FATAL:" or
 * "ERROR:", else after libpq's "connection to server at ... failed:", else the whole
 * message; spaces trimmed, at most size - 1 bytes, control characters as spaces. */
void lb_pgerror_reason(const char *msg, char *buf, size_t size);

/* The driver's explanation of the refusal msg for a connect with settings s: fills err
 * (LB_ERR_PG_LOGIN, LB_ERR_PG_DATABASE or LB_ERR_PG_TLS) with "<PostgreSQL's reason>:
 * <what is wrong and how to fix it>" and returns its code, or LB_OK when the driver has
 * nothing to add. The message is kept short (values are cut), since unixODBC cuts a
 * record's text at 512 bytes. */
lb_result lb_pgerror_explain(const char *msg, const lb_settings *s, lb_error *err);

/* The compute still refused (msg) after waited_ms of retries, and WakeTimeout is spent:
 * fills err (LB_ERR_PG_WAKE) with the reason, the endpoint state the driver saw and what
 * to do; returns LB_ERR_PG_WAKE. */
lb_result lb_pgerror_wake_timeout(const char *msg, const char *state_seen, long long waited_ms, lb_error *err);

#endif
