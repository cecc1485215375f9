/* The key table: every key the driver owns (its name, aliases, environment variable,
 * ~/.databrickscfg profile key, default, whether it is a secret), where each can be set,
 * and the checks of the merged values (validation, normalization, parsed forms). The merge
 * of the sources is lb_settings.c's; the profile reader is lb_profile.c's. */
#include "lb_keys.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "lb_dbodbc.h"
#include "lb_http.h"

static const lb_key_def key_table[LB_KEY_COUNT] = {
    [LB_KEY_PROFILE] = {"Profile", {NULL}, "DATABRICKS_CONFIG_PROFILE", NULL,
                        "a profile of ~/.databrickscfg (or DATABRICKS_CONFIG_FILE)", 0, 1},
    [LB_KEY_HOST] = {"DatabricksHost", {NULL}, "DATABRICKS_HOST", NULL,
                     "the workspace URL, https://...", 0, 0, "host"},
    [LB_KEY_CLIENT_ID] = {"ClientID", {NULL}, "DATABRICKS_CLIENT_ID", NULL,
                          "the service principal's client id (a UUID)", 0, 1, "client_id"},
    [LB_KEY_CLIENT_SECRET] = {"ClientSecret", {"PWD", "Password", NULL}, "DATABRICKS_CLIENT_SECRET", NULL,
                              "the service principal's OAuth secret", 1, 1, "client_secret"},
    [LB_KEY_CLIENT_SECRET_FILE] = {"ClientSecretFile", {NULL}, "LAKEBASE_CLIENT_SECRET_FILE", NULL,
                                   "a file holding the OAuth secret (owned by you, mode 0600)", 0, 1},
    /* Endpoint or Instance, exactly one (check_target). */
    [LB_KEY_ENDPOINT] = {"Endpoint", {NULL}, "ENDPOINT_NAME", NULL,
                         "the Lakebase endpoint, projects/<project>/branches/<branch>/endpoints/<endpoint>", 0, 1},
    /* Optional: without it the connect looks the endpoint's or instance's host up. */
    [LB_KEY_SERVER] = {"Servername", {"Server", NULL}, "PGHOST", NULL,
                       "the PostgreSQL host name of the endpoint or instance", 0, 1},
    [LB_KEY_PORT] = {"Port", {NULL}, "PGPORT", "5432", "the PostgreSQL port", 0, 0},
    [LB_KEY_DATABASE] = {"Database", {NULL}, "PGDATABASE", "databricks_postgres", "the database", 0, 0},
    [LB_KEY_UID] = {"UID", {"Username", NULL}, "PGUSER", NULL,
                    "the PostgreSQL role: by default the client id, or the person's user name", 0, 1},
    [LB_KEY_SSLMODE] = {"SSLmode", {NULL}, "PGSSLMODE", "require", "require, verify-ca or verify-full", 0, 0},
    [LB_KEY_SSL_ROOT_CERT] = {"SSLRootCert", {NULL}, "PGSSLROOTCERT", NULL,
                              "a CA bundle for PostgreSQL's TLS certificate", 0, 1},
    /* psqlODBC's own key, read here so that the driver can add sslrootcert to it: a pqopt
     * in the connection string replaces the DSN's in psqlODBC. */
    [LB_KEY_PQOPT] = {"pqopt", {"D5", NULL}, NULL, NULL, "libpq options for psqlODBC", 0, 1},
    [LB_KEY_CAFILE] = {"CAFile", {NULL}, NULL, NULL, "a CA bundle for the workspace's TLS certificate", 0, 1},
    /* A proxy URL may carry a user and password. */
    [LB_KEY_PROXY] = {"Proxy", {NULL}, NULL, NULL, "the HTTPS proxy for the workspace", 1, 1},
    [LB_KEY_TOKEN_CACHE] = {"TokenCache", {NULL}, "LAKEBASE_ODBC_TOKEN_CACHE", "auto", "auto, memory, file or off", 0, 0},
    [LB_KEY_REFRESH_MARGIN] = {"TokenRefreshMargin", {NULL}, NULL, "300",
                               "seconds before expiry when a cached credential is renewed", 0, 0},
    [LB_KEY_WAKE_TIMEOUT] = {"WakeTimeout", {NULL}, NULL, "60",
                             "seconds to wait for a compute waking from scale-to-zero", 0, 0},
    [LB_KEY_CONNECT_TIMEOUT] = {"ConnectTimeout", {NULL}, NULL, "90",
                                "seconds a whole connect may take when the application sets no login timeout", 0, 0},
    [LB_KEY_MAX_CONNECTION_AGE] = {"MaxConnectionAge", {NULL}, NULL, "0",
                                   "seconds after which a pooled connection is replaced (0: never)", 0, 0},
    [LB_KEY_TOKEN_ENDPOINT] = {"TokenEndpoint", {NULL}, NULL, NULL,
                               "the OAuth token URL, when it is not on the workspace's own host", 0, 1},
    [LB_KEY_LOG_LEVEL] = {"LogLevel", {NULL}, "LAKEBASE_ODBC_LOG_LEVEL", "off", "off, error, info or debug", 0, 0},
    [LB_KEY_LOG_FILE] = {"LogFile", {NULL}, "LAKEBASE_ODBC_LOG_FILE", NULL, "the log file (default: standard error)", 0, 1},
    [LB_KEY_WORKSPACE_ID] = {"WorkspaceID", {NULL}, "DATABRICKS_WORKSPACE_ID", NULL,
                             "the workspace id on a URL that serves several workspaces (the digits after ?o=)", 0, 1,
                             "workspace_id"},
    [LB_KEY_INSTANCE] = {"Instance", {NULL}, "LAKEBASE_INSTANCE", NULL,
                         "the Lakebase Provisioned instance's name", 0, 1},
    [LB_KEY_READ_REPLICA] = {"ReadReplica", {NULL}, NULL, "no",
                             "yes to connect to the endpoint's read-only host, no for its read-write host", 0, 0},
    [LB_KEY_CREDENTIAL_LIFETIME] = {"CredentialLifetime", {NULL}, NULL, NULL,
                                    "seconds the database credential lives (300 to 3600)", 0, 1},
    [LB_KEY_AUTH_TYPE] = {"AuthType", {NULL}, "DATABRICKS_AUTH_TYPE", "auto",
                          "how to authenticate: auto, pat, oauth-m2m, databricks-cli, env-oidc, file-oidc, "
                          "azure-client-secret or azure-msi",
                          0, 0, "auth_type"},
    [LB_KEY_TOKEN] = {"Token", {NULL}, "DATABRICKS_TOKEN", NULL, "a personal access token of the workspace", 1, 1,
                      "token"},
    [LB_KEY_CLI_PATH] = {"DatabricksCliPath", {NULL}, "DATABRICKS_CLI_PATH", NULL,
                         "the Databricks CLI program (default: databricks on PATH)", 0, 1, "databricks_cli_path"},
    [LB_KEY_OIDC_TOKEN_ENV] = {"OIDCTokenEnv", {NULL}, "DATABRICKS_OIDC_TOKEN_ENV", "DATABRICKS_OIDC_TOKEN",
                               "the environment variable holding the identity provider's token (env-oidc)", 0, 0,
                               "oidc_token_env"},
    [LB_KEY_OIDC_TOKEN_FILE] = {"OIDCTokenFile", {NULL}, "DATABRICKS_OIDC_TOKEN_FILEPATH", NULL,
                                "the file holding the identity provider's token (file-oidc)", 0, 1,
                                "oidc_token_filepath"},
    /* ---- Azure sources (azure-client-secret, azure-msi: auth/lb_auth_azure*.c), the
     * Databricks SDKs' environment variables and profile keys ---- */
    [LB_KEY_AZURE_CLIENT_ID] = {"AzureClientID", {NULL}, "ARM_CLIENT_ID", NULL,
                                "the Entra ID application (client) id, a UUID", 0, 1, "azure_client_id"},
    [LB_KEY_AZURE_CLIENT_SECRET] = {"AzureClientSecret", {NULL}, "ARM_CLIENT_SECRET", NULL,
                                    "the Entra ID application's client secret", 1, 1, "azure_client_secret"},
    [LB_KEY_AZURE_TENANT_ID] = {"AzureTenantID", {NULL}, "ARM_TENANT_ID", NULL,
                                "the Entra ID tenant (directory) id", 0, 1, "azure_tenant_id"},
    [LB_KEY_AZURE_ENVIRONMENT] = {"AzureEnvironment", {NULL}, "ARM_ENVIRONMENT", NULL,
                                  "the Azure cloud: PUBLIC, USGOVERNMENT or CHINA (default: from the host)", 0, 1,
                                  "azure_environment"},
    [LB_KEY_AZURE_LOGIN_HOST] = {"AzureLoginHost", {NULL}, "AZURE_AUTHORITY_HOST", NULL,
                                 "the Entra ID login URL, https://... (default: the Azure cloud's)", 0, 1},
    [LB_KEY_AZURE_RESOURCE_ID] = {"AzureResourceID", {NULL}, "DATABRICKS_AZURE_RESOURCE_ID", NULL,
                                  "the workspace's Azure resource id, /subscriptions/.../workspaces/<name>", 0, 1,
                                  "azure_workspace_resource_id"},
    [LB_KEY_AZURE_USE_MSI] = {"AzureUseMSI", {NULL}, "ARM_USE_MSI", NULL,
                              "true to use the Azure managed identity (azure-msi)", 0, 1, "azure_use_msi"},
    [LB_KEY_AZURE_MSI_ENDPOINT] = {"AzureMsiEndpoint", {NULL}, "LAKEBASE_AZURE_MSI_ENDPOINT",
                                   "http://169.254.169.254/metadata/identity/oauth2/token",
                                   "the Azure instance metadata service's token URL", 0, 0},
    /* ---- end of the Azure sources' keys ---- */
};

