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
#include "lb_log.h"
#include "lb_secmem.h"

void lb_token_clear(lb_token *t)
{
    lb_secret_free(t->access_token);
    memset(t, 0, sizeof(*t));
}

/* Token endpoints already discovered, per workspace host and workspace id (they do not change). */
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

/* The host's metadata, GET {host}/.well-known/databricks-config, as the SDKs read it on a
 * URL that serves several workspaces: its oidc_endpoint (an "{account_id}" in it filled from
 * the document's account_id), with "/.well-known/oauth-authorization-server" appended, is
 * where OAuth discovery happens. *url is NULL, and why says so, when the document is missing
 * (404) or unusable: the caller then falls back to the workspace's /oidc (as the SDKs do).
 * An oidc_endpoint on another origin than the workspace's is an error: the client secret
 * would follow it. */
static lb_result oidc_from_host_config(const lb_http_opts *http, const char *host, char **url, char *why,
                                       size_t why_size, lb_error *err)
{
    *url = NULL;
    why[0] = '\0';
    char cfg_url[1024];
    snprintf(cfg_url, sizeof(cfg_url), "%s/.well-known/databricks-config", host);
    lb_http_request req = {.method = "GET", .url = cfg_url};
    lb_http_response resp;
    lb_result rc = lb_http_send(http, &req, &resp, err);
    if (rc != LB_OK)
        return rc;
    struct json_object *obj = resp.status == 200 ? lb_json_parse_object(resp.body, resp.body_len) : NULL;
    const char *oidc = lb_json_string(obj, "oidc_endpoint");
    const char *account = lb_json_string(obj, "account_id");
    const char *slot = oidc ? strstr(oidc, "{account_id}") : NULL;
    char host_origin[512] = "", oidc_origin[512] = "";
    if (resp.status != 200)
        snprintf(why, why_size, "answered HTTP %ld", resp.status);
    else if (obj == NULL)
        snprintf(why, why_size, "is not a JSON object");
    else if (oidc == NULL || oidc[0] == '\0')
        snprintf(why, why_size, "has no oidc_endpoint");
    else if (strncasecmp(oidc, "https://", 8) != 0 || lb_url_origin(oidc, oidc_origin, sizeof(oidc_origin)) != 0 ||
             strcspn(oidc, "?#") != strlen(oidc))
        snprintf(why, why_size, "has an oidc_endpoint that is not an https:// URL");
    else if (slot && (account == NULL || account[0] == '\0' || strlen(account) > 64 ||
                      strspn(account, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != strlen(account)))
        snprintf(why, why_size, "has an oidc_endpoint with {account_id} but no usable account_id");
    else if (lb_url_origin(host, host_origin, sizeof(host_origin)) != 0 || strcmp(host_origin, oidc_origin) != 0)
        rc = lb_error_set(err, LB_ERR_PROTOCOL,
                          "%s named an OIDC endpoint on %s, another origin than the workspace's (%s): the client "
                          "secret is sent only to the workspace, so nothing was sent. Check DatabricksHost; if your "
                          "token endpoint really is on another host, set TokenEndpoint to its URL.",
                          cfg_url, oidc_origin, host_origin);
    else {
        lb_buf b;
        lb_buf_init(&b, 0);
        if (slot) {
            lb_buf_append(&b, oidc, (size_t)(slot - oidc));
            lb_buf_puts(&b, account);
            lb_buf_puts(&b, slot + strlen("{account_id}"));
        } else {
            lb_buf_puts(&b, oidc);
        }
        while (b.data && b.len > 0 && b.data[b.len - 1] == '/')
            b.data[--b.len] = '\0';
        lb_buf_puts(&b, "/.well-known/oauth-authorization-server");
        if (b.overflow || (*url = lb_buf_steal(&b)) == NULL)
            rc = lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
        lb_buf_free(&b);
    }
    lb_text_sanitize(why);
    json_object_put(obj);
    lb_http_response_free(&resp);
    return rc;
}

/* A discovered token endpoint must be an https URL on the workspace's own origin: the client
 * secret goes there. disc_url (or NULL: "a cached discovery") is named in the message. */
static lb_result check_token_endpoint(const char *host, const char *disc_url, const char *te, lb_error *err)
{
    char host_origin[512] = "", te_origin[512] = "";
    if (strncasecmp(te, "https://", 8) != 0 || lb_url_origin(te, te_origin, sizeof(te_origin)) != 0)
        return lb_error_set(err, LB_ERR_PROTOCOL,
                            "OAuth discovery at %s gave a token_endpoint that is not an https:// URL; DatabricksHost "
                            "may not be a Databricks workspace.", disc_url ? disc_url : "(cached)");
    if (lb_url_origin(host, host_origin, sizeof(host_origin)) != 0 || strcmp(host_origin, te_origin) != 0)
        /* The client secret would go there: only the workspace itself may have it. */
        return lb_error_set(err, LB_ERR_PROTOCOL,
                            "OAuth discovery at %s named a token endpoint on %s, another origin than the "
                            "workspace's (%s): the client secret is sent only to the workspace, so nothing was sent. "
                            "Check DatabricksHost; if your token endpoint really is on another host, set "
                            "TokenEndpoint to its URL.", host, te_origin, host_origin);
    return LB_OK;
}

/* The token endpoint, from OAuth discovery at disc_url (must be on the workspace's origin). */
static lb_result discover_at(const lb_http_opts *http, const char *host, const char *disc_url, char **out,
                             lb_error *err)
{
    size_t hl = strlen(host);
    const char *path = strncmp(disc_url, host, hl) == 0 ? disc_url + hl : disc_url; /* for messages */
    lb_http_request req = {.method = "GET", .url = disc_url};
    lb_http_response resp;
    lb_result rc = lb_http_send(http, &req, &resp, err);
    if (rc != LB_OK)
        return rc;
    if (resp.status == 404) {
        rc = lb_error_set(err, LB_ERR_NOT_FOUND,
                          "%s does not offer Databricks OAuth (HTTP 404 at %s): DatabricksHost must be the "
                          "workspace URL, e.g. https://<workspace>.cloud.databricks.com.", host, path);
        goto out;
    }
    if (resp.status != 200) {
        char why[400];
        lb_json_describe_error(resp.body, resp.body_len, why, sizeof(why));
        rc = lb_error_set(err, LB_ERR_NETWORK,
                          "OAuth discovery at %s failed with HTTP %ld (%s).", disc_url, resp.status, why);
        goto out;
    }
    struct json_object *obj = lb_json_parse_object(resp.body, resp.body_len);
    const char *te = lb_json_string(obj, "token_endpoint");
    if (te == NULL || strncasecmp(te, "https://", 8) != 0) {
        rc = lb_error_set(err, LB_ERR_PROTOCOL,
                          "OAuth discovery at %s gave %s; DatabricksHost may not be a "
                          "Databricks workspace.", disc_url,
                          obj == NULL ? "an answer that is not a JSON object"
                          : te == NULL ? "no token_endpoint" : "a token_endpoint that is not an https:// URL");
    } else if ((rc = check_token_endpoint(host, disc_url, te, err)) != LB_OK) {
        /* said */
    } else if ((*out = strdup(te)) == NULL) {
        rc = lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    }
    json_object_put(obj);
out:
    lb_http_response_free(&resp);
    return rc;
}

/* The token endpoint: remembered per workspace host and workspace id, else discovered. With
 * a workspace id (a URL that may serve several workspaces) the discovery URL comes from the
 * host's /.well-known/databricks-config, as the SDKs do; without one, or when that document
 * is missing or unusable, it is {host}/oidc/.well-known/oauth-authorization-server. */
lb_result lb_oauth_discover(const lb_http_opts *http, const char *host, const char *workspace_id, char **out,
                            lb_error *err)
{
    *out = NULL;
    char *disc_url = NULL, why[200] = "";
    lb_result rc = LB_OK;
    if (workspace_id) {
        rc = oidc_from_host_config(http, host, &disc_url, why, sizeof(why), err);
        if (rc != LB_OK)
            return rc;
        if (disc_url == NULL)
            lb_log(http->log, LB_LOG_INFO, "oauth: %s/.well-known/databricks-config %s: using "
                   "/oidc/.well-known/oauth-authorization-server", host, why);
    }
    if (disc_url == NULL) {
        lb_buf b;
        lb_buf_init(&b, 0);
        lb_buf_printf(&b, "%s/oidc/.well-known/oauth-authorization-server", host);
        disc_url = b.overflow ? NULL : lb_buf_steal(&b);
        lb_buf_free(&b);
        if (disc_url == NULL)
            return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    }
    lb_error derr;
    lb_error_init(&derr);
    rc = discover_at(http, host, disc_url, out, &derr);
    if (rc != LB_OK && why[0] && rc != LB_ERR_TIMEOUT && rc != LB_ERR_NOMEM)
        lb_error_set(err, rc, "%s (%s/.well-known/databricks-config %s, so the driver asked "
                     "/oidc/.well-known/oauth-authorization-server instead.)", derr.message, host, why);
    else if (rc != LB_OK)
        *err = derr;
    free(disc_url);
    return rc;
}

static lb_result discover_token_endpoint(const lb_http_opts *http, const char *host, const char *workspace_id,
                                         char **out, lb_error *err)
{
    char known_key[1200];
    snprintf(known_key, sizeof(known_key), "%s\n%s", host, workspace_id ? workspace_id : "");
    if ((*out = known_endpoint(known_key)) != NULL)
        return LB_OK;
    lb_result rc = lb_oauth_discover(http, host, workspace_id, out, err);
    if (rc == LB_OK)
        remember_endpoint(known_key, *out);
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

/* The token URL (malloc'd): TokenEndpoint as given; else the one the caller's cache found,
 * checked again to be on the workspace's origin (a cache file must not send the secret
 * elsewhere); else discovered here. */
static lb_result token_url_of(const lb_http_opts *http, const lb_oauth_client *client, char **url, lb_error *err)
{
    if (client->token_endpoint == NULL && client->discovered_endpoint == NULL)
        return discover_token_endpoint(http, client->host, client->workspace_id, url, err);
    if (client->token_endpoint == NULL) {
        lb_result rc = check_token_endpoint(client->host, NULL, client->discovered_endpoint, err);
        if (rc != LB_OK)
            return rc;
    }
    if ((*url = strdup(client->token_endpoint ? client->token_endpoint : client->discovered_endpoint)) == NULL)
        return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    return LB_OK;
}

lb_result lb_oauth_exchange_token(const lb_http_opts *http, const lb_oauth_client *client, const char *subject_token,
                                  lb_token *out, lb_error *err)
{
    memset(out, 0, sizeof(*out));
    char *token_url = NULL;
    lb_result rc = token_url_of(http, client, &token_url, err);
    if (rc != LB_OK)
        return rc;
    char *subject = lb_form_escape(subject_token), *id = client->client_id ? lb_form_escape(client->client_id) : NULL;
    lb_buf form;
    lb_buf_init(&form, 0);
    lb_buf_puts(&form, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange"
                       "&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt&scope=all-apis&subject_token=");
    lb_buf_puts(&form, subject ? subject : "");
    if (id)
        lb_buf_printf(&form, "&client_id=%s", id);
    lb_secret_free(subject);
    free(id);
    if (form.overflow || subject == NULL || (client->client_id && id == NULL)) {
        lb_buf_free_secret(&form);
        free(token_url);
        return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    }
    lb_http_request req = {.method = "POST", .url = token_url, .content_type = "application/x-www-form-urlencoded",
                           .body = form.data, .body_len = form.len};
    lb_http_response resp;
    rc = lb_http_send(http, &req, &resp, err);
    lb_buf_free_secret(&form);
    if (rc != LB_OK) {
        free(token_url);
        return rc;
    }
    if (resp.status == 200) {
        rc = lb_oauth_parse_token(resp.body, resp.body_len, out, err);
    } else {
        char why[400];
        lb_json_describe_error(resp.body, resp.body_len, why, sizeof(why));
        if (resp.status == 400 || resp.status == 401 || resp.status == 403)
            rc = lb_error_set(err, LB_ERR_AUTH,
                              "The workspace refused the federated token exchange (HTTP %ld, %s). Check the "
                              "identity provider's token (not expired; its issuer, audience and subject matching "
                              "a federation policy of the service principal%s%s) and ClientID.",
                              resp.status, why, client->client_id ? " " : "",
                              client->client_id ? client->client_id : "");
        else
            rc = lb_error_set(err, LB_ERR_NETWORK,
                              "The workspace's OAuth token endpoint %s answered HTTP %ld (%s); "
                              "try again later.", token_url, resp.status, why);
    }
    free(token_url);
    lb_http_response_free(&resp);
    return rc;
}

lb_result lb_oauth_m2m_token(const lb_http_opts *http, const lb_oauth_client *client, lb_token *out,
                             lb_error *err)
{
    memset(out, 0, sizeof(*out));
    char *token_url = NULL;
    lb_result rc = token_url_of(http, client, &token_url, err);
    if (rc != LB_OK)
        return rc;
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
