/* Source oauth-m2m: a service principal's client credentials, exchanged at the workspace's
 * token endpoint (lb_oauth.c). Its PostgreSQL role is the client id. */
#include "lb_auth.h"

#include "lb_cache.h"

static void m2m_identity(const lb_settings *s, lb_buf *out)
{
    /* client id and the SHA-256 of the secret: the cache keys of before AuthType existed. */
    char hash[65];
    lb_sha256_hex(lb_settings_get(s, LB_KEY_CLIENT_SECRET), hash);
    lb_buf_printf(out, "%s\n%s", lb_settings_get(s, LB_KEY_CLIENT_ID), hash);
}

static lb_result m2m_token(const lb_auth_ctx *ctx, lb_token *out, lb_error *err)
{
    const lb_settings *s = ctx->settings;
    lb_oauth_client client = {.host = lb_settings_get(s, LB_KEY_HOST),
                              .token_endpoint = lb_settings_get(s, LB_KEY_TOKEN_ENDPOINT),
                              .client_id = lb_settings_get(s, LB_KEY_CLIENT_ID),
                              .client_secret = lb_settings_get(s, LB_KEY_CLIENT_SECRET),
                              .workspace_id = lb_settings_get(s, LB_KEY_WORKSPACE_ID),
                              .discovered_endpoint = ctx->discovered_endpoint};
    return lb_oauth_m2m_token(ctx->http, &client, out, err);
}

static const char *m2m_role(const lb_settings *s)
{
    return lb_settings_get(s, LB_KEY_CLIENT_ID);
}

const lb_auth_source lb_auth_m2m = {.name = "oauth-m2m", .person = 0, .fetched = 1, .exchanges = 1, .identity = m2m_identity,
                                    .token = m2m_token, .role = m2m_role,
                                    .fix_refused = "Check ClientID and ClientSecret."};
