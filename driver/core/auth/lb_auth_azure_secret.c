/* Source azure-client-secret: an Entra ID application's client credentials (AzureClientID,
 * AzureClientSecret, AzureTenantID), exchanged at Entra ID's v1 token endpoint
 * ({login}/{tenant}/oauth2/token) for a token of the Azure Databricks resource and, as the
 * Databricks SDKs do, a second one of the cloud's service management resource, sent as
 * X-Databricks-Azure-SP-Management-Token (lb_auth_azure.c). Its PostgreSQL role is the
 * application (client) id. */
#include "lb_auth_azure.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_cache.h"
#include "lb_secmem.h"

static void secret_identity(const lb_settings *s, lb_buf *out)
{
    char hash[65], login[512] = "", mgmt[128];
    lb_error err;
    lb_error_init(&err);
    lb_sha256_hex(lb_settings_get(s, LB_KEY_AZURE_CLIENT_SECRET), hash);
    lb_azure_cloud(s, login, sizeof(login), mgmt, sizeof(mgmt), &err);
    lb_buf_printf(out, "azure-client-secret\n%s\n%s\n%s\n%s", lb_settings_get(s, LB_KEY_AZURE_CLIENT_ID),
                  lb_settings_get(s, LB_KEY_AZURE_TENANT_ID), login, hash);
}

/* One client-credentials request for resource. */
static lb_result entra_token(const lb_auth_ctx *ctx, const char *login, const char *resource, lb_token *out,
                             lb_error *err)
{
    const lb_settings *s = ctx->settings;
    const char *id = lb_settings_get(s, LB_KEY_AZURE_CLIENT_ID), *tenant = lb_settings_get(s, LB_KEY_AZURE_TENANT_ID),
               *secret = lb_settings_get(s, LB_KEY_AZURE_CLIENT_SECRET);
    char url[1024];
    snprintf(url, sizeof(url), "%s/%s/oauth2/token", login, tenant);
    char *eid = lb_form_escape(id), *esec = lb_form_escape(secret), *eres = lb_form_escape(resource);
    lb_buf form;
    lb_buf_init(&form, 0);
    lb_buf_printf(&form, "grant_type=client_credentials&client_id=%s&client_secret=%s&resource=%s",
                  eid ? eid : "", esec ? esec : "", eres ? eres : "");
    int oom = form.overflow || !eid || !esec || !eres;
    free(eid);
    lb_secret_free(esec);
    free(eres);
    if (oom) {
        lb_buf_free_secret(&form);
        return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    }
    lb_http_request req = {.method = "POST", .url = url, .content_type = "application/x-www-form-urlencoded",
                           .body = form.data, .body_len = form.len};
    lb_http_response resp;
    lb_error herr;
    lb_error_init(&herr);
    lb_result rc = lb_http_send(ctx->http, &req, &resp, &herr);
    lb_buf_free_secret(&form);
    if (rc != LB_OK)
        return lb_error_set(err, rc, "Entra ID (AuthType azure-client-secret, %s): %s Check AzureLoginHost / "
                            "AzureEnvironment and the network path.", login, herr.message);
    if (resp.status == 200) {
        rc = lb_azure_parse_token(resp.body, resp.body_len, "Entra ID", out, err);
    } else {
        char why[600];
        lb_azure_describe_error(resp.body, resp.body_len, secret, why, sizeof(why));
        if (resp.status >= 400 && resp.status < 500 && resp.status != 429)
            rc = lb_error_set(err, LB_ERR_AUTH,
                              "Entra ID refused the client credentials of application %.64s in tenant %.100s (HTTP "
                              "%ld, %s). Check AzureClientID (the application's client id), AzureClientSecret (the "
                              "secret's value, not its id, and not expired) and AzureTenantID.", id, tenant,
                              resp.status, why);
        else
            rc = lb_error_set(err, LB_ERR_NETWORK, "Entra ID's token endpoint %s answered HTTP %ld (%s); try again "
                              "later.", url, resp.status, why);
    }
    lb_http_response_free(&resp);
    return rc;
}

static lb_result secret_token(const lb_auth_ctx *ctx, lb_token *out, lb_error *err)
{
    char who[200];
    snprintf(who, sizeof(who), "Entra ID application %.100s",
             lb_settings_get(ctx->settings, LB_KEY_AZURE_CLIENT_ID));
    return lb_azure_token(ctx, entra_token, who, out, err);
}

static const char *secret_role(const lb_settings *s)
{
    return lb_settings_get(s, LB_KEY_AZURE_CLIENT_ID);
}

const lb_auth_source lb_auth_azure_secret = {
    .name = "azure-client-secret", .person = 0, .fetched = 1, .identity = secret_identity, .token = secret_token,
    .role = secret_role,
    .fix_refused = "Check that the Entra ID application AzureClientID is a service principal of this workspace, "
                   "and AzureTenantID."};
