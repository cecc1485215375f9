/* Shared helpers of the integration tests. They run through ctest, which starts the
 * local Lakebase and sets ODBCSYSINI/ODBCINI, LAKEBASE_LOCAL_STATE, LAKEBASE_EMULATOR_URL,
 * LAKEBASE_CLIENT_ID, LAKEBASE_PG_PORT and LAKEBASE_DRIVER (the .so under test). */
#ifndef TESTENV_H
#define TESTENV_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sql.h>
#include <sqlext.h>
#include <sqlucode.h>

extern char secret[256];
extern char ca_file[1024];
extern const char *emulator_url;
extern const char *client_id;
extern const char *pg_port;
extern const char *driver;

#define CREDENTIALS "POST /api/2.0/postgres/credentials"
#define TOKENS "POST /oidc/v1/token"

typedef struct {
    SQLHENV env;
    SQLHDBC dbc;
} conn;

const char *need_env(const char *name);
/* Reads the client secret and CA path from the state folder; exits 2 when run outside ctest. */
void read_state(void);
/* The first line of a file of the state folder (a secret, an id), into buf; exits 2 without it. */
void read_state_line(const char *name, char *buf, size_t size);
/* Count of one route ("POST /oidc/v1/token") in the emulator's /_emulator/stats. */
long long emulator_count(const char *route);
void emulator_call(const char *method, const char *path, const char *json);
conn new_conn(void);
void free_conn(conn *c);
/* The first diagnostic record of the connection; fails the test when there is none. */
void first_diag(SQLHDBC dbc, char state[6], char *msg, size_t size);
/* Every diagnostic record of the connection, joined as "[state] message | ...". */
void all_diags(SQLHDBC dbc, char *out, size_t size);
/* Fails the test with the connection's first diagnostic unless rc is a success. */
void assert_connected(SQLHDBC dbc, SQLRETURN rc);
/* Runs SELECT current_user, current_database() and checks the client id and databricks_postgres. */
void check_identity(SQLHDBC dbc);
/* A DSN-less connection string for the local Lakebase, followed by extra. */
void dsnless(char *buf, size_t size, const char *extra);
/* Seconds on the monotonic clock. */
double now_s(void);
/* Connects with extra placed first (its keys win), then the local Lakebase's DSN-less string;
 * leaves the connection open on success. */
SQLRETURN connect_first(conn *c, const char *extra);
/* A connect (connect_first) that must fail: its first SQLSTATE in st, every record in all
 * ("[state] message | ..."), and the seconds it took. Fails the test when it connects. */
double connect_fails(const char *extra, char st[6], char *all, size_t size);
/* A DSN-less connect with extra (and a login timeout, 0: none) that checks the identity when
 * it connects; the first record's SQLSTATE and message when it fails; the seconds it took. */
SQLRETURN timed_connect(const char *extra, long login_timeout, char st[6], char *msg, size_t size, double *took);
/* main() of a test program with one ctest per case: runs the case argv[1] names (a test
 * function's name without "test_"), or every case without an argument; otherwise prints
 * the cases and returns 2. */
int testenv_run_case(int argc, char **argv, const struct CMUnitTest *tests, size_t n);

/* Credential-less connects, for the authentication sources' tests: the local Lakebase's
 * DSN-less string without ClientID or ClientSecret, extra (the source's keys) first. */
SQLRETURN connect_bare(conn *c, const char *extra);
/* connect_bare's connection string. */
void bare_connstr(char *buf, size_t size, const char *extra);
/* SELECT current_user is want (printed). */
void expect_user(SQLHDBC dbc, const char *want);
/* connect_bare that must connect as want; the seconds it took. */
double connects_as(const char *extra, const char *want);
/* A DSN (or any connection string, as is) that must connect as want. */
void connects_dsn_as(const char *in, const char *want);
/* connect_bare that must fail: its first SQLSTATE, every record, the seconds it took; the
 * records must not hold never (a secret; NULL: no check). Prints them, never extra. */
double fails_bare(const char *extra, const char *never, char st[6], char *all, size_t size);

#endif
