/* Authentication sources (AuthType, issue 10) end to end: a personal access token, a
 * `databricks auth login` session through the stand-in CLI (tests/emulator/databricks), a
 * ~/.databrickscfg profile; each connects and SELECT current_user shows the role it implies
 * (the person's user name from SCIM Me, or the client id). And the errors: two sources
 * configured, a profile that does not exist, a CLI that is missing, fails or hangs (killed at
 * the deadline), a token the workspace refuses; workload identity federation (file, variable,
 * account-wide, an expired JWT, no matching policy). One process per case: argv[1] names it. */
#include "testenv.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SCIM_ME "GET /api/2.0/preview/scim/v2/Me"

static char pat[256], state_dir[1024], cli_logins[1200], cfg_file[1200];
static const char *pat_user, *cli_user, *fake_cli;

static void read_auth_state(void)
{
    read_state();
    snprintf(state_dir, sizeof(state_dir), "%s", need_env("LAKEBASE_LOCAL_STATE"));
    read_state_line("pat", pat, sizeof(pat));
    snprintf(cli_logins, sizeof(cli_logins), "%s/databricks-cli-logins.json", state_dir);
    snprintf(cfg_file, sizeof(cfg_file), "%s/databrickscfg", state_dir);
    pat_user = need_env("LAKEBASE_PAT_USER");
    cli_user = need_env("LAKEBASE_CLI_USER");
    fake_cli = need_env("LAKEBASE_FAKE_CLI");
    setenv("LAKEBASE_FAKE_CLI_LOGINS", cli_logins, 1);
}

/* A connect that must fail (testenv's fails_bare): the message must never hold the PAT. */
static double fails(const char *extra, char st[6], char *all, size_t size)
{
    return fails_bare(extra, pat, st, all, size);
}

static void expect_in(const char *all, const char *phrase)
{
    if (strstr(all, phrase) == NULL)
        fail_msg("\"%s\" lacks \"%s\"", all, phrase);
}

/* pat: the token is the bearer; UID is the person's user name, looked up once (SCIM Me). */
static void test_pat(void **state)
{
    (void)state;
    char extra[512];
    snprintf(extra, sizeof(extra), "Token={%s}", pat);
    long long me0 = emulator_count(SCIM_ME);
    double t = connects_as(extra, pat_user);
    connects_as(extra, pat_user);
    long long me = emulator_count(SCIM_ME) - me0;
    printf("pat: connected in %.2f s; SCIM Me asked %lld time(s) for two connects\n", t, me);
    assert_int_equal(me, 1); /* cached per identity */
    /* UID given: no look-up, and that role is used. */
    snprintf(extra, sizeof(extra), "Token={%s};UID=%s", pat, pat_user);
    connects_as(extra, pat_user);
    assert_int_equal(emulator_count(SCIM_ME) - me0, 1);
    /* AuthType=pat from the environment, the token from DATABRICKS_TOKEN. */
    setenv("DATABRICKS_TOKEN", pat, 1);
    setenv("DATABRICKS_AUTH_TYPE", "pat", 1);
    connects_as("LogLevel=off", pat_user);
    unsetenv("DATABRICKS_TOKEN");
    unsetenv("DATABRICKS_AUTH_TYPE");
}

/* A token the workspace refuses: at SCIM Me (no UID), or at the credential API (UID given). */
static void test_pat_refused(void **state)
{
    (void)state;
    char st[6], all[4096];
    fails("Token=dapi0123456789abcdef0123456789abcdef", st, all, sizeof(all));
    assert_string_equal(st, "28000");
    expect_in(all, "Check Token");
    expect_in(all, "HTTP 401");
    char extra[512];
    snprintf(extra, sizeof(extra), "Token=dapi0123456789abcdef0123456789abcdef;UID=%s", pat_user);
    fails(extra, st, all, sizeof(all));
    assert_string_equal(st, "28000");
    expect_in(all, "credential request");
    expect_in(all, "Check Token");
}

