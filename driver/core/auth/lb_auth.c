/* The choice of the authentication source (AuthType, and auto in the Go SDK's order). */
#include "lb_auth.h"

#include "lb_auth_azure.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const type_names[LB_AUTH_COUNT] = {"auto",     "pat",       "oauth-m2m",
                                                      "databricks-cli", "env-oidc", "file-oidc",
                                                      "azure-msi", "azure-client-secret"};

const char *lb_auth_type_name(lb_auth_type type)
{
    return type < LB_AUTH_COUNT ? type_names[type] : "?";
}

const lb_auth_source *lb_auth_source_of(lb_auth_type type)
{
    switch (type) {
    case LB_AUTH_PAT: return &lb_auth_pat;
    case LB_AUTH_OAUTH_M2M: return &lb_auth_m2m;
    case LB_AUTH_DATABRICKS_CLI: return &lb_auth_cli;
    case LB_AUTH_ENV_OIDC: return &lb_auth_env_oidc;
    case LB_AUTH_FILE_OIDC: return &lb_auth_file_oidc;
    case LB_AUTH_AZURE_MSI: return &lb_auth_azure_msi;
    case LB_AUTH_AZURE_CLIENT_SECRET: return &lb_auth_azure_secret;
    default: return NULL;
    }
}

int lb_auth_find_on_path(const char *path_env, const char *name, char *buf, size_t size)
{
    if (path_env == NULL || path_env[0] == '\0')
        return -1;
    for (const char *p = path_env; *p;) {
        size_t n = strcspn(p, ":");
        struct stat st;
        if (n > 0 && (size_t)snprintf(buf, size, "%.*s/%s", (int)n, p, name) < size && stat(buf, &st) == 0 &&
            S_ISREG(st.st_mode) && access(buf, X_OK) == 0)
            return 0;
        p += n;
        if (*p == ':')
            p++;
    }
    buf[0] = '\0';
    return -1;
}

/* "ClientID (from the DSN)", for why and error texts. */
static void from(const lb_settings *s, lb_key k, char *buf, size_t size)
{
    if (s->source[k] == LB_SRC_ENV && lb_key_info(k)->env)
        snprintf(buf, size, "%s (from the environment variable %s)", lb_key_info(k)->name, lb_key_info(k)->env);
    else
        snprintf(buf, size, "%s (from %s)", lb_key_info(k)->name, lb_source_name(s->source[k]));
}

static lb_result missing(const lb_settings *s, lb_key k, const char *context, lb_error *err)
{
    const lb_key_def *def = lb_key_info(k);
    char where[300];
    lb_settings_where(k, where, sizeof(where));
    return lb_error_set(err, LB_ERR_SETTINGS, "Missing setting %s (%s): %s%s%s%s.", def->name, def->what, where,
                        s->dsn ? "" : " (no DSN was named)", context[0] ? "; " : "", context);
}

/* auto, after the Databricks types: azure-msi (AzureUseMSI true), then azure-client-secret
 * (AzureClientID, AzureClientSecret and AzureTenantID: any of them alone is half configured).
 * *out stays LB_AUTH_COUNT when no Azure setting is present. */
static lb_result azure_auto(const lb_settings *s, lb_auth_type *out, char *why, size_t why_size, lb_error *err)
{
    char a[160];
    int msi = lb_azure_use_msi(s);
    if (msi < 0)
        return lb_error_set(err, LB_ERR_SETTINGS, "AzureUseMSI \"%.40s\" (from %s) is not true or false.",
                            lb_settings_get(s, LB_KEY_AZURE_USE_MSI), lb_source_name(s->source[LB_KEY_AZURE_USE_MSI]));
    if (msi == 1) {
        from(s, LB_KEY_AZURE_USE_MSI, a, sizeof(a));
        snprintf(why, why_size, "AuthType auto: %s is true", a);
        *out = LB_AUTH_AZURE_MSI;
        return lb_azure_check(s, *out, err);
    }
    static const lb_key keys[] = {LB_KEY_AZURE_CLIENT_ID, LB_KEY_AZURE_CLIENT_SECRET, LB_KEY_AZURE_TENANT_ID};
    int set = -1;
    for (size_t i = 0; i < 3; i++)
        if (set < 0 && lb_settings_get(s, keys[i]))
            set = (int)i;
    if (set < 0)
        return LB_OK;
    for (size_t i = 0; i < 3; i++)
        if (lb_settings_get(s, keys[i]) == NULL) {
            from(s, keys[set], a, sizeof(a));
            char ctx[300];
            snprintf(ctx, sizeof(ctx), "azure-client-secret is half configured: %s is set (or set AzureUseMSI=true "
                     "for a managed identity)", a);
            return missing(s, keys[i], ctx, err);
        }
    from(s, LB_KEY_AZURE_CLIENT_ID, a, sizeof(a));
    snprintf(why, why_size, "AuthType auto: %s, AzureClientSecret and AzureTenantID are set", a);
    *out = LB_AUTH_AZURE_CLIENT_SECRET;
    return lb_azure_check(s, *out, err);
}

