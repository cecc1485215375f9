/* The tool's connects through the unixODBC driver manager, as an application makes
 * them: SQLDriverConnect without prompting, the verification query, and the connection's
 * diagnostic records (SQLSTATE, native code, text) for people and for --json. */
#ifndef LB_TOOL_DM_H
#define LB_TOOL_DM_H

#include "tool.h"

typedef struct {
    void *env, *dbc;      /* SQLHENV, SQLHDBC */
    int connected;
    char diags[4096];     /* "[state] (native n) text" lines of the last failure */
    json_object *diag_json; /* the same as an array (owned until given away) */
    char first_text[1024];  /* the first record's text */
} lb_tool_dm;

/* Connects with connstr; 0 or -1 (diags filled). */
int lb_tool_dm_connect(lb_tool_dm *dm, const char *connstr);
/* SELECT current_user, current_database(); 0 or -1 (diags filled). */
int lb_tool_dm_identity(lb_tool_dm *dm, char *user, size_t user_size, char *db, size_t db_size);
void lb_tool_dm_close(lb_tool_dm *dm);

#endif