/* Precedence: connection string over environment over profile. */
static void test_precedence(void **state)
{
    (void)state;
    char extra[512], st[6], all[4096];
    setenv("DATABRICKS_CONFIG_FILE", cfg_file, 1);
    /* The profile's token alone connects ... */
    connects_as("Profile=lakebase-local-pat", pat_user);
    /* ... the environment's (wrong) token wins over it ... */
    setenv("DATABRICKS_TOKEN", "dapi-wrong-token-from-the-environment", 1);
    fails("Profile=lakebase-local-pat", st, all, sizeof(all));
    expect_in(all, "Check Token");
    /* ... and the connection string's wins over the environment's. */
    snprintf(extra, sizeof(extra), "Profile=lakebase-local-pat;Token={%s}", pat);
    connects_as(extra, pat_user);
    unsetenv("DATABRICKS_TOKEN");
    unsetenv("DATABRICKS_CONFIG_FILE");
}

/* Two sources configured without AuthType: refused as the SDK refuses it, no secret shown. */
static void test_two_sources(void **state)
{
    (void)state;
    char extra[1024], st[6], all[4096];
    snprintf(extra, sizeof(extra), "Token={%s};ClientID=%s;ClientSecret={%s}", pat, client_id, secret);
    fails(extra, st, all, sizeof(all));
    assert_string_equal(st, "HY000");
    expect_in(all, "More than one way to authenticate");
    expect_in(all, "AuthType");
    assert_null(strstr(all, secret));
    /* AuthType says which: oauth-m2m's role is the client id. */
    snprintf(extra, sizeof(extra), "Token={%s};ClientID=%s;ClientSecret={%s};AuthType=oauth-m2m", pat, client_id,
             secret);
    connects_as(extra, client_id);
    /* Half configured: names the missing key. */
    snprintf(extra, sizeof(extra), "ClientSecret={%s}", secret);
    fails(extra, st, all, sizeof(all));
    expect_in(all, "Missing setting ClientID");
    fails("AuthType=pat", st, all, sizeof(all));
    expect_in(all, "Missing setting Token");
}

/* databricks-cli: the stand-in CLI, by path and by profile. */
static void test_cli(void **state)
{
    (void)state;
    char extra[2048];
    snprintf(extra, sizeof(extra), "AuthType=databricks-cli;DatabricksCliPath={%s}", fake_cli);
    long long me0 = emulator_count(SCIM_ME);
    double t = connects_as(extra, cli_user);
    connects_as(extra, cli_user);
    printf("databricks-cli: connected in %.2f s; SCIM Me asked %lld time(s) for two connects\n", t,
           emulator_count(SCIM_ME) - me0);
    assert_int_equal(emulator_count(SCIM_ME) - me0, 1);
    /* A profile that names the CLI (auth_type, databricks_cli_path): run with --profile. */
    setenv("DATABRICKS_CONFIG_FILE", cfg_file, 1);
    connects_as("Profile=lakebase-local-cli", cli_user);
    unsetenv("DATABRICKS_CONFIG_FILE");
}

/* The CLI fails: missing, not logged in (exit status 1), or hanging (killed at the deadline). */
/* The stand-in CLI with no login (a logins file of its own, named in path): it fails as the
 * real one does when not logged in. */
static void logged_out(char *path, size_t size)
{
    snprintf(path, size, "%s/no-logins.json", state_dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"logins\": {}}\n", f);
    fclose(f);
    setenv("LAKEBASE_FAKE_CLI_LOGINS", path, 1);
}

