/* The Azure sources end to end (issue 10): azure-client-secret (an Entra ID application, the
 * emulator as the login host) and azure-msi (the emulator's metadata service on loopback,
 * plain HTTP); each connects and SELECT current_user shows the application id. AuthType auto
 * choosing them (ARM_* variables, ARM_USE_MSI), half-configured settings, a wrong secret (the
 * AADSTS error quoted, no secret), an identity the metadata service does not have, and a
 * metadata service that refuses or never answers (bounded by the connect's deadline). One
 * process per case: argv[1] names it. */
#include "testenv.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MGMT_OK "AZURE management-token ok"
#define MGMT_BAD "AZURE management-token bad"
#define IMDS "GET /metadata/identity/oauth2/token"

static char az_secret[256], entra_route[200], tenant_kv[200];
static const char *az_id, *az_tenant, *msi_url, *msi_system, *msi_user;

static void read_azure_state(void)
{
    read_state();
    read_state_line("azure-client-secret", az_secret, sizeof(az_secret));
    az_id = need_env("LAKEBASE_AZURE_CLIENT_ID");
    az_tenant = need_env("LAKEBASE_AZURE_TENANT_ID");
    msi_url = need_env("LAKEBASE_MSI_ENDPOINT");
    msi_system = need_env("LAKEBASE_MSI_SYSTEM_ID");
    msi_user = need_env("LAKEBASE_MSI_USER_ID");
    snprintf(entra_route, sizeof(entra_route), "POST /%s/oauth2/token", az_tenant);
    snprintf(tenant_kv, sizeof(tenant_kv), "AzureTenantID=%s", az_tenant);
}

/* A connect that must fail (testenv's fails_bare): the messages never hold the Azure secret. */
static double fails(const char *extra, char st[6], char *all, size_t size)
{
    return fails_bare(extra, az_secret, st, all, size);
}

static void expect_in(const char *all, const char *phrase)
{
    if (strstr(all, phrase) == NULL)
        fail_msg("\"%s\" lacks \"%s\"", all, phrase);
}

static void secret_keys(char *buf, size_t size, const char *sec)
{
    snprintf(buf, size, "AzureClientID=%s;AzureClientSecret={%s};%s;AzureLoginHost=%s", az_id, sec, tenant_kv,
             emulator_url);
}

/* azure-client-secret: two Entra tokens (Azure Databricks and management), the management one
 * sent along; the role is the application id; a second connect reuses the token (Entra v1's
 * expires_in is a string: read as seconds). The DSN the local Lakebase writes works too. */
static void test_client_secret(void **state)
{
    (void)state;
    char extra[1024];
    secret_keys(extra, sizeof(extra), az_secret);
    long long e0 = emulator_count(entra_route), ok0 = emulator_count(MGMT_OK), bad0 = emulator_count(MGMT_BAD);
    double t = connects_as(extra, az_id);
    connects_as(extra, az_id);
    long long entra = emulator_count(entra_route) - e0, ok = emulator_count(MGMT_OK) - ok0;
    printf("azure-client-secret: connected in %.2f s; %lld Entra token requests for two connects; %lld credential "
           "requests with a valid management token\n", t, entra, ok);
    assert_int_equal(entra, 2);
    assert_true(ok >= 1);
    assert_int_equal(emulator_count(MGMT_BAD) - bad0, 0);
    connects_dsn_as("DSN=lakebase-local-azure", az_id);
}

/* azure-msi: the system-assigned identity (its role from the token's appid), a user-assigned
 * one (AzureClientID), and the DSN. */
static void test_msi(void **state)
{
    (void)state;
    char extra[1024];
    snprintf(extra, sizeof(extra), "AuthType=azure-msi;AzureMsiEndpoint=%s", msi_url);
    long long i0 = emulator_count(IMDS);
    double t = connects_as(extra, msi_system);
    printf("azure-msi (system-assigned): connected in %.2f s, %lld metadata-service requests\n", t,
           emulator_count(IMDS) - i0);
    assert_int_equal(emulator_count(IMDS) - i0, 2); /* Azure Databricks and management tokens */
    snprintf(extra, sizeof(extra), "AuthType=azure-msi;AzureMsiEndpoint=%s;AzureClientID=%s", msi_url, msi_user);
    connects_as(extra, msi_user);
    connects_dsn_as("DSN=lakebase-local-msi", msi_system);
}

