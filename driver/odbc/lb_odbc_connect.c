/* The intercepted connect calls: SQLConnect, SQLDriverConnect, SQLBrowseConnect,
 * ANSI and W. They turn the caller's arguments into a key/value list, run the core
 * connect flow (settings, OAuth, credential), hand psqlODBC the resulting connection
 * string with SQL_DRIVER_NOPROMPT and answer the caller's output string themselves,
 * so psqlODBC's (which carries PWD) never reaches the caller. */
#include <odbcinst.h>
#include <stdio.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lb_buf.h"
#include "lb_connect.h"
#include "lb_diag.h"
#include "lb_forward.h"
#include "lb_pool.h"
#include "lb_pgerror.h"
#include "lb_secmem.h"
#include "lb_sqlstate.h"
#include "lb_utf16.h"

/* An ANSI or UTF-16 string argument with its ODBC length. */
typedef struct {
    const void *ptr;
    SQLINTEGER len; /* in characters, or SQL_NTS */
    int wide;
} arg;

/* 0 and a malloc'd UTF-8 copy (NULL for a NULL argument), or -1 and a diagnostic. */
static int arg_text(SQLHDBC dbc, arg a, const char *what, char **out)
{
    *out = NULL;
    if (a.ptr == NULL)
        return 0;
    if (a.len < 0 && a.len != SQL_NTS) {
        lb_diag_post(dbc, SQL_ERROR, LB_ERR_ARGUMENT, NULL, "Invalid string length for the argument.", 0);
        return -1;
    }
    size_t bytes = 0;
    if (!a.wide) {
        bytes = a.len == SQL_NTS ? strlen(a.ptr) : (size_t)a.len;
        *out = strndup(a.ptr, bytes);
    } else {
        size_t units = a.len == SQL_NTS ? lb_utf16_len(a.ptr, LB_CONNSTR_MAX + 1) : (size_t)a.len;
        int bad = 0;
        if ((*out = lb_utf16_to_utf8(a.ptr, units, &bytes, &bad)) == NULL && bad) {
            char msg[200];
            snprintf(msg, sizeof(msg), "The %s is not valid UTF-16 (an unpaired surrogate).", what);
            lb_diag_post(dbc, SQL_ERROR, LB_ERR_ENCODING, NULL, msg, 0);
            return -1;
        }
    }
    if (*out == NULL) {
        lb_diag_post(dbc, SQL_ERROR, LB_ERR_NOMEM, NULL, "Out of memory.", 0);
        return -1;
    }
    if (strlen(*out) != bytes) {
        lb_secret_free(*out);
        *out = NULL;
        char msg[200];
        snprintf(msg, sizeof(msg), "The %s contains a NUL character before its stated length.", what);
        lb_diag_post(dbc, SQL_ERROR, LB_ERR_ARGUMENT, NULL, msg, 0);
        return -1;
    }
    return 0;
}

/* unixODBC reads odbc.ini with fgets into 1,000 bytes: a longer line is cut at 999
 * characters and its rest read as another line, silently. A "key=value" that comes
 * within a few characters (room for spaces around '=' and an indent) of that is taken
 * as cut. */
#define LB_INI_LINE_MAX 999
#define LB_INI_LINE_SLACK 8

/* One key of the DSN's odbc.ini section through the driver manager's ini functions (each
 * call opens and parses the ini files again). */
static int dsn_read_key(const char *dsn, const char *key, char *buf, size_t size)
{
    static const char absent[] = "\x01";
    if (SQLGetPrivateProfileString(dsn, key, absent, buf, (int)size, "odbc.ini") < 0 ||
        strcmp(buf, absent) == 0) {
        buf[0] = '\0';
        return 0;
    }
    return 1;
}

/* The DSN's section, read once per connect: one listing of the keys it holds (the driver
 * manager's merged view of the user's and the system's odbc.ini), then one read of each key
 * the driver consumes; every look-up of lb_settings (a key and each of its aliases) is then
 * answered from here. When the listing fails or may be cut, one look-up per key, as before. */
typedef struct {
    char *dsn;          /* the section read, or NULL: none yet */
    int per_key;        /* the listing failed: read each key when asked */
    lb_kvlist values;   /* the driver's keys present in the section and their values */
} dsn_section;

#define DSN_LIST_MAX 16384
#define DSN_VALUE_SIZE 4096