/* Keys that steer the driver manager or the driver choice: never passed on. */
static const char *const manager_keys[] = {"DSN", "DRIVER", "FILEDSN", "SAVEFILE", NULL};

const lb_key_def *lb_key_info(lb_key key)
{
    return key < LB_KEY_COUNT ? &key_table[key] : NULL;
}

int lb_keys_match(const lb_key_def *def, const char *name)
{
    if (strcasecmp(def->name, name) == 0)
        return 1;
    for (int a = 0; def->aliases[a]; a++)
        if (strcasecmp(def->aliases[a], name) == 0)
            return 1;
    return 0;
}

int lb_key_is_owned(const char *name)
{
    for (int k = 0; k < LB_KEY_COUNT; k++)
        if (lb_keys_match(&key_table[k], name))
            return 1;
    for (int m = 0; manager_keys[m]; m++)
        if (strcasecmp(manager_keys[m], name) == 0)
            return 1;
    return lb_dbodbc_is_key(name);
}

int lb_key_is_secret(const char *name)
{
    for (int k = 0; k < LB_KEY_COUNT; k++)
        if (key_table[k].secret && lb_keys_match(&key_table[k], name))
            return 1;
    return lb_dbodbc_is_secret(name); /* Auth_AccessToken, Auth_Client_Secret */
}

