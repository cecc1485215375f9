/* Driver-side diagnostics and the diagnostic entry points (see lb_diag.h). */
#include "lb_diag.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_buf.h"
#include "lb_forward.h"
#include "lb_sqlstate.h"
#include "lb_utf16.h"

#define MAX_RECORDS 8

typedef struct {
    char sqlstate[6];
    SQLINTEGER native;
    char *message;
} record;

typedef struct entry {
    SQLHANDLE handle;
    SQLRETURN rc;
    int with_driver; /* psqlODBC's records follow the driver's */
    int count;
    record recs[MAX_RECORDS];
    struct entry *next;
} entry;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static entry *entries;
static atomic_int entry_count;

static void free_entry(entry *e)
{
    for (int i = 0; i < e->count; i++)
        free(e->recs[i].message);
    free(e);
}

void lb_diag_forget(SQLHANDLE handle)
{
    if (atomic_load_explicit(&entry_count, memory_order_relaxed) == 0)
        return;
    pthread_mutex_lock(&mu);
    for (entry **p = &entries; *p; p = &(*p)->next) {
        if ((*p)->handle == handle) {
            entry *e = *p;
            *p = e->next;
            free_entry(e);
            atomic_fetch_sub(&entry_count, 1);
            break;
        }
    }
    pthread_mutex_unlock(&mu);
}

void lb_diag_post(SQLHANDLE dbc, SQLRETURN rc, int code, const char *context, const char *message, int with_driver)
{
    static const char prefix[] = "[Lakebase] ";
    size_t n = strlen(message);
    char *text = malloc(sizeof(prefix) + n);
    if (text == NULL)
        return;
    memcpy(text, prefix, sizeof(prefix) - 1);
    memcpy(text + sizeof(prefix) - 1, message, n + 1);
    const char *sqlstate = lb_sqlstate_of(code, context);
    pthread_mutex_lock(&mu);
    entry *e = entries;
    while (e && e->handle != dbc)
        e = e->next;
    if (e == NULL && (e = calloc(1, sizeof(*e))) != NULL) {
        e->handle = dbc;
        e->next = entries;
        entries = e;
        atomic_fetch_add(&entry_count, 1);
    }
    if (e && e->count < MAX_RECORDS) {
        record *r = &e->recs[e->count++];
        snprintf(r->sqlstate, sizeof(r->sqlstate), "%.5s", sqlstate);
        r->native = lb_sqlstate_native(code);
        r->message = text;
        text = NULL;
        e->rc = rc;
        e->with_driver |= with_driver;
    }
    pthread_mutex_unlock(&mu);
    free(text);
}

void lb_diag_post_error(SQLHANDLE dbc, SQLRETURN rc, const lb_error *err, const char *context, int with_driver)
{
    lb_diag_post(dbc, rc, err->code, context, err->message, with_driver);
}

/* A copy of one record, taken under the lock. */
typedef struct {
    int found;        /* the handle has driver-side records */
    int with_driver;  /* psqlODBC's records follow the driver's */
    int count;        /* the driver's records */
    SQLRETURN rc;
    char sqlstate[6];
    SQLINTEGER native;
    char *message;    /* malloc'd copy of the requested record, or NULL */
} view;

/* psqlODBC's records for the connection. It answers SQL_NO_DATA to SQL_DIAG_NUMBER on
 * a connection handle, so they are counted by reading them (which keeps them). */
static int driver_records(SQLHANDLE h)
{
    int n = 0;
    for (;;) {
        SQLCHAR state[6], msg[8];
        SQLINTEGER native;
        SQLSMALLINT len;
        if (n >= MAX_RECORDS ||
            !SQL_SUCCEEDED(lb_psql.SQLGetDiagRec(SQL_HANDLE_DBC, h, (SQLSMALLINT)(n + 1), state, &native, msg,
                                                 sizeof(msg), &len)))
            return n;
        n++;
    }
}

/* rec is the 1-based record number the application asked for. */
static view look(SQLSMALLINT type, SQLHANDLE h, int rec)
{
    view v = {0};
    if (type != SQL_HANDLE_DBC || atomic_load_explicit(&entry_count, memory_order_relaxed) == 0)
        return v;
    int idx = rec - 1;
    pthread_mutex_lock(&mu);
    for (entry *e = entries; e; e = e->next) {
        if (e->handle == h) {
            v.found = 1;
            v.count = e->count;
            v.rc = e->rc;
            v.with_driver = e->with_driver;
            if (idx >= 0 && idx < e->count) {
                memcpy(v.sqlstate, e->recs[idx].sqlstate, 6);
                v.native = e->recs[idx].native;
                v.message = strdup(e->recs[idx].message);
            }
            break;
        }
    }
    pthread_mutex_unlock(&mu);
    return v;
}