static void test_cli_failures(void **state)
{
    (void)state;
    char extra[2048], st[6], all[4096];
    fails("AuthType=databricks-cli;DatabricksCliPath=/nonexistent/databricks", st, all, sizeof(all));
    assert_string_equal(st, "HY000");
    expect_in(all, "could not be run");
    expect_in(all, "DatabricksCliPath");
    /* Not logged in: the CLI's own message and the fix. */
    char empty[1300];
    logged_out(empty, sizeof(empty));
    snprintf(extra, sizeof(extra), "AuthType=databricks-cli;DatabricksCliPath={%s}", fake_cli);
    fails(extra, st, all, sizeof(all));
    assert_string_equal(st, "28000");
    expect_in(all, "exit status 1");
    expect_in(all, "OAuth is not configured for this host");
    expect_in(all, "Run `databricks auth login --host");
    setenv("LAKEBASE_FAKE_CLI_LOGINS", cli_logins, 1);
    unlink(empty);
    /* A CLI that prints a token-like string on standard error and fails: not shown. */
    char dir[] = "/tmp/lb-cli-XXXXXX", prog[64], pidfile[80];
    assert_non_null(mkdtemp(dir));
    snprintf(prog, sizeof(prog), "%s/databricks", dir);
    snprintf(pidfile, sizeof(pidfile), "%s/pid", dir);
    FILE *f = fopen(prog, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\necho 'Error: refresh failed for eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl' >&2\n"
               "exit 3\n");
    fclose(f);
    chmod(prog, 0700);
    snprintf(extra, sizeof(extra), "AuthType=databricks-cli;DatabricksCliPath=%s", prog);
    fails(extra, st, all, sizeof(all));
    expect_in(all, "exit status 3");
    expect_in(all, "[redacted]");
    assert_null(strstr(all, "eyJhbGciOiJSUzI1NiJ9"));
    /* Hanging: killed when ConnectTimeout passes. */
    f = fopen(prog, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\necho $$ > %s\nexec sleep 60\n", pidfile);
    fclose(f);
    snprintf(extra, sizeof(extra), "AuthType=databricks-cli;DatabricksCliPath=%s;ConnectTimeout=2", prog);
    double took = fails(extra, st, all, sizeof(all));
    printf("hanging CLI: failed in %.2f s with ConnectTimeout=2\n", took);
    assert_string_equal(st, "HYT00");
    expect_in(all, "did not finish");
    assert_true(took < 15.0);
    f = fopen(pidfile, "r");
    assert_non_null(f);
    int pid = 0;
    assert_int_equal(fscanf(f, "%d", &pid), 1);
    fclose(f);
    assert_int_equal(kill(pid, 0), -1); /* killed and reaped */
    assert_int_equal(errno, ESRCH);
    unlink(pidfile);
    unlink(prog);
    rmdir(dir);
}

/* A profile: the workspace and service principal from DATABRICKS_CONFIG_FILE; a profile
 * that does not exist is an error naming it. */
static void test_profile(void **state)
{
    (void)state;
    char st[6], all[4096];
    setenv("DATABRICKS_CONFIG_FILE", cfg_file, 1);
    connects_as("Profile=lakebase-local", client_id);
    fails("Profile=no-such-profile", st, all, sizeof(all));
    assert_string_equal(st, "HY000");
    expect_in(all, "Profile \"no-such-profile\"");
    expect_in(all, cfg_file);
    unsetenv("DATABRICKS_CONFIG_FILE");
}

static char *slurp_line(const char *path)
{
    static char buf[4096];
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof(buf), f));
    fclose(f);
    buf[strcspn(buf, "\r\n")] = '\0';
    return buf;
}

/* Workload identity federation: the identity provider's JWT in a file or a variable,
 * exchanged for the service principal's token; its role is the client id (without ClientID,
 * account-wide federation: SCIM Me's userName, the application id). */
static void test_oidc(void **state)
{
    (void)state;
    char extra[2048], st[6], all[4096], path[1200];
    snprintf(path, sizeof(path), "%s/oidc-token", state_dir);
    snprintf(extra, sizeof(extra), "ClientID=%s;OIDCTokenFile=%s", client_id, path);
    long long ex0 = emulator_count(TOKENS);
    double t = connects_as(extra, client_id);
    printf("file-oidc: connected in %.2f s (%lld token exchange)\n", t, emulator_count(TOKENS) - ex0);
    assert_int_equal(emulator_count(TOKENS) - ex0, 1);
    /* env-oidc: DATABRICKS_OIDC_TOKEN, or the variable OIDCTokenEnv names. */
    setenv("LB_TEST_JWT", slurp_line(path), 1);
    snprintf(extra, sizeof(extra), "ClientID=%s;OIDCTokenEnv=LB_TEST_JWT", client_id);
    connects_as(extra, client_id);
    unsetenv("LB_TEST_JWT");
    setenv("DATABRICKS_OIDC_TOKEN", slurp_line(path), 1);
    connects_as("AuthType=env-oidc", client_id); /* account-wide: no ClientID, the role from SCIM Me */
    unsetenv("DATABRICKS_OIDC_TOKEN");
    /* An expired JWT, and one no policy of the asked service principal admits. */
    snprintf(extra, sizeof(extra), "ClientID=%s;OIDCTokenFile=%s/oidc-token-expired", client_id, state_dir);
    fails(extra, st, all, sizeof(all));
    assert_string_equal(st, "28000");
    expect_in(all, "expired");
    expect_in(all, "federated token exchange");
    snprintf(extra, sizeof(extra), "ClientID=00000000-0000-4000-8000-000000000000;OIDCTokenFile=%s", path);
    fails(extra, st, all, sizeof(all));
    expect_in(all, "no federation policy");
    fails("AuthType=file-oidc;OIDCTokenFile=/nonexistent/token", st, all, sizeof(all));
    assert_string_equal(st, "HY000");
    expect_in(all, "OIDCTokenFile /nonexistent/token");
    assert_null(strstr(all, slurp_line(path)));
}

