/* The Azure sources' shared parts (see lb_auth_azure.h): clouds, token answers, error bodies,
 * the bearer value with the management-token headers, the application id of a token. */
#include "lb_auth_azure.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "lb_json.h"
#include "lb_secmem.h"

/* The Azure clouds the Databricks SDKs know (their ActiveDirectoryEndpoint and
 * ServiceManagementEndpoint), and the workspace domain that implies each. */
static const struct {
    const char *name, *login, *management, *domain;
} clouds[] = {
    {"PUBLIC", "https://login.microsoftonline.com", "https://management.core.windows.net/", ".azuredatabricks.net"},
    {"USGOVERNMENT", "https://login.microsoftonline.us", "https://management.core.usgovcloudapi.net/",
     ".databricks.azure.us"},
    {"CHINA", "https://login.chinacloudapi.cn", "https://management.core.chinacloudapi.cn/", ".databricks.azure.cn"},
};
#define N_CLOUDS (sizeof(clouds) / sizeof(clouds[0]))

/* The cloud: AzureEnvironment, else the host's domain, else PUBLIC. -1 for an unknown name. */
static int cloud_of(const lb_settings *s)
{
    const char *env = lb_settings_get(s, LB_KEY_AZURE_ENVIRONMENT);
    if (env) {
        for (size_t i = 0; i < N_CLOUDS; i++)
            if (strcasecmp(env, clouds[i].name) == 0)
                return (int)i;
        return -1;
    }
    const char *host = lb_settings_get(s, LB_KEY_HOST);
    if (host && strncmp(host, "https://", 8) == 0)
        host += 8;
    size_t hl = host ? strcspn(host, ":/?#") : 0;
    for (size_t i = 0; host && i < N_CLOUDS; i++) {
        size_t dl = strlen(clouds[i].domain);
        if (hl > dl && strncasecmp(host + hl - dl, clouds[i].domain, dl) == 0)
            return (int)i;
    }
    return 0;
}

lb_result lb_azure_cloud(const lb_settings *s, char *login, size_t login_size, char *management,
                         size_t management_size, lb_error *err)
{
    int c = cloud_of(s);
    if (c < 0)
        return lb_error_set(err, LB_ERR_SETTINGS, "AzureEnvironment \"%.40s\" (from %s) is not one of PUBLIC, "
                            "USGOVERNMENT, CHINA.", lb_settings_get(s, LB_KEY_AZURE_ENVIRONMENT),
                            lb_source_name(s->source[LB_KEY_AZURE_ENVIRONMENT]));
    const char *host = lb_settings_get(s, LB_KEY_AZURE_LOGIN_HOST);
    snprintf(login, login_size, "%s", host ? host : clouds[c].login);
    size_t n = strlen(login);
    while (n > 0 && login[n - 1] == '/')
        login[--n] = '\0';
    snprintf(management, management_size, "%s", clouds[c].management);
    return LB_OK;
}

lb_result lb_azure_parse_token(const char *body, size_t len, const char *who, lb_token *out, lb_error *err)
{
    memset(out, 0, sizeof(*out));
    struct json_object *obj = lb_json_parse_object(body, len);
    const char *tok = lb_json_string(obj, "access_token"), *type = lb_json_string(obj, "token_type");
    lb_result rc = LB_OK;
    if (tok == NULL || tok[0] == '\0')
        rc = lb_error_set(err, LB_ERR_PROTOCOL, "%s's token answer %s.", who,
                          obj == NULL ? "is not a JSON object" : "has no access_token");
    else if (strchr(tok, '\n') || strchr(tok, '\r'))
        rc = lb_error_set(err, LB_ERR_PROTOCOL, "%s's access_token holds a line break.", who);
    else if (type && strcasecmp(type, "Bearer") != 0)
        rc = lb_error_set(err, LB_ERR_PROTOCOL, "%s issued a token of type \"%.40s\"; expected Bearer.", who, type);
    else if ((out->access_token = lb_secmem_dup(tok)) == NULL)
        rc = lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    else {
        long long e = 0, on = 0;
        int r = lb_json_seconds(obj, "expires_in", &e);
        if (r == 0)
            out->expires_in = e;
        else if (lb_json_seconds(obj, "expires_on", &on) == 0 && on > (long long)time(NULL))
            out->expires_in = on - (long long)time(NULL);
        else
            out->expires_in_unreadable = 1;
    }
    lb_json_put_wiped(obj);
    return rc;
}