static void dsn_section_free(dsn_section *sec)
{
    free(sec->dsn);
    lb_kvlist_free(&sec->values);
    sec->dsn = NULL;
    sec->per_key = 0;
}

static void dsn_section_load(dsn_section *sec, const char *dsn)
{
    dsn_section_free(sec);
    if ((sec->dsn = strdup(dsn)) == NULL) {
        sec->per_key = 1;
        return;
    }
    char *names = calloc(1, DSN_LIST_MAX), *value = malloc(DSN_VALUE_SIZE);
    int n = names && value ? SQLGetPrivateProfileString(dsn, NULL, "", names, DSN_LIST_MAX - 2, "odbc.ini") : -1;
    if (n < 0 || n >= DSN_LIST_MAX - 3) {
        sec->per_key = 1; /* no listing, or one that may be cut */
    } else {
        for (const char *k = names; *k; k += strlen(k) + 1)
            if (lb_key_is_owned(k) && lb_kvlist_get(&sec->values, k) == NULL && dsn_read_key(dsn, k, value, DSN_VALUE_SIZE) &&
                lb_kvlist_add(&sec->values, k, value) != 0) {
                sec->per_key = 1;
                break;
            }
    }
    if (value)
        lb_wipe(value, DSN_VALUE_SIZE);
    free(value);
    free(names);
}

/* lb_sources' dsn_get: the value of key in the DSN's section (see dsn_section); -1 when the
 * value may have been cut (see lb_sources). */
static int dsn_get(void *ctx, const char *dsn, const char *key, char *buf, size_t size)
{
    dsn_section *sec = ctx;
    if (sec && (sec->dsn == NULL || strcmp(sec->dsn, dsn) != 0))
        dsn_section_load(sec, dsn);
    if (sec == NULL || sec->per_key) {
        if (!dsn_read_key(dsn, key, buf, size))
            return 0;
    } else {
        const char *v = lb_kvlist_get(&sec->values, key);
        if (v == NULL) {
            buf[0] = '\0';
            return 0;
        }
        snprintf(buf, size, "%s", v);
    }
    if (strlen(key) + 1 + strlen(buf) + LB_INI_LINE_SLACK >= LB_INI_LINE_MAX)
        return -1;
    return buf[0] != '\0';
}

static const char *env_get(const char *name)
{
    return secure_getenv(name);
}

/* 1 when s is valid UTF-8 (a W entry point can pass it on as UTF-16); 0 when it is not
 * or there is no memory to tell. */
static int is_utf8(const char *s)
{
    size_t units = 0;
    uint16_t *w = lb_utf8_to_utf16(s, &units);
    if (w == NULL)
        return 0;
    lb_wipe(w, units * sizeof(*w));
    free(w);
    return 1;
}

/* Writes text to the caller's output buffer (bytes for ANSI, characters for W) with
 * the full length, posting 01004 when it had to truncate. The connection is open:
 * a string that cannot be converted is a warning (01000) with an empty output. */
static SQLRETURN put_out(SQLHDBC dbc, int wide, const char *text, void *buf, SQLSMALLINT max, SQLSMALLINT *len)
{
    size_t n = strlen(text);
    uint16_t *w = NULL;
    if (wide && (w = lb_utf8_to_utf16(text, &n)) == NULL) {
        if (len)
            *len = 0;
        if (buf && max > 0)
            ((SQLWCHAR *)buf)[0] = 0;
        lb_diag_post(dbc, SQL_SUCCESS_WITH_INFO, LB_ODBC_OUTPUT_DROPPED, NULL,
                     is_utf8(text) ? "Out of memory for the output connection string; the connection is open."
                                   : "The output connection string is not valid UTF-8, so it is left empty; the "
                                     "connection is open.", 1);
        return SQL_SUCCESS_WITH_INFO;
    }
    if (len)
        *len = (SQLSMALLINT)(n > 32767 ? 32767 : n);
    SQLRETURN rc = SQL_SUCCESS;
    if (buf && max > 0) {
        size_t c = n < (size_t)max - 1 ? n : (size_t)max - 1;
        if (wide) {
            memcpy(buf, w, c * sizeof(SQLWCHAR));
            ((SQLWCHAR *)buf)[c] = 0;
        } else {
            memcpy(buf, text, c);
            ((char *)buf)[c] = '\0';
        }
        if (c < n) {
            lb_diag_post(dbc, SQL_SUCCESS_WITH_INFO, LB_ODBC_TRUNCATED, NULL,
                         "String data, right truncated: the output connection string needs a larger buffer.", 1);
            rc = SQL_SUCCESS_WITH_INFO;
        }
    }
    free(w);
    return rc;
}

