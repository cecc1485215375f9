/* Sources env-oidc and file-oidc: workload identity federation. The identity provider's JWT
 * (from the variable OIDCTokenEnv names, default DATABRICKS_OIDC_TOKEN, or the file
 * OIDCTokenFile) is exchanged at the workspace's token endpoint (lb_oauth_exchange_token) for a
 * workspace token of the service principal ClientID (omitted: account-wide federation). Its
 * PostgreSQL role is the client id, or, without one, SCIM Me's userName. */
#include "lb_auth.h"

#include <stdlib.h>
#include <string.h>

#include "lb_cache.h"
#include "lb_file.h"
#include "lb_secmem.h"

#define JWT_FILE_MAX (64 * 1024)

/* The first line, whitespace trimmed, as a secret copy. */
static char *first_line(const char *text, size_t len)
{
    size_t start = 0;
    while (start < len && (text[start] == ' ' || text[start] == '\t' || text[start] == '\r' || text[start] == '\n'))
        start++;
    size_t n = strcspn(text + start, "\r\n \t");
    char *copy = lb_secmem_malloc(n + 1);
    if (copy) {
        memcpy(copy, text + start, n);
        copy[n] = '\0';
    }
    return copy;
}

char *lb_auth_oidc_jwt(const lb_settings *s, lb_auth_type type, lb_error *err)
{
    char *jwt = NULL;
    if (type == LB_AUTH_ENV_OIDC) {
        const char *var = lb_settings_get(s, LB_KEY_OIDC_TOKEN_ENV), *v = var ? secure_getenv(var) : NULL;
        if (v == NULL || v[0] == '\0') {
            lb_error_set(err, LB_ERR_SETTINGS,
                         "AuthType env-oidc: the environment variable %.100s (OIDCTokenEnv) is not set: export it "
                         "with the identity provider's token.", var ? var : "DATABRICKS_OIDC_TOKEN");
            return NULL;
        }
        jwt = first_line(v, strlen(v));
    } else {
        const char *path = lb_settings_get(s, LB_KEY_OIDC_TOKEN_FILE);
        lb_file_info info;
        size_t len = 0;
        /* A link is fine: Kubernetes projects service account tokens through symbolic links. */
        char *text = path ? lb_file_slurp(path, LB_FILE_FOLLOW, JWT_FILE_MAX, &len, &info) : NULL;
        if (text == NULL) {
            char why[200] = "is not set";
            if (path)
                lb_file_explain(&info, why, sizeof(why));
            lb_error_set(err, LB_ERR_SETTINGS,
                         "AuthType file-oidc: OIDCTokenFile %.300s %s: point it at the file the identity provider "
                         "writes its token to (at most 64 KiB).", path ? path : "", why);
            return NULL;
        }
        jwt = first_line(text, len);
        lb_wipe(text, len);
        free(text);
    }
    if (jwt == NULL)
        lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    else if (jwt[0] == '\0') {
        lb_secret_free(jwt);
        jwt = NULL;
        lb_error_set(err, LB_ERR_SETTINGS, "AuthType %s: the identity provider's token is empty.",
                     type == LB_AUTH_ENV_OIDC ? "env-oidc (OIDCTokenEnv)" : "file-oidc (OIDCTokenFile)");
    }
    return jwt;
}

/* The client id and the SHA-256 of the JWT: a new JWT (rotated, or another workload's) never
 * reuses a token fetched with another. */
static void identity(const lb_settings *s, lb_auth_type type, lb_buf *out)
{
    lb_error err;
    lb_error_init(&err);
    char *jwt = lb_auth_oidc_jwt(s, type, &err);
    char hash[65] = "unreadable";
    if (jwt)
        lb_sha256_hex(jwt, hash);
    lb_secret_free(jwt);
    const char *id = lb_settings_get(s, LB_KEY_CLIENT_ID);
    lb_buf_printf(out, "%s\n%s\n%s", type == LB_AUTH_ENV_OIDC ? "env-oidc" : "file-oidc", id ? id : "", hash);
}

static lb_result token(const lb_auth_ctx *ctx, lb_auth_type type, lb_token *out, lb_error *err)
{
    const lb_settings *s = ctx->settings;
    char *jwt = lb_auth_oidc_jwt(s, type, err);
    if (jwt == NULL)
        return err->code;
    lb_oauth_client client = {.host = lb_settings_get(s, LB_KEY_HOST),
                              .token_endpoint = lb_settings_get(s, LB_KEY_TOKEN_ENDPOINT),
                              .client_id = lb_settings_get(s, LB_KEY_CLIENT_ID),
                              .workspace_id = lb_settings_get(s, LB_KEY_WORKSPACE_ID),
                              .discovered_endpoint = ctx->discovered_endpoint};
    lb_result rc = lb_oauth_exchange_token(ctx->http, &client, jwt, out, err);
    lb_secret_free(jwt);
    return rc;
}

static void env_identity(const lb_settings *s, lb_buf *out) { identity(s, LB_AUTH_ENV_OIDC, out); }
static void file_identity(const lb_settings *s, lb_buf *out) { identity(s, LB_AUTH_FILE_OIDC, out); }
static lb_result env_token(const lb_auth_ctx *ctx, lb_token *out, lb_error *err)
{
    return token(ctx, LB_AUTH_ENV_OIDC, out, err);
}
static lb_result file_token(const lb_auth_ctx *ctx, lb_token *out, lb_error *err)
{
    return token(ctx, LB_AUTH_FILE_OIDC, out, err);
}

static const char *oidc_role(const lb_settings *s)
{
    return lb_settings_get(s, LB_KEY_CLIENT_ID);
}

#define OIDC_FIX "Check the identity provider's token and the service principal's federation policy."
const lb_auth_source lb_auth_env_oidc = {.name = "env-oidc", .person = 0, .fetched = 1, .exchanges = 1, .identity = env_identity,
                                         .token = env_token, .role = oidc_role, .fix_refused = OIDC_FIX};
const lb_auth_source lb_auth_file_oidc = {.name = "file-oidc", .person = 0, .fetched = 1, .exchanges = 1, .identity = file_identity,
                                          .token = file_token, .role = oidc_role, .fix_refused = OIDC_FIX};
