/* SQLGetInfo and SQLGetInfoW: psqlODBC answers every info type except the two that say
 * which driver this is. SQL_DRIVER_NAME is this library's file name, SQL_DRIVER_VER its
 * version ("##.##.####") followed by the psqlODBC version it wraps. Every database fact
 * (SQL_DBMS_NAME, SQL_DBMS_VER, identifiers, capabilities) stays psqlODBC's, so tools
 * keep their PostgreSQL dialect. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_diag.h"
#include "lb_sqlstate.h"
#include "lb_forward.h"
#include "lb_utf16.h"
#include "lb_version.h"

/* The file name of this library, as the driver manager loaded it. */
static void own_file_name(char *buf, size_t size)
{
    Dl_info info;
    const char *name = "liblakebase-odbc.so";
    if (dladdr((void *)own_file_name, &info) != 0 && info.dli_fname != NULL)
        name = strrchr(info.dli_fname, '/') ? strrchr(info.dli_fname, '/') + 1 : info.dli_fname;
    snprintf(buf, size, "%s", name);
}

/* Writes text as SQLGetInfo(W) returns character data: max and *len in bytes for both,
 * the full length reported, 01004 when it had to cut. */
static SQLRETURN put_text(SQLHDBC dbc, int wide, const char *text, SQLPOINTER value, SQLSMALLINT max,
                          SQLSMALLINT *len)
{
    size_t units = strlen(text);
    uint16_t *w = wide ? lb_utf8_to_utf16(text, &units) : NULL;
    if (wide && w == NULL) {
        lb_diag_post(dbc, SQL_ERROR, LB_ERR_NOMEM, NULL, "Out of memory.", 0);
        return SQL_ERROR;
    }
    size_t unit = wide ? sizeof(SQLWCHAR) : 1;
    if (len)
        *len = (SQLSMALLINT)(units * unit);
    SQLRETURN rc = SQL_SUCCESS;
    if (value && max > 0) {
        size_t room = (size_t)max / unit;
        size_t n = room == 0 ? 0 : (units < room - 1 ? units : room - 1);
        if (room > 0) {
            if (wide) {
                memcpy(value, w, n * unit);
                ((SQLWCHAR *)value)[n] = 0;
            } else {
                memcpy(value, text, n);
                ((char *)value)[n] = '\0';
            }
        }
        if (n < units) {
            lb_diag_post(dbc, SQL_SUCCESS_WITH_INFO, LB_ODBC_TRUNCATED, NULL, "String data, right truncated.", 0);
            rc = SQL_SUCCESS_WITH_INFO;
        }
    }
    free(w);
    return rc;
}

static SQLRETURN get_info(SQLHDBC dbc, int wide, SQLUSMALLINT type, SQLPOINTER value, SQLSMALLINT max,
                          SQLSMALLINT *len)
{
    lb_diag_forget(dbc);
    if (type != SQL_DRIVER_NAME && type != SQL_DRIVER_VER)
        return wide ? lb_psql.SQLGetInfoW(dbc, type, value, max, len) : lb_psql.SQLGetInfo(dbc, type, value, max, len);
    /* psqlODBC first: it checks the handle and the state, and gives its version. Through
     * the caller's entry point: psqlODBC's W functions switch the connection to Unicode
     * mode (later result columns come as SQL_WVARCHAR), and the driver must do the same as
     * psqlODBC alone (the differential test compares). In that mode even its ANSI
     * SQLGetInfo answers in UTF-16 (read as ANSI text, the version was "1"): the version
     * starts with a digit, so a NUL second byte means UTF-16LE. */
    unsigned char raw[130];
    memset(raw, 0, sizeof(raw));
    SQLSMALLINT plen = 0;
    SQLRETURN rc = wide ? lb_psql.SQLGetInfoW(dbc, SQL_DRIVER_VER, raw, sizeof(raw) - 2, &plen)
                        : lb_psql.SQLGetInfo(dbc, SQL_DRIVER_VER, raw, sizeof(raw) - 2, &plen);
    if (!SQL_SUCCEEDED(rc))
        return rc;
    char psql_version[64];
    size_t n = 0;
    int utf16 = raw[0] != 0 && raw[1] == 0;
    for (; n < sizeof(psql_version) - 1; n++) {
        unsigned char ch = utf16 ? raw[2 * n] : raw[n];
        if (ch == 0 || (utf16 && raw[2 * n + 1] != 0))
            break;
        psql_version[n] = (char)ch;
    }
    psql_version[n] = '\0';
    char text[200];
    if (type == SQL_DRIVER_NAME) {
        own_file_name(text, sizeof(text));
    } else {
        char version[16];
        lb_version_odbc(version, sizeof(version));
        snprintf(text, sizeof(text), "%s Lakebase (psqlODBC %s)", version, psql_version);
    }
    return put_text(dbc, wide, text, value, max, len);
}

LB_EXPORT SQLRETURN SQL_API SQLGetInfo(SQLHDBC ConnectionHandle, SQLUSMALLINT InfoType, SQLPOINTER InfoValue,
                                       SQLSMALLINT BufferLength, SQLSMALLINT *StringLength)
{
    return get_info(ConnectionHandle, 0, InfoType, InfoValue, BufferLength, StringLength);
}

LB_EXPORT SQLRETURN SQL_API SQLGetInfoW(SQLHDBC hdbc, SQLUSMALLINT fInfoType, SQLPOINTER rgbInfoValue,
                                        SQLSMALLINT cbInfoValueMax, SQLSMALLINT *pcbInfoValue)
{
    return get_info(hdbc, 1, fInfoType, rgbInfoValue, cbInfoValueMax, pcbInfoValue);
}