static SQLRETURN fail(SQLHDBC dbc, const lb_error *err)
{
    lb_diag_post_error(dbc, SQL_ERROR, err, NULL, 0);
    return SQL_ERROR;
}

/* psqlODBC's first diagnostic record for the connection, for classifying failures
 * (reading it leaves it in place for the application). */
static void driver_message(SQLHDBC dbc, char state[6], char *msg, size_t size)
{
    SQLINTEGER native;
    SQLSMALLINT len;
    if (!SQL_SUCCEEDED(lb_psql.SQLGetDiagRec(SQL_HANDLE_DBC, dbc, 1, (SQLCHAR *)state, &native, (SQLCHAR *)msg,
                                             (SQLSMALLINT)size, &len))) {
        msg[0] = '\0';
        memcpy(state, "08001", 6);
    }
}

/* How PostgreSQL's refusals are told apart: lb_pgerror.h. */
static int auth_failure(const char *msg)
{
    return lb_pgerror_is_auth(msg);
}

static int compute_waking(const char *msg)
{
    return lb_pgerror_is_waking(msg);
}

/* The application's login timeout, as psqlODBC holds it (seconds, 0: none). */
static long login_timeout(SQLHDBC dbc)
{
    SQLULEN v = 0;
    if (!SQL_SUCCEEDED(lb_psql.SQLGetConnectAttr(dbc, SQL_ATTR_LOGIN_TIMEOUT, &v, 0, NULL)))
        return 0;
    return (long)v;
}

/* psqlODBC's W entry point takes UTF-16, so every value of its connection string must
 * be valid UTF-8; a DSN, the environment or the workspace may have given other bytes.
 * Posts HY000 naming the value (never showing it), or HY001 when all are valid. */
static void post_not_utf8(SQLHDBC dbc, const lb_plan *plan)
{
    /* The settings lb_build_psql_connstr passes on. */
    static const lb_key passed[] = {LB_KEY_SERVER,  LB_KEY_PORT,          LB_KEY_DATABASE, LB_KEY_UID,
                                    LB_KEY_SSLMODE, LB_KEY_SSL_ROOT_CERT, LB_KEY_PQOPT};
    const lb_settings *s = &plan->settings;
    char msg[400];
    msg[0] = '\0';
    if (plan->credential && !is_utf8(plan->credential))
        snprintf(msg, sizeof(msg), "The database credential the workspace issued is not valid UTF-8, "
                 "so it cannot be passed to SQLDriverConnectW (it is not shown). Connect with SQLDriverConnect "
                 "(ANSI), or report it to Databricks.");
    else if (s->dsn && !is_utf8(s->dsn))
        snprintf(msg, sizeof(msg), "The DSN name is not valid UTF-8.");
    for (size_t i = 0; msg[0] == '\0' && i < sizeof(passed) / sizeof(passed[0]); i++) {
        const char *v = lb_settings_get(s, passed[i]);
        if (v && !is_utf8(v))
            snprintf(msg, sizeof(msg), "%s (from %s) is not valid UTF-8, which SQLDriverConnectW "
                     "needs: write it as UTF-8 (save odbc.ini as UTF-8 text).", lb_key_info(passed[i])->name,
                     lb_source_name(s->source[passed[i]]));
    }
    for (size_t i = 0; msg[0] == '\0' && plan->input && i < plan->input->count; i++)
        if (!is_utf8(plan->input->items[i].value))
            snprintf(msg, sizeof(msg), "The value of %.100s is not valid UTF-8, which "
                     "SQLDriverConnectW needs.", is_utf8(plan->input->items[i].key) ? plan->input->items[i].key : "a key");
    if (msg[0] == '\0') {
        lb_diag_post(dbc, SQL_ERROR, LB_ERR_NOMEM, NULL, "Out of memory.", 0);
        return;
    }
    lb_log(&plan->log, LB_LOG_ERROR, "%s", msg);
    lb_diag_post(dbc, SQL_ERROR, LB_ERR_ENCODING, NULL, msg, 0);
}

