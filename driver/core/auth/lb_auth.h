/* Authentication sources: one small interface (a bearer token for the workspace, and the
 * identity it stands for) with one file per source, and the choice of the source (AuthType,
 * auto in the Databricks Go SDK's order). The choice touches no network: lb_settings_resolve
 * makes it; the connect flow (lb_connect.c) asks the chosen source for tokens. */
#ifndef LB_AUTH_H
#define LB_AUTH_H

#include "lb_buf.h"
#include "lb_error.h"
#include "lb_http.h"
#include "lb_log.h"
#include "lb_oauth.h"
#include "lb_retry.h"
#include "lb_settings.h"

/* The AuthType values, in the Go SDK's order for the types that exist here. */
typedef enum {
    LB_AUTH_AUTO,
    LB_AUTH_PAT,            /* a personal access token: the bearer itself (auth/lb_auth_pat.c) */
    LB_AUTH_OAUTH_M2M,      /* a service principal's OAuth client credentials (auth/lb_auth_m2m.c) */
    LB_AUTH_DATABRICKS_CLI, /* a `databricks auth login` session, through the CLI (auth/lb_auth_cli.c) */
    LB_AUTH_ENV_OIDC,       /* workload identity federation, the JWT in a variable (auth/lb_auth_oidc.c) */
    LB_AUTH_FILE_OIDC,      /* workload identity federation, the JWT in a file (auth/lb_auth_oidc.c) */
    LB_AUTH_AZURE_MSI,      /* an Azure managed identity, from the metadata service (auth/lb_auth_azure_msi.c) */
    LB_AUTH_AZURE_CLIENT_SECRET, /* an Entra ID application's client secret (auth/lb_auth_azure_secret.c) */
    LB_AUTH_COUNT
} lb_auth_type;

/* What a source gets to do its work. */
typedef struct {
    const lb_settings *settings;
    const lb_http_opts *http;    /* for the workspace (deadline, proxy, CA) */
    const lb_logger *log;
    const lb_deadline *deadline; /* the connect's: a source that runs a program ends it by then */
    const char *discovered_endpoint; /* the token endpoint OAuth discovery found (the caller's cache), or NULL */
} lb_auth_ctx;

typedef struct {
    const char *name;   /* the AuthType value */
    int person;         /* 1: the token stands for a person, whose PostgreSQL role is their user name
                           (looked up with SCIM Me when UID is not given) */
    int fetched;        /* 1: tokens are fetched (worth caching, in memory only); 0: the token is a setting */
    int exchanges;      /* 1: at the workspace's token endpoint (found by OAuth discovery unless TokenEndpoint) */
    /* A stable string naming who the token stands for, for cache keys: never a secret (a
     * SHA-256 of one at most). Appended to out. */
    void (*identity)(const lb_settings *s, lb_buf *out);
    /* A bearer token for the workspace (a secret: lb_token_clear). */
    lb_result (*token)(const lb_auth_ctx *ctx, lb_token *out, lb_error *err);
    /* The PostgreSQL role the identity implies without asking the workspace, or NULL. */
    const char *(*role)(const lb_settings *s);
    /* What to check when the workspace refuses the source's token (HTTP 401). */
    const char *fix_refused;
    /* Optional: the PostgreSQL role read from the source's own token (when role gives none and
     * the source is no person), instead of SCIM Me; 0 when found. */
    int (*role_from_token)(const char *token, char *role, size_t size);
} lb_auth_source;

extern const lb_auth_source lb_auth_pat, lb_auth_m2m, lb_auth_cli, lb_auth_env_oidc, lb_auth_file_oidc,
    lb_auth_azure_msi, lb_auth_azure_secret;

/* The source of a chosen type (never LB_AUTH_AUTO). */
const lb_auth_source *lb_auth_source_of(lb_auth_type type);
/* The AuthType value's name ("auto", "pat", ...). */
const char *lb_auth_type_name(lb_auth_type type);

/* Chooses the source: AuthType when it names one (its settings must be complete), else
 * (auto) the first type whose settings are present, in the Go SDK's order: pat (Token),
 * oauth-m2m (ClientID and ClientSecret), databricks-cli (DatabricksCliPath), env-oidc (the
 * variable OIDCTokenEnv names is set), file-oidc (OIDCTokenFile), azure-msi (AzureUseMSI true),
 * azure-client-secret (AzureClientID, AzureClientSecret and AzureTenantID), and last databricks-cli
 * again when a `databricks` is on PATH (a token given for federation wins over a CLI that is
 * merely installed). why says which and why, for the log. Two complete types without AuthType, a
 * half-configured type and nothing at all are errors naming the keys to set.
 * env_get reads PATH (may be NULL). */
lb_result lb_auth_select(const lb_settings *s, const char *(*env_get)(const char *), lb_auth_type *out, char *why,
                         size_t why_size, lb_error *err);

/* 1 when settings of an Azure source are present (AzureClientID, AzureClientSecret,
 * AzureTenantID or AzureUseMSI true): the settings need no profile's credentials. */
int lb_auth_azure_configured(const lb_settings *s);

/* The path of program name on PATH (an executable regular file), into buf; 0 when found. */
int lb_auth_find_on_path(const char *path_env, const char *name, char *buf, size_t size);

/* The person's user name (SCIM Me's userName) for the token: GET
 * {host}/api/2.0/preview/scim/v2/Me. *status is the HTTP status (0 when none came). */
lb_result lb_auth_me(const lb_http_opts *http, const char *host, const char *token, char *user, size_t size,
                     long *status, lb_error *err);

/* The identity provider's JWT for env-oidc / file-oidc (a secret: lb_secret_free), or NULL
 * and err (naming the variable or the file). */
char *lb_auth_oidc_jwt(const lb_settings *s, lb_auth_type type, lb_error *err);

/* The databricks CLI's `auth token` answer: access_token and expiry (RFC 3339, nanoseconds
 * allowed), exposed for tests. */
lb_result lb_auth_cli_parse(const char *body, size_t len, lb_token *out, lb_error *err);

#endif