void lb_azure_describe_error(const char *body, size_t len, const char *secret, char *buf, size_t size)
{
    struct json_object *obj = lb_json_parse_object(body, len);
    const char *error = lb_json_string(obj, "error"), *desc = lb_json_string(obj, "error_description");
    if (error && desc) {
        /* Entra's description runs on with "\r\nTrace ID: ...": its first line says it. */
        snprintf(buf, size, "%s: %.*s", error, (int)strcspn(desc, "\r\n"), desc);
    } else if (error) {
        snprintf(buf, size, "%s", error);
    } else {
        lb_json_describe_error(body, len, buf, size);
    }
    lb_json_put_wiped(obj);
    if (secret && secret[0]) /* Entra does not echo it; a stand-in might */
        for (char *at; (at = strstr(buf, secret)) != NULL;)
            memset(at, '*', strlen(secret));
    lb_text_sanitize(buf);
}

lb_result lb_azure_bearer(const lb_settings *s, lb_token *databricks, lb_token *management, lb_token *out,
                          lb_error *err)
{
    memset(out, 0, sizeof(*out));
    const char *rid = lb_settings_get(s, LB_KEY_AZURE_RESOURCE_ID);
    lb_buf b;
    lb_buf_init(&b, 0);
    lb_buf_printf(&b, "%s\nX-Databricks-Azure-SP-Management-Token: %s", databricks->access_token,
                  management->access_token);
    if (rid)
        lb_buf_printf(&b, "\nX-Databricks-Azure-Workspace-Resource-Id: %s", rid);
    lb_result rc = LB_OK;
    if (b.overflow || (out->access_token = lb_secmem_dup(b.data)) == NULL)
        rc = lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    out->expires_in_unreadable = databricks->expires_in_unreadable || management->expires_in_unreadable;
    out->expires_in = databricks->expires_in < management->expires_in ? databricks->expires_in : management->expires_in;
    lb_buf_free_secret(&b);
    lb_token_clear(databricks);
    lb_token_clear(management);
    return rc;
}

lb_result lb_azure_token(const lb_auth_ctx *ctx, lb_azure_fetch fetch, const char *who, lb_token *out, lb_error *err)
{
    char login[512], mgmt[128];
    memset(out, 0, sizeof(*out));
    lb_result rc = lb_azure_cloud(ctx->settings, login, sizeof(login), mgmt, sizeof(mgmt), err);
    lb_token dbx = {0}, management = {0};
    long long t0 = lb_now_ms();
    if (rc == LB_OK)
        rc = fetch(ctx, login, LB_AZURE_DATABRICKS_RESOURCE, &dbx, err);
    if (rc == LB_OK)
        rc = fetch(ctx, login, mgmt, &management, err);
    if (rc == LB_OK) {
        lb_log(ctx->log, LB_LOG_INFO, "token: %s got its Azure Databricks and management tokens in %lld ms", who,
               lb_now_ms() - t0);
        return lb_azure_bearer(ctx->settings, &dbx, &management, out, err);
    }
    lb_token_clear(&dbx);
    lb_token_clear(&management);
    return rc;
}

int lb_azure_token_appid(const char *token, char *out, size_t size)
{
    out[0] = '\0';
    const char *dot = strchr(token, '.');
    size_t n = dot ? strcspn(dot + 1, ".") : 0;
    if (n == 0 || n > 16384)
        return -1;
    /* base64url to base64, padded */
    char *b64 = malloc(n + 4);
    unsigned char *raw = malloc(n + 4);
    int rc = -1;
    if (b64 && raw) {
        for (size_t i = 0; i < n; i++)
            b64[i] = dot[1 + i] == '-' ? '+' : dot[1 + i] == '_' ? '/' : dot[1 + i];
        size_t m = n;
        while (m % 4)
            b64[m++] = '=';
        int got = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)m);
        if (got > 0) {
            got -= (int)(m - n); /* EVP_DecodeBlock counts the padding as zero bytes */
            struct json_object *claims = lb_json_parse_object((const char *)raw, (size_t)got);
            const char *id = lb_json_string(claims, "appid");
            if (id == NULL)
                id = lb_json_string(claims, "azp");
            if (id && id[0] && strlen(id) < size && strlen(id) <= 64 &&
                strspn(id, "0123456789abcdefABCDEF-") == strlen(id)) {
                snprintf(out, size, "%s", id);
                rc = 0;
            }
            lb_json_put_wiped(claims);
        }
        lb_wipe(raw, n + 4);
        lb_wipe(b64, n + 4);
    }
    free(b64);
    free(raw);
    return rc;
}

