/* The setup library (liblakebase-odbcS.so) through unixODBC's installer, as configuration
 * tools use it: SQLConfigDataSource adds, changes and removes user and system DSNs (and
 * odbcinst -q -s shows them), refuses a bad value and a secret in the system odbc.ini;
 * ODBCINSTConstructProperties (which calls the library's ODBCINSTGetProperties) lists
 * every key of the driver's key table with help, masks secrets and offers choice lists.
 * Runs in a private ODBCSYSINI/ODBCINI; argv[1] is the setup library, LAKEBASE_DRIVER
 * the driver. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <odbcinstext.h>

#include "lb_settings.h"

static char dir[PATH_MAX];
static const char *setup_lib;

static char *slurp(const char *path)
{
    static char buf[65536];
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    return buf;
}

static char *run(const char *cmd)
{
    static char buf[65536];
    FILE *p = popen(cmd, "r");
    size_t n = p ? fread(buf, 1, sizeof(buf) - 1, p) : 0;
    if (p)
        pclose(p);
    buf[n] = '\0';
    return buf;
}

/* SQLConfigDataSource with "a\0b\0\0" built from a NULL-terminated list. */
static BOOL config(WORD request, ...)
{
    char attrs[4096];
    size_t used = 0;
    va_list ap;
    va_start(ap, request);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL;) {
        size_t n = strlen(a) + 1;
        memcpy(attrs + used, a, n);
        used += n;
    }
    va_end(ap);
    attrs[used] = '\0';
    return SQLConfigDataSource(NULL, request, "Lakebase", attrs);
}

static void user_dsn_add_change_remove(void **state)
{
    (void)state;
    assert_true(config(ODBC_ADD_DSN, "DSN=setup-user", "DatabricksHost=https://example.invalid", "ClientID=abc",
                       "Endpoint=projects/p/branches/b/endpoints/e", "SSLmode=verify-full", "UseDeclareFetch=1", NULL));
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/user-odbc.ini", dir);
    const char *text = slurp(path);
    assert_non_null(strstr(text, "[setup-user]"));
    assert_non_null(strstr(text, "Driver=Lakebase"));
    assert_non_null(strstr(text, "SSLmode=verify-full"));
    assert_non_null(strstr(text, "UseDeclareFetch=1")); /* psqlODBC's keys pass */
    const char *listed = run("odbcinst -q -s");
    printf("odbcinst -q -s: %s", listed);
    assert_non_null(strstr(listed, "[setup-user]"));

    assert_true(config(ODBC_CONFIG_DSN, "DSN=setup-user", "SSLmode=require", "UseDeclareFetch=", NULL));
    text = slurp(path);
    assert_non_null(strstr(text, "SSLmode=require"));
    assert_null(strstr(text, "UseDeclareFetch")); /* an empty value removes the key */

    assert_true(config(ODBC_REMOVE_DSN, "DSN=setup-user", NULL));
    assert_null(strstr(run("odbcinst -q -s"), "[setup-user]"));
    assert_false(config(ODBC_REMOVE_DSN, "DSN=setup-user", NULL)); /* gone */
}

static void bad_values_are_refused(void **state)
{
    (void)state;
    assert_false(config(ODBC_ADD_DSN, "DSN=setup-bad", "SSLmode=disable", NULL));
    assert_false(config(ODBC_ADD_DSN, "DSN=setup-bad", "Port=99999", NULL));
    assert_false(config(ODBC_ADD_DSN, "DSN=setup-bad", "DatabricksHost=http://plain.invalid", NULL));
    assert_false(config(ODBC_ADD_DSN, "DSN=setup-bad", "TokenCache=sometimes", NULL));
    assert_false(config(ODBC_ADD_DSN, "SSLmode=require", NULL)); /* no DSN= */
    assert_false(config(ODBC_CONFIG_DSN, "DSN=setup-never-added", "Port=5432", NULL));
    assert_null(strstr(run("odbcinst -q -s"), "[setup-bad]"));
}

