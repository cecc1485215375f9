/* The connect flow (see lb_connect.h). */
#include "lb_connect.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lb_buf.h"
#include "lb_file.h"
#include "lb_oauth.h"
#include "lb_provisioned.h"
#include "lb_secmem.h"

char *lb_build_psql_connstr(const lb_settings *s, const lb_kvlist *input, const char *credential)
{
    lb_buf b;
    lb_buf_init(&b, 0);
    if (s->dsn)
        lb_connstr_append(&b, "DSN", s->dsn, 0);
    for (size_t i = 0; input && i < input->count; i++) {
        const char *key = input->items[i].key;
        if (lb_key_is_owned(key) || strcasecmp(key, "Debug") == 0 || strcasecmp(key, "CommLog") == 0)
            continue;
        /* Every occurrence, in order: psqlODBC decides between repeats (it takes the
         * last) as it would without the driver. */
        lb_connstr_append(&b, key, input->items[i].value, 0);
    }
    /* psqlODBC's own logs print the connection string, password included. */
    lb_connstr_append(&b, "Debug", "0", 0);
    lb_connstr_append(&b, "CommLog", "0", 0);
    lb_connstr_append(&b, "Servername", lb_settings_get(s, LB_KEY_SERVER), 0);
    lb_connstr_append(&b, "Port", lb_settings_get(s, LB_KEY_PORT), 0);
    lb_connstr_append(&b, "Database", lb_settings_get(s, LB_KEY_DATABASE), 0);
    lb_connstr_append(&b, "UID", lb_settings_get(s, LB_KEY_UID), 0);
    lb_connstr_append(&b, "SSLmode", lb_settings_get(s, LB_KEY_SSLMODE), 0);
    /* psqlODBC has no key for libpq's sslrootcert: it goes in pqopt, after the user's own
     * options (from the connection string or the DSN: psqlODBC would drop the DSN's once
     * the string has a pqopt), single-quoted as libpq's conninfo wants. */
    const char *pqopt = lb_settings_get(s, LB_KEY_PQOPT), *root = lb_settings_get(s, LB_KEY_SSL_ROOT_CERT);
    if (root) {
        lb_buf o;
        lb_buf_init(&o, 0);
        if (pqopt)
            lb_buf_printf(&o, "%s ", pqopt);
        lb_buf_puts(&o, "sslrootcert='");
        for (const char *p = root; *p; p++) {
            if (*p == '\'' || *p == '\\')
                lb_buf_puts(&o, "\\");
            lb_buf_append(&o, p, 1);
        }
        lb_buf_puts(&o, "'");
        if (o.overflow)
            b.overflow = 1;
        else
            lb_connstr_append(&b, "pqopt", o.data, 1);
        lb_buf_free(&o);
    } else if (pqopt) {
        lb_connstr_append(&b, "pqopt", pqopt, 1);
    }
    /* Braced: psqlODBC percent-decodes an unbraced password. */
    lb_connstr_append(&b, "PWD", credential, 1);
    char *out = b.overflow || b.data == NULL ? NULL : lb_secmem_dup(b.data); /* kept out of core dumps */
    lb_buf_free_secret(&b);
    return out;
}

char *lb_build_output_connstr(const lb_kvlist *input)
{
    lb_buf b;
    lb_buf_init(&b, 0);
    for (size_t i = 0; input && i < input->count; i++)
        if (!lb_key_is_secret(input->items[i].key))
            lb_connstr_append(&b, input->items[i].key, input->items[i].value, 0);
    char *out = b.overflow ? NULL : lb_buf_steal(&b);
    lb_buf_free(&b);
    return out;
}

void lb_plan_free(lb_plan *plan)
{
    lb_secret_free(plan->psql_connstr);
    free(plan->out_connstr);
    lb_secret_free(plan->credential);
    lb_settings_free(&plan->settings);
    memset(plan, 0, sizeof(*plan));
}

/* A secret in the DSN's own section of an odbc.ini that other users can read deserves
 * a warning; a secret file named there (ClientSecretFile) or another DSN's does not. */
