/* Settings: precedence of the four sources, aliases, defaults and validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/lb_auth.h"
#include "lb_profile.h"
#include "lb_settings.h"

/* A fake odbc.ini section and environment, as "KEY=value" lists. */
static const char *const *fake_dsn;
static const char *const *fake_env;

static const char *lookup(const char *const *list, const char *key, int nocase)
{
    size_t kl = strlen(key);
    for (int i = 0; list && list[i]; i++)
        if ((nocase ? strncasecmp(list[i], key, kl) : strncmp(list[i], key, kl)) == 0 && list[i][kl] == '=')
            return list[i] + kl + 1;
    return NULL;
}

static int dsn_get(void *ctx, const char *dsn, const char *key, char *buf, size_t size)
{
    assert_string_equal((const char *)ctx, "ctx");
    assert_string_equal(dsn, "mydsn");
    const char *v = lookup(fake_dsn, key, 1);
    if (v == NULL || v[0] == '\0')
        return 0;
    snprintf(buf, size, "%s", v);
    return 1;
}

static const char *env_get(const char *name)
{
    return lookup(fake_env, name, 0);
}

static char ctx_tag[] = "ctx";
static const lb_sources sources = {.dsn_get = dsn_get, .dsn_ctx = ctx_tag, .env_get = env_get};

#define FULL "DatabricksHost=https://ws.example.com;ClientID=cid;ClientSecret=sec;" \
             "Endpoint=projects/p/branches/b/endpoints/e;Servername=db.example;"

static lb_result resolve(const char *cs, lb_settings *s, lb_error *err)
{
    lb_kvlist kv;
    lb_error_init(err);
    assert_int_equal(lb_connstr_parse(cs, strlen(cs), &kv, err), LB_OK);
    lb_result rc = lb_settings_resolve(&kv, &sources, s, err);
    lb_kvlist_free(&kv);
    return rc;
}

static void expect_error(const char *cs, const char *phrase1, const char *phrase2)
{
    lb_settings s;
    lb_error err;
    assert_int_not_equal(resolve(cs, &s, &err), LB_OK);
    if (strstr(err.message, phrase1) == NULL || (phrase2 && strstr(err.message, phrase2) == NULL))
        fail_msg("message \"%s\" lacks \"%s\" / \"%s\"", err.message, phrase1, phrase2 ? phrase2 : "");
    assert_int_equal(err.code, LB_ERR_SETTINGS);
}

static int setup(void **state)
{
    (void)state;
    fake_dsn = NULL;
    fake_env = NULL;
    return 0;
}

static void test_defaults(void **state)
{
    (void)state;
    lb_settings s;
    lb_error err;
    assert_int_equal(resolve(FULL, &s, &err), LB_OK);
    assert_string_equal(lb_settings_get(&s, LB_KEY_PORT), "5432");
    assert_int_equal(s.port, 5432);
    assert_string_equal(lb_settings_get(&s, LB_KEY_DATABASE), "databricks_postgres");
    assert_string_equal(lb_settings_get(&s, LB_KEY_SSLMODE), "require");
    assert_string_equal(lb_settings_get(&s, LB_KEY_UID), "cid");
    assert_int_equal(s.source[LB_KEY_UID], LB_SRC_DEFAULT);
    assert_null(lb_settings_get(&s, LB_KEY_CAFILE));
    assert_null(s.dsn);
    lb_settings_free(&s);
}

static void test_precedence(void **state)
{
    (void)state;
    static const char *const dsn[] = {"Port=1111", "Database=fromdsn", "UID=dsnuser", "Servername=dsnhost",
                                      "sslmode=VERIFY-FULL", NULL};
    static const char *const env[] = {"PGPORT=2222", "PGDATABASE=fromenv", "PGUSER=envuser",
                                      "DATABRICKS_CLIENT_SECRET=envsecret", "ENDPOINT_NAME=projects/x/branches/y/endpoints/z",
                                      "DATABRICKS_HOST=envhost.example", "DATABRICKS_CLIENT_ID=envid", NULL};
    fake_dsn = dsn;
    fake_env = env;
    lb_settings s;
    lb_error err;
    assert_int_equal(resolve("DSN=mydsn;Port=3333;ClientID=csid", &s, &err), LB_OK);
    assert_string_equal(s.dsn, "mydsn");
    assert_string_equal(lb_settings_get(&s, LB_KEY_PORT), "3333");             /* connection string */
    assert_int_equal(s.source[LB_KEY_PORT], LB_SRC_CONNSTR);
    assert_string_equal(lb_settings_get(&s, LB_KEY_DATABASE), "fromdsn");      /* DSN over environment */
    assert_int_equal(s.source[LB_KEY_DATABASE], LB_SRC_DSN);
    assert_string_equal(lb_settings_get(&s, LB_KEY_UID), "dsnuser");
    assert_string_equal(lb_settings_get(&s, LB_KEY_SERVER), "dsnhost");
    assert_string_equal(lb_settings_get(&s, LB_KEY_SSLMODE), "verify-full");   /* normalized */
    assert_string_equal(lb_settings_get(&s, LB_KEY_CLIENT_SECRET), "envsecret"); /* environment */
    assert_int_equal(s.source[LB_KEY_CLIENT_SECRET], LB_SRC_ENV);
    assert_string_equal(lb_settings_get(&s, LB_KEY_HOST), "https://envhost.example"); /* bare host */
    assert_string_equal(lb_settings_get(&s, LB_KEY_CLIENT_ID), "csid");
    lb_settings_free(&s);
}

static void test_aliases_and_empty_values(void **state)
{
    (void)state;
    static const char *const env[] = {"PGHOST=envhost", NULL};
    fake_env = env;
    lb_settings s;
    lb_error err;
    assert_int_equal(resolve("DatabricksHost=https://ws.example.com/?o=123#x;ClientID=cid;pwd={p;w};"
                             "Endpoint=projects/p/branches/b/endpoints/e;server=;USERNAME=role",
                             &s, &err), LB_OK);
    assert_string_equal(lb_settings_get(&s, LB_KEY_CLIENT_SECRET), "p;w");
    assert_string_equal(lb_settings_get(&s, LB_KEY_SERVER), "envhost"); /* empty falls through */
    assert_string_equal(lb_settings_get(&s, LB_KEY_UID), "role");
    assert_string_equal(lb_settings_get(&s, LB_KEY_HOST), "https://ws.example.com");
    lb_settings_free(&s);
    assert_int_equal(resolve("DatabricksHost=https://[::1]:8443/x;" FULL, &s, &err), LB_OK);
    assert_string_equal(lb_settings_get(&s, LB_KEY_HOST), "https://[::1]:8443");
    lb_settings_free(&s);
    /* ClientSecret wins over its alias PWD within one source. */
    assert_int_equal(resolve(FULL "PWD=other", &s, &err), LB_OK);
    assert_string_equal(lb_settings_get(&s, LB_KEY_CLIENT_SECRET), "sec");
    lb_settings_free(&s);
}

static void test_missing_keys_are_named(void **state)
{
    (void)state;
    expect_error("DatabricksHost=https://h;ClientID=c;ClientSecret=s;Servername=x", "Missing setting Endpoint",
                 "ENDPOINT_NAME");
    expect_error("ClientID=c;ClientSecret=s;Servername=x;Endpoint=projects/p/branches/b/endpoints/e",
                 "Missing setting DatabricksHost", "DATABRICKS_HOST");
    expect_error("DatabricksHost=https://h;ClientID=c;Servername=x;Endpoint=projects/p/branches/b/endpoints/e",
                 "Missing setting ClientSecret", "DATABRICKS_CLIENT_SECRET");
    expect_error("DatabricksHost=https://h;ClientSecret=s;Servername=x;Endpoint=projects/p/branches/b/endpoints/e",
                 "Missing setting ClientID", "odbc.ini");
}