static SQLRETURN psql_connect(SQLHDBC dbc, int wide, const lb_plan *plan)
{
    /* psqlODBC gets what is left of the connect's deadline, at least a second
     * (connect_postgres puts the application's own value back). */
    long long left = lb_deadline_left_ms(&plan->deadline);
    if (left != LLONG_MAX) {
        left = (left + 999) / 1000;
        lb_psql.SQLSetConnectAttr(dbc, SQL_ATTR_LOGIN_TIMEOUT, (SQLPOINTER)(intptr_t)(left > 0 ? left : 1), 0);
    }
    SQLRETURN rc;
    if (!wide) {
        rc = lb_psql.SQLDriverConnect(dbc, NULL, (SQLCHAR *)plan->psql_connstr, SQL_NTS, NULL, 0, NULL,
                                      SQL_DRIVER_NOPROMPT);
    } else {
        size_t units = 0;
        uint16_t *w = lb_utf8_to_utf16(plan->psql_connstr, &units);
        if (w == NULL) {
            post_not_utf8(dbc, plan);
            rc = SQL_ERROR;
        } else {
            rc = lb_psql.SQLDriverConnectW(dbc, NULL, w, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
            lb_wipe(w, units * sizeof(*w));
            free(w);
        }
    }
    return rc;
}

/* What the driver knows about PostgreSQL's refusal, as the first record under psqlODBC's
 * SQLSTATE, holding PostgreSQL's reason and the fix (lb_pgerror_explain); psqlODBC's own
 * records follow. Without an explanation, psqlODBC's records stand alone. */
static void post_hint(SQLHDBC dbc, lb_plan *plan, const char *state, const char *msg)
{
    lb_error hint;
    lb_error_init(&hint);
    int explained = lb_pgerror_explain(msg, &plan->settings, &hint) != LB_OK;
    /* A login refused at a pooled host (PgBouncer takes native passwords only). */
    char direct[LB_DISCOVERY_HOST_MAX];
    if (auth_failure(msg) && lb_plan_pooled_host(plan, direct, sizeof(direct))) {
        const char *server = lb_settings_get(&plan->settings, LB_KEY_SERVER);
        char note[700];
        snprintf(note, sizeof(note), "Servername %.255s is the endpoint's pooled host (PgBouncer), which does not "
                 "take OAuth credentials: set Servername to the direct host %.255s, or leave it out (the driver "
                 "then looks it up).", server, direct);
        if (explained) {
            char first[LB_ERROR_MESSAGE_MAX];
            snprintf(first, sizeof(first), "%s", hint.message);
            lb_error_init(&hint);
            lb_error_set(&hint, LB_ERR_PG_LOGIN, "%s %s", note, first);
        } else {
            char why[120];
            lb_pgerror_reason(msg, why, sizeof(why));
            lb_error_set(&hint, LB_ERR_PG_LOGIN, "%s: %s", why, note);
        }
        explained = 1;
    }
    if (!explained)
        return;
    lb_log(&plan->log, LB_LOG_ERROR, "%s", hint.message);
    lb_diag_post_error(dbc, SQL_ERROR, &hint, state, 1);
}

static const char *origin_name(lb_cache_origin o)
{
    return o == LB_FROM_MEMORY ? "cache hit (memory)" : o == LB_FROM_FILE ? "cache hit (file)" : "fetched";
}

/* What connect_postgres learnt of the endpoint's state while retrying. */
typedef struct {
    char seen[40];  /* the last state read, "" before any, or "unreadable" */
    int asleep;     /* a state other than ACTIVE was seen */
    int rechecked;  /* ACTIVE seen after a sleeping state: one more attempt was granted */
} wake_probe;

/* The failure phrase of a refused or dropped connection, or NULL: these may mean a
 * compute waking from scale-to-zero, or a wrong Servername or Port. */
static const char *refused_or_dropped(const char *msg)
{
    static const char *const phrases[] = {"connection refused", "server closed the connection", "connection reset",
                                          "could not receive data", NULL};
    for (int i = 0; phrases[i]; i++)
        if (strcasestr(msg, phrases[i]))
            return phrases[i];
    return NULL;
}

/* A refused or dropped connection is a compute waking only when the endpoint is asleep
 * or starting: asks the workspace (lb_plan_endpoint_info). An endpoint INIT, DEGRADED or
 * disabled, or an instance STOPPED or DELETING, fails now (LB_ERR_UNAVAILABLE, under
 * psqlODBC's SQLSTATE's record order: nothing will wake it); an instance's transient
 * state (STARTING, UPDATING, FAILING_OVER) keeps the retries. ACTIVE (an instance:
 * AVAILABLE) means nothing that
 * takes PostgreSQL connections is at Servername:Port: posts that, under psqlODBC's
 * SQLSTATE, and returns 1 (the connect fails now). A state that cannot be read keeps
 * the wake-up retries (and says why in the log). A compute that turns ACTIVE while the
 * driver retries gets one more attempt before the address is blamed. */
static int wrong_address(SQLHDBC dbc, lb_plan *plan, const char *state, const char *msg, wake_probe *p)
{
    const char *how = refused_or_dropped(msg);
    if (how == NULL)
        return 0;
    const lb_logger *log = &plan->log;
    const char *kind = lb_plan_target_kind(plan), *target = lb_plan_target_name(plan);
    lb_endpoint_info info;
    lb_error lerr;
    lb_error_init(&lerr);
    if (lb_plan_endpoint_info(plan, 1, &info, &lerr) != LB_OK || info.state[0] == '\0') {
        lb_log(log, LB_LOG_ERROR, "connect: the state of %s %s could not be read (%s); taking \"%s\" for a "
               "compute waking from scale-to-zero", kind, target, lerr.message[0] ? lerr.message : "no state", how);
        snprintf(p->seen, sizeof(p->seen), "unreadable");
        return 0;
    }
    snprintf(p->seen, sizeof(p->seen), "%s", info.state);
    /* Refused states: no retry makes it take the connection. */
    if (lb_plan_check_state(plan, &info, &lerr) != LB_OK) {
        lb_log(log, LB_LOG_ERROR, "%s", lerr.message);
        lb_diag_post_error(dbc, SQL_ERROR, &lerr, state, 1);
        return 1;
    }
    if (!lb_plan_state_awake(plan, p->seen)) {
        lb_log(log, LB_LOG_INFO, "connect: %s %s is %s: waiting for it to wake", kind, target, p->seen);
        p->asleep = 1;
        return 0;
    }
    if (p->asleep && !p->rechecked) {
        lb_log(log, LB_LOG_INFO, "connect: %s %s is %s now: one more attempt", kind, target, p->seen);
        p->rechecked = 1;
        return 0;
    }
    lb_plan_forget_host(plan); /* a discovered host: look it up again next time */
    int discovered = plan->settings.source[LB_KEY_SERVER] == LB_SRC_DISCOVERED;
    lb_error err;
    lb_error_init(&err);
    lb_error_set(&err, LB_ERR_PG_ADDRESS,
                 "No PostgreSQL server took the connection at %s:%d (%s), although %s %s is %s (awake, not "
                 "scaled to zero): check %s.",
                 lb_settings_get(&plan->settings, LB_KEY_SERVER), plan->settings.port, how, kind, target, p->seen,
                 discovered ? "Port (5432 on Lakebase; the host is the one the workspace gave)"
                            : "Servername and Port (the host name and 5432 on Lakebase; or leave Servername out to "
                              "have it looked up)");
    lb_log(log, LB_LOG_ERROR, "%s", err.message);
    lb_diag_post_error(dbc, SQL_ERROR, &err, state, 1);
    return 1;
}

/* Connects with the plan's credential; retries once with a fresh credential when a
 * cached one is refused, and rides through a compute waking from scale-to-zero for
 * up to WakeTimeout seconds (within the connect's deadline, lb_retry_wake's backoff). */
static SQLRETURN connect_postgres(SQLHDBC dbc, int wide, lb_plan *plan)
{
    const lb_logger *log = &plan->log;
    lb_retry_policy policy = lb_retry_wake;
    policy.budget_ms = plan->settings.wake_timeout * 1000LL;
    lb_retry wake;
    lb_retry_start(&wake, &policy, &plan->deadline);
    int refreshed = 0;
    const char *id = lb_settings_get(&plan->settings, LB_KEY_CLIENT_ID);
    const char *uid = lb_settings_get(&plan->settings, LB_KEY_UID);
    char state[6], msg[1024];
    wake_probe probe = {.seen = ""};
    long app_timeout = login_timeout(dbc); /* before psql_connect changes it */
    for (int attempt = 0;; attempt++) {
        long long t0 = lb_now_ms();
        SQLRETURN rc = psql_connect(dbc, wide, plan);
        long long pg_ms = lb_now_ms() - t0;
        /* The application's SQL_ATTR_LOGIN_TIMEOUT back, so that reading it after connect
         * answers what psqlODBC alone would (the differential test checks it). Only after
         * a plain success: any call to psqlODBC would clear its warnings or errors. */
        if (rc == SQL_SUCCESS)
            lb_psql.SQLSetConnectAttr(dbc, SQL_ATTR_LOGIN_TIMEOUT, (SQLPOINTER)(intptr_t)app_timeout, 0);
        if (SQL_SUCCEEDED(rc)) {
            lb_log(log, LB_LOG_INFO,
                   "connect: ok in %lld ms (settings %lld ms; workspace token %lld ms; target %lld ms; credential "
                   "%lld ms, %s; PostgreSQL %lld ms%s)", lb_now_ms() - plan->start_ms, plan->settings_ms,
                   plan->token_ms, plan->target_ms, plan->credential_ms, origin_name(plan->credential_origin), pg_ms,
                   attempt ? ", after retries" : "");
            lb_pool_connected(dbc, plan->settings.max_connection_age); /* for SQL_ATTR_CONNECTION_DEAD */
            return rc;
        }
        driver_message(dbc, state, msg, sizeof(msg));
        lb_log(log, LB_LOG_INFO, "connect: PostgreSQL refused the connection after %lld ms: %s", pg_ms, msg);
        /* A cached credential refused as the client id's own role was revoked (or the
         * server restarted): once, with a fresh one. Refused for another UID, the
         * credential is not the cause: it stays cached for everyone else. */
        if (auth_failure(msg) && plan->credential_origin != LB_FROM_FETCH && !refreshed && strcmp(uid, id) == 0) {
            lb_log(log, LB_LOG_INFO, "connect: retrying once with a fresh credential");
            refreshed = 1;
            lb_plan_forget_credential(plan);
            lb_error err;
            lb_error_init(&err);
            if (lb_plan_credential(plan, &err) != LB_OK) {
                lb_diag_post_error(dbc, SQL_ERROR, &err, NULL, 0);
                return SQL_ERROR;
            }
            continue;
        }
        if (!compute_waking(msg) || plan->settings.wake_timeout == 0) {
            post_hint(dbc, plan, state, msg);
            return rc;
        }
        if (wrong_address(dbc, plan, state, msg, &probe))
            return SQL_ERROR;
        long long wait = 0;
        lb_retry_verdict v = lb_retry_next(&wake, -1, &wait);
        if (v != LB_RETRY_NOW) {
            int past_deadline = v == LB_RETRY_STOP_DEADLINE;
            lb_error err;
            lb_error_init(&err);
            if (past_deadline)
                lb_deadline_error(&plan->deadline, &err,
                                  "waiting for the Lakebase compute to accept connections (%lld ms; it may still "
                                  "be waking from scale-to-zero)", lb_now_ms() - wake.start_ms);
            else
                lb_pgerror_wake_timeout(msg, probe.seen[0] ? probe.seen : "not asked", lb_now_ms() - wake.start_ms, &err);
            lb_log(log, LB_LOG_ERROR, "%s", err.message);
            lb_diag_post_error(dbc, SQL_ERROR, &err, state, 1);
            return SQL_ERROR;
        }
        lb_log(log, LB_LOG_INFO, "connect: the compute may be waking; retrying in %lld ms", wait);
        lb_sleep_ms(wait);
    }
}

/* The connect flow shared by every intercepted function. */
static SQLRETURN connect_with(SQLHDBC dbc, int wide, const lb_kvlist *input, int from_arguments, void *out,
                              SQLSMALLINT out_max, SQLSMALLINT *out_len)
{
    if (lb_is_dummy(dbc)) {
        lb_diag_post(dbc, SQL_ERROR, LB_ERR_INTERNAL, NULL, lb_forward_error(), 0);
        return SQL_ERROR;
    }
    lb_error err;
    lb_error_init(&err);
    lb_plan plan;
    dsn_section section = {0};
    lb_kvlist_init(&section.values);
    lb_sources sources = {.dsn_get = dsn_get, .dsn_ctx = &section, .env_get = env_get,
                          .from_arguments = from_arguments};
    lb_result settings_rc = lb_plan_settings(&plan, input, &sources, login_timeout(dbc), &err);
    dsn_section_free(&section);
    if (settings_rc != LB_OK || lb_plan_target(&plan, &err) != LB_OK || lb_plan_credential(&plan, &err) != LB_OK) {
        lb_plan_free(&plan);
        return fail(dbc, &err);
    }
    SQLRETURN rc = connect_postgres(dbc, wide, &plan);
    if (SQL_SUCCEEDED(rc) && (out || out_len)) {
        SQLRETURN orc = put_out(dbc, wide, plan.out_connstr, out, out_max, out_len);
        if (orc != SQL_SUCCESS)
            rc = SQL_SUCCESS_WITH_INFO;
    }
    lb_plan_free(&plan);
    return rc;
}

/* How much stack a connect's callees (libcurl, OpenSSL, psqlODBC, libpq) may have used,
 * wiped after it: their locals held the request, the answer and the password. */
#define LB_SCRUB_STACK (256 * 1024)

static SQLRETURN driver_connect(SQLHDBC dbc, int wide, arg in, void *out, SQLSMALLINT out_max,
                                SQLSMALLINT *out_len, SQLUSMALLINT completion)
{
    if (dbc == SQL_NULL_HDBC)
        return SQL_INVALID_HANDLE;
    lb_diag_forget(dbc);
    if (completion != SQL_DRIVER_NOPROMPT && completion != SQL_DRIVER_COMPLETE &&
        completion != SQL_DRIVER_PROMPT && completion != SQL_DRIVER_COMPLETE_REQUIRED) {
        lb_diag_post(dbc, SQL_ERROR, LB_ODBC_COMPLETION, NULL, "Invalid driver completion value.", 0);
        return SQL_ERROR;
    }
    if (out_max < 0) {
        lb_diag_post(dbc, SQL_ERROR, LB_ERR_ARGUMENT, NULL, "The output buffer length is negative.", 0);
        return SQL_ERROR;
    }
    char *text = NULL;
    if (in.ptr == NULL) {
        lb_diag_post(dbc, SQL_ERROR, LB_ODBC_NULL_POINTER, NULL, "The input connection string is a null pointer.", 0);
        return SQL_ERROR;
    }
    if (arg_text(dbc, in, "connection string", &text) != 0)
        return SQL_ERROR;
    lb_error err;
    lb_error_init(&err);
    lb_kvlist input;
    lb_result prc = lb_connstr_parse(text, strlen(text), &input, &err);
    lb_secret_free(text);
    if (prc != LB_OK)
        return fail(dbc, &err);
    /* No dialogs on this platform: every completion mode connects without prompting,
     * and a missing setting is an error that names it (as psqlODBC does). */
    SQLRETURN rc = connect_with(dbc, wide, &input, 0, out, out_max, out_len);
    lb_kvlist_free(&input);
    lb_secmem_scrub_stack(LB_SCRUB_STACK);
    return rc;
}

static SQLRETURN plain_connect(SQLHDBC dbc, int wide, arg dsn, arg uid, arg pwd)
{
    if (dbc == SQL_NULL_HDBC)
        return SQL_INVALID_HANDLE;
    lb_diag_forget(dbc);
    char *d = NULL, *u = NULL, *p = NULL;
    SQLRETURN rc = SQL_ERROR;
    if (arg_text(dbc, dsn, "data source name", &d) != 0 || arg_text(dbc, uid, "user name", &u) != 0 ||
        arg_text(dbc, pwd, "password", &p) != 0)
        goto out;
    lb_kvlist input;
    lb_kvlist_init(&input);
    /* SQLConnect's password, when given, is the client secret (PWD is its alias). */
    if ((d && d[0] && lb_kvlist_add(&input, "DSN", d) != 0) || (u && u[0] && lb_kvlist_add(&input, "UID", u) != 0) ||
        (p && p[0] && lb_kvlist_add(&input, "PWD", p) != 0)) {
        lb_diag_post(dbc, SQL_ERROR, LB_ERR_NOMEM, NULL, "Out of memory.", 0);
    } else {
        rc = connect_with(dbc, wide, &input, 1, NULL, 0, NULL);
    }
    lb_kvlist_free(&input);
out:
    free(d);
    free(u);
    lb_secret_free(p);
    lb_secmem_scrub_stack(LB_SCRUB_STACK);
    return rc;
}

static SQLRETURN browse_connect(SQLHDBC dbc)
{
    if (dbc == SQL_NULL_HDBC)
        return SQL_INVALID_HANDLE;
    lb_diag_forget(dbc);
    lb_diag_post(dbc, SQL_ERROR, LB_ODBC_NOT_SUPPORTED, NULL,
                 "SQLBrowseConnect is not supported by the Lakebase driver: connect with "
                 "SQLDriverConnect and a complete connection string or a DSN.", 0);
    return SQL_ERROR;
}

LB_EXPORT SQLRETURN SQL_API SQLConnect(SQLHDBC ConnectionHandle, SQLCHAR *ServerName, SQLSMALLINT NameLength1,
                                       SQLCHAR *UserName, SQLSMALLINT NameLength2, SQLCHAR *Authentication,
                                       SQLSMALLINT NameLength3)
{
    return plain_connect(ConnectionHandle, 0, (arg){ServerName, NameLength1, 0}, (arg){UserName, NameLength2, 0},
                         (arg){Authentication, NameLength3, 0});
}

LB_EXPORT SQLRETURN SQL_API SQLConnectW(SQLHDBC hdbc, SQLWCHAR *szDSN, SQLSMALLINT cbDSN, SQLWCHAR *szUID,
                                        SQLSMALLINT cbUID, SQLWCHAR *szAuthStr, SQLSMALLINT cbAuthStr)
{
    return plain_connect(hdbc, 1, (arg){szDSN, cbDSN, 1}, (arg){szUID, cbUID, 1}, (arg){szAuthStr, cbAuthStr, 1});
}

LB_EXPORT SQLRETURN SQL_API SQLDriverConnect(SQLHDBC hdbc, SQLHWND hwnd, SQLCHAR *szConnStrIn,
                                             SQLSMALLINT cbConnStrIn, SQLCHAR *szConnStrOut,
                                             SQLSMALLINT cbConnStrOutMax, SQLSMALLINT *pcbConnStrOut,
                                             SQLUSMALLINT fDriverCompletion)
{
    (void)hwnd;
    return driver_connect(hdbc, 0, (arg){szConnStrIn, cbConnStrIn, 0}, szConnStrOut, cbConnStrOutMax,
                          pcbConnStrOut, fDriverCompletion);
}

LB_EXPORT SQLRETURN SQL_API SQLDriverConnectW(SQLHDBC hdbc, SQLHWND hwnd, SQLWCHAR *szConnStrIn,
                                              SQLSMALLINT cbConnStrIn, SQLWCHAR *szConnStrOut,
                                              SQLSMALLINT cbConnStrOutMax, SQLSMALLINT *pcbConnStrOut,
                                              SQLUSMALLINT fDriverCompletion)
{
    (void)hwnd;
    return driver_connect(hdbc, 1, (arg){szConnStrIn, cbConnStrIn, 1}, szConnStrOut, cbConnStrOutMax,
                          pcbConnStrOut, fDriverCompletion);
}

LB_EXPORT SQLRETURN SQL_API SQLBrowseConnect(SQLHDBC hdbc, SQLCHAR *szConnStrIn, SQLSMALLINT cbConnStrIn,
                                             SQLCHAR *szConnStrOut, SQLSMALLINT cbConnStrOutMax,
                                             SQLSMALLINT *pcbConnStrOut)
{
    (void)szConnStrIn, (void)cbConnStrIn, (void)szConnStrOut, (void)cbConnStrOutMax, (void)pcbConnStrOut;
    return browse_connect(hdbc);
}

LB_EXPORT SQLRETURN SQL_API SQLBrowseConnectW(SQLHDBC hdbc, SQLWCHAR *szConnStrIn, SQLSMALLINT cbConnStrIn,
                                              SQLWCHAR *szConnStrOut, SQLSMALLINT cbConnStrOutMax,
                                              SQLSMALLINT *pcbConnStrOut)
{
    (void)szConnStrIn, (void)cbConnStrIn, (void)szConnStrOut, (void)cbConnStrOutMax, (void)pcbConnStrOut;
    return browse_connect(hdbc);
}
