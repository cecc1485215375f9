/* The tool's access to odbc.ini and odbcinst.ini through the installer API (see
 * tool_odbcini.h). */
#include "tool_odbcini.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <odbcinst.h>

#ifndef LB_TOOL_INSTALLED_ODBCDIR
#error "LB_TOOL_INSTALLED_ODBCDIR comes from packaging/layout.cmake"
#endif

/* unixODBC reads odbc.ini lines into 1,000 bytes and cuts longer ones silently; the
 * driver takes a value that comes within a few characters of that as cut (the same
 * rule as driver/odbc/lb_odbc_connect.c's dsn_get, so the tool reads what the driver reads). */
#define INI_LINE_MAX 999
#define INI_LINE_SLACK 8

int lb_tool_odbcini_dsn_get(void *ctx, const char *dsn, const char *key, char *buf, size_t size)
{
    (void)ctx;
    static const char absent[] = "\x01";
    if (SQLGetPrivateProfileString(dsn, key, absent, buf, (int)size, "odbc.ini") < 0 || strcmp(buf, absent) == 0) {
        buf[0] = '\0';
        return 0;
    }
    if (strlen(key) + 1 + strlen(buf) + INI_LINE_SLACK >= INI_LINE_MAX)
        return -1;
    return buf[0] != '\0';
}

/* A NUL-separated, double-NUL-terminated list from SQLGetPrivateProfileString. */
static int read_list(int system, const char *file, const char *section, char *buf, size_t size)
{
    UWORD old = ODBC_BOTH_DSN;
    SQLGetConfigMode(&old);
    SQLSetConfigMode(system ? ODBC_SYSTEM_DSN : ODBC_USER_DSN);
    memset(buf, 0, size);
    int n = SQLGetPrivateProfileString(section, NULL, "", buf, (int)size - 2, file);
    SQLSetConfigMode(old);
    return n;
}

int lb_tool_odbcini_sections(int system, const char *file, lb_kvlist *out)
{
    static char buf[65536];
    if (read_list(system, file, NULL, buf, sizeof(buf)) < 0)
        return -1;
    for (const char *p = buf; *p; p += strlen(p) + 1)
        if (strcasecmp(p, "ODBC Data Sources") != 0 && strcasecmp(p, "ODBC") != 0)
            lb_kvlist_add(out, p, "");
    return 0;
}

int lb_tool_odbcini_section(int system, const char *file, const char *section, lb_kvlist *out)
{
    static char keys[65536];
    if (read_list(system, file, section, keys, sizeof(keys)) <= 0)
        return 0;
    UWORD old = ODBC_BOTH_DSN;
    SQLGetConfigMode(&old);
    SQLSetConfigMode(system ? ODBC_SYSTEM_DSN : ODBC_USER_DSN);
    int found = 0;
    for (const char *k = keys; *k; k += strlen(k) + 1) {
        char value[4096] = "";
        SQLGetPrivateProfileString(section, k, "", value, sizeof(value), file);
        lb_kvlist_add(out, k, value);
        found = 1;
    }
    SQLSetConfigMode(old);
    return found;
}

static int is_driver_path(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return strcmp(base, LB_TOOL_DRIVER_FILE) == 0;
}

int lb_tool_odbcini_is_our_driver(const char *driver)
{
    if (driver == NULL || driver[0] == '\0')
        return 0;
    if (strchr(driver, '/'))
        return is_driver_path(driver);
    char path[PATH_MAX] = "";
    SQLGetPrivateProfileString(driver, "Driver", "", path, sizeof(path), "odbcinst.ini");
    return path[0] && is_driver_path(path);
}

void lb_tool_odbcini_error(char *buf, size_t size)
{
    DWORD code = 0;
    WORD len = 0;
    buf[0] = '\0';
    if (SQLInstallerError(1, &code, buf, (WORD)size, &len) != SQL_SUCCESS)
        buf[0] = '\0';
}