static void test_validation(void **state)
{
    (void)state;
    expect_error("DatabricksHost=http://ws.example.com;" FULL, "https://", "http://");
    expect_error("DatabricksHost=ftp://ws;" FULL, "not an https:// URL", NULL);
    expect_error("DatabricksHost=https://;" FULL, "no host name", NULL);
    expect_error("DatabricksHost=https://bad host;" FULL, "not a valid host name", NULL);
    expect_error("DatabricksHost=https://:;" FULL, "not a valid host name", NULL);
    expect_error("DatabricksHost=https://h:0;" FULL, "not a valid host name", NULL);
    expect_error("DatabricksHost=https://h:99999;" FULL, "not a valid host name", NULL);
    expect_error("Endpoint=primary;" FULL, "projects/<project-id>/branches/<branch-id>/endpoints/<endpoint-id>", NULL);
    expect_error("Endpoint=ep-1.database.us-east-1.cloud.databricks.com;" FULL, "looks like a host name", NULL);
    expect_error("Endpoint=projects/p/branches/b/endpoints/e/extra;" FULL, "is not of the form", NULL);
    expect_error("Endpoint=projects//branches/b/endpoints/e;" FULL, "is not of the form", NULL);
    expect_error("Port=0;" FULL, "Port \"0\"", "between 1 and 65535");
    expect_error("Port=54x;" FULL, "between 1 and 65535", NULL);
    expect_error("Port=70000;" FULL, "between 1 and 65535", NULL);
    expect_error("SSLmode=disable;" FULL, "Lakebase requires TLS", NULL);
    expect_error("SSLmode=prefer;" FULL, "Lakebase requires TLS", NULL);
    expect_error("SSLmode=sometimes;" FULL, "not one of require, verify-ca, verify-full", NULL);
    expect_error("CAFile=/nonexistent/ca.pem;" FULL, "CAFile", "not a readable file");
    expect_error("ClientID={a\tb};" FULL, "control character", NULL);
}

static void test_secret_values_stay_out_of_messages(void **state)
{
    (void)state;
    lb_settings s;
    lb_error err;
    assert_int_not_equal(resolve("ClientSecret={sec\x01ret};" FULL, &s, &err), LB_OK);
    assert_non_null(strstr(err.message, "ClientSecret"));
    assert_null(strstr(err.message, "sec"));

    /* pqopt is libpq's conninfo, which may carry password=: named, never quoted. */
    assert_int_not_equal(resolve("pqopt={password=Hunter2\x01x};" FULL, &s, &err), LB_OK);
    assert_non_null(strstr(err.message, "pqopt"));
    assert_null(strstr(err.message, "Hunter2"));
    /* ... and a pqopt that sets a password is refused: the driver owns the password. */
    assert_int_not_equal(resolve("pqopt={application_name=x password=Hunter2};" FULL, &s, &err), LB_OK);
    assert_non_null(strstr(err.message, "pqopt"));
    assert_null(strstr(err.message, "Hunter2"));
    assert_int_not_equal(resolve("pqopt={sslpassword = Hunter2};" FULL, &s, &err), LB_OK);
    assert_null(strstr(err.message, "Hunter2"));
    assert_int_equal(resolve("pqopt={application_name=my_password_app};" FULL, &s, &err), LB_OK);
    lb_settings_free(&s);
}

static void test_databrickscfg_profile(void **state)
{
    (void)state;
    char path[] = "/tmp/lb-databrickscfg-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char cfg[] = "# comment\n[__settings__]\ndefault_profile = lake\n\n[DEFAULT]\n"
                              "host = https://default.example\n[lake]\nhost = https://lake.example/\n"
                              "client_id = cfgid\n  client_secret=cfgsecret  \n";
    assert_int_equal(write(fd, cfg, sizeof(cfg) - 1), (ssize_t)(sizeof(cfg) - 1));
    close(fd);
    char file_var[128];
    snprintf(file_var, sizeof(file_var), "DATABRICKS_CONFIG_FILE=%s", path);
    const char *env[] = {file_var, NULL, NULL};
    fake_env = env;
    const char *rest = "Endpoint=projects/p/branches/b/endpoints/e;Servername=db.example;";
    lb_settings s;
    lb_error err;
    /* No Profile: [__settings__] default_profile picks [lake]. */
    assert_int_equal(resolve(rest, &s, &err), LB_OK);
    assert_string_equal(lb_settings_get(&s, LB_KEY_HOST), "https://lake.example");
    assert_string_equal(lb_settings_get(&s, LB_KEY_CLIENT_ID), "cfgid");
    assert_string_equal(lb_settings_get(&s, LB_KEY_CLIENT_SECRET), "cfgsecret");
    assert_int_equal(s.source[LB_KEY_CLIENT_SECRET], LB_SRC_PROFILE);
    assert_string_equal(lb_settings_get(&s, LB_KEY_UID), "cfgid");
    lb_settings_free(&s);
    /* Everything above the profile wins over it. */
    env[1] = "DATABRICKS_CLIENT_SECRET=envsecret";
    char cs[256];
    snprintf(cs, sizeof(cs), "%sClientID=csid", rest);
    assert_int_equal(resolve(cs, &s, &err), LB_OK);
    assert_string_equal(lb_settings_get(&s, LB_KEY_CLIENT_ID), "csid");
    assert_string_equal(lb_settings_get(&s, LB_KEY_CLIENT_SECRET), "envsecret");
    lb_settings_free(&s);
    env[1] = NULL;
    /* A named profile. */
    snprintf(cs, sizeof(cs), "%sProfile=DEFAULT;ClientID=x;ClientSecret=y", rest);
    assert_int_equal(resolve(cs, &s, &err), LB_OK);
    assert_string_equal(lb_settings_get(&s, LB_KEY_HOST), "https://default.example");
    lb_settings_free(&s);
    /* A named profile that is not there is an error that says so. */
    snprintf(cs, sizeof(cs), "%sProfile=nope", rest);
    assert_int_not_equal(resolve(cs, &s, &err), LB_OK);
    assert_non_null(strstr(err.message, "Profile \"nope\""));
    assert_non_null(strstr(err.message, path));
    unlink(path);
    /* No file and no Profile: no profile source, and the missing key says where to set it. */
    assert_int_not_equal(resolve(rest, &s, &err), LB_OK);
    assert_non_null(strstr(err.message, "~/.databrickscfg profile"));
}

/* ~/.databrickscfg is read only when it can give something; when it must be read, a
 * FIFO there is an error naming it, not a wait (the alarm turns a hang into a failure). */
static void test_databrickscfg_read_only_when_needed(void **state)
{
    (void)state;
    char dir[] = "/tmp/lb-cfgfifo-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64], file_var[128];
    snprintf(path, sizeof(path), "%s/databrickscfg", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    snprintf(file_var, sizeof(file_var), "DATABRICKS_CONFIG_FILE=%s", path);
    const char *env[] = {file_var, NULL};
    fake_env = env;
    lb_settings s;
    lb_error err;
    alarm(10);
    assert_int_equal(resolve(FULL, &s, &err), LB_OK); /* every key set: the file is not opened */
    lb_settings_free(&s);
    /* ClientSecretFile counts as a secret: still no need for the profile. */
    char cs[512];
    snprintf(cs, sizeof(cs), "ClientSecretFile=/nonexistent;%s", FULL);
    assert_int_equal(resolve(cs, &s, &err), LB_OK);
    lb_settings_free(&s);
    assert_int_not_equal(resolve("ClientID=cid;ClientSecret=sec;Endpoint=projects/p/branches/b/endpoints/e;"
                                 "Servername=db.example;", &s, &err), LB_OK);
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, "FIFO"));
    assert_non_null(strstr(err.message, "DatabricksHost is set nowhere else"));
    assert_int_equal(err.code, LB_ERR_SETTINGS);
    snprintf(cs, sizeof(cs), "Profile=p;%s", FULL); /* a named profile must be checked */
    assert_int_not_equal(resolve(cs, &s, &err), LB_OK);
    assert_non_null(strstr(err.message, "FIFO"));
    alarm(0);
    unlink(path);
    rmdir(dir);
}

