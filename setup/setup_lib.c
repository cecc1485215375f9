/* liblakebase-odbcS.so: the driver's setup library for unixODBC's installer
 * (odbcinst.ini's Setup=). ODBCINSTGetProperties gives configuration tools a form with
 * every key of the driver's key table (prompt, help, default, choice lists, secrets
 * masked); ConfigDSN adds, changes and removes DSNs without a window, checking the keys
 * first and never writing a secret into the system-wide odbc.ini; ConfigDriver applies
 * the driver's own odbcinst.ini keys (PsqlODBC). Exports only these three (setup.map). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <odbcinstext.h>

#ifndef TRUE
#define TRUE 1
#define FALSE 0
#endif

#include "lb_settings.h"
#include "setup_keys.h"

/* The three entry points; everything else is hidden (-fvisibility=hidden, setup.map). */
#define LB_SETUP_EXPORT __attribute__((visibility("default")))
LB_SETUP_EXPORT int INSTAPI ODBCINSTGetProperties(HODBCINSTPROPERTY last);
LB_SETUP_EXPORT BOOL INSTAPI ConfigDSN(HWND parent, WORD request, LPCSTR driver, LPCSTR attributes);
LB_SETUP_EXPORT BOOL INSTAPI ConfigDriver(HWND parent, WORD request, LPCSTR driver, LPCSTR args, LPSTR msg, WORD msg_max,
                          WORD *msg_out);

/* odbcinst frees each property, its aPromptData array and its pszHelp with free(): the
 * strings in the array stay ours (static). */
static HODBCINSTPROPERTY new_property(HODBCINSTPROPERTY prev, lb_key key)
{
    const lb_key_def *def = lb_key_info(key);
    HODBCINSTPROPERTY p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    snprintf(p->szName, sizeof(p->szName), "%s", def->name);
    snprintf(p->szValue, sizeof(p->szValue), "%s", def->def ? def->def : "");
    lb_setup_form form = lb_setup_keys_form(key);
    p->nPromptType = form.kind == LB_FORM_SECRET   ? ODBCINST_PROMPTTYPE_TEXTEDIT_PASSWORD
                     : form.kind == LB_FORM_FILE   ? ODBCINST_PROMPTTYPE_FILENAME
                     : form.kind == LB_FORM_CHOICE ? ODBCINST_PROMPTTYPE_LISTBOX
                                                   : ODBCINST_PROMPTTYPE_TEXTEDIT;
    if (form.choices) {
        size_t n = 0;
        while (form.choices[n])
            n++;
        p->aPromptData = calloc(n + 1, sizeof(char *));
        if (p->aPromptData == NULL) {
            free(p);
            return NULL;
        }
        for (size_t i = 0; i < n; i++)
            p->aPromptData[i] = (char *)form.choices[i];
    }
    char help[512];
    lb_setup_keys_help(key, help, sizeof(help));
    p->pszHelp = strdup(help);
    prev->pNext = p;
    return p;
}

int INSTAPI ODBCINSTGetProperties(HODBCINSTPROPERTY last)
{
    if (last == NULL)
        return ODBCINST_ERROR;
    while (last->pNext)
        last = last->pNext;
    for (int k = 0; k < LB_KEY_COUNT; k++)
        if ((last = new_property(last, (lb_key)k)) == NULL)
            return ODBCINST_ERROR;
    return ODBCINST_SUCCESS;
}

/* "key=value\0key=value\0\0" into kv; -1 on an entry without '='. */
static int parse_attributes(LPCSTR attributes, lb_kvlist *kv, char *msg, size_t size)
{
    for (const char *a = attributes; a && *a; a += strlen(a) + 1) {
        const char *eq = strchr(a, '=');
        if (eq == NULL || eq == a) {
            snprintf(msg, size, "\"%.60s\" is not KEY=VALUE", lb_key_is_secret(a) ? "(a secret)" : a);
            return -1;
        }
        char key[256];
        snprintf(key, sizeof(key), "%.*s", (int)(eq - a), a);
        if (lb_kvlist_add(kv, key, eq + 1) != 0) {
            snprintf(msg, size, "out of memory");
            return -1;
        }
    }
    return 0;
}

