/* The one table from the driver's result codes (lb_result, and the few failures only
 * the ODBC layer sees) to a SQLSTATE and a native error code. The native codes are
 * documented in README.md (Troubleshooting): 1xxxx settings, 2xxxx authentication,
 * 3xxxx network and PostgreSQL's side, 4xxxx timeouts, 5xxxx resources and libraries,
 * 6xxxx ODBC arguments and warnings. */
#ifndef LB_SQLSTATE_H
#define LB_SQLSTATE_H

#include "lb_error.h"

/* Failures that only the ODBC layer reports, numbered after lb_result's. */
enum {
    LB_ODBC_COMPLETION = LB_ERR_COUNT, /* an invalid driver completion value */
    LB_ODBC_NULL_POINTER,              /* a required pointer argument is null */
    LB_ODBC_NOT_SUPPORTED,             /* SQLBrowseConnect */
    LB_ODBC_TRUNCATED,                 /* an output string did not fit (a warning) */
    LB_ODBC_OUTPUT_DROPPED,            /* the output connection string was left empty (a warning) */
    LB_ODBC_CODE_COUNT
};

/* The SQLSTATE of code; for a refusal by PostgreSQL (and any code not in the table),
 * context: psqlODBC's SQLSTATE for that refusal ("HY000" when context is NULL). */
const char *lb_sqlstate_of(int code, const char *context);
/* The native error code of code (never 0 for a failure). */
int lb_sqlstate_native(int code);

#endif
