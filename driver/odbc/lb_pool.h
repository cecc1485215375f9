/* Pooled connections that never go stale: the driver's answer to
 * SQL_ATTR_CONNECTION_DEAD, which unixODBC's pool asks before it hands a pooled
 * connection to the application (and which, when it succeeds, is all it asks: its
 * CPProbe statement then never runs). psqlODBC reports only a connection it already
 * knows is broken; the driver also reports one older than MaxConnectionAge and one
 * whose server end is gone (a trivial round trip, only when asked). */
#ifndef LB_POOL_H
#define LB_POOL_H

#include <sql.h>

/* A connect through the driver succeeded on dbc: remember when, and its MaxConnectionAge
 * (seconds, 0: off). */
void lb_pool_connected(SQLHDBC dbc, int max_age_s);
/* The handle is freed: forget it. */
void lb_pool_forget(SQLHDBC dbc);

#endif