static void warn_exposed_secret(const lb_plan *plan)
{
    if (plan->settings.dsn == NULL || !lb_log_enabled(&plan->log, LB_LOG_ERROR))
        return;
    char user[4096], sys[4096];
    const char *ini = secure_getenv("ODBCINI"), *home = secure_getenv("HOME"), *sysdir = secure_getenv("ODBCSYSINI");
    snprintf(user, sizeof(user), "%s%s", ini ? ini : home ? home : "", ini ? "" : "/.odbc.ini");
    snprintf(sys, sizeof(sys), "%s/odbc.ini", sysdir ? sysdir : "/etc");
    const char *files[] = {user, sys};
    for (int i = 0; i < 2; i++) {
        lb_file_info info;
        size_t len = 0;
        char *text = lb_file_slurp(files[i], LB_FILE_FOLLOW, 1024 * 1024, &len, &info);
        if (text == NULL)
            continue;
        lb_kvlist section;
        lb_kvlist_init(&section);
        const char *exposed = NULL;
        if ((info.mode & 044) && lb_ini_section(text, plan->settings.dsn, &section))
            for (size_t k = 0; exposed == NULL && k < section.count; k++)
                if (lb_key_is_secret(section.items[k].key) && section.items[k].value[0])
                    exposed = section.items[k].key;
        if (exposed)
            lb_log(&plan->log, LB_LOG_ERROR,
                   "warning: DSN %s holds %s in %s, which other users can read (mode %03o): chmod 600 it, or "
                   "move the secret to ClientSecretFile or DATABRICKS_CLIENT_SECRET",
                   plan->settings.dsn, exposed, files[i], (unsigned)(info.mode & 0777));
        lb_kvlist_free(&section);
        lb_wipe(text, len);
        free(text);
    }
}

/* Perl DBI, RODBC and GDAL print the whole connection string in their error messages,
 * so a secret given there ends up wherever the application's errors go. Said once per
 * process, at error level, naming the key (never the value). A proxy URL without
 * credentials (no '@') is no secret; SQLConnect's arguments are no connection string. */
static void warn_secret_in_connstr(const lb_plan *plan, const lb_sources *sources)
{
    static atomic_int warned;
    if ((sources && sources->from_arguments) || plan->input == NULL || !lb_log_enabled(&plan->log, LB_LOG_ERROR) ||
        atomic_load(&warned))
        return;
    const char *key = NULL;
    for (size_t i = 0; key == NULL && i < plan->input->count; i++) {
        const lb_kv *kv = &plan->input->items[i];
        if (lb_key_is_secret(kv->key) && kv->value[0] &&
            (strcasecmp(kv->key, "Proxy") != 0 || strchr(kv->value, '@') != NULL))
            key = kv->key;
    }
    if (key == NULL || atomic_exchange(&warned, 1))
        return;
    lb_log(&plan->log, LB_LOG_ERROR,
           "warning: the connection string holds %.40s. Some applications (Perl DBI, RODBC, GDAL) print the whole "
           "connection string in their error messages: keep the secret out of it, in the DSN's ClientSecretFile, "
           "DATABRICKS_CLIENT_SECRET or a ~/.databrickscfg profile (said once per process)", key);
}

lb_result lb_plan_settings(lb_plan *plan, const lb_kvlist *input, const lb_sources *sources, long login_timeout_s,
                           lb_error *err)
{
    memset(plan, 0, sizeof(*plan));
    plan->input = input;
    plan->start_ms = lb_now_ms();
    lb_result rc = lb_settings_resolve(input, sources, &plan->settings, err);
    if (rc != LB_OK) {
        lb_logger_from_env(&plan->log);
        lb_log(&plan->log, LB_LOG_ERROR, "settings: %s", err->message);
        return rc;
    }
    lb_deadline_start(&plan->deadline, login_timeout_s, plan->settings.connect_timeout);
    lb_logger_init(&plan->log, plan->settings.log_level, lb_settings_get(&plan->settings, LB_KEY_LOG_FILE));
    plan->settings_ms = lb_now_ms() - plan->start_ms;
    if (lb_log_enabled(&plan->log, LB_LOG_DEBUG)) {
        lb_buf b;
        lb_buf_init(&b, 0);
        lb_log_connstr(input, &b);
        lb_log(&plan->log, LB_LOG_DEBUG, "connect: input %s", b.data ? b.data : "");
        lb_buf_free(&b);
    }
    const char *server = lb_settings_get(&plan->settings, LB_KEY_SERVER);
    lb_log(&plan->log, LB_LOG_INFO, "connect: workspace %s, client id %s, %s %s, server %s:%d, user %s%s%s",
           lb_settings_get(&plan->settings, LB_KEY_HOST), lb_settings_get(&plan->settings, LB_KEY_CLIENT_ID),
           lb_plan_target_kind(plan), lb_plan_target(plan), server ? server : "(from the instance look-up)",
           plan->settings.port, lb_settings_get(&plan->settings, LB_KEY_UID), plan->settings.dsn ? ", DSN " : "",
           plan->settings.dsn ? plan->settings.dsn : "");
    warn_exposed_secret(plan);
    warn_secret_in_connstr(plan, sources);
    return LB_OK;
}