/* AuthType auto: the SDK's variables choose the Azure sources. */
static void test_auto(void **state)
{
    (void)state;
    setenv("ARM_CLIENT_ID", az_id, 1);
    setenv("ARM_CLIENT_SECRET", az_secret, 1);
    setenv("ARM_TENANT_ID", az_tenant, 1);
    setenv("AZURE_AUTHORITY_HOST", emulator_url, 1);
    connects_as("Database=databricks_postgres", az_id);
    unsetenv("ARM_CLIENT_SECRET");
    char st[6], all[4096];
    fails("Database=databricks_postgres", st, all, sizeof(all)); /* half configured now */
    assert_string_equal(st, "HY000");
    expect_in(all, "Missing setting AzureClientSecret");
    expect_in(all, "ARM_CLIENT_SECRET");
    expect_in(all, "AzureClientID (from the environment variable ARM_CLIENT_ID)");
    unsetenv("ARM_CLIENT_ID");
    unsetenv("ARM_TENANT_ID");
    setenv("ARM_USE_MSI", "true", 1);
    setenv("LAKEBASE_AZURE_MSI_ENDPOINT", msi_url, 1);
    connects_as("Database=databricks_postgres", msi_system);
    unsetenv("ARM_USE_MSI");
    unsetenv("LAKEBASE_AZURE_MSI_ENDPOINT");
}

/* Half configured in the connection string: the missing key named, nothing sent. */
static void test_half(void **state)
{
    (void)state;
    char st[6], all[4096], extra[512];
    long long e0 = emulator_count(entra_route);
    snprintf(extra, sizeof(extra), "AzureClientID=%s", az_id);
    fails(extra, st, all, sizeof(all));
    assert_string_equal(st, "HY000");
    expect_in(all, "Missing setting AzureClientSecret");
    expect_in(all, "azure-client-secret is half configured");
    snprintf(extra, sizeof(extra), "AzureClientID=%s;AzureClientSecret={%s}", az_id, az_secret);
    fails(extra, st, all, sizeof(all));
    expect_in(all, "Missing setting AzureTenantID");
    assert_int_equal(emulator_count(entra_route) - e0, 0);
}

/* A wrong secret: Entra's AADSTS7000215 quoted, neither secret shown, 28000; an unknown
 * application: AADSTS700016; an unknown tenant: AADSTS90002. */
static void test_wrong_secret(void **state)
{
    (void)state;
    char st[6], all[4096], extra[1024];
    const char *wrong = "wrong-azure-secret-5f2c9a";
    secret_keys(extra, sizeof(extra), wrong);
    fails(extra, st, all, sizeof(all));
    assert_string_equal(st, "28000");
    expect_in(all, "AADSTS7000215");
    expect_in(all, "AzureClientSecret");
    assert_null(strstr(all, wrong));
    assert_null(strstr(all, "Trace ID")); /* the first line of the description only */
    snprintf(extra, sizeof(extra), "AzureClientID=00000000-0000-4000-8000-000000000001;AzureClientSecret={%s};%s;"
             "AzureLoginHost=%s", az_secret, tenant_kv, emulator_url);
    fails(extra, st, all, sizeof(all));
    expect_in(all, "AADSTS700016");
    snprintf(extra, sizeof(extra), "AzureClientID=%s;AzureClientSecret={%s};AzureTenantID=other-tenant;"
             "AzureLoginHost=%s", az_id, az_secret, emulator_url);
    fails(extra, st, all, sizeof(all));
    expect_in(all, "AADSTS90002");
}

/* The metadata service: an identity it does not have (400 Identity not found), nothing
 * listening (refused), and a listener that never answers (bounded by ConnectTimeout). */