/* ClientSecretFile: the first line is the secret, notes may follow; limits are errors. */
static void test_secret_file(void **state)
{
    (void)state;
    char path[] = "/tmp/lb-secretfile-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    char text[3000];
    memset(text, '#', sizeof(text));
    memcpy(text, "filesecret\r\n", 12);
    assert_int_equal(write(fd, text, sizeof(text)), (ssize_t)sizeof(text));
    close(fd);
    char cs[512];
    snprintf(cs, sizeof(cs), "ClientSecretFile=%s;%s", path, FULL);
    lb_settings s;
    lb_error err;
    /* ClientSecret in the same source ranks above the file; from the DSN it does not. */
    assert_int_equal(resolve(cs, &s, &err), LB_OK);
    assert_string_equal(lb_settings_get(&s, LB_KEY_CLIENT_SECRET), "sec");
    lb_settings_free(&s);
    const char *dsn[] = {"ClientSecret=dsnsecret", NULL};
    fake_dsn = dsn;
    snprintf(cs, sizeof(cs), "DSN=mydsn;ClientSecretFile=%s;DatabricksHost=https://ws.example.com;ClientID=cid;"
             "Endpoint=projects/p/branches/b/endpoints/e;Servername=db.example;", path);
    assert_int_equal(resolve(cs, &s, &err), LB_OK); /* 3000 bytes: refused before */
    assert_string_equal(lb_settings_get(&s, LB_KEY_CLIENT_SECRET), "filesecret");
    lb_settings_free(&s);
    /* A first line longer than a secret can be. */
    fd = open(path, O_WRONLY | O_TRUNC);
    memset(text, 'x', sizeof(text));
    assert_int_equal(write(fd, text, sizeof(text)), (ssize_t)sizeof(text));
    assert_int_equal(write(fd, text, sizeof(text)), (ssize_t)sizeof(text));
    close(fd);
    assert_int_not_equal(resolve(cs, &s, &err), LB_OK);
    assert_non_null(strstr(err.message, "longer than 4096 bytes"));
    assert_null(strstr(err.message, "xxxx"));
    unlink(path);
}

/* A DSN value that does not fit is an error naming the key and the DSN, never cut. */
static void test_long_dsn_value(void **state)
{
    (void)state;
    static char long_secret[5200], long_host[5200];
    memcpy(long_secret, "ClientSecret=", 13);
    memset(long_secret + 13, 's', 5000);
    memcpy(long_host, "DatabricksHost=https://", 23);
    memset(long_host + 23, 'h', 5000);
    const char *dsn[] = {long_secret, NULL};
    fake_dsn = dsn;
    lb_settings s;
    lb_error err;
    const char *cs = "DSN=mydsn;DatabricksHost=https://ws.example.com;ClientID=cid;"
                     "Endpoint=projects/p/branches/b/endpoints/e;Servername=db.example;";
    assert_int_not_equal(resolve(cs, &s, &err), LB_OK);
    assert_int_equal(err.code, LB_ERR_SETTINGS);
    assert_non_null(strstr(err.message, "ClientSecret"));
    assert_non_null(strstr(err.message, "\"mydsn\""));
    assert_non_null(strstr(err.message, "too long"));
    assert_null(strstr(err.message, "sss"));
    /* A value of 4,095 bytes is read whole. */
    long_secret[13 + 4095] = '\0';
    assert_int_equal(resolve(cs, &s, &err), LB_OK);
    assert_int_equal(strlen(lb_settings_get(&s, LB_KEY_CLIENT_SECRET)), 4095);
    lb_settings_free(&s);
    dsn[0] = long_host;
    assert_int_not_equal(resolve("DSN=mydsn;ClientID=cid;ClientSecret=x;Endpoint=projects/p/branches/b/endpoints/e;"
                                 "Servername=db.example;", &s, &err), LB_OK);
    assert_non_null(strstr(err.message, "DatabricksHost"));
    assert_non_null(strstr(err.message, "too long"));
}

/* SSLRootCert: none for require, the system bundle by default for verify-ca/verify-full,
 * the user's file (from the environment too) when readable; pqopt is read from the DSN
 * and may not set sslrootcert itself. */
static void test_postgres_ca(void **state)
{
    (void)state;
    lb_settings s;
    lb_error err;
    assert_int_equal(resolve(FULL, &s, &err), LB_OK);
    assert_null(lb_settings_get(&s, LB_KEY_SSL_ROOT_CERT));
    lb_settings_free(&s);

    assert_int_equal(resolve(FULL "SSLmode=verify-ca", &s, &err), LB_OK);
    const char *def = lb_settings_get(&s, LB_KEY_SSL_ROOT_CERT);
    assert_non_null(def);
    assert_int_equal(s.source[LB_KEY_SSL_ROOT_CERT], LB_SRC_DEFAULT);
    assert_int_equal(access(def, R_OK), 0);
    lb_settings_free(&s);

    char path[] = "/tmp/lb-root-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char env_line[64];
    snprintf(env_line, sizeof(env_line), "PGSSLROOTCERT=%s", path);
    const char *env[] = {env_line, NULL};
    static const char *const dsn[] = {"pqopt=keepalives_idle=30", NULL};
    fake_env = env;
    fake_dsn = dsn;
    assert_int_equal(resolve("DSN=mydsn;" FULL "SSLmode=verify-full", &s, &err), LB_OK);
    assert_string_equal(lb_settings_get(&s, LB_KEY_SSL_ROOT_CERT), path);
    assert_int_equal(s.source[LB_KEY_SSL_ROOT_CERT], LB_SRC_ENV);
    assert_string_equal(lb_settings_get(&s, LB_KEY_PQOPT), "keepalives_idle=30");
    assert_int_equal(s.source[LB_KEY_PQOPT], LB_SRC_DSN);
    lb_settings_free(&s);
    unlink(path);
    expect_error(FULL "SSLmode=verify-full", "SSLRootCert", "not a readable file"); /* the env file is gone */
    fake_env = NULL;
    expect_error(FULL "SSLRootCert=/tmp", "SSLRootCert", "not a readable file");
    expect_error(FULL "pqopt={connect_timeout=5 sslrootcert = /x.pem}", "sets sslrootcert", "SSLRootCert instead");
    expect_error(FULL "D5={sslrootcert=/x.pem}", "sets sslrootcert", NULL);
    /* Only the keyword counts, not a value that mentions it. */
    assert_int_equal(resolve(FULL "pqopt={application_name=nosslrootcert}", &s, &err), LB_OK);
    lb_settings_free(&s);
}

/* Endpoint (Autoscaling) or Instance (Provisioned), exactly one; Servername is optional. */
#define WS "DatabricksHost=https://ws.example.com;ClientID=cid;ClientSecret=sec;"
static void test_endpoint_or_instance(void **state)
{
    (void)state;
    lb_settings s;
    lb_error err;
    assert_int_equal(resolve(WS "Instance=my-instance_1", &s, &err), LB_OK);
    assert_string_equal(lb_settings_get(&s, LB_KEY_INSTANCE), "my-instance_1");
    assert_null(lb_settings_get(&s, LB_KEY_ENDPOINT));
    assert_null(lb_settings_get(&s, LB_KEY_SERVER));
    /* The look-up's host replaces nothing given, and says where it came from. */
    assert_int_equal(lb_settings_set(&s, LB_KEY_SERVER, "instance-x.database.example.com", LB_SRC_DISCOVERED), LB_OK);
    assert_string_equal(lb_settings_get(&s, LB_KEY_SERVER), "instance-x.database.example.com");
    assert_string_equal(lb_source_name(s.source[LB_KEY_SERVER]), "the workspace's look-up");
    lb_settings_free(&s);
    expect_error(WS "Instance=i;CredentialLifetime=600", "CredentialLifetime", "Autoscaling endpoints only");
    assert_int_equal(resolve(WS "Instance=i;Servername=given.example", &s, &err), LB_OK);
    assert_string_equal(lb_settings_get(&s, LB_KEY_SERVER), "given.example");
    lb_settings_free(&s);

    expect_error(FULL "Instance=i", "Both Endpoint \"projects/p/branches/b/endpoints/e\" (from the connection string)",
                 "Instance \"i\" (from the connection string)");
    static const char *const env[] = {"LAKEBASE_INSTANCE=env-instance", NULL};
    fake_env = env;
    assert_int_equal(resolve(WS "Servername=x", &s, &err), LB_OK); /* Instance from the environment */
    assert_string_equal(lb_settings_get(&s, LB_KEY_INSTANCE), "env-instance");
    lb_settings_free(&s);
    expect_error(FULL, "Both Endpoint", "Instance \"env-instance\" (from the environment variable LAKEBASE_INSTANCE)");
    fake_env = NULL;
    expect_error(WS "Servername=x", "Missing setting Endpoint or Instance", "LAKEBASE_INSTANCE");
    expect_error(WS "Servername=x", "ENDPOINT_NAME", "(no DSN was named)");

    expect_error(WS "Instance=projects/p/branches/b/endpoints/e", "set it as Endpoint instead of Instance", NULL);
    expect_error(WS "Instance=inst.database.cloud.databricks.com", "looks like a host name", NULL);
    expect_error(WS "Instance=a/b", "is not an instance name", NULL);
    expect_error(WS "Instance=a b", "is not an instance name", NULL);
    expect_error(WS "Instance=a123456789b123456789c123456789d123456789e123456789f123456789g123",
                 "is not an instance name", NULL);
    assert_int_equal(resolve(WS "Instance=a123456789b123456789c123456789d123456789e123456789f123456789g12", &s, &err),
                     LB_OK);
    lb_settings_free(&s);
    assert_true(lb_key_is_owned("instance")); /* never passed to psqlODBC */
    assert_string_equal(lb_key_info(LB_KEY_INSTANCE)->env, "LAKEBASE_INSTANCE");
}