static lb_http_opts http_opts(const lb_plan *plan)
{
    lb_http_opts http = {.cafile = lb_settings_get(&plan->settings, LB_KEY_CAFILE),
                         .proxy = lb_settings_get(&plan->settings, LB_KEY_PROXY),
                         .deadline = &plan->deadline,
                         .log = &plan->log,
                         .workspace_id = lb_settings_get(&plan->settings, LB_KEY_WORKSPACE_ID)};
    return http;
}

/* Cache keys: everything that changes what the value grants. The secret enters only
 * as a hash, so that a wrong secret never reuses a value fetched with the right one. */
void lb_plan_cache_key(const lb_plan *plan, const char *kind, lb_buf *key)
{
    const lb_settings *s = &plan->settings;
    char secret_hash[65];
    lb_sha256_hex(lb_settings_get(s, LB_KEY_CLIENT_SECRET), secret_hash);
    lb_buf_printf(key, "%s\n%s\n%s\n%s\n%s", kind, lb_settings_get(s, LB_KEY_HOST), lb_settings_get(s, LB_KEY_CLIENT_ID),
                  secret_hash, lb_settings_get(s, LB_KEY_PROXY) ? "proxy" : "");
    if (strcmp(kind, "credential") == 0 || strcmp(kind, "instance host") == 0)
        /* An endpoint and an instance of the same name are different targets. */
        lb_buf_printf(key, "\n%s\n%s", lb_plan_target_kind(plan), lb_plan_target(plan));
    else if (lb_settings_get(s, LB_KEY_TOKEN_ENDPOINT))
        lb_buf_printf(key, "\n%s", lb_settings_get(s, LB_KEY_TOKEN_ENDPOINT));
    /* One URL may serve several workspaces: their values are never shared. (Last, and only
     * when set, so that the keys of a workspace without one stay as they were.) */
    if (lb_settings_get(s, LB_KEY_WORKSPACE_ID))
        lb_buf_printf(key, "\nworkspace %s", lb_settings_get(s, LB_KEY_WORKSPACE_ID));
}

static lb_cache_opts cache_opts(const lb_plan *plan, const char *what, int file_allowed)
{
    lb_cache_opts o = {.mode = plan->settings.cache_mode, .margin_s = plan->settings.refresh_margin,
                       .log = &plan->log, .what = what, .deadline = &plan->deadline};
    /* Workspace tokens grant every API (scope all-apis): they never go to disk. */
    if (o.mode == LB_CACHE_FILE && !file_allowed)
        o.mode = LB_CACHE_MEMORY;
    return o;
}

/* OAuth discovery as a cache fetch: the workspace's token endpoint, public metadata. */
static lb_result fetch_discovery(void *ctx, lb_cache_item *out, lb_error *err)
{
    lb_plan *plan = ctx;
    lb_http_opts http = http_opts(plan);
    char *te = NULL;
    lb_result rc = lb_oauth_discover(&http, lb_settings_get(&plan->settings, LB_KEY_HOST),
                                     lb_settings_get(&plan->settings, LB_KEY_WORKSPACE_ID), &te, err);
    if (rc != LB_OK)
        return rc;
    out->value = lb_secmem_dup(te);
    free(te);
    if (out->value == NULL)
        return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    out->lifetime_s = 2 * LB_DISCOVERY_CACHE_S; /* the cache reuses a value for half its life */
    return LB_OK;
}

