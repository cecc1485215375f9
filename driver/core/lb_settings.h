/* The driver's settings: one table of keys (name, aliases, environment variable,
 * default, whether secret: lb_keys.c) and one function (lb_settings.c) that merges the
 * connection string, the DSN in odbc.ini, the environment, a ~/.databrickscfg profile (host, client_id,
 * client_secret, workspace_id, token, auth_type, databricks_cli_path, oidc_token_env,
 * oidc_token_filepath, azure_client_id, azure_client_secret, azure_tenant_id, azure_environment,
 * azure_workspace_resource_id, azure_use_msi) and the defaults (first found wins) into a validated lb_settings.
 * Without Proxy, the proxy comes from https_proxy, HTTPS_PROXY, all_proxy or
 * ALL_PROXY (libcurl's order), checked like Proxy, so libcurl never reads them itself.
 * Nothing here touches the network. */
#ifndef LB_SETTINGS_H
#define LB_SETTINGS_H

#include "lb_connstr.h"
#include "lb_error.h"
#include "lb_profile.h" /* lb_ini_section */

typedef enum {
    LB_KEY_PROFILE,        /* Profile: a ~/.databrickscfg section (resolved first) */
    LB_KEY_HOST,           /* DatabricksHost */
    LB_KEY_CLIENT_ID,      /* ClientID */
    LB_KEY_CLIENT_SECRET,  /* ClientSecret (alias PWD, Password) */
    LB_KEY_CLIENT_SECRET_FILE, /* ClientSecretFile */
    LB_KEY_ENDPOINT,       /* Endpoint */
    LB_KEY_SERVER,         /* Servername (alias Server) */
    LB_KEY_PORT,           /* Port */
    LB_KEY_DATABASE,       /* Database */
    LB_KEY_UID,            /* UID (alias Username) */
    LB_KEY_SSLMODE,        /* SSLmode */
    LB_KEY_SSL_ROOT_CERT,  /* SSLRootCert: CA bundle for PostgreSQL (libpq's sslrootcert); set to the
                              system bundle for verify-ca/verify-full when the user names none */
    LB_KEY_PQOPT,          /* pqopt (alias D5): psqlODBC's libpq options, merged with sslrootcert */
    LB_KEY_CAFILE,         /* CAFile */
    LB_KEY_PROXY,          /* Proxy */
    LB_KEY_TOKEN_CACHE,    /* TokenCache: auto, memory, file, off */
    LB_KEY_REFRESH_MARGIN, /* TokenRefreshMargin, seconds */
    LB_KEY_WAKE_TIMEOUT,   /* WakeTimeout, seconds */
    LB_KEY_CONNECT_TIMEOUT, /* ConnectTimeout, seconds: the whole connect, without a login timeout */
    LB_KEY_MAX_CONNECTION_AGE, /* MaxConnectionAge, seconds: a pooled connection older is reported dead (0: off) */
    LB_KEY_TOKEN_ENDPOINT, /* TokenEndpoint: the OAuth token URL, when not the workspace's own */
    LB_KEY_LOG_LEVEL,      /* LogLevel: off, error, info, debug */
    LB_KEY_LOG_FILE,       /* LogFile */
    LB_KEY_WORKSPACE_ID,   /* WorkspaceID: the workspace on a URL that serves several (digits); also
                              DatabricksHost's ?o= or ?workspace_id= */
    LB_KEY_INSTANCE,       /* Instance: a Lakebase Provisioned instance (exactly one of Endpoint, Instance) */
    LB_KEY_READ_REPLICA,   /* ReadReplica: yes connects to the read-only host (discovered) */
    LB_KEY_CREDENTIAL_LIFETIME, /* CredentialLifetime, seconds (300 to 3600): the credential request's ttl */
    LB_KEY_AUTH_TYPE,      /* AuthType: auto, pat, oauth-m2m, databricks-cli (auth/lb_auth.h) */
    LB_KEY_TOKEN,          /* Token: a personal access token (secret) */
    LB_KEY_CLI_PATH,       /* DatabricksCliPath: the Databricks CLI (default: databricks on PATH) */
    LB_KEY_OIDC_TOKEN_ENV, /* OIDCTokenEnv: the variable holding the identity provider's JWT (env-oidc) */
    LB_KEY_OIDC_TOKEN_FILE, /* OIDCTokenFile: the file holding the identity provider's JWT (file-oidc) */
    /* ---- Azure sources (azure-client-secret, azure-msi: auth/lb_auth_azure*.c) ---- */
    LB_KEY_AZURE_CLIENT_ID,     /* AzureClientID: the Entra application (client) id */
    LB_KEY_AZURE_CLIENT_SECRET, /* AzureClientSecret (secret) */
    LB_KEY_AZURE_TENANT_ID,     /* AzureTenantID: the Entra tenant (directory) id */
    LB_KEY_AZURE_ENVIRONMENT,   /* AzureEnvironment: PUBLIC, USGOVERNMENT or CHINA */
    LB_KEY_AZURE_LOGIN_HOST,    /* AzureLoginHost: the Entra login URL, when not the environment's */
    LB_KEY_AZURE_RESOURCE_ID,   /* AzureResourceID: the workspace's Azure resource id (a header) */
    LB_KEY_AZURE_USE_MSI,       /* AzureUseMSI: yes picks azure-msi under AuthType auto */
    LB_KEY_AZURE_MSI_ENDPOINT,  /* AzureMsiEndpoint: the metadata service's token URL */
    /* ---- end of the Azure sources' keys ---- */
    LB_KEY_COUNT
} lb_key;