const char *lb_keys_profile_name(lb_key key)
{
    return key < LB_KEY_COUNT ? key_table[key].profile : NULL;
}

void lb_settings_where(lb_key key, char *buf, size_t size)
{
    const lb_key_def *def = &key_table[key];
    const char *profile = def->profile;
    if (key == LB_KEY_CLIENT_SECRET)
        snprintf(buf, size, "set ClientSecret or ClientSecretFile in the connection string or in the DSN's "
                            "section of odbc.ini, export DATABRICKS_CLIENT_SECRET, or give it as the password");
    else if (def->env && profile != NULL)
        snprintf(buf, size, "set %s in the connection string or in the DSN's section of odbc.ini, "
                            "export %s, or set %s in a ~/.databrickscfg profile", def->name, def->env, profile);
    else if (def->env)
        snprintf(buf, size, "set %s in the connection string or in the DSN's section of odbc.ini, "
                            "or export %s", def->name, def->env);
    else
        snprintf(buf, size, "set %s in the connection string or in the DSN's section of odbc.ini",
                 def->name);
}

static int has_control_char(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* Whether an error may quote the key's value: not a secret, and not pqopt, libpq's
 * conninfo, which may carry a password=. */
static int quotable(lb_key key)
{
    return !key_table[key].secret && key != LB_KEY_PQOPT;
}

lb_result lb_keys_bad_value(lb_error *err, const lb_settings *s, lb_key key, const char *problem)
{
    const lb_key_def *def = &key_table[key];
    if (!quotable(key))
        return lb_error_set(err, LB_ERR_SETTINGS, "%s (from %s) %s.", def->name,
                            lb_source_name(s->source[key]), problem);
    return lb_error_set(err, LB_ERR_SETTINGS, "%s \"%.200s\" (from %s) %s.", def->name,
                        s->value[key], lb_source_name(s->source[key]), problem);
}

/* host[:port] or [v6]:port, with a non-empty host and a numeric port. */
static int authority_ok(const char *a, size_t n)
{
    size_t i = 0;
    if (a[0] == '[') {
        while (i < n && a[i] != ']') {
            if (!(isxdigit((unsigned char)a[i]) || a[i] == ':' || a[i] == '.' || a[i] == '['))
                return 0;
            i++;
        }
        if (i >= n || i < 3)
            return 0;
        i++;
    } else {
        while (i < n && a[i] != ':') {
            unsigned char c = (unsigned char)a[i];
            if (!(isalnum(c) || c == '.' || c == '-' || c == '_'))
                return 0;
            i++;
        }
        if (i == 0)
            return 0;
    }
    if (i == n)
        return 1;
    if (a[i] != ':' || i + 1 == n || n - i - 1 > 5)
        return 0;
    long port = 0;
    for (size_t k = i + 1; k < n; k++) {
        if (!isdigit((unsigned char)a[k]))
            return 0;
        port = port * 10 + (a[k] - '0');
    }
    return port >= 1 && port <= 65535;
}

/* A plausible workspace id: 1 to 19 digits, a positive 64-bit integer (what the SDKs
 * accept in ?o=). */
static int workspace_id_ok(const char *v, size_t n)
{
    if (n == 0 || n > 19)
        return 0;
    unsigned long long x = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)v[i]))
            return 0;
        x = x * 10 + (unsigned long long)(v[i] - '0');
    }
    return x >= 1 && x <= 9223372036854775807ULL;
}