static void system_dsn_never_holds_a_secret(void **state)
{
    (void)state;
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/odbc.ini", dir);
    assert_false(config(ODBC_ADD_SYS_DSN, "DSN=setup-sys", "ClientSecret=sys-secret-123", NULL));
    assert_false(config(ODBC_ADD_SYS_DSN, "DSN=setup-sys", "PWD=sys-secret-123", NULL));
    assert_false(config(ODBC_ADD_SYS_DSN, "DSN=setup-sys", "Proxy=http://u:sys-secret-123@proxy:3128", NULL));
    assert_null(strstr(slurp(path), "sys-secret-123"));
    /* A proxy without credentials is no secret; a secret file is named, not held. */
    assert_true(config(ODBC_ADD_SYS_DSN, "DSN=setup-sys", "Proxy=http://proxy:3128", "Port=5432", NULL));
    assert_non_null(strstr(slurp(path), "[setup-sys]"));
    assert_non_null(strstr(run("odbcinst -q -s"), "[setup-sys]"));
    assert_false(config(ODBC_CONFIG_SYS_DSN, "DSN=setup-sys", "ClientSecret=sys-secret-123", NULL));
    assert_null(strstr(slurp(path), "sys-secret-123"));
    assert_true(config(ODBC_REMOVE_SYS_DSN, "DSN=setup-sys", NULL));
    assert_null(strstr(slurp(path), "[setup-sys]"));
    /* Without a system odbc.ini unixODBC cannot add one: a refusal, not a crash. */
    char moved[PATH_MAX + 32];
    snprintf(moved, sizeof(moved), "%s.away", path);
    assert_int_equal(rename(path, moved), 0);
    assert_false(config(ODBC_ADD_SYS_DSN, "DSN=setup-sys", "Port=5432", NULL));
    assert_int_equal(rename(moved, path), 0);
}

static void properties_list_every_key(void **state)
{
    (void)state;
    HODBCINSTPROPERTY first = NULL;
    char name[] = "Lakebase";
    assert_int_equal(ODBCINSTConstructProperties(name, &first), ODBCINST_SUCCESS);
    int keys = 0;
    for (int k = 0; k < LB_KEY_COUNT; k++) {
        const lb_key_def *def = lb_key_info((lb_key)k);
        HODBCINSTPROPERTY p = first;
        while (p && strcmp(p->szName, def->name) != 0)
            p = p->pNext;
        if (p == NULL)
            fail_msg("ODBCINSTGetProperties lacks %s", def->name);
        assert_non_null(p->pszHelp);
        assert_true(strlen(p->pszHelp) > 5);
        if (def->secret)
            assert_int_equal(p->nPromptType, ODBCINST_PROMPTTYPE_TEXTEDIT_PASSWORD);
        else
            assert_int_not_equal(p->nPromptType, ODBCINST_PROMPTTYPE_TEXTEDIT_PASSWORD);
        if (def->def)
            assert_string_equal(p->szValue, def->def);
        if (strcmp(def->name, "SSLmode") == 0 || strcmp(def->name, "TokenCache") == 0 ||
            strcmp(def->name, "LogLevel") == 0) {
            assert_int_equal(p->nPromptType, ODBCINST_PROMPTTYPE_LISTBOX);
            assert_non_null(p->aPromptData);
            int has_default = 0;
            for (char **c = p->aPromptData; *c; c++)
                has_default |= strcmp(*c, def->def) == 0;
            assert_true(has_default);
        }
        printf("  %-20s type %d  %s\n", p->szName, p->nPromptType, p->pszHelp);
        keys++;
    }
    printf("%d keys of lb_key_info in the form\n", keys);
    assert_int_equal(ODBCINSTDestructProperties(&first), ODBCINST_SUCCESS);
}

/* Called directly, as a configuration tool would: unixODBC 2.3's SQLConfigDriver never
 * reaches a setup library on 64-bit builds (its Setup64/Setup lookup is inverted there, and
 * ODBC_CONFIG_DRIVER is not passed on at all). */
