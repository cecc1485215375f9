/* SQLGetConnectAttr and SQLGetConnectAttrW (see lb_pool.h): every attribute is
 * psqlODBC's, except that SQL_ATTR_CONNECTION_DEAD tells the truth about a connection
 * whose server end is gone or that is older than MaxConnectionAge; plus the small
 * per-handle table of connect times that needs. */
#include "lb_pool.h"

#include <pthread.h>
#include <stdlib.h>

#include "lb_diag.h"
#include "lb_forward.h"
#include "lb_log.h"

typedef struct conn_entry {
    SQLHDBC dbc;
    long long connected_ms; /* monotonic */
    int max_age_s;          /* 0: off */
    struct conn_entry *next;
} conn_entry;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static conn_entry *entries;

void lb_pool_connected(SQLHDBC dbc, int max_age_s)
{
    pthread_mutex_lock(&mu);
    conn_entry *e = entries;
    while (e && e->dbc != dbc)
        e = e->next;
    if (e == NULL && (e = calloc(1, sizeof(*e))) != NULL) {
        e->dbc = dbc;
        e->next = entries;
        entries = e;
    }
    if (e) {
        e->connected_ms = lb_now_ms();
        e->max_age_s = max_age_s;
    }
    pthread_mutex_unlock(&mu);
}

void lb_pool_forget(SQLHDBC dbc)
{
    pthread_mutex_lock(&mu);
    for (conn_entry **p = &entries; *p; p = &(*p)->next) {
        if ((*p)->dbc == dbc) {
            conn_entry *e = *p;
            *p = e->next;
            free(e);
            break;
        }
    }
    pthread_mutex_unlock(&mu);
}

/* 1 when the connection was made through the driver more than its MaxConnectionAge ago. */
static int too_old(SQLHDBC dbc)
{
    int old = 0;
    pthread_mutex_lock(&mu);
    for (conn_entry *e = entries; e; e = e->next)
        if (e->dbc == dbc) {
            old = e->max_age_s > 0 && lb_now_ms() - e->connected_ms >= e->max_age_s * 1000LL;
            break;
        }
    pthread_mutex_unlock(&mu);
    return old;
}

/* 1 when a trivial statement fails: the server closed the session (a compute scaled to
 * zero, a failover, Lakebase's idle or session limits) or the network dropped it.
 * psqlODBC has no cheaper check it exposes (no socket to poll). Skipped with autocommit
 * off, where psqlODBC would open a transaction for it. */
static int round_trip_fails(SQLHDBC dbc)
{
    SQLULEN autocommit = SQL_AUTOCOMMIT_ON;
    if (SQL_SUCCEEDED(lb_psql.SQLGetConnectAttr(dbc, SQL_ATTR_AUTOCOMMIT, &autocommit, 0, NULL)) &&
        autocommit == SQL_AUTOCOMMIT_OFF)
        return 0;
    SQLHSTMT st = SQL_NULL_HSTMT;
    if (!SQL_SUCCEEDED(lb_psql.SQLAllocHandle(SQL_HANDLE_STMT, dbc, &st)))
        return 1;
    int failed = !SQL_SUCCEEDED(lb_psql.SQLExecDirect(st, (SQLCHAR *)"SELECT 1", SQL_NTS));
    lb_psql.SQLFreeHandle(SQL_HANDLE_STMT, st);
    return failed;
}

static SQLRETURN get_connect_attr(int wide, SQLHDBC dbc, SQLINTEGER attr, SQLPOINTER value, SQLINTEGER max,
                                  SQLINTEGER *len)
{
    lb_diag_forget(dbc);
    SQLRETURN rc = wide ? lb_psql.SQLGetConnectAttrW(dbc, attr, value, max, len)
                        : lb_psql.SQLGetConnectAttr(dbc, attr, value, max, len);
    if (attr != SQL_ATTR_CONNECTION_DEAD || !SQL_SUCCEEDED(rc) || value == NULL)
        return rc;
    /* psqlODBC writes an SQLUINTEGER. */
    SQLUINTEGER *dead = value;
    if (*dead != SQL_CD_TRUE && (too_old(dbc) || round_trip_fails(dbc)))
        *dead = SQL_CD_TRUE;
    return rc;
}

LB_EXPORT SQLRETURN SQL_API SQLGetConnectAttr(SQLHDBC ConnectionHandle, SQLINTEGER Attribute, SQLPOINTER Value,
                                              SQLINTEGER BufferLength, SQLINTEGER *StringLength)
{
    return get_connect_attr(0, ConnectionHandle, Attribute, Value, BufferLength, StringLength);
}

LB_EXPORT SQLRETURN SQL_API SQLGetConnectAttrW(SQLHDBC hdbc, SQLINTEGER fAttribute, SQLPOINTER rgbValue,
                                               SQLINTEGER cbValueMax, SQLINTEGER *pcbValue)
{
    return get_connect_attr(1, hdbc, fAttribute, rgbValue, cbValueMax, pcbValue);
}
