/* Source pat: a personal access token (Token, DATABRICKS_TOKEN, profile token), used as the
 * bearer itself. It stands for a person: the PostgreSQL role is their user name. */
#include "lb_auth.h"

#include <string.h>

#include "lb_cache.h"
#include "lb_secmem.h"

static void pat_identity(const lb_settings *s, lb_buf *out)
{
    char hash[65];
    lb_sha256_hex(lb_settings_get(s, LB_KEY_TOKEN), hash);
    lb_buf_printf(out, "pat\n%s", hash);
}

static lb_result pat_token(const lb_auth_ctx *ctx, lb_token *out, lb_error *err)
{
    memset(out, 0, sizeof(*out));
    if ((out->access_token = lb_secmem_dup(lb_settings_get(ctx->settings, LB_KEY_TOKEN))) == NULL)
        return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    return LB_OK;
}

static const char *pat_role(const lb_settings *s)
{
    (void)s;
    return NULL;
}

const lb_auth_source lb_auth_pat = {.name = "pat", .person = 1, .fetched = 0, .identity = pat_identity,
                                    .token = pat_token, .role = pat_role,
                                    .fix_refused = "Check Token (a personal access token of this workspace, not "
                                                   "expired or revoked)."};