static void test_key_table(void **state)
{
    (void)state;
    assert_true(lb_key_is_owned("servername"));
    assert_true(lb_key_is_owned("SERVER"));
    assert_true(lb_key_is_owned("Driver"));
    assert_true(lb_key_is_owned("dsn"));
    assert_false(lb_key_is_owned("UseDeclareFetch"));
    assert_true(lb_key_is_owned("sslrootcert"));
    assert_true(lb_key_is_owned("PQOPT"));
    assert_true(lb_key_is_secret("clientsecret"));
    assert_true(lb_key_is_secret("PWD"));
    assert_true(lb_key_is_secret("password"));
    assert_false(lb_key_is_secret("UID"));
    assert_string_equal(lb_key_info(LB_KEY_ENDPOINT)->env, "ENDPOINT_NAME");
}

/* The workspace id of a unified host: DatabricksHost's ?o= or ?workspace_id=, or WorkspaceID
 * (DATABRICKS_WORKSPACE_ID, the profile's workspace_id); never dropped, checked, and two
 * sources that disagree are an error naming both. */
#define REST "ClientID=cid;ClientSecret=sec;Endpoint=projects/p/branches/b/endpoints/e;Servername=db.example;"

static void expect_workspace(const char *cs, const char *host, const char *id, lb_source src)
{
    lb_settings s;
    lb_error err;
    if (resolve(cs, &s, &err) != LB_OK)
        fail_msg("%s: %s", cs, err.message);
    assert_string_equal(lb_settings_get(&s, LB_KEY_HOST), host);
    if (id == NULL) {
        assert_null(lb_settings_get(&s, LB_KEY_WORKSPACE_ID));
    } else {
        assert_non_null(lb_settings_get(&s, LB_KEY_WORKSPACE_ID));
        assert_string_equal(lb_settings_get(&s, LB_KEY_WORKSPACE_ID), id);
        assert_int_equal(s.source[LB_KEY_WORKSPACE_ID], src);
    }
    lb_settings_free(&s);
}

static void test_workspace_id_from_host(void **state)
{
    (void)state;
    expect_workspace(REST "DatabricksHost=https://unified.example.com/?o=1234567890123456", "https://unified.example.com",
                     "1234567890123456", LB_SRC_CONNSTR);
    expect_workspace(REST "DatabricksHost=https://unified.example.com?o=42", "https://unified.example.com", "42",
                     LB_SRC_CONNSTR);
    expect_workspace(REST "DatabricksHost=unified.example.com:8443/browse?a=acct&workspace_id=77#folder",
                     "https://unified.example.com:8443", "77", LB_SRC_CONNSTR);
    expect_workspace(REST "DatabricksHost={https://unified.example.com/?o=5&o=5}", "https://unified.example.com", "5",
                     LB_SRC_CONNSTR);
    /* Other query parameters, and none at all, leave it unset. */
    expect_workspace(REST "DatabricksHost=https://ws.example.com/?x=1&oo=2", "https://ws.example.com", NULL, 0);
    expect_workspace(REST "DatabricksHost=https://ws.example.com/#o=3", "https://ws.example.com", NULL, 0);
    expect_workspace(FULL, "https://ws.example.com", NULL, 0);
    /* The same id from both sources is fine. */
    expect_workspace(REST "DatabricksHost=https://u.example.com/?o=9;WorkspaceID=9", "https://u.example.com", "9",
                     LB_SRC_CONNSTR);
    static const char *const env[] = {"DATABRICKS_HOST=https://u.example.com/?o=31", NULL};
    fake_env = env;
    expect_workspace(REST, "https://u.example.com", "31", LB_SRC_ENV);
}

static void test_workspace_id_key_env_profile(void **state)
{
    (void)state;
    expect_workspace(FULL "WorkspaceID=1234567890123456", "https://ws.example.com", "1234567890123456",
                     LB_SRC_CONNSTR);
    expect_workspace(FULL "workspaceid=88", "https://ws.example.com", "88", LB_SRC_CONNSTR); /* any case */
    static const char *const dsn[] = {"WorkspaceID=99", NULL};
    fake_dsn = dsn;
    expect_workspace("DSN=mydsn;" FULL, "https://ws.example.com", "99", LB_SRC_DSN);
    fake_dsn = NULL;
    const char *env[] = {"DATABRICKS_WORKSPACE_ID=4321", NULL, NULL};
    fake_env = env;
    expect_workspace(FULL, "https://ws.example.com", "4321", LB_SRC_ENV);
    expect_workspace(FULL "WorkspaceID=12", "https://ws.example.com", "12", LB_SRC_CONNSTR); /* first found wins */

    char path[] = "/tmp/lb-databrickscfg-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char cfg[] = "[DEFAULT]\nhost = https://unified.example.com/\nworkspace_id = 6051921418418893\n"
                              "[classic]\nhost = https://ws.example.com\n[both]\n"
                              "host = https://unified.example.com/?o=1\nworkspace_id = 2\n";
    assert_int_equal(write(fd, cfg, sizeof(cfg) - 1), (ssize_t)(sizeof(cfg) - 1));
    close(fd);
    char file_var[128];
    snprintf(file_var, sizeof(file_var), "DATABRICKS_CONFIG_FILE=%s", path);
    env[0] = file_var;
    expect_workspace(REST, "https://unified.example.com", "6051921418418893", LB_SRC_PROFILE);
    expect_workspace(REST "Profile=classic", "https://ws.example.com", NULL, 0);
    /* Above the profile, DATABRICKS_WORKSPACE_ID wins over its workspace_id. */
    env[1] = "DATABRICKS_WORKSPACE_ID=777";
    expect_workspace(REST, "https://unified.example.com", "777", LB_SRC_ENV);
    env[1] = NULL;
    /* A profile that disagrees with itself is an error naming the profile. */
    lb_settings s;
    lb_error err;
    assert_int_not_equal(resolve(REST "Profile=both", &s, &err), LB_OK);
    assert_int_equal(err.code, LB_ERR_SETTINGS);
    assert_non_null(strstr(err.message, "the Databricks config profile"));
    unlink(path);
}

static void test_workspace_id_conflicts_and_bad_ids(void **state)
{
    (void)state;
    expect_error(REST "DatabricksHost=https://u.example.com/?o=1;WorkspaceID=2", "WorkspaceID \"2\"",
                 "?o=1");
    expect_error(REST "DatabricksHost=https://u.example.com/?o=1&workspace_id=2", "?o=1", "workspace_id=2");
    expect_error(REST "DatabricksHost=https://u.example.com/?o=1&o=3", "?o=1", "o=3");
    expect_error(REST "DatabricksHost=https://u.example.com/?o=abc", "DatabricksHost", "not a workspace id");
    expect_error(REST "DatabricksHost=https://u.example.com/?o=", "DatabricksHost", "not a workspace id");
    expect_error(REST "DatabricksHost=https://u.example.com/?o=12%33", "DatabricksHost", "not a workspace id");
    expect_error(FULL "WorkspaceID=adb-123", "WorkspaceID", "digits");
    expect_error(FULL "WorkspaceID=-5", "WorkspaceID", "digits");
    expect_error(FULL "WorkspaceID=12345678901234567890", "WorkspaceID", "digits"); /* over int64 */
    expect_error(FULL "WorkspaceID=0", "WorkspaceID", "digits");
    static const char *const env[] = {"DATABRICKS_WORKSPACE_ID=5", NULL};
    fake_env = env;
    expect_error(REST "DatabricksHost=https://u.example.com/?o=6", "WorkspaceID \"5\" (from the environment)",
                 "(from the connection string)");
}