/* The token endpoint from OAuth discovery, cached like credentials (LB_DISCOVERY_CACHE_S): one
 * discovery for concurrent connects (single flight, in memory even with TokenCache=off: it is
 * no credential) and, with TokenCache=file, kept in the file cache so that a new process does
 * not ask again. Keyed by workspace URL, workspace id and whether a proxy is used; no
 * identity: every client of a workspace gets the same answer. */
static lb_result get_token_endpoint(lb_plan *plan, char **te, lb_error *err)
{
    const lb_settings *s = &plan->settings;
    lb_buf key;
    lb_buf_init(&key, 0);
    lb_buf_printf(&key, "discovery\n%s\n%s\n%s", lb_settings_get(s, LB_KEY_HOST),
                  lb_settings_get(s, LB_KEY_WORKSPACE_ID) ? lb_settings_get(s, LB_KEY_WORKSPACE_ID) : "",
                  lb_settings_get(s, LB_KEY_PROXY) ? "proxy" : "");
    lb_cache_opts o = cache_opts(plan, "OAuth discovery", 1);
    o.margin_s = 0;
    if (o.mode == LB_CACHE_OFF)
        o.mode = LB_CACHE_MEMORY;
    lb_cache_origin origin;
    lb_result rc = key.overflow ? lb_error_set(err, LB_ERR_NOMEM, "Out of memory.")
                                : lb_cache_get(key.data, &o, fetch_discovery, plan, te, &origin, err);
    lb_buf_free(&key);
    return rc;
}

static lb_result fetch_token(void *ctx, lb_cache_item *out, lb_error *err)
{
    lb_plan *plan = ctx;
    lb_http_opts http = http_opts(plan);
    lb_token t;
    const lb_settings *s = &plan->settings;
    lb_oauth_client client = {.host = lb_settings_get(s, LB_KEY_HOST),
                              .token_endpoint = lb_settings_get(s, LB_KEY_TOKEN_ENDPOINT),
                              .client_id = lb_settings_get(s, LB_KEY_CLIENT_ID),
                              .client_secret = lb_settings_get(s, LB_KEY_CLIENT_SECRET),
                              .workspace_id = lb_settings_get(s, LB_KEY_WORKSPACE_ID)};
    char *discovered = NULL;
    if (client.token_endpoint == NULL) {
        lb_result drc = get_token_endpoint(plan, &discovered, err);
        if (drc != LB_OK)
            return drc;
        client.discovered_endpoint = discovered;
    }
    lb_result rc = lb_oauth_m2m_token(&http, &client, &t, err);
    lb_secret_free(discovered);
    if (rc == LB_OK) {
        out->value = t.access_token;
        out->lifetime_s = t.expires_in;
        if (t.expires_in_unreadable)
            lb_log(&plan->log, LB_LOG_INFO, "token: the workspace's expires_in is not a number of seconds: the "
                   "token is used for this connect only (not cached)");
    }
    return rc;
}

static lb_result get_token(lb_plan *plan, char **token, lb_error *err)
{
    lb_buf key;
    lb_buf_init(&key, 0);
    lb_plan_cache_key(plan, "token", &key);
    lb_cache_opts o = cache_opts(plan, "workspace token", 0);
    long long t0 = lb_now_ms();
    lb_result rc = key.overflow ? lb_error_set(err, LB_ERR_NOMEM, "Out of memory.")
                                : lb_cache_get(key.data, &o, fetch_token, plan, token, &plan->token_origin, err);
    plan->token_ms += lb_now_ms() - t0;
    lb_buf_free(&key);
    return rc;
}

static void forget_token(lb_plan *plan, const char *token)
{
    lb_buf key;
    lb_buf_init(&key, 0);
    lb_plan_cache_key(plan, "token", &key);
    lb_cache_opts o = cache_opts(plan, "workspace token", 0);
    if (!key.overflow)
        lb_cache_invalidate(key.data, token, &o);
    lb_buf_free(&key);
}