#define WORKSPACE_ID_HELP "1 to 19 digits: the number after ?o= in the workspace's URL in a browser"

/* The workspace id in the query of DatabricksHost (the text after '?', up to '#'): the
 * parameters o and workspace_id, as the SDKs read them (a unified URL copied from the
 * browser). *id is NULL when neither is there; several must agree and each must be a
 * workspace id. *id is malloc'd. */
static lb_result workspace_id_from_query(const lb_settings *s, const char *query, char **id, lb_error *err)
{
    *id = NULL;
    char *copy = strndup(query, strcspn(query, "#"));
    if (copy == NULL)
        return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    char first[64] = "", problem[300] = "";
    char *save = NULL;
    for (char *param = strtok_r(copy, "&", &save); param && !problem[0]; param = strtok_r(NULL, "&", &save)) {
        char *val = strchr(param, '=');
        size_t kl = val ? (size_t)(val - param) : strlen(param);
        int is_o = kl == 1 && param[0] == 'o', is_ws = kl == 12 && strncmp(param, "workspace_id", 12) == 0;
        if (!is_o && !is_ws)
            continue;
        char shown[64];
        snprintf(shown, sizeof(shown), "%.40s", param);
        if (val == NULL || !workspace_id_ok(val + 1, strlen(val + 1)))
            snprintf(problem, sizeof(problem), "has ?%s, which is not a workspace id (%s)", shown, WORKSPACE_ID_HELP);
        else if (*id == NULL && (*id = strdup(val + 1)) == NULL)
            snprintf(problem, sizeof(problem), "could not be read (out of memory)");
        else if (first[0] == '\0')
            snprintf(first, sizeof(first), "%s", shown);
        else if (strcmp(*id, val + 1) != 0)
            snprintf(problem, sizeof(problem), "names two workspaces, ?%s and %s: keep the one you mean", first, shown);
    }
    free(copy);
    if (problem[0] == '\0')
        return LB_OK;
    free(*id);
    *id = NULL;
    return lb_keys_bad_value(err, s, LB_KEY_HOST, problem);
}

