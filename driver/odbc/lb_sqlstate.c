/* Result codes to SQLSTATEs and native error codes: the table (see lb_sqlstate.h). */
#include "lb_sqlstate.h"

#include <stddef.h>

typedef struct {
    const char *sqlstate; /* NULL: the refusal's own (psqlODBC's) SQLSTATE */
    int native;
} mapping;

static const mapping table[LB_ODBC_CODE_COUNT] = {
    [LB_OK] = {"00000", 0},
    /* 1xxxx: settings, the connection string and what a setting names */
    [LB_ERR_SETTINGS] = {"HY000", 10001},
    [LB_ERR_CONNSTR] = {"HY000", 10002},
    [LB_ERR_ENCODING] = {"HY000", 10003},
    [LB_ERR_NOT_FOUND] = {"08001", 10004},
    [LB_ERR_PG_DATABASE] = {NULL, 10005},
    [LB_ERR_PG_ADDRESS] = {NULL, 10006},
    /* 2xxxx: authentication, at the workspace or at PostgreSQL */
    [LB_ERR_AUTH] = {"28000", 20001},
    [LB_ERR_PG_LOGIN] = {NULL, 20002},
    /* 3xxxx: the network, the workspace's answers, PostgreSQL's TLS and wake-up */
    [LB_ERR_NETWORK] = {"08001", 30001},
    [LB_ERR_PROTOCOL] = {"08001", 30002},
    [LB_ERR_PG_TLS] = {NULL, 30003},
    [LB_ERR_PG_WAKE] = {NULL, 30004},
    [LB_ERR_UNAVAILABLE] = {"08001", 30005},
    /* 4xxxx: the connect's deadline */
    [LB_ERR_TIMEOUT] = {"HYT00", 40001},
    /* 5xxxx: memory and the libraries the driver needs */
    [LB_ERR_NOMEM] = {"HY001", 50001},
    [LB_ERR_INTERNAL] = {"HY000", 50002},
    /* 6xxxx: ODBC arguments and warnings */
    [LB_ERR_ARGUMENT] = {"HY090", 60001},
    [LB_ODBC_COMPLETION] = {"HY110", 60002},
    [LB_ODBC_NULL_POINTER] = {"HY009", 60003},
    [LB_ODBC_NOT_SUPPORTED] = {"HYC00", 60004},
    [LB_ODBC_TRUNCATED] = {"01004", 60005},
    [LB_ODBC_OUTPUT_DROPPED] = {"01000", 60006},
};

const char *lb_sqlstate_of(int code, const char *context)
{
    if (code >= 0 && code < LB_ODBC_CODE_COUNT && table[code].sqlstate)
        return table[code].sqlstate;
    return context ? context : "HY000";
}

int lb_sqlstate_native(int code)
{
    if (code > 0 && code < LB_ODBC_CODE_COUNT && table[code].native)
        return table[code].native;
    return 50002;
}
