/* The driver's own diagnostic records, kept per connection handle for failures that
 * happen before (or instead of) psqlODBC's connect, and served by the intercepted
 * SQLGetDiagRec/SQLGetDiagField (ANSI and W). Records go away on the next connect,
 * on any other call on the handle and when the handle is freed. With after_driver,
 * the records follow psqlODBC's own records for the handle instead of replacing them. */
#ifndef LB_DIAG_H
#define LB_DIAG_H

#include <sql.h>

void lb_diag_post(SQLHANDLE dbc, SQLRETURN rc, const char *sqlstate, const char *message, int after_driver);
/* Drops the handle's records; costs one atomic load when no handle has any. */
void lb_diag_forget(SQLHANDLE handle);

#endif