int lb_tool_odbcini_install_driver(const char *name, const char *driver, const char *setup, int *existed,
                                   char *msg, size_t size)
{
    char current[PATH_MAX] = "";
    SQLGetPrivateProfileString(name, "Driver", "", current, sizeof(current), "odbcinst.ini");
    *existed = current[0] != '\0';
    if (*existed) {
        /* In place: SQLInstallDriverEx would count another installation (UsageCount). */
        if (!SQLWritePrivateProfileString(name, "Driver", driver, "odbcinst.ini") ||
            !SQLWritePrivateProfileString(name, "Setup", setup, "odbcinst.ini")) {
            char why[512];
            lb_tool_odbcini_error(why, sizeof(why));
            snprintf(msg, size, "could not update [%s] in odbcinst.ini: %s", name, why[0] ? why : "no reason given");
            return -1;
        }
        return 0;
    }
    /* "name\0Driver=...\0Setup=...\0Description=...\0\0" */
    char spec[3 * PATH_MAX];
    int n = snprintf(spec, sizeof(spec), "%s|Description=Databricks Lakebase (OAuth) via psqlODBC|Driver=%s|Setup=%s||",
                     name, driver, setup);
    if (n < 0 || (size_t)n >= sizeof(spec)) {
        snprintf(msg, size, "the driver's path is too long");
        return -1;
    }
    for (char *p = spec; *p; p++)
        if (*p == '|')
            *p = '\0';
    char where[PATH_MAX];
    WORD where_len = 0;
    DWORD usage = 0;
    if (!SQLInstallDriverEx(spec, NULL, where, sizeof(where), &where_len, ODBC_INSTALL_COMPLETE, &usage)) {
        char why[512];
        lb_tool_odbcini_error(why, sizeof(why));
        snprintf(msg, size, "SQLInstallDriverEx failed: %s", why[0] ? why : "no reason given");
        return -1;
    }
    return 0;
}

int lb_tool_odbcini_uninstall_driver(const char *name, int *removed, char *msg, size_t size)
{
    char current[PATH_MAX] = "";
    SQLGetPrivateProfileString(name, "Driver", "", current, sizeof(current), "odbcinst.ini");
    *removed = 0;
    if (current[0] == '\0')
        return 0;
    if (!is_driver_path(current)) {
        snprintf(msg, size, "[%s] in odbcinst.ini is another driver (Driver=%s): left alone", name, current);
        return -1;
    }
    /* The whole section, whatever its UsageCount (SQLRemoveDriver would only count down). */
    if (!SQLWritePrivateProfileString(name, NULL, NULL, "odbcinst.ini")) {
        char why[512];
        lb_tool_odbcini_error(why, sizeof(why));
        snprintf(msg, size, "could not remove [%s] from odbcinst.ini: %s", name, why[0] ? why : "no reason given");
        return -1;
    }
    *removed = 1;
    return 0;
}

int lb_tool_odbcini_own_library(const char *file, char *buf, size_t size)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash == NULL)
        return -1;
    *slash = '\0';
    const char *candidates[] = {"/../driver/", "/", LB_TOOL_INSTALLED_ODBCDIR};
    for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
        char path[PATH_MAX + 64];
        snprintf(path, sizeof(path), "%s%s%s", exe, candidates[i], file);
        char real[PATH_MAX];
        if (realpath(path, real) && access(real, R_OK) == 0 && strlen(real) < size) {
            snprintf(buf, size, "%s", real);
            return 0;
        }
    }
    return -1;
}

/* unixODBC writes into an odbc.ini that exists, and fails on a missing system one: create it
 * empty (the system's 0644, the user's 0600) when it is not there. */
static void ensure_odbcini(int system)
{
    char path[PATH_MAX];
    const char *dir = getenv("ODBCSYSINI"), *ini = getenv("ODBCINI"), *home = getenv("HOME");
    if (system)
        snprintf(path, sizeof(path), "%s/odbc.ini", dir && dir[0] ? dir : "/etc");
    else if (ini && ini[0])
        snprintf(path, sizeof(path), "%s", ini);
    else if (home && home[0])
        snprintf(path, sizeof(path), "%s/.odbc.ini", home);
    else
        return;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, system ? 0644 : 0600);
    if (fd >= 0)
        close(fd);
}

int lb_tool_odbcini_write_dsn(int system, const char *name, const char *driver, const lb_kvlist *keys, char *msg,
                              size_t size)
{
    ensure_odbcini(system);
    UWORD old = ODBC_BOTH_DSN;
    SQLGetConfigMode(&old);
    SQLSetConfigMode(system ? ODBC_SYSTEM_DSN : ODBC_USER_DSN);
    int ok = SQLWriteDSNToIni(name, driver);
    for (size_t i = 0; ok && i < keys->count; i++)
        ok = SQLWritePrivateProfileString(name, keys->items[i].key, keys->items[i].value, "odbc.ini");
    if (!ok) {
        char why[400];
        lb_tool_odbcini_error(why, sizeof(why));
        snprintf(msg, size, "the ODBC installer could not write the %s DSN [%s]: %s", system ? "system" : "user", name,
                 why[0] ? why : "no reason given");
    }
    SQLSetConfigMode(old);
    return ok ? 0 : -1;
}