/* unixODBC's SQLPostInstallerError keeps the code and drops the text, so the text also
 * goes to standard error, where odbcinst and scripts show it. Never a secret's value. */
static BOOL fail(DWORD code, const char *msg)
{
    char text[1100];
    snprintf(text, sizeof(text), "[Lakebase] %s", msg);
    SQLPostInstallerError(code, text);
    fprintf(stderr, "%s\n", text);
    return FALSE;
}

static int dsn_exists(const char *dsn)
{
    char buf[16] = "";
    return SQLGetPrivateProfileString(dsn, NULL, "", buf, sizeof(buf), "odbc.ini") > 0 && buf[0];
}

BOOL INSTAPI ConfigDSN(HWND parent, WORD request, LPCSTR driver, LPCSTR attributes)
{
    (void)parent;
    UWORD mode = ODBC_BOTH_DSN, old = ODBC_BOTH_DSN;
    SQLGetConfigMode(&old);
    mode = old;
    if (request == ODBC_ADD_SYS_DSN || request == ODBC_CONFIG_SYS_DSN || request == ODBC_REMOVE_SYS_DSN) {
        mode = ODBC_SYSTEM_DSN;
        request = request == ODBC_ADD_SYS_DSN ? ODBC_ADD_DSN : request == ODBC_CONFIG_SYS_DSN ? ODBC_CONFIG_DSN : ODBC_REMOVE_DSN;
    }
    int system_dsn = mode == ODBC_SYSTEM_DSN;
    lb_kvlist kv;
    lb_kvlist_init(&kv);
    char msg[1024];
    BOOL ok = FALSE;
    SQLSetConfigMode(mode);
    const char *dsn = NULL;
    if (parse_attributes(attributes, &kv, msg, sizeof(msg)) != 0) {
        ok = fail(ODBC_ERROR_INVALID_KEYWORD_VALUE, msg);
        goto done;
    }
    dsn = lb_kvlist_get(&kv, "DSN");
    if (dsn == NULL || dsn[0] == '\0' || strpbrk(dsn, "[]=;") != NULL) {
        ok = fail(ODBC_ERROR_INVALID_DSN, "DSN=<name> is required (a name without [ ] = ;)");
        goto done;
    }
    if (request == ODBC_REMOVE_DSN) {
        if (!dsn_exists(dsn)) {
            snprintf(msg, sizeof(msg), "DSN %s does not exist in the %s odbc.ini", dsn, system_dsn ? "system" : "user");
            ok = fail(ODBC_ERROR_INVALID_DSN, msg);
        } else if (!(ok = SQLRemoveDSNFromIni(dsn))) {
            ok = fail(ODBC_ERROR_REQUEST_FAILED, "could not remove the DSN from odbc.ini");
        }
        goto done;
    }
    if (request != ODBC_ADD_DSN && request != ODBC_CONFIG_DSN) {
        ok = fail(ODBC_ERROR_INVALID_REQUEST_TYPE, "unknown request: ODBC_ADD_DSN, ODBC_CONFIG_DSN or ODBC_REMOVE_DSN "
                                                   "(or the system variants)");
        goto done;
    }
    if (request == ODBC_CONFIG_DSN && !dsn_exists(dsn)) {
        snprintf(msg, sizeof(msg), "DSN %s does not exist in the %s odbc.ini: add it first", dsn,
                 system_dsn ? "system" : "user");
        ok = fail(ODBC_ERROR_INVALID_DSN, msg);
        goto done;
    }
    if (lb_setup_keys_check(&kv, system_dsn, msg, sizeof(msg)) != 0) {
        ok = fail(ODBC_ERROR_INVALID_KEYWORD_VALUE, msg);
        goto done;
    }
    if (request == ODBC_ADD_DSN && !SQLWriteDSNToIni(dsn, driver)) {
        /* unixODBC writes a system DSN only into an odbc.ini that exists. */
        const char *sysdir = secure_getenv("ODBCSYSINI");
        if (system_dsn)
            snprintf(msg, sizeof(msg), "could not write the DSN to %s/odbc.ini: it must exist and be writable by you",
                     sysdir ? sysdir : "/etc");
        else
            snprintf(msg, sizeof(msg), "could not write the DSN to the user's odbc.ini (ODBCINI, else ~/.odbc.ini)");
        ok = fail(ODBC_ERROR_REQUEST_FAILED, msg);
        goto done;
    }
    ok = TRUE;
    for (size_t i = 0; i < kv.count && ok; i++) {
        const char *k = kv.items[i].key, *v = kv.items[i].value;
        if (strcasecmp(k, "DSN") == 0 || (strcasecmp(k, "Driver") == 0 && request == ODBC_ADD_DSN))
            continue;
        /* An empty value removes the key (ODBC_CONFIG_DSN). */
        if (!SQLWritePrivateProfileString(dsn, k, v[0] ? v : NULL, "odbc.ini")) {
            snprintf(msg, sizeof(msg), "could not write %s to odbc.ini", k);
            ok = fail(ODBC_ERROR_REQUEST_FAILED, msg);
        }
    }
done:
    SQLSetConfigMode(old);
    lb_kvlist_free(&kv);
    return ok;
}