static void test_msi_failures(void **state)
{
    (void)state;
    char st[6], all[4096], extra[1024];
    snprintf(extra, sizeof(extra), "AuthType=azure-msi;AzureMsiEndpoint=%s;AzureClientID=00000000-0000-4000-8000-0000000000ff",
             msi_url);
    fails(extra, st, all, sizeof(all));
    assert_string_equal(st, "28000");
    expect_in(all, "Identity not found");
    expect_in(all, "Check AzureClientID");

    /* A port nothing listens on. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
    int port = ntohs(a.sin_port);
    close(s);
    snprintf(extra, sizeof(extra), "AuthType=azure-msi;AzureMsiEndpoint=http://127.0.0.1:%d/metadata/identity/oauth2/token",
             port);
    double t = fails(extra, st, all, sizeof(all));
    printf("metadata service refused: %s in %.2f s\n", st, t);
    assert_string_equal(st, "08001");
    expect_in(all, "instance metadata service");
    expect_in(all, "did not answer");
    expect_in(all, "AzureMsiEndpoint");
    assert_true(t < 30.0);

    /* A listener that accepts nothing and answers nothing: the connect ends by its deadline. */
    s = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_port = 0;
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s, 4), 0);
    al = sizeof(a);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
    snprintf(extra, sizeof(extra), "ConnectTimeout=4;AuthType=azure-msi;AzureMsiEndpoint=http://127.0.0.1:%d/"
             "metadata/identity/oauth2/token", ntohs(a.sin_port));
    t = fails(extra, st, all, sizeof(all));
    close(s);
    printf("metadata service silent: %s in %.2f s (ConnectTimeout=4)\n", st, t);
    assert_string_equal(st, "HYT00");
    expect_in(all, "instance metadata service");
    assert_true(t >= 3.0 && t < 15.0);
}

/* The files of the cache directory (XDG_CACHE_HOME/lakebase-odbc): how many, and whether any
 * holds needle. */
static int cache_files(const char *dir, const char *needle, int *holds)
{
    char cmd[1400];
    snprintf(cmd, sizeof(cmd), "find '%s/lakebase-odbc' -type f 2>/dev/null | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = 0;
    assert_non_null(p);
    assert_int_equal(fscanf(p, "%d", &n), 1);
    pclose(p);
    snprintf(cmd, sizeof(cmd), "grep -rlF -e '%s' '%s/lakebase-odbc' 2>/dev/null | wc -l", needle, dir);
    p = popen(cmd, "r");
    int h = 0;
    assert_non_null(p);
    assert_int_equal(fscanf(p, "%d", &h), 1);
    pclose(p);
    *holds = h;
    return n;
}

/* TokenCache=auto: the Azure client secret is a stable secret, so the credential goes to the
 * sealed file cache (the secret nowhere in it); a managed identity has none: memory only. */
static void test_file_cache(void **state)
{
    (void)state;
    char dir[] = "/tmp/lb-azure-cache-XXXXXX", extra[1200];
    assert_non_null(mkdtemp(dir));
    setenv("XDG_CACHE_HOME", dir, 1);
    snprintf(extra, sizeof(extra), "TokenCache=auto;AuthType=azure-msi;AzureMsiEndpoint=%s", msi_url);
    connects_as(extra, msi_system);
    int holds = 0, msi_files = cache_files(dir, az_secret, &holds);
    char keys[1024];
    secret_keys(keys, sizeof(keys), az_secret);
    snprintf(extra, sizeof(extra), "TokenCache=auto;%s", keys);
    connects_as(extra, az_id);
    int az_files = cache_files(dir, az_secret, &holds);
    printf("file cache: %d file(s) after azure-msi, %d after azure-client-secret; %d hold the secret\n", msi_files,
           az_files, holds);
    assert_int_equal(msi_files, 0);
    assert_true(az_files >= 1);
    assert_int_equal(holds, 0);
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(int argc, char **argv)
{
    read_azure_state();
    const struct CMUnitTest all[] = {
        cmocka_unit_test(test_client_secret), cmocka_unit_test(test_msi),
        cmocka_unit_test(test_auto),          cmocka_unit_test(test_half),
        cmocka_unit_test(test_wrong_secret),  cmocka_unit_test(test_msi_failures),
        cmocka_unit_test(test_file_cache),
    };
    return testenv_run_case(argc, argv, all, sizeof(all) / sizeof(all[0]));
}