static lb_result fetch_credential(void *ctx, lb_cache_item *out, lb_error *err)
{
    lb_plan *plan = ctx;
    lb_http_opts http = http_opts(plan);
    const lb_settings *s = &plan->settings;
    for (int tries = 0;; tries++) {
        char *token = NULL;
        lb_result rc = get_token(plan, &token, err);
        if (rc != LB_OK)
            return rc;
        lb_credential cred;
        long status = 0;
        lb_error cerr;
        lb_error_init(&cerr);
        if (lb_settings_get(s, LB_KEY_INSTANCE))
            rc = lb_provisioned_credential(&http, lb_settings_get(s, LB_KEY_HOST), token,
                                           lb_settings_get(s, LB_KEY_INSTANCE), &cred, &status, &cerr);
        else
            rc = lb_lakebase_credential(&http, lb_settings_get(s, LB_KEY_HOST), token,
                                        lb_settings_get(s, LB_KEY_ENDPOINT), &cred, &status, &cerr);
        if (rc != LB_OK && status == 401 && plan->token_origin != LB_FROM_FETCH && tries == 0) {
            /* The cached workspace token was refused (revoked?): fetch a new one, once. */
            lb_log(&plan->log, LB_LOG_INFO, "credential: the cached workspace token was refused; fetching a new one");
            forget_token(plan, token);
            lb_secret_free(token);
            continue;
        }
        lb_secret_free(token);
        if (rc != LB_OK) {
            *err = cerr;
            return rc;
        }
        out->value = cred.token;
        out->lifetime_s = cred.expire_time ? (long long)(cred.expire_time - time(NULL)) : 0;
        return LB_OK;
    }
}

const char *lb_plan_target_kind(const lb_plan *plan)
{
    return lb_settings_get(&plan->settings, LB_KEY_INSTANCE) ? "instance" : "endpoint";
}

const char *lb_plan_target(const lb_plan *plan)
{
    const char *inst = lb_settings_get(&plan->settings, LB_KEY_INSTANCE);
    return inst ? inst : lb_settings_get(&plan->settings, LB_KEY_ENDPOINT);
}

int lb_plan_state_awake(const lb_plan *plan, const char *state)
{
    return strcmp(state, lb_settings_get(&plan->settings, LB_KEY_INSTANCE) ? "AVAILABLE" : "ACTIVE") == 0;
}

lb_result lb_plan_state_refused(const lb_plan *plan, const char *state, lb_error *err)
{
    const char *instance = lb_settings_get(&plan->settings, LB_KEY_INSTANCE);
    return instance ? lb_provisioned_refused(instance, state, err) : LB_OK;
}

/* The Provisioned instance look-up as a cache fetch: the instance's read_write_dns once
 * it is AVAILABLE (lb_provisioned_await waits through transient states and refuses the
 * others), with the workspace token (a refused cached one is replaced once). */
static lb_result fetch_instance_host(void *ctx, lb_cache_item *out, lb_error *err)
{
    lb_plan *plan = ctx;
    lb_http_opts http = http_opts(plan);
    const lb_settings *s = &plan->settings;
    const char *instance = lb_settings_get(s, LB_KEY_INSTANCE);
    for (int tries = 0;; tries++) {
        char *token = NULL;
        lb_result rc = get_token(plan, &token, err);
        if (rc != LB_OK)
            return rc;
        lb_instance inst;
        long status = 0;
        lb_error ierr;
        lb_error_init(&ierr);
        rc = lb_provisioned_await(&http, lb_settings_get(s, LB_KEY_HOST), token, instance, &plan->log, &inst, &status,
                                  &ierr);
        if (rc != LB_OK && status == 401 && plan->token_origin != LB_FROM_FETCH && tries == 0) {
            lb_log(&plan->log, LB_LOG_INFO, "instance: the cached workspace token was refused; fetching a new one");
            forget_token(plan, token);
            lb_secret_free(token);
            continue;
        }
        lb_secret_free(token);
        if (rc != LB_OK) {
            *err = ierr;
            return rc;
        }
        if (inst.read_write_dns[0] == '\0')
            return lb_error_set(err, LB_ERR_PROTOCOL,
                                "The look-up of instance %s (state %s) answered no read_write_dns: set Servername "
                                "to the instance's host name.", instance, inst.state);
        if ((out->value = lb_secmem_dup(inst.read_write_dns)) == NULL)
            return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
        out->lifetime_s = 2 * LB_INSTANCE_HOST_CACHE_S; /* the cache reuses a value for half its life */
        return LB_OK;
    }
}