/* Copies s into an ANSI buffer of size bytes; SQL_SUCCESS_WITH_INFO when truncated. */
static SQLRETURN put_ansi(const char *s, SQLCHAR *buf, SQLLEN size, SQLLEN *len_out)
{
    size_t n = strlen(s);
    if (len_out)
        *len_out = (SQLLEN)n;
    if (buf && size > 0) {
        size_t c = n < (size_t)size - 1 ? n : (size_t)size - 1;
        memcpy(buf, s, c);
        buf[c] = '\0';
    }
    return (buf && (SQLLEN)n >= size) ? SQL_SUCCESS_WITH_INFO : SQL_SUCCESS;
}

/* The same into a UTF-16 buffer of size units. */
static SQLRETURN put_wide(const char *s, SQLWCHAR *buf, SQLLEN size, SQLLEN *len_out)
{
    size_t n = 0;
    uint16_t *w = lb_utf8_to_utf16(s, &n);
    if (w == NULL)
        return SQL_ERROR;
    if (len_out)
        *len_out = (SQLLEN)n;
    if (buf && size > 0) {
        size_t c = n < (size_t)size - 1 ? n : (size_t)size - 1;
        memcpy(buf, w, c * sizeof(SQLWCHAR));
        buf[c] = 0;
    }
    free(w);
    return (buf && (SQLLEN)n >= size) ? SQL_SUCCESS_WITH_INFO : SQL_SUCCESS;
}

static SQLRETURN get_rec(int wide, SQLSMALLINT type, SQLHANDLE h, SQLSMALLINT rec, void *state, SQLINTEGER *native,
                         void *msg, SQLSMALLINT size, SQLSMALLINT *len)
{
    view v = look(type, h, rec);
    if (!v.found)
        return wide ? lb_psql.SQLGetDiagRecW(type, h, rec, state, native, msg, size, len)
                    : lb_psql.SQLGetDiagRec(type, h, rec, state, native, msg, size, len);
    if (rec < 1 || size < 0) {
        free(v.message);
        return SQL_ERROR;
    }
    if (rec > v.count && v.with_driver) {
        /* psqlODBC's records, after the driver's. */
        SQLSMALLINT r = (SQLSMALLINT)(rec - v.count);
        return wide ? lb_psql.SQLGetDiagRecW(type, h, r, state, native, msg, size, len)
                    : lb_psql.SQLGetDiagRec(type, h, r, state, native, msg, size, len);
    }
    if (v.message == NULL)
        return SQL_NO_DATA;
    SQLLEN full = 0;
    SQLRETURN rc;
    if (wide) {
        if (state)
            put_wide(v.sqlstate, state, 6, NULL);
        rc = put_wide(v.message, msg, size, &full);
    } else {
        if (state)
            put_ansi(v.sqlstate, state, 6, NULL);
        rc = put_ansi(v.message, msg, size, &full);
    }
    if (native)
        *native = v.native;
    if (len)
        *len = (SQLSMALLINT)(full > 32767 ? 32767 : full);
    free(v.message);
    return rc;
}

LB_EXPORT SQLRETURN SQL_API SQLGetDiagRec(SQLSMALLINT HandleType, SQLHANDLE Handle, SQLSMALLINT RecNumber,
                                          SQLCHAR *Sqlstate, SQLINTEGER *NativeError, SQLCHAR *MessageText,
                                          SQLSMALLINT BufferLength, SQLSMALLINT *TextLength)
{
    return get_rec(0, HandleType, Handle, RecNumber, Sqlstate, NativeError, MessageText, BufferLength, TextLength);
}

LB_EXPORT SQLRETURN SQL_API SQLGetDiagRecW(SQLSMALLINT fHandleType, SQLHANDLE handle, SQLSMALLINT iRecord,
                                           SQLWCHAR *szSqlState, SQLINTEGER *pfNativeError, SQLWCHAR *szErrorMsg,
                                           SQLSMALLINT cbErrorMsgMax, SQLSMALLINT *pcbErrorMsg)
{
    return get_rec(1, fHandleType, handle, iRecord, szSqlState, pfNativeError, szErrorMsg, cbErrorMsgMax,
                   pcbErrorMsg);
}