/* WorkspaceID and DatabricksHost's ?o= (or ?workspace_id=): each checked, and both, when
 * both are given, naming the same workspace. The host's id fills WorkspaceID (with the
 * host's source) when WorkspaceID is set nowhere. */
static lb_result resolve_workspace_id(lb_settings *s, char *from_host, const char *host_text, lb_error *err)
{
    const char *key = s->value[LB_KEY_WORKSPACE_ID];
    lb_result rc = LB_OK;
    if (key && !workspace_id_ok(key, strlen(key))) {
        rc = lb_keys_bad_value(err, s, LB_KEY_WORKSPACE_ID, "is not a workspace id (" WORKSPACE_ID_HELP ")");
    } else if (key && from_host && strcmp(key, from_host) != 0) {
        rc = lb_error_set(err, LB_ERR_SETTINGS,
                          "WorkspaceID \"%.30s\" (from %s) and DatabricksHost \"%.200s\" (from %s) name "
                          "different workspaces (%.30s and %s): keep one of them, or make them the same.",
                          key, lb_source_name(s->source[LB_KEY_WORKSPACE_ID]), host_text,
                          lb_source_name(s->source[LB_KEY_HOST]), key, from_host);
    } else if (key == NULL && from_host) {
        s->value[LB_KEY_WORKSPACE_ID] = from_host;
        s->source[LB_KEY_WORKSPACE_ID] = s->source[LB_KEY_HOST];
        s->workspace_id_in_host = 1;
        return LB_OK;
    }
    free(from_host);
    return rc;
}

/* "https://host[:port]" from what the user wrote: a URL (path, query and fragment are
 * dropped, as the Databricks SDKs do, after the workspace id is taken from the query) or a
 * bare host name. */
static lb_result normalize_host(lb_settings *s, lb_error *err)
{
    const char *v = s->value[LB_KEY_HOST];
    const char *rest = v;
    if (strncasecmp(v, "http://", 7) == 0)
        return lb_keys_bad_value(err, s, LB_KEY_HOST,
                                 "uses http://: the workspace must be reached over https:// (the client "
                                 "secret and tokens travel in that connection); write https://<workspace-host>");
    if (strncasecmp(v, "https://", 8) == 0)
        rest = v + 8;
    else if (strstr(v, "://") != NULL)
        return lb_keys_bad_value(err, s, LB_KEY_HOST, "is not an https:// URL; write https://<workspace-host>");
    size_t n = strcspn(rest, "/?#");
    if (n == 0)
        return lb_keys_bad_value(err, s, LB_KEY_HOST, "has no host name; write https://<workspace-host>");
    if (!authority_ok(rest, n))
        return lb_keys_bad_value(err, s, LB_KEY_HOST, "is not a valid host name; write https://<workspace-host>");
    char *from_host = NULL;
    const char *q = rest + n + strcspn(rest + n, "?#");
    lb_result rc = *q == '?' ? workspace_id_from_query(s, q + 1, &from_host, err) : LB_OK;
    if (rc != LB_OK)
        return rc;
    char *norm = malloc(8 + n + 1);
    if (norm == NULL) {
        free(from_host);
        return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    }
    memcpy(norm, "https://", 8);
    memcpy(norm + 8, rest, n);
    norm[8 + n] = '\0';
    rc = resolve_workspace_id(s, from_host, v, err); /* quotes the host as written */
    free(s->value[LB_KEY_HOST]);
    s->value[LB_KEY_HOST] = norm;
    return rc;
}

static int is_id(const char *p, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(isalnum((unsigned char)p[i]) || p[i] == '-' || p[i] == '_'))
            return 0;
    return 1;
}