lb_result lb_auth_select(const lb_settings *s, const char *(*env_get)(const char *), lb_auth_type *out, char *why,
                         size_t why_size, lb_error *err)
{
    const char *at = lb_settings_get(s, LB_KEY_AUTH_TYPE);
    lb_auth_type type = LB_AUTH_COUNT;
    for (int t = 0; at && t < LB_AUTH_COUNT; t++)
        if (strcasecmp(at, type_names[t]) == 0)
            type = (lb_auth_type)t;
    char a[160], b[160];
    if (type == LB_AUTH_COUNT)
        return lb_error_set(err, LB_ERR_SETTINGS,
                            "AuthType \"%.60s\" (from %s) is not one of auto, pat, oauth-m2m, databricks-cli, "
                            "env-oidc, file-oidc, azure-msi, azure-client-secret.", at,
                            lb_source_name(s->source[LB_KEY_AUTH_TYPE]));
    const char *token = lb_settings_get(s, LB_KEY_TOKEN), *id = lb_settings_get(s, LB_KEY_CLIENT_ID),
               *secret = lb_settings_get(s, LB_KEY_CLIENT_SECRET), *cli = lb_settings_get(s, LB_KEY_CLI_PATH),
               *jwt_var = lb_settings_get(s, LB_KEY_OIDC_TOKEN_ENV), *jwt_file = lb_settings_get(s, LB_KEY_OIDC_TOKEN_FILE);
    const char *jwt_env = jwt_var && env_get ? env_get(jwt_var) : NULL;
    if (jwt_env && jwt_env[0] == '\0')
        jwt_env = NULL;
    char found[1024] = "";
    if (type != LB_AUTH_AUTO) {
        from(s, LB_KEY_AUTH_TYPE, a, sizeof(a));
        char ctx[200];
        snprintf(ctx, sizeof(ctx), "%s asks for %s", a, type_names[type]);
        if (type == LB_AUTH_PAT && token == NULL)
            return missing(s, LB_KEY_TOKEN, ctx, err);
        if (type == LB_AUTH_OAUTH_M2M && id == NULL)
            return missing(s, LB_KEY_CLIENT_ID, ctx, err);
        if (type == LB_AUTH_OAUTH_M2M && secret == NULL)
            return missing(s, LB_KEY_CLIENT_SECRET, ctx, err);
        if (type == LB_AUTH_FILE_OIDC && jwt_file == NULL)
            return missing(s, LB_KEY_OIDC_TOKEN_FILE, ctx, err);
        if (type == LB_AUTH_ENV_OIDC && jwt_env == NULL)
            return lb_error_set(err, LB_ERR_SETTINGS,
                                "%s, but the environment variable %.100s (named by OIDCTokenEnv, from %s) is not set: "
                                "export it with the identity provider's token, or set OIDCTokenEnv to the variable "
                                "that holds it.", ctx, jwt_var, lb_source_name(s->source[LB_KEY_OIDC_TOKEN_ENV]));
        if (type == LB_AUTH_AZURE_CLIENT_SECRET) {
            static const lb_key need[] = {LB_KEY_AZURE_CLIENT_ID, LB_KEY_AZURE_CLIENT_SECRET, LB_KEY_AZURE_TENANT_ID};
            for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
                if (lb_settings_get(s, need[i]) == NULL)
                    return missing(s, need[i], ctx, err);
        }
        if (type == LB_AUTH_AZURE_MSI || type == LB_AUTH_AZURE_CLIENT_SECRET) {
            lb_result arc = lb_azure_check(s, type, err);
            if (arc != LB_OK)
                return arc;
        }
        snprintf(why, why_size, "%s", a);
        *out = type;
        return LB_OK;
    }

    /* auto: pat, oauth-m2m, databricks-cli. Two complete types (or a token beside client
     * credentials) are refused as the SDK refuses them: which one was meant is not known. */
    if (token && (id || secret)) {
        from(s, LB_KEY_TOKEN, a, sizeof(a));
        from(s, id ? LB_KEY_CLIENT_ID : LB_KEY_CLIENT_SECRET, b, sizeof(b));
        return lb_error_set(err, LB_ERR_SETTINGS,
                            "More than one way to authenticate is configured: pat (%s) and oauth-m2m (%s). Set "
                            "AuthType to the one you mean (pat or oauth-m2m), or remove the other's settings.", a, b);
    }
    if (token) {
        from(s, LB_KEY_TOKEN, a, sizeof(a));
        snprintf(why, why_size, "AuthType auto: %s is set", a);
        *out = LB_AUTH_PAT;
        return LB_OK;
    }
    if (id && secret) {
        from(s, LB_KEY_CLIENT_ID, a, sizeof(a));
        from(s, LB_KEY_CLIENT_SECRET, b, sizeof(b));
        snprintf(why, why_size, "AuthType auto: %s and %s are set", a, b);
        *out = LB_AUTH_OAUTH_M2M;
        return LB_OK;
    }
    if (secret || (id && jwt_env == NULL && jwt_file == NULL)) {
        from(s, id ? LB_KEY_CLIENT_ID : LB_KEY_CLIENT_SECRET, a, sizeof(a));
        char ctx[300];
        snprintf(ctx, sizeof(ctx), "oauth-m2m is half configured: %s is set", a);
        return missing(s, id ? LB_KEY_CLIENT_SECRET : LB_KEY_CLIENT_ID, ctx, err);
    }
    if (cli) {
        from(s, LB_KEY_CLI_PATH, a, sizeof(a));
        snprintf(why, why_size, "AuthType auto: %s is set", a);
        *out = LB_AUTH_DATABRICKS_CLI;
        return LB_OK;
    }
    if (jwt_env) {
        snprintf(why, why_size, "AuthType auto: the environment variable %.100s (OIDCTokenEnv) is set", jwt_var);
        *out = LB_AUTH_ENV_OIDC;
        return LB_OK;
    }
    if (jwt_file) {
        from(s, LB_KEY_OIDC_TOKEN_FILE, a, sizeof(a));
        snprintf(why, why_size, "AuthType auto: %s is set", a);
        *out = LB_AUTH_FILE_OIDC;
        return LB_OK;
    }
    lb_auth_type azure = LB_AUTH_COUNT;
    lb_result arc = azure_auto(s, &azure, why, why_size, err);
    if (arc != LB_OK || azure != LB_AUTH_COUNT) {
        *out = azure;
        return arc;
    }
    if (lb_auth_find_on_path(env_get ? env_get("PATH") : NULL, "databricks", found, sizeof(found)) == 0) {
        snprintf(why, why_size, "AuthType auto: no Token, ClientID or ClientSecret is set, and the Databricks CLI "
                 "is on PATH (%.300s)", found);
        *out = LB_AUTH_DATABRICKS_CLI;
        return LB_OK;
    }
    return missing(s, LB_KEY_CLIENT_ID,
                   "no way to authenticate is configured: set ClientID and ClientSecret (a service principal), "
                   "Token (a personal access token), OIDCTokenFile or DATABRICKS_OIDC_TOKEN (workload identity "
                   "federation), AzureClientID, AzureClientSecret and AzureTenantID (an Entra ID application) or "
                   "AzureUseMSI=true (an Azure managed identity), or log in with `databricks auth login` (the "
                   "Databricks CLI, on PATH or named by DatabricksCliPath)", err);
}
