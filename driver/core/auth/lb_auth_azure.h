/* What the two Azure sources (azure-client-secret, azure-msi) share: the Azure cloud's
 * endpoints, the token answers of Entra ID and of the instance metadata service, their error
 * bodies, the application id in a token's claims, and the bearer value that carries the
 * Databricks SDKs' management-token headers (see lb_http_bearer). Internal to driver/core/auth. */
#ifndef LB_AUTH_AZURE_H
#define LB_AUTH_AZURE_H

#include "lb_auth.h"

/* The Azure Databricks application: the resource every Entra token for a workspace is for. */
#define LB_AZURE_DATABRICKS_RESOURCE "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d"

/* The Entra login URL (AzureLoginHost; else the cloud's: AzureEnvironment, else the one the
 * workspace host's domain implies, else PUBLIC), without a trailing slash, and the cloud's
 * service management resource (the management token's). */
lb_result lb_azure_cloud(const lb_settings *s, char *login, size_t login_size, char *management,
                         size_t management_size, lb_error *err);

/* A token answer of Entra ID (v1: expires_in as a string) or of the metadata service:
 * access_token, token_type Bearer, expires_in (a number or a string), else expires_on (epoch
 * seconds). who names the service in messages. */
lb_result lb_azure_parse_token(const char *body, size_t len, const char *who, lb_token *out, lb_error *err);

/* An Entra or metadata-service error body for a message: "error: first line of
 * error_description" (AADSTS code included), printable; secret (may be NULL) never shows. */
void lb_azure_describe_error(const char *body, size_t len, const char *secret, char *buf, size_t size);

/* The workspace bearer value: the Databricks token, then the header lines the Databricks SDKs
 * add for Azure (X-Databricks-Azure-SP-Management-Token; X-Databricks-Azure-Workspace-Resource-Id
 * when AzureResourceID is set). out lives as long as the shorter of the two tokens. Both inputs
 * are cleared. */
lb_result lb_azure_bearer(const lb_settings *s, lb_token *databricks, lb_token *management, lb_token *out,
                          lb_error *err);

/* One token for resource (the Azure Databricks application, or the cloud's management). */
typedef lb_result (*lb_azure_fetch)(const lb_auth_ctx *ctx, const char *login, const char *resource, lb_token *out,
                                    lb_error *err);

/* The Azure sources' token: fetch's token of the Azure Databricks resource and its token of the
 * cloud's management resource, as the bearer value (lb_azure_bearer); logs who got them (who)
 * and how long it took. */
lb_result lb_azure_token(const lb_auth_ctx *ctx, lb_azure_fetch fetch, const char *who, lb_token *out, lb_error *err);

/* The application id in an Entra access token's claims (appid; azp in a v2 token), printable;
 * 0 when found. */
int lb_azure_token_appid(const char *token, char *out, size_t size);

/* The checks of the Azure keys for the chosen source (AzureLoginHost an https:// URL,
 * AzureEnvironment a known cloud, AzureMsiEndpoint an http:// URL on the link-local metadata
 * address or loopback, AzureResourceID a resource id). */
lb_result lb_azure_check(const lb_settings *s, lb_auth_type type, lb_error *err);

/* AzureUseMSI: 1 for true/yes/1, 0 for false/no/0/unset, -1 for anything else. */
int lb_azure_use_msi(const lb_settings *s);

#endif