/* A Provisioned instance: looks it up (through a per-process memory cache of its host,
 * LB_INSTANCE_HOST_CACHE_S), refusing or waiting by its state, and sets Servername to its
 * read_write_dns unless Servername was given. Does nothing for an endpoint. */
static lb_result resolve_instance(lb_plan *plan, lb_error *err)
{
    if (lb_settings_get(&plan->settings, LB_KEY_INSTANCE) == NULL || plan->instance_resolved)
        return LB_OK;
    lb_buf key;
    lb_buf_init(&key, 0);
    lb_plan_cache_key(plan, "instance host", &key);
    lb_cache_opts o = cache_opts(plan, "instance host", 0);
    o.margin_s = 0;
    if (o.mode == LB_CACHE_OFF)
        o.mode = LB_CACHE_MEMORY; /* a host name is no credential: TokenCache does not govern it */
    char *host = NULL;
    lb_cache_origin origin;
    long long t0 = lb_now_ms();
    lb_result rc = key.overflow ? lb_error_set(err, LB_ERR_NOMEM, "Out of memory.")
                                : lb_cache_get(key.data, &o, fetch_instance_host, plan, &host, &origin, err);
    lb_buf_free(&key);
    if (rc != LB_OK) {
        lb_log(&plan->log, LB_LOG_ERROR, "instance: %s", err->message);
        return rc;
    }
    const char *given = lb_settings_get(&plan->settings, LB_KEY_SERVER);
    lb_log(&plan->log, LB_LOG_INFO, "instance: %s takes connections at %s (%s, %lld ms)%s%s",
           lb_settings_get(&plan->settings, LB_KEY_INSTANCE), host,
           origin == LB_FROM_FETCH ? "looked up" : "cached", lb_now_ms() - t0, given ? "; connecting to Servername " : "",
           given ? given : "");
    if (given == NULL && lb_settings_set(&plan->settings, LB_KEY_SERVER, host, LB_SRC_LOOKUP) != LB_OK)
        rc = lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    lb_secret_free(host);
    plan->instance_resolved = rc == LB_OK;
    return rc;
}

lb_result lb_plan_credential(lb_plan *plan, lb_error *err)
{
    lb_secret_free(plan->psql_connstr);
    lb_secret_free(plan->credential);
    free(plan->out_connstr);
    plan->psql_connstr = plan->out_connstr = plan->credential = NULL;
    if (resolve_instance(plan, err) != LB_OK)
        return err->code;

    lb_buf key;
    lb_buf_init(&key, 0);
    lb_plan_cache_key(plan, "credential", &key);
    lb_cache_opts o = cache_opts(plan, "database credential", 1);
    long long t0 = lb_now_ms();
    long long token_before = plan->token_ms;
    lb_result rc = key.overflow ? lb_error_set(err, LB_ERR_NOMEM, "Out of memory.")
                                : lb_cache_get(key.data, &o, fetch_credential, plan, &plan->credential,
                                               &plan->credential_origin, err);
    plan->credential_ms += lb_now_ms() - t0 - (plan->token_ms - token_before);
    lb_buf_free(&key);
    if (rc != LB_OK) {
        lb_log(&plan->log, LB_LOG_ERROR, "credential: %s", err->message);
        return rc;
    }
    plan->psql_connstr = lb_build_psql_connstr(&plan->settings, plan->input, plan->credential);
    plan->out_connstr = lb_build_output_connstr(plan->input);
    if (plan->psql_connstr == NULL || plan->out_connstr == NULL)
        return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    return LB_OK;
}

void lb_plan_forget_credential(lb_plan *plan)
{
    if (plan->credential == NULL)
        return;
    lb_buf key;
    lb_buf_init(&key, 0);
    lb_plan_cache_key(plan, "credential", &key);
    lb_cache_opts o = cache_opts(plan, "database credential", 1);
    if (!key.overflow)
        lb_cache_invalidate(key.data, plan->credential, &o);
    lb_buf_free(&key);
}

