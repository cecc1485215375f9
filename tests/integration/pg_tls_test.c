/* PostgreSQL's TLS, end to end: SSLmode=verify-full against the local Lakebase with the
 * test CA (SSLRootCert), with the system bundle the driver uses by default (refused: the
 * test CA is not in it), with a private bundle (system bundle + test CA), with the user's
 * own pqopt kept; and an impostor server (pg_impostor.py, a self-signed certificate) that
 * verify-full and verify-ca refuse before any password goes out, while require hands it
 * the live credential (shown by hash, never printed). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lb_cache.h"
#include "testenv.h"

/* Connects DSN-less with extra settings first (their keys win); returns the return code,
 * with the records in all and the time taken printed under label. The connection is
 * left open on success (the caller checks and disconnects). */
static SQLRETURN try_connect(conn *c, const char *label, const char *extra, char *all, size_t size)
{
    char base[4096], in[8192];
    dsnless(base, sizeof(base), "TokenCache=off;");
    snprintf(in, sizeof(in), "%s%s", extra, base);
    double t0 = now_s();
    SQLRETURN rc = SQLDriverConnect(c->dbc, NULL, (SQLCHAR *)in, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
    double took = now_s() - t0;
    all_diags(c->dbc, all, size);
    assert_null(strstr(all, secret));
    printf("%-52s -> %s in %.2f s  %.1000s\n", label, SQL_SUCCEEDED(rc) ? "connected" : "refused", took, all);
    assert_true(took < 30);
    return rc;
}

static void test_verify_full_with_test_ca(void **state)
{
    (void)state;
    conn c = new_conn();
    char extra[2048], all[8192];
    snprintf(extra, sizeof(extra), "SSLmode=verify-full;SSLRootCert={%s};", ca_file);
    SQLRETURN rc = try_connect(&c, "verify-full, SSLRootCert=test CA", extra, all, sizeof(all));
    assert_connected(c.dbc, rc);
    check_identity(c.dbc);
    SQLDisconnect(c.dbc);
    free_conn(&c);
}

static void test_verify_full_through_the_dsn(void **state)
{
    (void)state;
    conn c = new_conn();
    char all[4096];
    double t0 = now_s();
    SQLRETURN rc = SQLDriverConnect(c.dbc, NULL, (SQLCHAR *)"DSN=lakebase-local;SSLmode=verify-full;TokenCache=off",
                                    SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
    all_diags(c.dbc, all, sizeof(all));
    printf("%-52s -> %s in %.2f s  %.300s\n", "DSN lakebase-local (SSLRootCert=ca.pem), verify-full",
           SQL_SUCCEEDED(rc) ? "connected" : "refused", now_s() - t0, all);
    assert_connected(c.dbc, rc);
    check_identity(c.dbc);
    SQLDisconnect(c.dbc);
    free_conn(&c);
}

/* Without SSLRootCert the driver passes the system bundle: the local Lakebase's test CA
 * is not in it, so libpq refuses the certificate (and does not look for ~/.postgresql/root.crt). */
static void test_verify_full_system_default(void **state)
{
    (void)state;
    conn c = new_conn();
    char all[8192];
    SQLRETURN rc = try_connect(&c, "verify-full, no SSLRootCert (system bundle)", "SSLmode=verify-full;", all, sizeof(all));
    assert_int_equal(rc, SQL_ERROR);
    assert_non_null(strstr(all, "certificate verify failed"));
    assert_null(strstr(all, "root.crt"));
    assert_non_null(strstr(all, "PostgreSQL's TLS certificate was not accepted"));
    assert_int_equal(strncmp(all + 7, " [Lakebase] ", 12), 0); /* the driver's record first */
    assert_non_null(strstr(all, "system CA bundle"));
    free_conn(&c);
}

/* A private bundle: the system bundle plus the test CA, through SSLRootCert. */
static void test_private_bundle(void **state)
{
    (void)state;
    char path[] = "/tmp/lb-bundle-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *out = fdopen(fd, "w");
    const char *parts[] = {"/etc/ssl/certs/ca-certificates.crt", ca_file};
    for (int i = 0; i < 2; i++) {
        FILE *in = fopen(parts[i], "r");
        if (in == NULL && i == 0)
            continue; /* not Debian: the test CA alone still shows the key works */
        assert_non_null(in);
        char buf[8192];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
            fwrite(buf, 1, n, out);
        fclose(in);
    }
    fclose(out);
    conn c = new_conn();
    char extra[2048], all[8192];
    snprintf(extra, sizeof(extra), "SSLmode=verify-full;SSLRootCert=%s;", path);
    SQLRETURN rc = try_connect(&c, "verify-full, SSLRootCert=system bundle + test CA", extra, all, sizeof(all));
    unlink(path);
    assert_connected(c.dbc, rc);
    check_identity(c.dbc);
    SQLDisconnect(c.dbc);
    free_conn(&c);
}

static void check_application_name(SQLHDBC dbc, const char *expected)
{
    SQLHSTMT st;
    assert_int_equal(SQLAllocHandle(SQL_HANDLE_STMT, dbc, &st), SQL_SUCCESS);
    assert_true(SQL_SUCCEEDED(SQLExecDirect(st, (SQLCHAR *)"SELECT current_setting('application_name')", SQL_NTS)));
    assert_int_equal(SQLFetch(st), SQL_SUCCESS);
    char name[128] = "";
    SQLLEN ind;
    assert_true(SQL_SUCCEEDED(SQLGetData(st, 1, SQL_C_CHAR, name, sizeof(name), &ind)));
    assert_string_equal(name, expected);
    SQLFreeHandle(SQL_HANDLE_STMT, st);
}

/* The user's own pqopt still reaches libpq when the driver adds sslrootcert to it. */
static void test_user_pqopt_kept(void **state)
{
    (void)state;
    conn c = new_conn();
    char extra[2048], all[8192];
    snprintf(extra, sizeof(extra), "SSLmode=verify-full;SSLRootCert={%s};pqopt={application_name=lb_tls_test};", ca_file);
    SQLRETURN rc = try_connect(&c, "verify-full + pqopt application_name", extra, all, sizeof(all));
    assert_connected(c.dbc, rc);
    check_application_name(c.dbc, "lb_tls_test");
    SQLDisconnect(c.dbc);
    free_conn(&c);
}

/* The same with the pqopt in the DSN: psqlODBC would drop it for the connection
 * string's pqopt, so the driver reads and merges it. (A private odbc.ini.) */
static void test_dsn_pqopt_kept(void **state)
{
    (void)state;
    char ini[] = "/tmp/lb-odbcini-XXXXXX";
    int fd = mkstemp(ini);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "[tls-dsn]\nDriver=Lakebase\nDatabricksHost=%s\nClientID=%s\nClientSecret=%s\n"
               "Endpoint=projects/demo/branches/main/endpoints/primary\nServername=localhost\nPort=%s\n"
               "CAFile=%s\nSSLRootCert=%s\nSSLmode=verify-full\npqopt=application_name=from_dsn\n",
            emulator_url, client_id, secret, pg_port, ca_file, ca_file);
    fclose(f);
    char *saved = strdup(getenv("ODBCINI"));
    setenv("ODBCINI", ini, 1);
    conn c = new_conn();
    char all[4096];
    double t0 = now_s();
    SQLRETURN rc = SQLDriverConnect(c.dbc, NULL, (SQLCHAR *)"DSN=tls-dsn;TokenCache=off", SQL_NTS, NULL, 0, NULL,
                                    SQL_DRIVER_NOPROMPT);
    all_diags(c.dbc, all, sizeof(all));
    setenv("ODBCINI", saved, 1);
    free(saved);
    unlink(ini);
    printf("%-52s -> %s in %.2f s  %.300s\n", "DSN with verify-full, SSLRootCert and pqopt",
           SQL_SUCCEEDED(rc) ? "connected" : "refused", now_s() - t0, all);
    assert_connected(c.dbc, rc);
    check_application_name(c.dbc, "from_dsn");
    SQLDisconnect(c.dbc);
    free_conn(&c);
}

/* ---- the impostor ---- */

static pid_t impostor_pid;
static char impostor_dir[64];
static char impostor_port[16];
static char record_path[1200];

/* With cert and key NULL, the impostor makes a self-signed certificate. */
static void start_impostor(const char *cert, const char *key)
{
    snprintf(impostor_dir, sizeof(impostor_dir), "/tmp/lb-impostor-XXXXXX");
    assert_non_null(mkdtemp(impostor_dir));
    char script[1200], port_file[1200];
    snprintf(script, sizeof(script), "%s/pg_impostor.py", need_env("LB_TEST_SOURCE_DIR"));
    snprintf(port_file, sizeof(port_file), "%s/port", impostor_dir);
    snprintf(record_path, sizeof(record_path), "%s/record", impostor_dir);
    impostor_pid = fork();
    assert_true(impostor_pid >= 0);
    if (impostor_pid == 0) {
        if (cert)
            execl("/usr/bin/python3", "python3", script, "--dir", impostor_dir, "--port-file", port_file, "--record",
                  record_path, "--cert", cert, "--key", key, (char *)NULL);
        else
            execl("/usr/bin/python3", "python3", script, "--dir", impostor_dir, "--port-file", port_file, "--record",
                  record_path, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) { /* up to 20 s for openssl and the listener */
        FILE *f = fopen(port_file, "r");
        if (f) {
            int ok = fgets(impostor_port, sizeof(impostor_port), f) != NULL;
            fclose(f);
            if (ok) {
                impostor_port[strcspn(impostor_port, "\n")] = '\0';
                return;
            }
        }
        usleep(100000);
    }
    fail_msg("the impostor did not start");
}

static void stop_impostor(void)
{
    if (impostor_pid > 0) {
        kill(impostor_pid, SIGTERM);
        waitpid(impostor_pid, NULL, 0);
        impostor_pid = 0;
    }
    if (impostor_dir[0]) {
        char cmd[1300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", impostor_dir);
        if (system(cmd) != 0)
            printf("could not remove %s\n", impostor_dir);
        impostor_dir[0] = '\0';
    }
}

/* The impostor's record lines since offset (a byte offset into the record file). */
static void record_since(long offset, char *out, size_t size)
{
    out[0] = '\0';
    for (int i = 0; i < 20 && out[0] == '\0'; i++) { /* the impostor writes just after the close */
        FILE *f = fopen(record_path, "r");
        if (f) {
            fseek(f, offset, SEEK_SET);
            size_t n = fread(out, 1, size - 1, f);
            out[n] = '\0';
            fclose(f);
        }
        if (out[0] == '\0')
            usleep(100000);
    }
}

static long record_size(void)
{
    struct stat st;
    return stat(record_path, &st) == 0 ? (long)st.st_size : 0;
}

/* True when hash (hex) is the SHA-256 of a credential the emulator issued. */
static int issued_hash(const char *hash)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/issued-secrets", need_env("LAKEBASE_LOCAL_STATE"));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char line[8192];
    int found = 0;
    while (!found && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char h[65];
        lb_sha256_hex(line, h);
        found = strcmp(h, hash) == 0;
    }
    memset(line, 0, sizeof(line));
    fclose(f);
    return found;
}

typedef struct {
    const char *label, *mode;
    int with_ca, expect_password;
    const char *hint; /* in the driver's message when refused */
} impostor_case;

static void run_impostor_cases(const impostor_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char extra[2048], all[8192], rec[2048];
        snprintf(extra, sizeof(extra), "Servername=localhost;Port=%s;SSLmode=%s;WakeTimeout=0;%s%s%s", impostor_port,
                 cases[i].mode, cases[i].with_ca ? "SSLRootCert={" : "", cases[i].with_ca ? ca_file : "",
                 cases[i].with_ca ? "};" : "");
        long offset = record_size();
        conn c = new_conn();
        SQLRETURN rc = try_connect(&c, cases[i].label, extra, all, sizeof(all));
        assert_int_equal(rc, SQL_ERROR);
        free_conn(&c);
        record_since(offset, rec, sizeof(rec));
        int got_password = strncmp(rec, "password ", 9) == 0;
        char hash[65] = "";
        if (got_password)
            sscanf(rec + 9, "%64s", hash);
        int live = got_password && issued_hash(hash);
        printf("    the impostor recorded: %s%s\n", got_password ? "a password" : rec,
               got_password ? (live ? " that is a credential the workspace issued (by SHA-256; not shown)"
                                    : " that is not an issued credential")
                            : "");
        assert_int_equal(got_password, cases[i].expect_password);
        if (cases[i].expect_password) {
            assert_true(live);
        } else {
            assert_true(strncmp(rec, "handshake-failed", 16) == 0 || strncmp(rec, "no-password", 11) == 0);
            assert_non_null(strstr(all, "PostgreSQL's TLS certificate was not accepted"));
            assert_int_equal(strncmp(all + 7, " [Lakebase] ", 12), 0); /* the driver's record first */
            assert_non_null(strstr(all, cases[i].hint));
        }
    }
}

/* A self-signed certificate for localhost. */
static void test_impostor(void **state)
{
    (void)state;
    static const impostor_case cases[] = {
        {"impostor: verify-full, SSLRootCert=test CA", "verify-full", 1, 0, "these CAs did not sign"},
        {"impostor: verify-ca, SSLRootCert=test CA", "verify-ca", 1, 0, "these CAs did not sign"},
        {"impostor: verify-full, system bundle", "verify-full", 0, 0, "the system CA bundle"},
        {"impostor: require, SSLRootCert=test CA (chain checked)", "require", 1, 0, "these CAs did not sign"},
        {"impostor: require (no certificate check)", "require", 0, 1, NULL},
    };
    start_impostor(NULL, NULL);
    run_impostor_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

/* A certificate from the trusted CA for another host (the local Lakebase's
 * wrong-host.pem): only verify-full refuses it. */
static void test_impostor_other_host(void **state)
{
    (void)state;
    static const impostor_case cases[] = {
        {"other-host impostor: verify-full, SSLRootCert=test CA", "verify-full", 1, 0, "another host name"},
        {"other-host impostor: verify-ca, SSLRootCert=test CA", "verify-ca", 1, 1, NULL},
    };
    char cert[1200], key[1200];
    snprintf(cert, sizeof(cert), "%s/wrong-host.pem", need_env("LAKEBASE_LOCAL_STATE"));
    snprintf(key, sizeof(key), "%s/wrong-host.key", need_env("LAKEBASE_LOCAL_STATE"));
    start_impostor(cert, key);
    run_impostor_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static int impostor_teardown(void **state)
{
    (void)state;
    stop_impostor();
    return 0;
}

int main(void)
{
    read_state();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verify_full_with_test_ca),
        cmocka_unit_test(test_verify_full_through_the_dsn),
        cmocka_unit_test(test_verify_full_system_default),
        cmocka_unit_test(test_private_bundle),
        cmocka_unit_test(test_user_pqopt_kept),
        cmocka_unit_test(test_dsn_pqopt_kept),
        cmocka_unit_test_teardown(test_impostor, impostor_teardown),
        cmocka_unit_test_teardown(test_impostor_other_host, impostor_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
