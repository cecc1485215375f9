/* The driver's own diagnostic records, kept per connection handle, and served by the
 * intercepted SQLGetDiagRec/SQLGetDiagField (ANSI and W). Records go away on the next
 * connect, on any other call on the handle and when the handle is freed.
 * The driver's records always come first: most applications show only the first record
 * (pyodbc, PHP, ruby-odbc, LibreOffice). With with_driver, psqlODBC's own records for
 * the handle follow them; otherwise the driver's replace them. unixODBC copies the
 * records in the order they are read and sorts its copy by SQLSTATE (descending,
 * stable), so a driver record under psqlODBC's SQLSTATE stays ahead of psqlODBC's. */
#ifndef LB_DIAG_H
#define LB_DIAG_H

#include <sql.h>

#include "lb_error.h"

/* Posts a record: the SQLSTATE and native error code of code (lb_sqlstate.h; context is
 * the SQLSTATE of the PostgreSQL refusal that a PostgreSQL code explains, else NULL)
 * and "[Lakebase] " followed by message. */
void lb_diag_post(SQLHANDLE dbc, SQLRETURN rc, int code, const char *context, const char *message, int with_driver);
/* The same for a core failure. */
void lb_diag_post_error(SQLHANDLE dbc, SQLRETURN rc, const lb_error *err, const char *context, int with_driver);
/* Drops the handle's records; costs one atomic load when no handle has any. */
void lb_diag_forget(SQLHANDLE handle);

#endif