/* Connect by name: Servername optional, Endpoint may stop at the branch, ReadReplica,
 * CredentialLifetime. */
static void test_discovery_keys(void **state)
{
    (void)state;
    lb_settings s;
    lb_error err;
    const char *id = "DatabricksHost=https://h;ClientID=c;ClientSecret=s;";
    char cs[512];
    snprintf(cs, sizeof(cs), "%sEndpoint=projects/p/branches/b/endpoints/e", id);
    assert_int_equal(resolve(cs, &s, &err), LB_OK);
    assert_null(lb_settings_get(&s, LB_KEY_SERVER)); /* looked up at connect */
    assert_int_equal(s.read_replica, 0);
    assert_int_equal(s.credential_lifetime, 0);
    lb_settings_free(&s);
    snprintf(cs, sizeof(cs), "%sEndpoint=projects/p/branches/b;ReadReplica=YES;CredentialLifetime=300", id);
    assert_int_equal(resolve(cs, &s, &err), LB_OK);
    assert_string_equal(lb_settings_get(&s, LB_KEY_ENDPOINT), "projects/p/branches/b");
    assert_int_equal(s.read_replica, 1);
    assert_int_equal(s.credential_lifetime, 300);
    assert_int_equal(s.refresh_margin, 75); /* the default margin: a quarter of a short lifetime */
    lb_settings_free(&s);
    snprintf(cs, sizeof(cs), "%sEndpoint=projects/p/branches/b;CredentialLifetime=300;TokenRefreshMargin=200", id);
    assert_int_equal(resolve(cs, &s, &err), LB_OK);
    assert_int_equal(s.refresh_margin, 200); /* a margin that is set is kept */
    lb_settings_free(&s);
    snprintf(cs, sizeof(cs), "%sEndpoint=projects/p/branches/b;CredentialLifetime=3600", id);
    assert_int_equal(resolve(cs, &s, &err), LB_OK);
    assert_int_equal(s.credential_lifetime, 3600);
    assert_int_equal(s.refresh_margin, 300);
    lb_settings_free(&s);
    static const char *const bad_endpoints[] = {"projects/p/branches/b/", "projects/p/branches", "projects/p",
                                                "projects/p/branches/b/endpoints", "projects/p/branches/b/endpoints/",
                                                "projects/p/branches/b/endpoints/e/", "projects//branches/b"};
    for (size_t i = 0; i < sizeof(bad_endpoints) / sizeof(bad_endpoints[0]); i++) {
        snprintf(cs, sizeof(cs), "%sEndpoint=%s", id, bad_endpoints[i]);
        expect_error(cs, "Endpoint", "is not of the form");
    }
    static const char *const bad_lifetimes[] = {"299", "3601", "0", "-300", "5m", "300s", ""};
    for (size_t i = 0; i < sizeof(bad_lifetimes) / sizeof(bad_lifetimes[0]); i++) {
        if (bad_lifetimes[i][0] == '\0')
            continue; /* empty: unset */
        snprintf(cs, sizeof(cs), "%sEndpoint=projects/p/branches/b;CredentialLifetime=%s", id, bad_lifetimes[i]);
        expect_error(cs, "CredentialLifetime", "between 300 and 3600");
    }
    snprintf(cs, sizeof(cs), "%sEndpoint=projects/p/branches/b;ReadReplica=maybe", id);
    expect_error(cs, "ReadReplica", "yes or no");
}

/* AuthType: auto chooses as the Go SDK does (pat, oauth-m2m, databricks-cli); a named type
 * needs its settings; conflicts and half-configured types are errors naming the keys. */
#define TARGET "DatabricksHost=https://ws.example.com;Endpoint=projects/p/branches/b/endpoints/e;Servername=db.example;"
static lb_auth_type chosen(const char *cs, char *why, size_t size)
{
    lb_settings s;
    lb_error err;
    lb_result rc = resolve(cs, &s, &err);
    if (rc != LB_OK)
        fail_msg("resolve \"%s\": %s", cs, err.message);
    lb_auth_type t = (lb_auth_type)s.auth_type;
    if (why)
        snprintf(why, size, "%s", s.auth_why);
    lb_settings_free(&s);
    return t;
}

static void test_auth_type(void **state)
{
    (void)state;
    char why[512];
    static const char *const no_path[] = {"PATH=/nonexistent", NULL};
    fake_env = no_path;
    assert_int_equal(chosen(FULL, why, sizeof(why)), LB_AUTH_OAUTH_M2M);
    assert_non_null(strstr(why, "ClientID (from the connection string)"));
    assert_int_equal(chosen(TARGET "Token=dapi-secret-pat", why, sizeof(why)), LB_AUTH_PAT);
    assert_non_null(strstr(why, "AuthType auto: Token"));
    assert_null(strstr(why, "dapi-secret-pat"));
    lb_settings s;
    lb_error err;
    /* A person: UID stays unset (the connect looks it up), unless given. */
    assert_int_equal(resolve(TARGET "Token=dapi-secret-pat", &s, &err), LB_OK);
    assert_null(lb_settings_get(&s, LB_KEY_UID));
    lb_settings_free(&s);
    assert_int_equal(resolve(TARGET "Token=dapi-secret-pat;UID=someone@example.com", &s, &err), LB_OK);
    assert_string_equal(lb_settings_get(&s, LB_KEY_UID), "someone@example.com");
    lb_settings_free(&s);
    /* Two complete types: refused as the SDK refuses them, neither secret shown. */
    expect_error(FULL "Token=dapi-secret-pat", "More than one way to authenticate", "AuthType");
    assert_int_not_equal(resolve(FULL "Token=dapi-secret-pat", &s, &err), LB_OK);
    assert_null(strstr(err.message, "dapi-secret-pat"));
    assert_null(strstr(err.message, "=sec"));
    /* ... unless AuthType says which. */
    assert_int_equal(chosen(FULL "Token=dapi-x;AuthType=pat", why, sizeof(why)), LB_AUTH_PAT);
    assert_non_null(strstr(why, "AuthType (from the connection string)"));
    assert_int_equal(chosen(FULL "Token=dapi-x;AuthType=OAuth-M2M", NULL, 0), LB_AUTH_OAUTH_M2M);
    /* A named type without its settings names the missing key. */
    expect_error(TARGET "AuthType=pat", "Missing setting Token", "DATABRICKS_TOKEN");
    expect_error(TARGET "AuthType=oauth-m2m;ClientID=c", "Missing setting ClientSecret", "asks for oauth-m2m");
    expect_error(TARGET "AuthType=kerberos", "AuthType \"kerberos\"", "auto, pat, oauth-m2m, databricks-cli");
    /* Half-configured oauth-m2m names the key it lacks and the one it has. */
    expect_error(TARGET "ClientSecret=s", "Missing setting ClientID", "ClientSecret (from the connection string)");
    /* Nothing at all: every way is named. */
    expect_error(TARGET, "Missing setting ClientID", "Token");
    expect_error(TARGET, "no way to authenticate", "databricks auth login");
    /* databricks-cli: named, DatabricksCliPath, or a databricks on PATH. */
    assert_int_equal(chosen(TARGET "AuthType=databricks-cli", NULL, 0), LB_AUTH_DATABRICKS_CLI);
    assert_int_equal(chosen(TARGET "DatabricksCliPath=/opt/db/databricks", why, sizeof(why)), LB_AUTH_DATABRICKS_CLI);
    assert_non_null(strstr(why, "DatabricksCliPath"));
    char dir[] = "/tmp/lb-path-XXXXXX", prog[64], path_var[80];
    assert_non_null(mkdtemp(dir));
    snprintf(prog, sizeof(prog), "%s/databricks", dir);
    int fd = open(prog, O_WRONLY | O_CREAT | O_EXCL, 0700);
    assert_true(fd >= 0);
    close(fd);
    snprintf(path_var, sizeof(path_var), "PATH=/nonexistent:%s", dir);
    const char *env[] = {path_var, NULL};
    fake_env = env;
    assert_int_equal(chosen(TARGET, why, sizeof(why)), LB_AUTH_DATABRICKS_CLI);
    assert_non_null(strstr(why, prog));
    assert_int_equal(chosen(FULL, NULL, 0), LB_AUTH_OAUTH_M2M); /* oauth-m2m comes first */
    unlink(prog);
    rmdir(dir);
}

