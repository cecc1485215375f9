/* OAuth M2M against the workspace's /oidc endpoints (see lb_oauth.h). */
#include "lb_oauth.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lb_buf.h"
#include "lb_json.h"
#include "lb_secmem.h"

void lb_token_clear(lb_token *t)
{
    lb_secret_free(t->access_token);
    memset(t, 0, sizeof(*t));
}

/* Token endpoints already discovered, per workspace host (they do not change). */
typedef struct known {
    char *host;
    char *token_endpoint;
    struct known *next;
} known;
static known *discovered;
static pthread_mutex_t discovered_mu = PTHREAD_MUTEX_INITIALIZER;

static char *known_endpoint(const char *host)
{
    char *te = NULL;
    pthread_mutex_lock(&discovered_mu);
    for (known *k = discovered; k && te == NULL; k = k->next)
        if (strcmp(k->host, host) == 0)
            te = strdup(k->token_endpoint);
    pthread_mutex_unlock(&discovered_mu);
    return te;
}

static void remember_endpoint(const char *host, const char *te)
{
    known *k = calloc(1, sizeof(*k));
    if (k == NULL || (k->host = strdup(host)) == NULL || (k->token_endpoint = strdup(te)) == NULL) {
        if (k)
            free(k->host);
        free(k);
        return;
    }
    pthread_mutex_lock(&discovered_mu);
    k->next = discovered;
    discovered = k;
    pthread_mutex_unlock(&discovered_mu);
}

static lb_result discover_token_endpoint(const lb_http_opts *http, const char *host, char **out,
                                         lb_error *err)
{
    if ((*out = known_endpoint(host)) != NULL)
        return LB_OK;
    char url[1024];
    snprintf(url, sizeof(url), "%s/oidc/.well-known/oauth-authorization-server", host);
    lb_http_request req = {.method = "GET", .url = url};
    lb_http_response resp;
    lb_result rc = lb_http_send(http, &req, &resp, err);
    if (rc != LB_OK)
        return rc;
    if (resp.status == 404) {
        rc = lb_error_set(err, LB_ERR_NOT_FOUND,
                          "%s does not offer Databricks OAuth (HTTP 404 at "
                          "/oidc/.well-known/oauth-authorization-server): DatabricksHost must be the "
                          "workspace URL, e.g. https://<workspace>.cloud.databricks.com.", host);
        goto out;
    }
    if (resp.status != 200) {
        char why[400];
        lb_json_describe_error(resp.body, resp.body_len, why, sizeof(why));
        rc = lb_error_set(err, LB_ERR_NETWORK,
                          "OAuth discovery at %s failed with HTTP %ld (%s).", host, resp.status, why);
        goto out;
    }
    struct json_object *obj = lb_json_parse_object(resp.body, resp.body_len);
    const char *te = lb_json_string(obj, "token_endpoint");
    char host_origin[512] = "", te_origin[512] = "";
    if (te == NULL || strncasecmp(te, "https://", 8) != 0 || lb_url_origin(te, te_origin, sizeof(te_origin)) != 0) {
        rc = lb_error_set(err, LB_ERR_PROTOCOL,
                          "OAuth discovery at %s gave %s; DatabricksHost may not be a "
                          "Databricks workspace.", host,
                          obj == NULL ? "an answer that is not a JSON object"
                          : te == NULL ? "no token_endpoint" : "a token_endpoint that is not an https:// URL");
    } else if (lb_url_origin(host, host_origin, sizeof(host_origin)) != 0 || strcmp(host_origin, te_origin) != 0) {
        /* The client secret would go there: only the workspace itself may have it. */
        rc = lb_error_set(err, LB_ERR_PROTOCOL,
                          "OAuth discovery at %s named a token endpoint on %s, another origin than the "
                          "workspace's (%s): the client secret is sent only to the workspace, so nothing was sent. "
                          "Check DatabricksHost; if your token endpoint really is on another host, set "
                          "TokenEndpoint to its URL.", host, te_origin, host_origin);
    } else if ((*out = strdup(te)) == NULL) {
        rc = lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    } else {
        remember_endpoint(host, te);
    }
    json_object_put(obj);
out:
    lb_http_response_free(&resp);
    return rc;
}

