/* Workspace OAuth for a service principal (OAuth M2M, client credentials): discover
 * the token endpoint (on a URL that serves several workspaces, through the host's
 * /.well-known/databricks-config), then exchange the client id and secret (HTTP Basic) for an
 * access token with scope all-apis. The token is a secret: lb_token_clear wipes it.
 * Discovered token endpoints are remembered per workspace for the process. */
#ifndef LB_OAUTH_H
#define LB_OAUTH_H

#include "lb_error.h"
#include "lb_http.h"

typedef struct {
    char *access_token;
    long long expires_in; /* seconds, 0 when the server did not say (or said nonsense) */
    int expires_in_unreadable; /* 1: expires_in was there but not a positive number of seconds */
} lb_token;

typedef struct {
    const char *host;           /* the normalized "https://host[:port]" workspace URL */
    const char *token_endpoint; /* TokenEndpoint, or NULL: discovered */
    const char *client_id;
    const char *client_secret;
    const char *workspace_id;   /* WorkspaceID, or NULL: with one, discovery starts at the host's
                                   /.well-known/databricks-config (oidc_endpoint) */
    const char *discovered_endpoint; /* when token_endpoint is NULL: one lb_oauth_discover found (the
                                        caller's cache), checked again to be on host's origin; NULL:
                                        discovered here (remembered per process) */
} lb_oauth_client;

/* OAuth discovery alone: the token endpoint of host (with workspace_id, through the host's
 * /.well-known/databricks-config), malloc'd in *token_endpoint; one on another origin than
 * host's fails (LB_ERR_PROTOCOL). Remembers nothing: the caller caches (lb_connect). */
lb_result lb_oauth_discover(const lb_http_opts *http, const char *host, const char *workspace_id,
                            char **token_endpoint, lb_error *err);

/* The client credentials go only to the workspace's own origin (scheme, host, port of
 * host), or to token_endpoint when the user named one: a discovered token endpoint on
 * another origin fails (LB_ERR_PROTOCOL) naming both, before anything is sent, and is not
 * remembered. */
lb_result lb_oauth_m2m_token(const lb_http_opts *http, const lb_oauth_client *client, lb_token *out,
                             lb_error *err);
void lb_token_clear(lb_token *t);

/* Workload identity federation: exchanges subject_token (a JWT from the environment's identity
 * provider) at the workspace's token endpoint (discovered as above) with the token-exchange
 * grant (subject_token_type jwt, scope all-apis, client_id when the client has one: omitted
 * for account-wide federation). client->client_secret is not used. */
lb_result lb_oauth_exchange_token(const lb_http_opts *http, const lb_oauth_client *client, const char *subject_token,
                                  lb_token *out, lb_error *err);

/* Parses a token answer body (exposed for tests). */
lb_result lb_oauth_parse_token(const char *body, size_t len, lb_token *out, lb_error *err);

#endif