/* Workload identity federation: env-oidc when the variable OIDCTokenEnv names is set, file-oidc
 * with OIDCTokenFile; a ClientID beside either is no half-configured oauth-m2m, and is the role. */
static void test_auth_type_oidc(void **state)
{
    (void)state;
    char why[512];
    static const char *const env1[] = {"PATH=/nonexistent", "DATABRICKS_OIDC_TOKEN=eyJ.a.b", NULL};
    fake_env = env1;
    assert_int_equal(chosen(TARGET "ClientID=sp-id", why, sizeof(why)), LB_AUTH_ENV_OIDC);
    assert_non_null(strstr(why, "DATABRICKS_OIDC_TOKEN"));
    assert_null(strstr(why, "eyJ.a.b"));
    lb_settings s;
    lb_error err;
    assert_int_equal(resolve(TARGET "ClientID=sp-id", &s, &err), LB_OK);
    assert_string_equal(lb_settings_get(&s, LB_KEY_UID), "sp-id");
    lb_settings_free(&s);
    /* Account-wide federation: no ClientID, UID looked up later. */
    assert_int_equal(resolve(TARGET, &s, &err), LB_OK);
    assert_int_equal(s.auth_type, LB_AUTH_ENV_OIDC);
    assert_null(lb_settings_get(&s, LB_KEY_UID));
    lb_settings_free(&s);
    static const char *const env2[] = {"PATH=/nonexistent", "MY_JWT=eyJ.a.b", NULL};
    fake_env = env2;
    assert_int_equal(chosen(TARGET "OIDCTokenEnv=MY_JWT", NULL, 0), LB_AUTH_ENV_OIDC);
    expect_error(TARGET "ClientID=sp-id", "Missing setting ClientSecret", "half configured");
    assert_int_equal(chosen(TARGET "ClientID=sp-id;OIDCTokenFile=/var/run/token", why, sizeof(why)),
                     LB_AUTH_FILE_OIDC);
    assert_non_null(strstr(why, "OIDCTokenFile"));
    expect_error(TARGET "AuthType=file-oidc", "Missing setting OIDCTokenFile", "DATABRICKS_OIDC_TOKEN_FILEPATH");
    expect_error(TARGET "AuthType=env-oidc", "DATABRICKS_OIDC_TOKEN", "is not set");
}

/* The Azure sources: auto picks azure-msi (AzureUseMSI) and azure-client-secret (all three keys,
 * from the connection string or ARM_*) after the Databricks types; half-configured names the
 * missing key; the role is the application id; bad Azure keys are refused with the key named. */
static void test_auth_type_azure(void **state)
{
    (void)state;
    char why[512];
    static const char *const env0[] = {"PATH=/nonexistent", NULL};
    fake_env = env0;
#define AZ "AzureClientID=11111111-2222-3333-4444-555555555555;AzureTenantID=tenant-1;"
    assert_int_equal(chosen(TARGET AZ "AzureClientSecret=az-secret-value", why, sizeof(why)),
                     LB_AUTH_AZURE_CLIENT_SECRET);
    assert_non_null(strstr(why, "AzureClientID (from the connection string)"));
    assert_null(strstr(why, "az-secret-value"));
    lb_settings s;
    lb_error err;
    assert_int_equal(resolve(TARGET AZ "AzureClientSecret=az-secret-value", &s, &err), LB_OK);
    assert_string_equal(lb_settings_get(&s, LB_KEY_UID), "11111111-2222-3333-4444-555555555555");
    lb_settings_free(&s);
    /* Half configured: the missing key named, with where to set it; the secret never shown. */
    expect_error(TARGET "AzureClientID=11111111-2222-3333-4444-555555555555",
                 "Missing setting AzureClientSecret", "azure-client-secret is half configured");
    expect_error(TARGET "AzureClientID=11111111-2222-3333-4444-555555555555;AzureClientSecret=az-secret-value",
                 "Missing setting AzureTenantID", "ARM_TENANT_ID");
    assert_int_not_equal(resolve(TARGET "AzureClientSecret=az-secret-value", &s, &err), LB_OK);
    assert_non_null(strstr(err.message, "Missing setting AzureClientID"));
    assert_null(strstr(err.message, "az-secret-value"));
    expect_error(TARGET "AuthType=azure-client-secret", "Missing setting AzureClientID", "asks for azure-client-secret");
    /* The SDK's environment variables. */
    static const char *const env1[] = {"PATH=/nonexistent", "ARM_CLIENT_ID=abc", "ARM_CLIENT_SECRET=env-secret",
                                       "ARM_TENANT_ID=t", NULL};
    fake_env = env1;
    assert_int_equal(chosen(TARGET, why, sizeof(why)), LB_AUTH_AZURE_CLIENT_SECRET);
    assert_non_null(strstr(why, "ARM_CLIENT_ID"));
    /* The Databricks types come first, as in the Go SDK's order. */
    assert_int_equal(chosen(TARGET "Token=dapi-x", NULL, 0), LB_AUTH_PAT);
    /* A managed identity: AzureUseMSI (ARM_USE_MSI) under auto, or AuthType. */
    static const char *const env2[] = {"PATH=/nonexistent", "ARM_USE_MSI=true", NULL};
    fake_env = env2;
    assert_int_equal(chosen(TARGET, why, sizeof(why)), LB_AUTH_AZURE_MSI);
    assert_non_null(strstr(why, "ARM_USE_MSI"));
    assert_int_equal(resolve(TARGET, &s, &err), LB_OK);
    assert_null(lb_settings_get(&s, LB_KEY_UID)); /* system-assigned: read from the token */
    lb_settings_free(&s);
    assert_int_equal(resolve(TARGET "AzureClientID=user-assigned-id", &s, &err), LB_OK);
    assert_int_equal(s.auth_type, LB_AUTH_AZURE_MSI);
    assert_string_equal(lb_settings_get(&s, LB_KEY_UID), "user-assigned-id");
    lb_settings_free(&s);
    fake_env = env0;
    assert_int_equal(chosen(TARGET "AuthType=azure-msi", NULL, 0), LB_AUTH_AZURE_MSI);
    expect_error(TARGET "AzureUseMSI=maybe", "AzureUseMSI \"maybe\"", "true or false");
    expect_error(TARGET "AuthType=azure-msi;AzureMsiEndpoint=http://metadata.example.com/token",
                 "AzureMsiEndpoint", "169.254.169.254 or a loopback");
    expect_error(TARGET "AuthType=azure-msi;AzureMsiEndpoint=https://127.0.0.1/token", "AzureMsiEndpoint",
                 "not the instance metadata service");
    assert_int_equal(chosen(TARGET "AuthType=azure-msi;AzureMsiEndpoint=http://127.0.0.1:9/m", NULL, 0),
                     LB_AUTH_AZURE_MSI);
    expect_error(TARGET AZ "AzureClientSecret=x;AzureEnvironment=mars", "AzureEnvironment \"mars\"", "USGOVERNMENT");
    expect_error(TARGET AZ "AzureClientSecret=x;AzureLoginHost=http://login.example", "AzureLoginHost",
                 "https:// URL");
    expect_error(TARGET "AzureClientID=a;AzureClientSecret=x;AzureTenantID=a/b", "AzureTenantID", "not a tenant id");
    expect_error(TARGET AZ "AzureClientSecret=x;AzureResourceID=workspace", "AzureResourceID",
                 "not an Azure resource id");
    expect_error(TARGET "AuthType=azure", "AuthType \"azure\"", "azure-msi, azure-client-secret");
#undef AZ
}

/* Token, AuthType and DatabricksCliPath come from every source: connection string over DSN
 * over environment over profile (token, auth_type, databricks_cli_path). */
