/* The Databricks SQL ODBC driver's authentication keys, accepted so that a DSN written for
 * that driver moves over: AuthMech=11 with Auth_Flow (0 token passthrough: Auth_AccessToken;
 * 1 client credentials: Auth_Client_ID, Auth_Client_Secret; 2 a Databricks CLI login; 3 an
 * Azure managed identity), and AuthMech=3 (UID=token, PWD=a personal access token). The merge
 * (lb_settings.c) reads them from the connection string and the DSN like its own keys, and
 * lb_dbodbc_apply turns them into ours (AuthType, Token, ClientID, ClientSecret). */
#ifndef LB_DBODBC_H
#define LB_DBODBC_H

#include "lb_settings.h"

typedef enum {
    LB_DBODBC_AUTH_MECH,     /* AuthMech: 3 (UID=token, PWD=a personal access token) or 11 (OAuth) */
    LB_DBODBC_AUTH_FLOW,     /* Auth_Flow: 0, 1, 2 or 3 (with AuthMech=11) */
    LB_DBODBC_ACCESS_TOKEN,  /* Auth_AccessToken (secret): Auth_Flow=0's bearer token */
    LB_DBODBC_CLIENT_ID,     /* Auth_Client_ID: Auth_Flow=1's service principal */
    LB_DBODBC_CLIENT_SECRET, /* Auth_Client_Secret (secret): Auth_Flow=1's OAuth secret */
    LB_DBODBC_PWD,           /* PWD (alias Password): AuthMech=3's personal access token */
    LB_DBODBC_HTTP_PATH,     /* HTTPPath: a SQL warehouse's path, refused with what to set instead */
    LB_DBODBC_COUNT
} lb_dbodbc_key;

/* The values read for the keys (a secret's in secret memory) and where each came from. */
typedef struct {
    char *value[LB_DBODBC_COUNT];
    lb_source source[LB_DBODBC_COUNT];
} lb_dbodbc_values;

/* The key's row: name, aliases, secret (the other fields are unused). */
const lb_key_def *lb_dbodbc_key_info(lb_dbodbc_key key);
/* True when name (any case) is one of the keys above, or another of that driver's Auth_ keys
 * (not read, never passed to psqlODBC). */
int lb_dbodbc_is_key(const char *name);
/* True when name (any case) is one of the keys above that holds a secret, or another Auth_ key
 * (some hold secrets: Auth_RefreshToken, Auth_JWT_Key_Passphrase). */
int lb_dbodbc_is_secret(const char *name);

/* Turns the values into our keys, each with the source of the key it came from. An alias and
 * our own key both set (in the connection string or the DSN) with different values, an
 * AuthMech other than 3 and 11, an Auth_Flow other than 0 to 3, a key the chosen flow does not
 * read, and a missing key the flow needs are errors naming the keys. note (may be empty) says
 * for the log which keys were read, never their values. */
lb_result lb_dbodbc_apply(lb_settings *s, const lb_dbodbc_values *v, char *note, size_t note_size, lb_error *err);

void lb_dbodbc_values_free(lb_dbodbc_values *v);

#endif