lb_result lb_oauth_parse_token(const char *body, size_t len, lb_token *out, lb_error *err)
{
    memset(out, 0, sizeof(*out));
    struct json_object *obj = lb_json_parse_object(body, len);
    const char *tok = lb_json_string(obj, "access_token");
    const char *type = lb_json_string(obj, "token_type");
    lb_result rc = LB_OK;
    if (tok == NULL || tok[0] == '\0') {
        rc = lb_error_set(err, LB_ERR_PROTOCOL,
                          "The workspace's OAuth token answer %s.",
                          obj == NULL ? "is not a JSON object" : "has no access_token");
    } else if (type != NULL && strcasecmp(type, "Bearer") != 0) {
        rc = lb_error_set(err, LB_ERR_PROTOCOL,
                          "The workspace issued a token of type \"%.40s\"; expected Bearer.", type);
    } else if ((out->access_token = lb_secmem_dup(tok)) == NULL) {
        rc = lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    } else {
        /* A number, a numeric string or a non-integer number; anything else is an
         * unknown lifetime: the token serves this connect and is not cached. */
        long long e = 0;
        int r = lb_json_seconds(obj, "expires_in", &e);
        if (r == 0)
            out->expires_in = e;
        out->expires_in_unreadable = r == -2;
    }
    lb_json_put_wiped(obj);
    return rc;
}

static char *basic_auth(const char *id, const char *secret)
{
    /* RFC 6749 2.3.1: form-encode both parts before base64. */
    char *eid = lb_form_escape(id);
    char *esec = lb_form_escape(secret);
    char *out = NULL;
    if (eid && esec) {
        lb_buf pair;
        lb_buf_init(&pair, 0);
        lb_buf_puts(&pair, eid);
        lb_buf_puts(&pair, ":");
        lb_buf_puts(&pair, esec);
        char *b64 = pair.overflow ? NULL : lb_base64((const unsigned char *)pair.data, pair.len);
        lb_buf_free_secret(&pair);
        if (b64) {
            lb_buf hdr;
            lb_buf_init(&hdr, 0);
            lb_buf_puts(&hdr, "Basic ");
            lb_buf_puts(&hdr, b64);
            out = hdr.overflow ? NULL : lb_buf_steal(&hdr);
            lb_buf_free_secret(&hdr);
            lb_secret_free(b64);
        }
    }
    free(eid);
    lb_secret_free(esec);
    return out;
}

lb_result lb_oauth_m2m_token(const lb_http_opts *http, const lb_oauth_client *client, lb_token *out,
                             lb_error *err)
{
    memset(out, 0, sizeof(*out));
    char *token_url = NULL;
    lb_result rc = LB_OK;
    if (client->token_endpoint) {
        if ((token_url = strdup(client->token_endpoint)) == NULL)
            return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    } else if ((rc = discover_token_endpoint(http, client->host, &token_url, err)) != LB_OK) {
        return rc;
    }
    char *auth = basic_auth(client->client_id, client->client_secret);
    if (auth == NULL) {
        free(token_url);
        return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    }
    static const char form[] = "grant_type=client_credentials&scope=all-apis";
    lb_http_request req = {.method = "POST", .url = token_url, .authorization = auth,
                           .content_type = "application/x-www-form-urlencoded",
                           .body = form, .body_len = sizeof(form) - 1};
    lb_http_response resp;
    rc = lb_http_send(http, &req, &resp, err);
    lb_secret_free(auth);
    if (rc != LB_OK) {
        free(token_url);
        return rc;
    }
    if (resp.status == 200) {
        rc = lb_oauth_parse_token(resp.body, resp.body_len, out, err);
    } else {
        char why[400];
        lb_json_describe_error(resp.body, resp.body_len, why, sizeof(why));
        if (resp.status == 400 || resp.status == 401 || resp.status == 403) {
            int bad_client = strstr(why, "invalid_client") != NULL || resp.status == 401;
            rc = lb_error_set(err, LB_ERR_AUTH,
                              "The workspace rejected the service principal's credentials "
                              "(HTTP %ld, %s). %s", resp.status, why,
                              bad_client ? "Check ClientID and ClientSecret: use the service principal's "
                                           "client id (a UUID) and an OAuth secret generated for it, not "
                                           "a personal access token."
                                         : "Check that the service principal exists in this workspace.");
        } else {
            rc = lb_error_set(err, LB_ERR_NETWORK,
                              "The workspace's OAuth token endpoint %s answered HTTP %ld (%s); "
                              "try again later.", token_url, resp.status, why);
        }
    }
    free(token_url);
    lb_http_response_free(&resp);
    return rc;
}