/* An application that ignores SIGCHLD: the kernel reaps the CLI at once, and no exit status
 * is left to read. A CLI that works still connects; one that fails is still reported with
 * what it printed, not as an unreadable answer. */
static void test_cli_sigchld(void **state)
{
    (void)state;
    char extra[2048], st[6], all[4096], empty[1300];
    signal(SIGCHLD, SIG_IGN);
    snprintf(extra, sizeof(extra), "AuthType=databricks-cli;DatabricksCliPath={%s}", fake_cli);
    logged_out(empty, sizeof(empty));
    fails(extra, st, all, sizeof(all));
    printf("SIGCHLD ignored, CLI not logged in: [%s] %s\n", st, all);
    setenv("LAKEBASE_FAKE_CLI_LOGINS", cli_logins, 1);
    unlink(empty);
    connects_as(extra, cli_user);
    signal(SIGCHLD, SIG_DFL);
    assert_string_equal(st, "28000");
    expect_in(all, "OAuth is not configured for this host");
    expect_in(all, "Run `databricks auth login --host");
}

/* A DSN written for the Databricks SQL ODBC driver (AuthMech=11, Auth_Flow=1 and its client
 * keys), in a copy of odbc.ini that ODBCINI then names: connects as the service principal. */
static void moved_dsn_ini(char *dir, size_t size)
{
    snprintf(dir, size, "/tmp/lb-dbodbc-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char path[1200], line[4096];
    snprintf(path, sizeof(path), "%s/odbc.ini", dir);
    FILE *in = fopen(need_env("ODBCINI"), "r"), *out = fopen(path, "w");
    assert_non_null(in);
    assert_non_null(out);
    assert_int_equal(chmod(path, 0600), 0);
    while (fgets(line, sizeof(line), in))
        fputs(line, out);
    fclose(in);
    fprintf(out, "\n[databricks-moved]\nDriver=Lakebase\nDatabricksHost=%s\n"
                 "Endpoint=projects/demo/branches/main/endpoints/primary\nServername=localhost\nPort=%s\n"
                 "CAFile=%s\nSSLRootCert=%s\nAuthMech=11\nAuth_Flow=1\nAuth_Client_ID=%s\nAuth_Client_Secret=%s\n",
            emulator_url, pg_port, ca_file, ca_file, client_id, secret);
    fclose(out);
    setenv("ODBCINI", path, 1);
}

static void remove_moved_dsn_ini(const char *dir)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/odbc.ini", dir);
    unlink(path);
    rmdir(dir);
}

/* The Databricks SQL ODBC driver's keys: each Auth_Flow this driver supports, and AuthMech=3
 * (UID=token, PWD=the PAT, which must not reach psqlODBC as the password: the connect succeeds
 * only with the database credential as PWD). */
