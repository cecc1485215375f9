/* The one function that writes an lb_error. */
#include "lb_error.h"

#include <stdio.h>
#include <string.h>

void lb_error_init(lb_error *err)
{
    memset(err, 0, sizeof(*err));
}

int lb_error_isset(const lb_error *err)
{
    return err->code != LB_OK;
}

lb_result lb_error_set(lb_error *err, lb_result code, const char *sqlstate, const char *fmt, ...)
{
    if (err == NULL || err->code != LB_OK)
        return code;
    err->code = code;
    snprintf(err->sqlstate, sizeof(err->sqlstate), "%s", sqlstate);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    for (char *p = err->message; *p; p++)
        if (*p == '\r' || *p == '\n' || *p == '\t')
            *p = ' ';
    return code;
}