/* In order of precedence: the first source that has a key wins. */
typedef enum { LB_SRC_NONE, LB_SRC_CONNSTR, LB_SRC_DSN, LB_SRC_ENV, LB_SRC_PROFILE, LB_SRC_DEFAULT,
               LB_SRC_DISCOVERED /* set by the connect from the workspace's endpoint or instance look-up */,
               LB_SRC_ME /* the workspace's SCIM Me (a person's user name, for UID) */ } lb_source;

typedef struct {
    const char *name;        /* canonical spelling */
    const char *aliases[3];  /* other accepted spellings, NULL-terminated */
    const char *env;         /* environment variable, or NULL */
    const char *def;         /* default, or NULL */
    const char *what;        /* a few words for error messages */
    int secret;              /* never logged, never written to an output string */
    int optional;            /* may stay unset (no default) */
    const char *profile;     /* its name in a ~/.databrickscfg profile, or NULL */
} lb_key_def;

const lb_key_def *lb_key_info(lb_key key);

/* True when name (any case) is a key the driver consumes itself rather than passing
 * to psqlODBC: every key of the table and its aliases, plus DSN, DRIVER, FILEDSN, SAVEFILE. */
int lb_key_is_owned(const char *name);
/* True when name (any case) holds a secret. */
int lb_key_is_secret(const char *name);

/* Where settings come from besides the connection string. Both callbacks are optional.
 * dsn_get writes the value of key in the DSN's odbc.ini section into buf and returns 1,
 * returns 0 when the key is absent or empty, or -1 when the value may have been cut
 * (longer than the ini reader takes). A value that fills buf (size - 1 bytes) counts
 * as cut too: lb_settings_resolve refuses it with an error naming the key and the DSN. */
typedef struct {
    int (*dsn_get)(void *ctx, const char *dsn, const char *key, char *buf, size_t size);
    void *dsn_ctx;
    const char *(*env_get)(const char *name);
    int from_arguments; /* the input is SQLConnect's arguments, not a connection string */
    int no_target;      /* the caller lists targets (lb_listing.h): Endpoint and Instance may both be unset */
} lb_sources;

typedef enum { LB_CACHE_MEMORY, LB_CACHE_FILE, LB_CACHE_OFF, LB_CACHE_AUTO } lb_cache_mode;
typedef enum { LB_LOG_OFF, LB_LOG_ERROR, LB_LOG_INFO, LB_LOG_DEBUG } lb_log_level;

typedef struct {
    char *value[LB_KEY_COUNT];
    lb_source source[LB_KEY_COUNT];
    char *dsn;                  /* the DSN named by the caller, or NULL */
    /* Parsed forms of some values. */
    int port;                   /* Port */
    int refresh_margin;         /* TokenRefreshMargin, seconds */
    int wake_timeout;           /* WakeTimeout, seconds */
    int connect_timeout;        /* ConnectTimeout, seconds */
    int max_connection_age;     /* MaxConnectionAge, seconds; 0: off */
    const char *proxy_env;      /* the variable the proxy came from, when from the environment */
    lb_cache_mode cache_mode;   /* TokenCache */
    lb_log_level log_level;     /* LogLevel */
    int workspace_id_in_host;   /* WorkspaceID came from DatabricksHost's ?o= / ?workspace_id= */
    int read_replica;           /* ReadReplica: 1 for yes */
    int credential_lifetime;    /* CredentialLifetime, seconds; 0: not set (the server's default) */
    int auth_type;              /* the chosen lb_auth_type (auth/lb_auth.h), never auto */
    char auth_why[512];         /* why it was chosen, for the log */
} lb_settings;

/* Merges and validates, and chooses the authentication source (lb_auth_select: auth_type,
 * auth_why); UID defaults to the client id for oauth-m2m, and stays unset for a person
 * (the connect looks it up). Exactly one of Endpoint (Autoscaling) and Instance
 * (Provisioned) is set. Servername may stay unset (the connect then looks the host up and
 * sets it: lb_settings_set), and Endpoint may name a branch (projects/<p>/branches/<b>:
 * the connect picks its read-write endpoint). On success every required key is set and normalized
 * (DatabricksHost to "https://host[:port]", SSLmode to lower case, SSLRootCert to the
 * system CA bundle when SSLmode is verify-ca or verify-full and none was named). On failure err
 * names the key, what is wrong and where it can be set. Free with lb_settings_free. */
lb_result lb_settings_resolve(const lb_kvlist *connstr, const lb_sources *sources,
                              lb_settings *out, lb_error *err);
void lb_settings_free(lb_settings *s);

static inline const char *lb_settings_get(const lb_settings *s, lb_key key)
{
    return s->value[key];
}

const char *lb_source_name(lb_source src);

/* Where key can be set ("set X in the connection string ..., export Y, or set z in a
 * ~/.databrickscfg profile"), for error messages. */
void lb_settings_where(lb_key key, char *buf, size_t size);

/* Replaces the value of key (a value the driver learnt after resolving, such as the host of
 * a Provisioned instance); LB_ERR_NOMEM when it cannot be copied. */
lb_result lb_settings_set(lb_settings *s, lb_key key, const char *value, lb_source src);

#endif