/* projects/<id>/branches/<id>/endpoints/<id>, or a branch: projects/<id>/branches/<id>
 * (the connect then picks the branch's read-write endpoint). */
static int endpoint_ok(const char *v)
{
    static const char *const parts[] = {"projects/", "branches/", "endpoints/"};
    for (int i = 0; i < 3; i++) {
        size_t pl = strlen(parts[i]);
        if (strncmp(v, parts[i], pl) != 0)
            return 0;
        v += pl;
        size_t n = strcspn(v, "/");
        if (!is_id(v, n))
            return 0;
        v += n;
        if (*v == '\0')
            return i >= 1; /* a branch (i == 1) or an endpoint */
        if (*v != '/' || i == 2)
            return 0;
        v++;
    }
    return 0;
}

/* A Provisioned instance name: 1 to 63 letters, digits, '-' or '_' (it goes into a URL path). */
static int instance_ok(const char *v)
{
    size_t n = strlen(v);
    return n <= 63 && is_id(v, n);
}

/* A decimal integer in [lo, hi]; 0 on success. */
static int parse_int(const char *v, int lo, int hi, int *out)
{
    char *end = NULL;
    if (!isdigit((unsigned char)v[0]))
        return -1;
    long n = strtol(v, &end, 10);
    if (*end != '\0' || n < lo || n > hi)
        return -1;
    *out = (int)n;
    return 0;
}

/* The index of v (any case) in the NULL-terminated choices, or -1. */
static int choice(const char *v, const char *const *choices)
{
    for (int i = 0; choices[i]; i++)
        if (strcasecmp(v, choices[i]) == 0)
            return i;
    return -1;
}

static int readable_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, R_OK) == 0;
}

/* True when libpq options (keyword = value, separated by spaces) set keyword. */
static int conninfo_sets(const char *opts, const char *keyword)
{
    size_t n = strlen(keyword);
    for (const char *p = opts; (p = strstr(p, keyword)) != NULL; p += n) {
        int starts = p == opts || isspace((unsigned char)p[-1]);
        const char *q = p + n;
        while (isspace((unsigned char)*q))
            q++;
        if (starts && *q == '=')
            return 1;
    }
    return 0;
}

/* The CA bundle for PostgreSQL's certificate. libpq 15 (Debian 12) has no
 * sslrootcert=system: with verify-ca/verify-full and no sslrootcert it wants
 * ~/.postgresql/root.crt. So the driver names the system bundle itself: OpenSSL's
 * default file, else the Debian or RHEL path. The driver owns sslrootcert: a pqopt that
 * sets it is refused. */
static lb_result postgres_ca(lb_settings *s, lb_error *err)
{
    const char *root = s->value[LB_KEY_SSL_ROOT_CERT];
    const char *pqopt = s->value[LB_KEY_PQOPT];
    if (pqopt && conninfo_sets(pqopt, "sslrootcert"))
        return lb_error_set(err, LB_ERR_SETTINGS,
                            "pqopt (from %s) sets sslrootcert, which the driver passes itself: set "
                            "SSLRootCert instead (a CA bundle for PostgreSQL's certificate).",
                            lb_source_name(s->source[LB_KEY_PQOPT]));
    if (root) {
        if (!readable_file(root))
            return lb_keys_bad_value(err, s, LB_KEY_SSL_ROOT_CERT,
                                     "is not a readable file; point it at the PEM CA bundle that signed PostgreSQL's "
                                     "certificate");
        return LB_OK;
    }
    if (strcmp(s->value[LB_KEY_SSLMODE], "require") == 0)
        return LB_OK; /* no check of the certificate: libpq needs no bundle */
    const char *candidates[] = {X509_get_default_cert_file(), "/etc/ssl/certs/ca-certificates.crt",
                                "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"};
    for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
        if (candidates[i] && readable_file(candidates[i])) {
            if ((s->value[LB_KEY_SSL_ROOT_CERT] = strdup(candidates[i])) == NULL)
                return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
            s->source[LB_KEY_SSL_ROOT_CERT] = LB_SRC_DEFAULT;
            return LB_OK;
        }
    }
    return lb_error_set(err, LB_ERR_SETTINGS,
                        "SSLmode %s checks PostgreSQL's certificate, but no system CA bundle was found "
                        "(%s, /etc/ssl/certs/ca-certificates.crt, /etc/pki/tls/certs/ca-bundle.crt): set "
                        "SSLRootCert to a PEM CA bundle, or install ca-certificates.",
                        s->value[LB_KEY_SSLMODE], X509_get_default_cert_file());
}