static void config_driver_sets_psqlodbc(void **state)
{
    (void)state;
    void *lib = dlopen(setup_lib, RTLD_NOW | RTLD_LOCAL);
    assert_non_null(lib);
    BOOL (*config_driver)(HWND, WORD, LPCSTR, LPCSTR, LPSTR, WORD, WORD *) =
        (BOOL(*)(HWND, WORD, LPCSTR, LPCSTR, LPSTR, WORD, WORD *))dlsym(lib, "ConfigDriver");
    assert_non_null(config_driver);
    char msg[256] = "";
    WORD len = 0;
    char args[PATH_MAX + 32];
    int n = snprintf(args, sizeof(args), "PsqlODBC=%s", getenv("LAKEBASE_PSQLODBC"));
    args[n + 1] = '\0';
    assert_true(config_driver(NULL, ODBC_CONFIG_DRIVER, "Lakebase", args, msg, sizeof(msg), &len));
    printf("ConfigDriver: %s\n", msg);
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/odbcinst.ini", dir);
    assert_non_null(strstr(slurp(path), "PsqlODBC="));
    n = snprintf(args, sizeof(args), "PsqlODBC=/nonexistent/psqlodbcw.so");
    args[n + 1] = '\0';
    assert_false(config_driver(NULL, ODBC_CONFIG_DRIVER, "Lakebase", args, msg, sizeof(msg), &len));
    assert_null(strstr(slurp(path), "/nonexistent/"));
    assert_true(config_driver(NULL, ODBC_INSTALL_DRIVER, "Lakebase", NULL, msg, sizeof(msg), &len));
    assert_false(config_driver(NULL, ODBC_CONFIG_DRIVER_MAX + 1, "Lakebase", NULL, msg, sizeof(msg), &len));
    dlclose(lib);
}

/* The library exports the three entry points and nothing of lbcore or its own helpers, so
 * it cannot clash with a driver or another copy of lbcore in the same process. */
static void exports_only_the_entry_points(void **state)
{
    (void)state;
    void *lib = dlopen(setup_lib, RTLD_NOW | RTLD_LOCAL);
    assert_non_null(lib);
    assert_non_null(dlsym(lib, "ODBCINSTGetProperties"));
    assert_non_null(dlsym(lib, "ConfigDSN"));
    assert_non_null(dlsym(lib, "ConfigDriver"));
    assert_null(dlsym(lib, "lb_settings_resolve"));
    assert_null(dlsym(lib, "lb_key_info"));
    assert_null(dlsym(lib, "lb_setup_keys_check"));
    dlclose(lib);
}

int main(int argc, char **argv)
{
    const char *driver = getenv("LAKEBASE_DRIVER");
    if (argc < 2 || driver == NULL) {
        fprintf(stderr, "usage: LAKEBASE_DRIVER=... %s liblakebase-odbcS.so\n", argv[0]);
        return 2;
    }
    setup_lib = argv[1];
    snprintf(dir, sizeof(dir), "/tmp/lb-setup-test-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return 2;
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/odbcinst.ini", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "[Lakebase]\nDriver=%s\nSetup=%s\n", driver, argv[1]);
    fclose(f);
    snprintf(path, sizeof(path), "%s/odbc.ini", dir);
    fclose(fopen(path, "w")); /* the system odbc.ini: unixODBC writes a system DSN only into an existing file */
    setenv("ODBCSYSINI", dir, 1);
    snprintf(path, sizeof(path), "%s/user-odbc.ini", dir);
    setenv("ODBCINI", path, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(user_dsn_add_change_remove),  cmocka_unit_test(bad_values_are_refused),
        cmocka_unit_test(system_dsn_never_holds_a_secret), cmocka_unit_test(properties_list_every_key),
        cmocka_unit_test(config_driver_sets_psqlodbc), cmocka_unit_test(exports_only_the_entry_points),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        rc = rc ? rc : 1;
    return rc;
}