int lb_azure_use_msi(const lb_settings *s)
{
    const char *v = lb_settings_get(s, LB_KEY_AZURE_USE_MSI);
    if (v == NULL)
        return 0;
    static const char *const yes[] = {"true", "yes", "1"}, *const no[] = {"false", "no", "0"};
    for (int i = 0; i < 3; i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return 1;
        if (strcasecmp(v, no[i]) == 0)
            return 0;
    }
    return -1;
}

/* http://169.254.169.254/..., or http:// to a loopback address (an emulator, a sidecar). */
static int metadata_url_ok(const char *url)
{
    if (strncasecmp(url, "http://", 7) != 0 || strchr(url, '?') || strchr(url, '#') || strchr(url, '@'))
        return 0;
    const char *h = url + 7;
    size_t n = h[0] == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":/");
    static const char *const hosts[] = {"169.254.169.254", "localhost", "[::1]"};
    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
        if (n == strlen(hosts[i]) && strncasecmp(h, hosts[i], n) == 0)
            return 1;
    return n >= 9 && strncmp(h, "127.", 4) == 0 && strspn(h, "0123456789.") == n;
}

static int resource_id_ok(const char *v)
{
    if (strncasecmp(v, "/subscriptions/", 15) != 0 || strlen(v) > 512)
        return 0;
    for (const char *p = v; *p; p++)
        if (!(isalnum((unsigned char)*p) || strchr("/-_.()", *p)))
            return 0;
    return 1;
}

lb_result lb_azure_check(const lb_settings *s, lb_auth_type type, lb_error *err)
{
    char login[512], mgmt[128], origin[512];
    lb_result rc = lb_azure_cloud(s, login, sizeof(login), mgmt, sizeof(mgmt), err);
    if (rc != LB_OK)
        return rc;
    const char *lh = lb_settings_get(s, LB_KEY_AZURE_LOGIN_HOST), *rid = lb_settings_get(s, LB_KEY_AZURE_RESOURCE_ID),
               *msi = lb_settings_get(s, LB_KEY_AZURE_MSI_ENDPOINT);
    if (type == LB_AUTH_AZURE_CLIENT_SECRET && lh &&
        (lb_url_origin(login, origin, sizeof(origin)) != 0 || strcspn(login + 8, "/?#") != strlen(login + 8)))
        return lb_error_set(err, LB_ERR_SETTINGS,
                            "AzureLoginHost \"%.200s\" (from %s) is not an https:// URL without a path (for example "
                            "https://login.microsoftonline.com).", lh, lb_source_name(s->source[LB_KEY_AZURE_LOGIN_HOST]));
    const char *tenant = lb_settings_get(s, LB_KEY_AZURE_TENANT_ID);
    if (type == LB_AUTH_AZURE_CLIENT_SECRET && tenant &&
        (strlen(tenant) > 100 || strspn(tenant, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") !=
                                     strlen(tenant)))
        return lb_error_set(err, LB_ERR_SETTINGS,
                            "AzureTenantID \"%.100s\" (from %s) is not a tenant id: the directory (tenant) id, a "
                            "UUID, or its domain (contoso.onmicrosoft.com).", tenant,
                            lb_source_name(s->source[LB_KEY_AZURE_TENANT_ID]));
    if (rid && !resource_id_ok(rid))
        return lb_error_set(err, LB_ERR_SETTINGS,
                            "AzureResourceID (from %s) is not an Azure resource id: copy the workspace's from the "
                            "Azure portal (Properties, /subscriptions/<id>/resourceGroups/<group>/providers/"
                            "Microsoft.Databricks/workspaces/<name>), or leave it out.",
                            lb_source_name(s->source[LB_KEY_AZURE_RESOURCE_ID]));
    if (type == LB_AUTH_AZURE_MSI && msi && !metadata_url_ok(msi))
        return lb_error_set(err, LB_ERR_SETTINGS,
                            "AzureMsiEndpoint \"%.200s\" (from %s) is not the instance metadata service: an http:// "
                            "URL on 169.254.169.254 or a loopback address, without query (default "
                            "http://169.254.169.254/metadata/identity/oauth2/token).", msi,
                            lb_source_name(s->source[LB_KEY_AZURE_MSI_ENDPOINT]));
    return LB_OK;
}

int lb_auth_azure_configured(const lb_settings *s)
{
    return lb_settings_get(s, LB_KEY_AZURE_CLIENT_ID) || lb_settings_get(s, LB_KEY_AZURE_CLIENT_SECRET) ||
           lb_settings_get(s, LB_KEY_AZURE_TENANT_ID) || lb_azure_use_msi(s) == 1;
}