/* The endpoint-state cache: a few entries keyed by workspace and endpoint, each kept
 * for LB_ENDPOINT_STATE_CACHE_MS; the oldest is replaced when full. Failures are not kept. */
#define STATE_CACHE_SIZE 32
static struct {
    char key[64]; /* SHA-256 hex of "host\nendpoint", truncated */
    char state[32];
    long long at_ms;
} state_cache[STATE_CACHE_SIZE];
static pthread_mutex_t state_mu = PTHREAD_MUTEX_INITIALIZER;

int lb_plan_endpoint_state(lb_plan *plan, char *state, size_t size, char *why, size_t why_size)
{
    const lb_settings *s = &plan->settings;
    lb_buf k;
    lb_buf_init(&k, 0);
    lb_buf_printf(&k, "%s\n%s\n%s", lb_settings_get(s, LB_KEY_HOST), lb_plan_target_kind(plan), lb_plan_target(plan));
    if (lb_settings_get(s, LB_KEY_WORKSPACE_ID))
        lb_buf_printf(&k, "\nworkspace %s", lb_settings_get(s, LB_KEY_WORKSPACE_ID));
    char key[65];
    lb_sha256_hex(k.data ? k.data : "", key);
    lb_buf_free(&k);
    key[63] = '\0';
    long long now = lb_now_ms();
    int found = 0;
    pthread_mutex_lock(&state_mu);
    for (int i = 0; i < STATE_CACHE_SIZE && !found; i++)
        if (strcmp(state_cache[i].key, key) == 0 && now - state_cache[i].at_ms < LB_ENDPOINT_STATE_CACHE_MS) {
            snprintf(state, size, "%s", state_cache[i].state);
            found = 1;
        }
    pthread_mutex_unlock(&state_mu);
    if (found)
        return 0;

    lb_error err;
    lb_error_init(&err);
    char *token = NULL;
    long status = 0;
    lb_http_opts http = http_opts(plan);
    lb_result rc = get_token(plan, &token, &err);
    if (rc == LB_OK && lb_settings_get(s, LB_KEY_INSTANCE)) {
        lb_instance inst;
        rc = lb_provisioned_instance(&http, lb_settings_get(s, LB_KEY_HOST), token, lb_settings_get(s, LB_KEY_INSTANCE),
                                     1, &inst, &status, &err);
        snprintf(state, size, "%s", rc == LB_OK ? inst.state : "");
        if (rc != LB_OK && status == 401 && plan->token_origin != LB_FROM_FETCH)
            forget_token(plan, token);
    } else if (rc == LB_OK) {
        rc = lb_lakebase_endpoint_state(&http, lb_settings_get(s, LB_KEY_HOST), token,
                                        lb_settings_get(s, LB_KEY_ENDPOINT), state, size, &status, &err);
        if (rc != LB_OK && status == 401 && plan->token_origin != LB_FROM_FETCH)
            forget_token(plan, token); /* refused (revoked?): the next connect fetches a new one */
    }
    lb_secret_free(token);
    if (rc != LB_OK) {
        snprintf(why, why_size, "%s", err.message); /* for the log */
        return -1;
    }
    pthread_mutex_lock(&state_mu);
    int slot = 0;
    for (int i = 0; i < STATE_CACHE_SIZE; i++) {
        if (strcmp(state_cache[i].key, key) == 0) {
            slot = i;
            break;
        }
        if (state_cache[i].at_ms < state_cache[slot].at_ms)
            slot = i;
    }
    memcpy(state_cache[slot].key, key, sizeof(state_cache[slot].key)); /* 63 characters and the NUL */
    size_t n = strlen(state) < sizeof(state_cache[slot].state) ? strlen(state) : sizeof(state_cache[slot].state) - 1;
    memcpy(state_cache[slot].state, state, n);
    state_cache[slot].state[n] = '\0';
    state_cache[slot].at_ms = now;
    pthread_mutex_unlock(&state_mu);
    return 0;
}