static void test_dbodbc(void **state)
{
    (void)state;
    char extra[2048];
    snprintf(extra, sizeof(extra), "AuthMech=11;Auth_Flow=0;Auth_AccessToken={%s}", pat);
    double t0 = connects_as(extra, pat_user);
    snprintf(extra, sizeof(extra), "AuthMech=11;Auth_Flow=1;Auth_Client_ID=%s;Auth_Client_Secret={%s}", client_id,
             secret);
    double t1 = connects_as(extra, client_id);
    snprintf(extra, sizeof(extra), "AuthMech=11;Auth_Flow=2;DatabricksCliPath={%s}", fake_cli);
    double t2 = connects_as(extra, cli_user);
    snprintf(extra, sizeof(extra), "AuthMech=3;UID=token;PWD={%s}", pat);
    double t3 = connects_as(extra, pat_user);
    printf("Auth_Flow 0: %.2f s, 1: %.2f s, 2: %.2f s; AuthMech=3: %.2f s\n", t0, t1, t2, t3);
    /* Flow 3 is azure-msi: the emulator's metadata service, the system-assigned identity. */
    snprintf(extra, sizeof(extra), "AuthMech=11;Auth_Flow=3;AzureMsiEndpoint=%s", need_env("LAKEBASE_MSI_ENDPOINT"));
    double t4 = connects_as(extra, need_env("LAKEBASE_MSI_SYSTEM_ID"));
    printf("Auth_Flow 3 (azure-msi): %.2f s\n", t4);
    conn c;
    /* A moved DSN. */
    char dir[64];
    moved_dsn_ini(dir, sizeof(dir));
    c = new_conn();
    const char *in = "DSN=databricks-moved";
    assert_connected(c.dbc, SQLDriverConnect(c.dbc, NULL, (SQLCHAR *)in, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT));
    expect_user(c.dbc, client_id);
    SQLDisconnect(c.dbc);
    free_conn(&c);
    remove_moved_dsn_ini(dir);
}

/* Conflicts between an alias and our key, and values this driver does not take: HY000 naming
 * the keys, no secret shown. */
static void test_dbodbc_errors(void **state)
{
    (void)state;
    char extra[2048], st[6], all[4096];
    snprintf(extra, sizeof(extra), "ClientID=00000000-0000-4000-8000-000000000001;AuthMech=11;Auth_Flow=1;"
             "Auth_Client_ID=%s;Auth_Client_Secret={%s}", client_id, secret);
    fails(extra, st, all, sizeof(all));
    assert_string_equal(st, "HY000");
    expect_in(all, "ClientID \"00000000-0000-4000-8000-000000000001\" (from the connection string) and "
                   "Auth_Client_ID");
    assert_null(strstr(all, secret));
    snprintf(extra, sizeof(extra), "Token=dapi-another-token-aaaaaaaa;AuthMech=11;Auth_AccessToken={%s}", pat);
    fails(extra, st, all, sizeof(all));
    assert_string_equal(st, "HY000");
    expect_in(all, "Token (from the connection string) and Auth_AccessToken");
    assert_null(strstr(all, "dapi-another-token-aaaaaaaa"));
    snprintf(extra, sizeof(extra), "ClientSecret=not-the-pat;AuthMech=3;UID=token;PWD={%s}", pat);
    fails(extra, st, all, sizeof(all));
    assert_string_equal(st, "HY000");
    expect_in(all, "ClientSecret (from the connection string) and PWD");
    assert_null(strstr(all, "not-the-pat"));
    snprintf(extra, sizeof(extra), "AuthType=oauth-m2m;AuthMech=11;Auth_Flow=0;Auth_AccessToken={%s}", pat);
    fails(extra, st, all, sizeof(all));
    assert_string_equal(st, "HY000");
    expect_in(all, "AuthType \"oauth-m2m\" (from the connection string) and AuthMech=11 with Auth_Flow=0");
    fails("AuthMech=11;Auth_Flow=5", st, all, sizeof(all));
    assert_string_equal(st, "HY000");
    expect_in(all, "Auth_Flow \"5\" (from the connection string) is not one of 0 (token passthrough");
    expect_in(all, "3 (an Azure managed identity: azure-msi)");
    fails("AuthMech=2;UID=someone", st, all, sizeof(all));
    assert_string_equal(st, "HY000");
    expect_in(all, "AuthMech \"2\"");
    fails("AuthMech=11;Auth_Flow=1;Auth_Client_ID=x", st, all, sizeof(all));
    expect_in(all, "Missing setting Auth_Client_Secret");
    fails("HTTPPath=/sql/1.0/warehouses/0123456789abcdef", st, all, sizeof(all));
    assert_string_equal(st, "HY000");
    expect_in(all, "HTTPPath (from the connection string) names a SQL warehouse");
}

/* The alias keys' secrets are redacted like ours: not in the output connection string, the
 * log at debug level, or the diagnostics. */
