/* Result codes and the error record every core function reports through.
 * A core function returns an lb_result and, on failure, fills an lb_error once:
 * the first failure wins, so the message names the root cause, not a later symptom.
 * The code says what kind of failure it is; the message says what failed and what to
 * fix, without any prefix. Nothing here knows ODBC: the driver maps each code to a
 * SQLSTATE and a native error code in one table (driver/odbc/lb_sqlstate.c) and adds
 * the "[Lakebase] " prefix. */
#ifndef LB_ERROR_H
#define LB_ERROR_H

#include <stdarg.h>

typedef enum {
    LB_OK = 0,
    LB_ERR_SETTINGS,   /* a setting is missing or malformed: fix the configuration */
    LB_ERR_CONNSTR,    /* the connection string's syntax */
    LB_ERR_ARGUMENT,   /* an argument the driver cannot take (too long, a bad length) */
    LB_ERR_ENCODING,   /* text that is not valid UTF-8 or UTF-16 where it must be */
    LB_ERR_NOT_FOUND,  /* the workspace says a setting names nothing (no such endpoint, not a workspace) */
    LB_ERR_AUTH,       /* the workspace rejected the identity */
    LB_ERR_NETWORK,    /* the workspace could not be reached or failed */
    LB_ERR_PROTOCOL,   /* the workspace answered something we cannot use */
    LB_ERR_TIMEOUT,    /* the connect's deadline passed */
    LB_ERR_UNAVAILABLE,/* the endpoint or instance is in a state that takes no connections now */
    LB_ERR_NOMEM,      /* out of memory */
    LB_ERR_INTERNAL,   /* a library the driver needs failed (libcurl, psqlODBC missing) */
    /* PostgreSQL refused the connection (see lb_pgerror.h); the driver's explanation
     * keeps the refusal's own SQLSTATE. */
    LB_ERR_PG_LOGIN,   /* the login: UID, the role, the credential */
    LB_ERR_PG_DATABASE,/* the database does not exist */
    LB_ERR_PG_TLS,     /* PostgreSQL's TLS certificate was not accepted */
    LB_ERR_PG_WAKE,    /* the compute did not accept connections within WakeTimeout */
    LB_ERR_PG_ADDRESS, /* refused although the endpoint is awake: Servername or Port is wrong */
    LB_ERR_COUNT
} lb_result;

#define LB_ERROR_MESSAGE_MAX 1024

typedef struct {
    lb_result code;
    char message[LB_ERROR_MESSAGE_MAX];
} lb_error;

void lb_error_init(lb_error *err);

/* Records the failure unless one is already recorded; returns code so callers can
 * write `return lb_error_set(...)`. The message is made printable, valid UTF-8 (see
 * lb_text_sanitize), so a quoted value can never garble or break a diagnostic, and
 * URLs in it lose their user and password (lb_text_redact_userinfo). */
lb_result lb_error_set(lb_error *err, lb_result code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* In place: control characters become spaces and bytes that are not part of a valid
 * UTF-8 sequence (a multi-byte character cut by a %.Ns precision, say) become '?'. */
void lb_text_sanitize(char *s);

/* In place: every "scheme://user:password@host" loses its "user:password@" (the
 * authority runs to the first '/', space, quote or angle bracket, so a password with
 * '#' or '?' in it goes too). lb_error_set and lb_log apply it to all they write. */
void lb_text_redact_userinfo(char *s);

/* True once a failure is recorded. */
int lb_error_isset(const lb_error *err);


#endif