/* ISO 9075 defines every class we use but HY and IM, which ODBC 3.0 defines. */
static const char *origin(const char *sqlstate)
{
    return (strncmp(sqlstate, "HY", 2) == 0 || strncmp(sqlstate, "IM", 2) == 0) ? "ODBC 3.0" : "ISO 9075";
}

static SQLRETURN get_field(int wide, SQLSMALLINT type, SQLHANDLE h, SQLSMALLINT rec, SQLSMALLINT field,
                           SQLPOINTER info, SQLSMALLINT size, SQLSMALLINT *len)
{
    int header = field == SQL_DIAG_NUMBER || field == SQL_DIAG_RETURNCODE;
    view v = look(type, h, header ? 0 : rec);
    if (!v.found || (!header && rec == 0)) {
        free(v.message);
        return wide ? lb_psql.SQLGetDiagFieldW(type, h, rec, field, info, size, len)
                    : lb_psql.SQLGetDiagField(type, h, rec, field, info, size, len);
    }
    if (header) {
        if (info && field == SQL_DIAG_NUMBER)
            *(SQLINTEGER *)info = v.count + (v.with_driver ? driver_records(h) : 0);
        else if (info)
            *(SQLRETURN *)info = v.rc;
        return SQL_SUCCESS;
    }
    if (rec > v.count && v.with_driver) {
        /* psqlODBC's records, after the driver's. */
        SQLSMALLINT r = (SQLSMALLINT)(rec - v.count);
        return wide ? lb_psql.SQLGetDiagFieldW(type, h, r, field, info, size, len)
                    : lb_psql.SQLGetDiagField(type, h, r, field, info, size, len);
    }
    if (rec < 0 || v.message == NULL) {
        free(v.message);
        return rec < 0 ? SQL_ERROR : SQL_NO_DATA;
    }
    const char *text = NULL;
    SQLRETURN rc = SQL_SUCCESS;
    switch (field) {
    case SQL_DIAG_SQLSTATE: text = v.sqlstate; break;
    case SQL_DIAG_MESSAGE_TEXT: text = v.message; break;
    case SQL_DIAG_CLASS_ORIGIN: text = origin(v.sqlstate); break;
    case SQL_DIAG_SUBCLASS_ORIGIN: text = origin(v.sqlstate); break;
    case SQL_DIAG_CONNECTION_NAME: text = ""; break;
    case SQL_DIAG_SERVER_NAME: text = ""; break;
    case SQL_DIAG_NATIVE:
        if (info)
            *(SQLINTEGER *)info = v.native;
        break;
    default: rc = SQL_ERROR; break;
    }
    if (text && info && size < 0) {
        rc = SQL_ERROR;
    } else if (text) {
        SQLLEN full = 0;
        /* SQLGetDiagFieldW counts its buffer and length in bytes. */
        rc = wide ? put_wide(text, info, size / (SQLSMALLINT)sizeof(SQLWCHAR), &full)
                  : put_ansi(text, info, size, &full);
        if (wide)
            full *= (SQLLEN)sizeof(SQLWCHAR);
        if (len)
            *len = (SQLSMALLINT)(full > 32767 ? 32767 : full);
    }
    free(v.message);
    return rc;
}

LB_EXPORT SQLRETURN SQL_API SQLGetDiagField(SQLSMALLINT HandleType, SQLHANDLE Handle, SQLSMALLINT RecNumber,
                                            SQLSMALLINT DiagIdentifier, SQLPOINTER DiagInfo,
                                            SQLSMALLINT BufferLength, SQLSMALLINT *StringLength)
{
    return get_field(0, HandleType, Handle, RecNumber, DiagIdentifier, DiagInfo, BufferLength, StringLength);
}

LB_EXPORT SQLRETURN SQL_API SQLGetDiagFieldW(SQLSMALLINT fHandleType, SQLHANDLE handle, SQLSMALLINT iRecord,
                                             SQLSMALLINT fDiagField, SQLPOINTER rgbDiagInfo,
                                             SQLSMALLINT cbDiagInfoMax, SQLSMALLINT *pcbDiagInfo)
{
    return get_field(1, fHandleType, handle, iRecord, fDiagField, rgbDiagInfo, cbDiagInfoMax, pcbDiagInfo);
}