static void test_dbodbc_secrets(void **state)
{
    (void)state;
    char log[] = "/tmp/lb-dbodbc-log-XXXXXX";
    int fd = mkstemp(log);
    assert_true(fd >= 0);
    close(fd);
    /* Auth_Flow 0, Auth_Flow 1, AuthMech=3: the secret key's name, its value, the role. */
    const char *key[] = {"Auth_AccessToken", "Auth_Client_Secret", "PWD"};
    const char *value[] = {pat, secret, pat};
    const char *role[] = {pat_user, client_id, pat_user};
    for (int i = 0; i < 3; i++) {
        char extra[2048], in[8192], out[8192] = "";
        if (i == 0)
            snprintf(extra, sizeof(extra), "AuthMech=11;Auth_Flow=0;Auth_AccessToken={%s}", pat);
        else if (i == 1)
            snprintf(extra, sizeof(extra), "AuthMech=11;Auth_Flow=1;Auth_Client_ID=%s;Auth_Client_Secret={%s}",
                     client_id, secret);
        else
            snprintf(extra, sizeof(extra), "AuthMech=3;UID=token;PWD={%s}", pat);
        size_t n = strlen(extra);
        snprintf(extra + n, sizeof(extra) - n, ";LogLevel=debug;LogFile={%s}", log);
        bare_connstr(in, sizeof(in), extra);
        conn c = new_conn();
        SQLSMALLINT outlen = 0;
        assert_connected(c.dbc, SQLDriverConnect(c.dbc, NULL, (SQLCHAR *)in, SQL_NTS, (SQLCHAR *)out, sizeof(out),
                                                 &outlen, SQL_DRIVER_NOPROMPT));
        expect_user(c.dbc, role[i]);
        SQLDisconnect(c.dbc);
        free_conn(&c);
        assert_null(strstr(out, value[i]));
        char keyeq[32];
        snprintf(keyeq, sizeof(keyeq), "%s=", key[i]);
        assert_null(strstr(out, keyeq));
        expect_in(out, "AuthMech=");
        printf("output connection string with %s: %zu bytes, no secret\n", key[i], strlen(out));
    }
    /* A failed connect's diagnostics and its log lines. */
    char extra[2048], st[6], all[4096];
    snprintf(extra, sizeof(extra), "AuthMech=11;Auth_Flow=1;Auth_Client_ID=%s;Auth_Client_Secret=wrong-secret-zzzz;"
             "LogLevel=debug;LogFile={%s}", client_id, log);
    fails(extra, st, all, sizeof(all));
    assert_null(strstr(all, "wrong-secret-zzzz"));
    FILE *f = fopen(log, "r");
    assert_non_null(f);
    char line[8192];
    int lines = 0, aliased = 0, why = 0;
    while (fgets(line, sizeof(line), f)) {
        lines++;
        if (strstr(line, pat) || strstr(line, secret) || strstr(line, "wrong-secret-zzzz"))
            fail_msg("the log holds a secret: %.80s...", "(line not shown)");
        aliased += strstr(line, "Auth_Flow=") != NULL;
        why += strstr(line, "auth: oauth-m2m") && strstr(line, "from the Databricks ODBC driver's AuthMech=11 and "
                                                                 "Auth_Flow=1") != NULL;
    }
    fclose(f);
    printf("log: %d lines, %d naming Auth_Flow, %d saying why oauth-m2m, no secret\n", lines, aliased, why);
    assert_true(lines > 5);
    assert_true(aliased > 0);
    assert_true(why > 0);
    unlink(log);
}

int main(int argc, char **argv)
{
    read_auth_state();
    const struct CMUnitTest all[] = {
        cmocka_unit_test(test_pat),         cmocka_unit_test(test_pat_refused), cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_two_sources), cmocka_unit_test(test_cli),         cmocka_unit_test(test_cli_failures),
        cmocka_unit_test(test_profile),     cmocka_unit_test(test_oidc),        cmocka_unit_test(test_cli_sigchld),
        cmocka_unit_test(test_dbodbc),      cmocka_unit_test(test_dbodbc_errors), cmocka_unit_test(test_dbodbc_secrets),
    };
    return testenv_run_case(argc, argv, all, sizeof(all) / sizeof(all[0]));
}