lb_result lb_keys_validate(lb_settings *s, lb_error *err)
{
    for (int k = 0; k < LB_KEY_COUNT; k++)
        if (s->value[k] && has_control_char(s->value[k]))
            return lb_keys_bad_value(err, s, (lb_key)k, "contains a control character");

    /* The driver sets the password (the credential); a password in pqopt would be a
     * stored secret that also travels back in the output connection string. */
    const char *pqopt = s->value[LB_KEY_PQOPT];
    if (pqopt && (conninfo_sets(pqopt, "password") || conninfo_sets(pqopt, "sslpassword")))
        return lb_error_set(err, LB_ERR_SETTINGS,
                            "pqopt (from %s) sets a password, which has no place there: the driver passes "
                            "the database credential itself; remove it from pqopt.",
                            lb_source_name(s->source[LB_KEY_PQOPT]));

    lb_result rc = normalize_host(s, err);
    if (rc != LB_OK)
        return rc;

    const char *ep = s->value[LB_KEY_ENDPOINT];
    if (ep && !endpoint_ok(ep)) {
        if (strstr(ep, ".database.") != NULL)
            return lb_keys_bad_value(err, s, LB_KEY_ENDPOINT,
                                     "looks like a host name; put the host in Servername and set Endpoint to "
                                     "projects/<project-id>/branches/<branch-id>/endpoints/<endpoint-id>");
        return lb_keys_bad_value(err, s, LB_KEY_ENDPOINT,
                                 "is not of the form projects/<project-id>/branches/<branch-id>/endpoints/<endpoint-id> "
                                 "(or projects/<project-id>/branches/<branch-id> for the branch's read-write endpoint); "
                                 "copy it from the Lakebase console (Connect) or from "
                                 "`databricks postgres list-endpoints projects/<project-id>/branches/<branch-id>`");
    }

    const char *inst = s->value[LB_KEY_INSTANCE];
    if (inst && !instance_ok(inst)) {
        if (strncmp(inst, "projects/", 9) == 0)
            return lb_keys_bad_value(err, s, LB_KEY_INSTANCE,
                                     "is a Lakebase Autoscaling endpoint: set it as Endpoint instead of Instance");
        if (strchr(inst, '.') != NULL)
            return lb_keys_bad_value(err, s, LB_KEY_INSTANCE,
                                     "looks like a host name; put the host in Servername and set Instance to the "
                                     "instance's name");
        return lb_keys_bad_value(err, s, LB_KEY_INSTANCE,
                                 "is not an instance name (1 to 63 letters, digits, '-' or '_'); copy it from the "
                                 "Lakebase console or `databricks database list-database-instances`");
    }

    if (parse_int(s->value[LB_KEY_PORT], 1, 65535, &s->port) != 0)
        return lb_keys_bad_value(err, s, LB_KEY_PORT, "is not a port number between 1 and 65535");
    if (parse_int(s->value[LB_KEY_REFRESH_MARGIN], 0, 3600, &s->refresh_margin) != 0)
        return lb_keys_bad_value(err, s, LB_KEY_REFRESH_MARGIN, "is not a number of seconds between 0 and 3600");
    if (parse_int(s->value[LB_KEY_WAKE_TIMEOUT], 0, 3600, &s->wake_timeout) != 0)
        return lb_keys_bad_value(err, s, LB_KEY_WAKE_TIMEOUT, "is not a number of seconds between 0 and 3600");
    if (parse_int(s->value[LB_KEY_CONNECT_TIMEOUT], 1, 3600, &s->connect_timeout) != 0)
        return lb_keys_bad_value(err, s, LB_KEY_CONNECT_TIMEOUT, "is not a number of seconds between 1 and 3600");
    if (parse_int(s->value[LB_KEY_MAX_CONNECTION_AGE], 0, 604800, &s->max_connection_age) != 0)
        return lb_keys_bad_value(err, s, LB_KEY_MAX_CONNECTION_AGE,
                                 "is not a number of seconds between 0 (off) and 604800 (7 days)");
    static const char *const yes_no[] = {"no", "yes", NULL};
    if ((s->read_replica = choice(s->value[LB_KEY_READ_REPLICA], yes_no)) < 0)
        return lb_keys_bad_value(err, s, LB_KEY_READ_REPLICA, "is not yes or no");
    if (s->value[LB_KEY_CREDENTIAL_LIFETIME] &&
        parse_int(s->value[LB_KEY_CREDENTIAL_LIFETIME], 300, 3600, &s->credential_lifetime) != 0)
        return lb_keys_bad_value(err, s, LB_KEY_CREDENTIAL_LIFETIME,
                                 "is not a number of seconds between 300 and 3600 (the range Lakebase accepts)");
    /* The default margin would take all of a short credential's life: a quarter of it. */
    if (s->credential_lifetime > 0 && s->source[LB_KEY_REFRESH_MARGIN] == LB_SRC_DEFAULT &&
        s->refresh_margin > s->credential_lifetime / 4)
        s->refresh_margin = s->credential_lifetime / 4;
    const char *te = s->value[LB_KEY_TOKEN_ENDPOINT];
    char origin[512];
    if (te && (lb_url_origin(te, origin, sizeof(origin)) != 0 || strcspn(te, "?#") != strlen(te)))
        return lb_keys_bad_value(err, s, LB_KEY_TOKEN_ENDPOINT,
                                 "is not an https:// URL without query (for example https://<host>/oidc/v1/token)");
    static const char *const cache_modes[] = {"memory", "file", "off", "auto", NULL}; /* lb_cache_mode's order */
    int m = choice(s->value[LB_KEY_TOKEN_CACHE], cache_modes);
    if (m < 0)
        return lb_keys_bad_value(err, s, LB_KEY_TOKEN_CACHE, "is not one of auto, memory, file, off");
    s->cache_mode = (lb_cache_mode)m;
    static const char *const log_levels[] = {"off", "error", "info", "debug", NULL};
    if ((m = choice(s->value[LB_KEY_LOG_LEVEL], log_levels)) < 0)
        return lb_keys_bad_value(err, s, LB_KEY_LOG_LEVEL, "is not one of off, error, info, debug");
    s->log_level = (lb_log_level)m;
    if (s->value[LB_KEY_PROXY]) {
        lb_proxy proxy;
        const char *problem = NULL;
        if (lb_proxy_parse(s->value[LB_KEY_PROXY], &proxy, &problem) != 0) {
            if (s->proxy_env)
                return lb_error_set(err, LB_ERR_SETTINGS,
                                    "The proxy in %s (from the environment) %s; or set Proxy, which "
                                    "wins over it.", s->proxy_env, problem);
            return lb_keys_bad_value(err, s, LB_KEY_PROXY, problem);
        }
        lb_proxy_free(&proxy);
    }

    char *mode = s->value[LB_KEY_SSLMODE];
    for (char *p = mode; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    if (strcmp(mode, "disable") == 0 || strcmp(mode, "allow") == 0 || strcmp(mode, "prefer") == 0)
        return lb_keys_bad_value(err, s, LB_KEY_SSLMODE,
                                 "is refused: Lakebase requires TLS and the credential is a password sent to "
                                 "the server; use require, verify-ca or verify-full");
    if (strcmp(mode, "require") != 0 && strcmp(mode, "verify-ca") != 0 && strcmp(mode, "verify-full") != 0)
        return lb_keys_bad_value(err, s, LB_KEY_SSLMODE, "is not one of require, verify-ca, verify-full");

    const char *ca = s->value[LB_KEY_CAFILE];
    if (ca && !readable_file(ca))
        return lb_keys_bad_value(err, s, LB_KEY_CAFILE, "is not a readable file; point it at a PEM CA bundle");
    return postgres_ca(s, err);
}
