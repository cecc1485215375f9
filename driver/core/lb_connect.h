/* The connect flow up to psqlODBC: settings -> workspace OAuth token -> database
 * credential -> the connection string for psqlODBC, plus the output connection string
 * for the caller. ODBC-free, so the unit tests and the setup tool can drive it. */
#ifndef LB_CONNECT_H
#define LB_CONNECT_H

#include "lb_connstr.h"
#include "lb_error.h"
#include "lb_lakebase.h"
#include "lb_settings.h"

typedef struct {
    char *psql_connstr; /* holds the credential: wiped by lb_plan_free */
    char *out_connstr;  /* the caller's input without secrets: safe to return and log */
} lb_plan;

/* Resolves settings from input and sources, obtains a fresh credential and fills plan. */
lb_result lb_plan_connection(const lb_kvlist *input, const lb_sources *sources, lb_plan *plan,
                             lb_error *err);
void lb_plan_free(lb_plan *plan);

/* The psqlODBC connection string: DSN (so psqlODBC applies the user's options from
 * odbc.ini), every key the driver does not own unchanged, then host, port, database,
 * user, sslmode and the credential as a braced PWD. */
char *lb_build_psql_connstr(const lb_settings *s, const lb_kvlist *input, const char *credential);

/* The caller's input with every secret key left out. */
char *lb_build_output_connstr(const lb_kvlist *input);

#endif
