/* Source azure-msi: an Azure managed identity's token from the instance metadata service
 * (GET {AzureMsiEndpoint}?api-version=2018-02-01&resource=..., header Metadata: true;
 * client_id=AzureClientID for a user-assigned identity), plain http on the link-local
 * address, never through a proxy, bounded by the connect's deadline. As the Databricks SDKs
 * do, a second token of the cloud's service management resource goes along as
 * X-Databricks-Azure-SP-Management-Token. Its PostgreSQL role is the identity's application
 * (client) id: AzureClientID, or for a system-assigned identity the appid claim of its token. */
#include "lb_auth_azure.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSI_CONNECT_MS 3000  /* the service is on the machine itself: it answers at once or not at all */
#define MSI_TOTAL_MS 10000   /* the Databricks SDKs' bound */
#define MSI_ATTEMPTS 3

static void msi_identity(const lb_settings *s, lb_buf *out)
{
    const char *id = lb_settings_get(s, LB_KEY_AZURE_CLIENT_ID);
    lb_buf_printf(out, "azure-msi\n%s\n%s", id ? id : "(system-assigned)",
                  lb_settings_get(s, LB_KEY_AZURE_MSI_ENDPOINT));
}

/* lb_http's message for a transport failure names the workspace: its detail is what follows
 * "<url>: " up to ". Check"; the whole message when it is not of that shape. */
static void transport_detail(const char *msg, const char *url, char *buf, size_t size)
{
    const char *at = strstr(msg, url);
    const char *from = at && strncmp(at + strlen(url), ": ", 2) == 0 ? at + strlen(url) + 2 : msg;
    const char *end = strstr(from, ". Check");
    snprintf(buf, size, "%.*s", end ? (int)(end - from) : (int)strlen(from), from);
}

static lb_result msi_request(const lb_auth_ctx *ctx, const char *login, const char *resource, lb_token *out,
                             lb_error *err)
{
    (void)login; /* the metadata service needs no login host */
    const lb_settings *s = ctx->settings;
    const char *endpoint = lb_settings_get(s, LB_KEY_AZURE_MSI_ENDPOINT), *id = lb_settings_get(s, LB_KEY_AZURE_CLIENT_ID);
    char *eres = lb_form_escape(resource), *eid = id ? lb_form_escape(id) : NULL;
    lb_buf url;
    lb_buf_init(&url, 0);
    lb_buf_printf(&url, "%s?api-version=2018-02-01&resource=%s", endpoint, eres ? eres : "");
    if (eid)
        lb_buf_printf(&url, "&client_id=%s", eid);
    int oom = url.overflow || !eres || (id && !eid);
    free(eres);
    free(eid);
    if (oom) {
        lb_buf_free(&url);
        return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    }
    lb_http_opts http = *ctx->http;
    http.connect_timeout_ms = MSI_CONNECT_MS;
    http.total_timeout_ms = MSI_TOTAL_MS;
    http.max_attempts = MSI_ATTEMPTS;
    http.workspace_id = NULL;
    static const char *const headers[] = {"Metadata: true", NULL};
    lb_http_request req = {.method = "GET", .url = url.data, .headers = headers, .metadata_service = 1};
    lb_http_response resp;
    lb_error herr;
    lb_error_init(&herr);
    lb_result rc = lb_http_send(&http, &req, &resp, &herr);
    lb_buf_free(&url);
    char who[300];
    snprintf(who, sizeof(who), "The Azure instance metadata service (%.200s)", endpoint);
    if (rc != LB_OK) {
        char detail[400];
        transport_detail(herr.message, endpoint, detail, sizeof(detail));
        return lb_error_set(err, rc == LB_ERR_TIMEOUT ? LB_ERR_TIMEOUT : LB_ERR_NETWORK,
                            "%s did not answer (%s). AuthType azure-msi works only on Azure compute with a managed "
                            "identity (a VM, a scale set, AKS, App Service): elsewhere use another AuthType, or point "
                            "AzureMsiEndpoint at the metadata service.", who, detail);
    }
    if (resp.status == 200) {
        rc = lb_azure_parse_token(resp.body, resp.body_len, who, out, err);
    } else {
        char why[600];
        lb_azure_describe_error(resp.body, resp.body_len, NULL, why, sizeof(why));
        if (resp.status == 400 || resp.status == 404)
            rc = lb_error_set(err, LB_ERR_AUTH,
                              "%s has no token for the managed identity %.64s (HTTP %ld, %s). %s", who,
                              id ? id : "(system-assigned)", resp.status, why,
                              id ? "Check AzureClientID: the client id of a user-assigned identity assigned to this "
                                   "machine."
                                 : "Assign a system-assigned identity to this machine, or set AzureClientID to a "
                                   "user-assigned identity's client id.");
        else
            rc = lb_error_set(err, LB_ERR_NETWORK, "%s answered HTTP %ld (%s); try again later.", who, resp.status,
                              why);
    }
    lb_http_response_free(&resp);
    return rc;
}

static lb_result msi_token(const lb_auth_ctx *ctx, lb_token *out, lb_error *err)
{
    const char *id = lb_settings_get(ctx->settings, LB_KEY_AZURE_CLIENT_ID);
    char who[200];
    snprintf(who, sizeof(who), "the managed identity %.100s (from the metadata service)", id ? id : "(system-assigned)");
    return lb_azure_token(ctx, msi_request, who, out, err);
}

static const char *msi_role(const lb_settings *s)
{
    return lb_settings_get(s, LB_KEY_AZURE_CLIENT_ID);
}

/* A system-assigned identity: the appid claim of its Azure Databricks token (the bearer's
 * first line), the application id of the identity's service principal. */
static int msi_role_from_token(const char *token, char *role, size_t size)
{
    return lb_azure_token_appid(token, role, size);
}

const lb_auth_source lb_auth_azure_msi = {
    .name = "azure-msi", .person = 0, .fetched = 1, .identity = msi_identity, .token = msi_token, .role = msi_role,
    .role_from_token = msi_role_from_token,
    .fix_refused = "Check that the managed identity (its application id) is a service principal of this workspace."};