BOOL INSTAPI ConfigDriver(HWND parent, WORD request, LPCSTR driver, LPCSTR args, LPSTR msg, WORD msg_max, WORD *msg_out)
{
    (void)parent;
    char text[512] = "";
    BOOL ok = TRUE;
    if (request == ODBC_CONFIG_DRIVER && args) {
        lb_kvlist kv;
        lb_kvlist_init(&kv);
        if (parse_attributes(args, &kv, text, sizeof(text)) != 0) {
            ok = fail(ODBC_ERROR_INVALID_KEYWORD_VALUE, text);
        } else {
            for (size_t i = 0; i < kv.count && ok; i++) {
                const char *k = kv.items[i].key, *v = kv.items[i].value;
                if (strcasecmp(k, "PsqlODBC") == 0 && v[0] && access(v, R_OK) != 0) {
                    snprintf(text, sizeof(text), "PsqlODBC %.400s is not a readable file (psqlodbcw.so)", v);
                    ok = fail(ODBC_ERROR_INVALID_KEYWORD_VALUE, text);
                } else if (!SQLWritePrivateProfileString(driver, k, v[0] ? v : NULL, "odbcinst.ini")) {
                    snprintf(text, sizeof(text), "could not write %s to odbcinst.ini", k);
                    ok = fail(ODBC_ERROR_REQUEST_FAILED, text);
                }
            }
            if (ok)
                snprintf(text, sizeof(text), "driver %s configured", driver ? driver : "");
        }
        lb_kvlist_free(&kv);
    } else if (request == ODBC_INSTALL_DRIVER || request == ODBC_REMOVE_DRIVER || request == ODBC_CONFIG_DRIVER) {
        snprintf(text, sizeof(text), "driver %s %s", driver ? driver : "",
                 request == ODBC_REMOVE_DRIVER ? "removed" : request == ODBC_INSTALL_DRIVER ? "installed" : "configured");
    } else if (request > ODBC_CONFIG_DRIVER_MAX) {
        snprintf(text, sizeof(text), "driver-specific request %u is not known", (unsigned)request);
        ok = fail(ODBC_ERROR_INVALID_REQUEST_TYPE, text);
    } else {
        ok = fail(ODBC_ERROR_INVALID_REQUEST_TYPE, "unknown request");
    }
    size_t n = strlen(text);
    if (msg_out)
        *msg_out = (WORD)n;
    if (msg && msg_max > 0)
        snprintf(msg, msg_max, "%s", text);
    return ok;
}