static void test_auth_keys_precedence(void **state)
{
    (void)state;
    char path[] = "/tmp/lb-databrickscfg-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char cfg[] = "[DEFAULT]\nhost = https://ws.example.com\ntoken = dapi-from-profile\n"
                              "[cli]\nhost = https://ws.example.com\nauth_type = databricks-cli\n"
                              "databricks_cli_path = /opt/cli/databricks\n";
    assert_int_equal(write(fd, cfg, sizeof(cfg) - 1), (ssize_t)(sizeof(cfg) - 1));
    close(fd);
    char file_var[128];
    snprintf(file_var, sizeof(file_var), "DATABRICKS_CONFIG_FILE=%s", path);
    const char *env[] = {file_var, "PATH=/nonexistent", NULL, NULL};
    static const char *const dsn[] = {"Token=dapi-from-dsn", NULL};
    fake_env = env;
    const char *rest = "Endpoint=projects/p/branches/b/endpoints/e;Servername=db.example;";
    lb_settings s;
    lb_error err;
    assert_int_equal(resolve(rest, &s, &err), LB_OK);
    assert_string_equal(lb_settings_get(&s, LB_KEY_TOKEN), "dapi-from-profile");
    assert_int_equal(s.source[LB_KEY_TOKEN], LB_SRC_PROFILE);
    assert_int_equal(s.auth_type, LB_AUTH_PAT);
    lb_settings_free(&s);
    env[2] = "DATABRICKS_TOKEN=dapi-from-env";
    assert_int_equal(resolve(rest, &s, &err), LB_OK);
    assert_string_equal(lb_settings_get(&s, LB_KEY_TOKEN), "dapi-from-env");
    lb_settings_free(&s);
    fake_dsn = dsn;
    char cs[256];
    snprintf(cs, sizeof(cs), "DSN=mydsn;%s", rest);
    assert_int_equal(resolve(cs, &s, &err), LB_OK);
    assert_string_equal(lb_settings_get(&s, LB_KEY_TOKEN), "dapi-from-dsn");
    lb_settings_free(&s);
    snprintf(cs, sizeof(cs), "DSN=mydsn;%sToken=dapi-from-connstr", rest);
    assert_int_equal(resolve(cs, &s, &err), LB_OK);
    assert_string_equal(lb_settings_get(&s, LB_KEY_TOKEN), "dapi-from-connstr");
    assert_int_equal(s.source[LB_KEY_TOKEN], LB_SRC_CONNSTR);
    lb_settings_free(&s);
    fake_dsn = NULL;
    env[2] = NULL;
    /* A profile's auth_type and databricks_cli_path. */
    snprintf(cs, sizeof(cs), "Profile=cli;%s", rest);
    assert_int_equal(resolve(cs, &s, &err), LB_OK);
    assert_int_equal(s.auth_type, LB_AUTH_DATABRICKS_CLI);
    assert_string_equal(lb_settings_get(&s, LB_KEY_CLI_PATH), "/opt/cli/databricks");
    assert_int_equal(s.source[LB_KEY_AUTH_TYPE], LB_SRC_PROFILE);
    lb_settings_free(&s);
    /* A profile that does not exist. */
    snprintf(cs, sizeof(cs), "Profile=nope;%s", rest);
    assert_int_not_equal(resolve(cs, &s, &err), LB_OK);
    assert_non_null(strstr(err.message, "Profile \"nope\""));
    /* The token is a secret: never quoted, never in an output string. */
    assert_true(lb_key_is_secret("Token"));
    assert_true(lb_key_is_owned("DatabricksCliPath"));
    assert_true(lb_key_is_owned("authtype"));
    unlink(path);
}

/* The profile reader alone (lb_profile.c): DATABRICKS_CONFIG_FILE, else $HOME/.databrickscfg;
 * the named section, else [__settings__] default_profile, else DEFAULT; a named profile must
 * exist; a missing file gives nothing. */
static void test_profile_reader(void **state)
{
    (void)state;
    char dir[] = "/tmp/lb-profile-XXXXXX", path[64], file_var[96], home_var[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/.databrickscfg", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("[DEFAULT]\nhost = https://default.example\n\n[__settings__]\ndefault_profile = second\n\n"
          "[second]\nhost=https://second.example\ntoken = dapi-profile\n", f);
    fclose(f);
    snprintf(home_var, sizeof(home_var), "HOME=%s", dir);
    const char *by_home[] = {home_var, NULL};
    fake_env = by_home;
    lb_kvlist kv;
    lb_error err;
    lb_error_init(&err);
    lb_kvlist_init(&kv);
    assert_int_equal(lb_profile_load(NULL, NULL, env_get, "a test", &kv, &err), LB_OK);
    assert_string_equal(lb_kvlist_get(&kv, "host"), "https://second.example"); /* default_profile */
    assert_string_equal(lb_kvlist_get(&kv, "token"), "dapi-profile");
    lb_kvlist_free(&kv);
    lb_kvlist_init(&kv);
    assert_int_equal(lb_profile_load("DEFAULT", "the connection string", env_get, "a test", &kv, &err), LB_OK);
    assert_string_equal(lb_kvlist_get(&kv, "host"), "https://default.example");
    lb_kvlist_free(&kv);
    lb_kvlist_init(&kv);
    assert_int_equal(lb_profile_load("nope", "the DSN", env_get, "a test", &kv, &err), LB_ERR_SETTINGS);
    assert_non_null(strstr(err.message, "Profile \"nope\" (from the DSN) is not a section of"));
    assert_non_null(strstr(err.message, path));
    lb_kvlist_free(&kv);
    /* DATABRICKS_CONFIG_FILE wins over HOME; a file that does not exist gives nothing. */
    snprintf(file_var, sizeof(file_var), "DATABRICKS_CONFIG_FILE=%s/missing", dir);
    const char *by_file[] = {file_var, home_var, NULL};
    fake_env = by_file;
    lb_kvlist_init(&kv);
    assert_int_equal(lb_profile_load(NULL, NULL, env_get, "a test", &kv, &err), LB_OK);
    assert_int_equal(kv.count, 0);
    lb_error_init(&err); /* the first error stays: start afresh */
    assert_int_equal(lb_profile_load("second", "the environment", env_get, "a test", &kv, &err), LB_ERR_SETTINGS);
    assert_non_null(strstr(err.message, "missing"));
    /* A directory instead of a file: an error saying why it was read. */
    snprintf(file_var, sizeof(file_var), "DATABRICKS_CONFIG_FILE=%s", dir);
    lb_error_init(&err);
    assert_int_equal(lb_profile_load(NULL, NULL, env_get, "a test", &kv, &err), LB_ERR_SETTINGS);
    assert_non_null(strstr(err.message, "It is read because a test"));
    lb_kvlist_free(&kv);
    unlink(path);
    rmdir(dir);
}

/* The Databricks SQL ODBC driver's keys: AuthMech=11 with Auth_Flow 0 to 3, AuthMech=3 (UID=token,
 * PWD=a PAT), from the connection string or the DSN; conflicts with our keys and unknown values
 * are errors naming the keys; the secrets are never quoted, and the keys are never passed on. */
static void test_databricks_odbc_keys(void **state)
{
    (void)state;
    static const char *const no_path[] = {"PATH=/nonexistent", NULL};
    fake_env = no_path;
    char why[512];
    lb_settings s;
    lb_error err;
    /* Flow 0: the access token is a bearer like a PAT. */
    assert_int_equal(chosen(TARGET "AuthMech=11;Auth_Flow=0;Auth_AccessToken=tok-secret-0", why, sizeof(why)),
                     LB_AUTH_PAT);
    assert_non_null(strstr(why, "AuthMech=11 and Auth_Flow=0"));
    assert_null(strstr(why, "tok-secret-0"));
    assert_int_equal(resolve(TARGET "AuthMech=11;Auth_AccessToken=tok-secret-0", &s, &err), LB_OK); /* default 0 */
    assert_string_equal(lb_settings_get(&s, LB_KEY_TOKEN), "tok-secret-0");
    assert_int_equal(s.source[LB_KEY_TOKEN], LB_SRC_CONNSTR);
    lb_settings_free(&s);
    /* Flow 1 from the DSN: the service principal; its role is the client id. */
    static const char *const dsn1[] = {"AuthMech=11", "Auth_Flow=1", "Auth_Client_ID=cid-1",
                                       "Auth_Client_Secret=sp-secret-1", NULL};
    fake_dsn = dsn1;
    assert_int_equal(resolve("DSN=mydsn;" TARGET, &s, &err), LB_OK);
    assert_int_equal(s.auth_type, LB_AUTH_OAUTH_M2M);
    assert_string_equal(lb_settings_get(&s, LB_KEY_CLIENT_ID), "cid-1");
    assert_string_equal(lb_settings_get(&s, LB_KEY_CLIENT_SECRET), "sp-secret-1");
    assert_string_equal(lb_settings_get(&s, LB_KEY_UID), "cid-1");
    assert_int_equal(s.source[LB_KEY_CLIENT_SECRET], LB_SRC_DSN);
    lb_settings_free(&s);
    /* The connection string's own key with the same value is fine; a different one is refused. */
    assert_int_equal(resolve("DSN=mydsn;ClientID=cid-1;" TARGET, &s, &err), LB_OK);
    lb_settings_free(&s);
    expect_error("DSN=mydsn;ClientID=other;" TARGET, "ClientID \"other\" (from the connection string)",
                 "Auth_Client_ID \"cid-1\" (from the DSN");
    assert_int_not_equal(resolve("DSN=mydsn;ClientSecret=different-secret;" TARGET, &s, &err), LB_OK);
    assert_non_null(strstr(err.message, "ClientSecret (from the connection string) and Auth_Client_Secret"));
    assert_null(strstr(err.message, "different-secret"));
    assert_null(strstr(err.message, "sp-secret-1"));
    /* The environment's key gives way to the DSN's alias, without an error. */
    static const char *const env1[] = {"PATH=/nonexistent", "DATABRICKS_CLIENT_ID=env-cid", NULL};
    fake_env = env1;
    assert_int_equal(resolve("DSN=mydsn;" TARGET, &s, &err), LB_OK);
    assert_string_equal(lb_settings_get(&s, LB_KEY_CLIENT_ID), "cid-1");
    lb_settings_free(&s);
    fake_env = no_path;
    fake_dsn = NULL;
    expect_error(TARGET "AuthMech=11;Auth_Flow=1;Auth_Client_ID=c", "Missing setting Auth_Client_Secret",
                 "Auth_Flow=1");
    /* Our own keys may stand in for the flow's (a secret file rather than a secret in odbc.ini). */
    assert_int_equal(chosen(TARGET "AuthMech=11;Auth_Flow=1;Auth_Client_ID=c;ClientSecret=s", NULL, 0),
                     LB_AUTH_OAUTH_M2M);
    assert_int_equal(chosen(TARGET "AuthMech=11;Token=t", NULL, 0), LB_AUTH_PAT);
    /* Flow 2: a Databricks CLI login; flow 3: azure-msi (the AuthType names it). */
    assert_int_equal(chosen(TARGET "AuthMech=11;Auth_Flow=2", NULL, 0), LB_AUTH_DATABRICKS_CLI);
    if (resolve(TARGET "AuthMech=11;Auth_Flow=3", &s, &err) == LB_OK) { /* with the azure-msi source */
        assert_string_equal(lb_auth_type_name((lb_auth_type)s.auth_type), "azure-msi");
        lb_settings_free(&s);
    } else {
        assert_non_null(strstr(err.message, "AuthType \"azure-msi\" (from the connection string)"));
    }
    expect_error(TARGET "AuthMech=11;Auth_Flow=3;Auth_Client_ID=mi", "Auth_Client_ID (from the connection string)",
                 "AzureClientID");
    /* Unknown values list what is accepted. */
    expect_error(TARGET "AuthMech=11;Auth_Flow=7", "Auth_Flow \"7\"", "0 (token passthrough: Auth_AccessToken), 1");
    expect_error(TARGET "AuthMech=11;Auth_Flow=", "Missing setting Auth_AccessToken", NULL); /* empty: default 0 */
    expect_error(TARGET "AuthMech=1", "AuthMech \"1\"", "use 11 (OAuth");
    expect_error(TARGET "Auth_Flow=1;Auth_Client_ID=c;Auth_Client_Secret=s", "read with AuthMech=11 only", NULL);
    expect_error(TARGET "AuthMech=11;Auth_Flow=0;Auth_AccessToken=t;Auth_Client_ID=c", "Auth_Client_ID",
                 "not read with AuthMech=11 and Auth_Flow=0");
    /* AuthType against AuthMech/Auth_Flow. */
    expect_error(TARGET "AuthType=oauth-m2m;AuthMech=11;Auth_Flow=0;Auth_AccessToken=t", "AuthType \"oauth-m2m\"",
                 "AuthMech=11 with Auth_Flow=0");
    assert_int_equal(chosen(TARGET "AuthType=PAT;AuthMech=11;Auth_Flow=0;Auth_AccessToken=t", NULL, 0), LB_AUTH_PAT);
    /* Token against Auth_AccessToken: neither value shown. */
    assert_int_not_equal(resolve(TARGET "Token=pat-aaa;AuthMech=11;Auth_AccessToken=tok-bbb", &s, &err), LB_OK);
    assert_non_null(strstr(err.message, "Token (from the connection string) and Auth_AccessToken"));
    assert_null(strstr(err.message, "pat-aaa"));
    assert_null(strstr(err.message, "tok-bbb"));
    /* AuthMech=3: UID=token and PWD=the PAT; ClientSecret (PWD's other meaning) stays unset. */
    assert_int_equal(resolve(TARGET "AuthMech=3;UID=token;PWD=dapi-pat-3", &s, &err), LB_OK);
    assert_int_equal(s.auth_type, LB_AUTH_PAT);
    assert_string_equal(lb_settings_get(&s, LB_KEY_TOKEN), "dapi-pat-3");
    assert_null(lb_settings_get(&s, LB_KEY_CLIENT_SECRET));
    assert_null(lb_settings_get(&s, LB_KEY_UID)); /* the role comes from SCIM Me */
    lb_settings_free(&s);
    expect_error(TARGET "AuthMech=3;UID=token", "Missing setting PWD", "AuthMech=3");
    assert_int_equal(chosen(TARGET "AuthMech=3;UID=token;Token=t", NULL, 0), LB_AUTH_PAT);
    expect_error(TARGET "AuthMech=3;UID=alice;PWD=p", "takes UID=token", "\"alice\"");
    expect_error(TARGET "AuthMech=3;UID=token;PWD=p;Auth_Flow=0", "Auth_Flow (from the connection string)",
                 "not read with AuthMech=3");
    /* A SQL warehouse's DSN: what to change. */
    expect_error(TARGET "HTTPPath=/sql/1.0/warehouses/abc", "HTTPPath (from the connection string)", "DatabricksHost");
    /* The keys are the driver's (never passed on), and the two secrets are secrets. */
    assert_true(lb_key_is_owned("auth_flow"));
    assert_true(lb_key_is_owned("AuthMech"));
    assert_true(lb_key_is_secret("Auth_AccessToken"));
    assert_true(lb_key_is_secret("AUTH_CLIENT_SECRET"));
    assert_false(lb_key_is_secret("Auth_Client_ID"));
    assert_true(lb_key_is_secret("Auth_RefreshToken")); /* that driver's other Auth_ keys: not read, kept back */
    assert_true(lb_key_is_owned("auth_scope"));
    assert_false(lb_key_is_owned("AuthorizationServer"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults, setup),
        cmocka_unit_test_setup(test_precedence, setup),
        cmocka_unit_test_setup(test_aliases_and_empty_values, setup),
        cmocka_unit_test_setup(test_missing_keys_are_named, setup),
        cmocka_unit_test_setup(test_validation, setup),
        cmocka_unit_test_setup(test_secret_values_stay_out_of_messages, setup),
        cmocka_unit_test_setup(test_databrickscfg_profile, setup),
        cmocka_unit_test_setup(test_databrickscfg_read_only_when_needed, setup),
        cmocka_unit_test_setup(test_secret_file, setup),
        cmocka_unit_test_setup(test_long_dsn_value, setup),
        cmocka_unit_test_setup(test_postgres_ca, setup),
        cmocka_unit_test_setup(test_key_table, setup),
        cmocka_unit_test_setup(test_workspace_id_from_host, setup),
        cmocka_unit_test_setup(test_workspace_id_key_env_profile, setup),
        cmocka_unit_test_setup(test_workspace_id_conflicts_and_bad_ids, setup),
        cmocka_unit_test_setup(test_endpoint_or_instance, setup),
        cmocka_unit_test_setup(test_discovery_keys, setup),
        cmocka_unit_test_setup(test_auth_type, setup),
        cmocka_unit_test_setup(test_auth_type_oidc, setup),
        cmocka_unit_test_setup(test_auth_type_azure, setup),
        cmocka_unit_test_setup(test_auth_keys_precedence, setup),
        cmocka_unit_test_setup(test_databricks_odbc_keys, setup),
        cmocka_unit_test_setup(test_profile_reader, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
