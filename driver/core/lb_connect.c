/* The connect flow (see lb_connect.h). */
#include "lb_connect.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/lb_auth.h"
#include "lb_buf.h"
#include "lb_file.h"
#include "lb_oauth.h"
#include "lb_provisioned.h"
#include "lb_secmem.h"

char *lb_build_psql_connstr(const lb_settings *s, const lb_kvlist *input, const char *credential)
{
    if (lb_settings_get(s, LB_KEY_SERVER) == NULL)
        return NULL; /* the host is not known yet (lb_plan_target) */
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
    lb_cache_flight_end(&plan->token_flight);
    lb_secret_free(plan->psql_connstr);
    free(plan->out_connstr);
    lb_secret_free(plan->credential);
    free(plan->branch);
    lb_settings_free(&plan->settings);
    memset(plan, 0, sizeof(*plan));
}

int lb_plan_exposed_secret(const char *dsn, char *key, size_t key_size, char *file, size_t file_size,
                           unsigned *mode)
{
    char user[4096], sys[4096];
    const char *ini = secure_getenv("ODBCINI"), *home = secure_getenv("HOME"), *sysdir = secure_getenv("ODBCSYSINI");
    snprintf(user, sizeof(user), "%s%s", ini ? ini : home ? home : "", ini ? "" : "/.odbc.ini");
    snprintf(sys, sizeof(sys), "%s/odbc.ini", sysdir ? sysdir : "/etc");
    const char *files[] = {user, sys};
    int found = 0;
    for (int i = 0; i < 2 && !found; i++) {
        lb_file_info info;
        size_t len = 0;
        char *text = lb_file_slurp(files[i], LB_FILE_FOLLOW, 1024 * 1024, &len, &info);
        if (text == NULL)
            continue;
        lb_kvlist section;
        lb_kvlist_init(&section);
        if ((info.mode & 044) && lb_ini_section(text, dsn, &section))
            for (size_t k = 0; !found && k < section.count; k++)
                if (lb_key_is_secret(section.items[k].key) && section.items[k].value[0]) {
                    snprintf(key, key_size, "%s", section.items[k].key);
                    snprintf(file, file_size, "%s", files[i]);
                    *mode = (unsigned)(info.mode & 0777);
                    found = 1;
                }
        lb_kvlist_free(&section);
        lb_wipe(text, len);
        free(text);
    }
    return found;
}

const char *lb_plan_exposed_secret_fix(const char *key)
{
    return strcasecmp(key, "Token") == 0 || strcasecmp(key, "Auth_AccessToken") == 0
               ? "DATABRICKS_TOKEN or a ~/.databrickscfg profile (token)"
               : "ClientSecretFile or DATABRICKS_CLIENT_SECRET";
}

/* A secret in the DSN's own section of an odbc.ini that other users can read deserves
 * a warning; a secret file named there (ClientSecretFile) or another DSN's does not. */
static void warn_exposed_secret(const lb_plan *plan)
{
    if (plan->settings.dsn == NULL || !lb_log_enabled(&plan->log, LB_LOG_ERROR))
        return;
    char key[128], file[4096];
    unsigned mode = 0;
    if (lb_plan_exposed_secret(plan->settings.dsn, key, sizeof(key), file, sizeof(file), &mode))
        lb_log(&plan->log, LB_LOG_ERROR,
               "warning: DSN %s holds %s in %s, which other users can read (mode %03o): chmod 600 it, or "
               "move the secret to %s",
               plan->settings.dsn, key, file, mode, lb_plan_exposed_secret_fix(key));
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
    const char *id = lb_settings_get(&plan->settings, LB_KEY_CLIENT_ID), *uid = lb_settings_get(&plan->settings, LB_KEY_UID);
    lb_log(&plan->log, LB_LOG_INFO, "connect: workspace %s, client id %s, %s %s, server %s:%d, user %s%s%s",
           lb_settings_get(&plan->settings, LB_KEY_HOST), id ? id : "(none)",
           lb_plan_target_kind(plan), lb_plan_target_name(plan), server ? server : "(to be looked up)",
           plan->settings.port, uid ? uid : "(to be looked up)", plan->settings.dsn ? ", DSN " : "",
           plan->settings.dsn ? plan->settings.dsn : "");
    lb_log(&plan->log, LB_LOG_INFO, "auth: %s (%s)", lb_auth_type_name((lb_auth_type)plan->settings.auth_type),
           plan->settings.auth_why);
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

static const lb_auth_source *auth_source(const lb_plan *plan)
{
    const lb_auth_source *src = lb_auth_source_of((lb_auth_type)plan->settings.auth_type);
    return src ? src : &lb_auth_m2m; /* settings made by hand (tests): today's flow */
}

/* Cache keys: everything that changes what the value grants. The secret enters only
 * as a hash, so that a wrong secret never reuses a value fetched with the right one. */
void lb_plan_cache_key(const lb_plan *plan, const char *kind, lb_buf *key)
{
    const lb_settings *s = &plan->settings;
    lb_buf_printf(key, "%s\n%s\n", kind, lb_settings_get(s, LB_KEY_HOST));
    auth_source(plan)->identity(s, key); /* oauth-m2m: client id and the secret's hash, as before */
    lb_buf_printf(key, "\n%s", lb_settings_get(s, LB_KEY_PROXY) ? "proxy" : "");
    if (strcmp(kind, "credential") == 0 || strcmp(kind, "host") == 0 || strcmp(kind, "replica host") == 0 ||
        strcmp(kind, "branch endpoint") == 0)
        /* An endpoint and an instance of the same name are different targets. */
        lb_buf_printf(key, "\n%s\n%s", lb_plan_target_kind(plan), lb_plan_target_name(plan));
    if (strcmp(kind, "credential") == 0 && s->credential_lifetime > 0)
        lb_buf_printf(key, "\nttl=%d", s->credential_lifetime); /* a shorter life asked for is not given a longer one */
    else if (strcmp(kind, "token") == 0 && lb_settings_get(s, LB_KEY_TOKEN_ENDPOINT))
        lb_buf_printf(key, "\n%s", lb_settings_get(s, LB_KEY_TOKEN_ENDPOINT));
    /* One URL may serve several workspaces: their values are never shared. (Last, and only
     * when set, so that the keys of a workspace without one stay as they were.) */
    if (lb_settings_get(s, LB_KEY_WORKSPACE_ID))
        lb_buf_printf(key, "\nworkspace %s", lb_settings_get(s, LB_KEY_WORKSPACE_ID));
}

const char *lb_plan_stable_secret(const lb_plan *plan)
{
    /* A service principal's client secret and a personal access token are stable; a CLI
     * login's and a federation JWT's tokens change all the time: their values stay in memory. */
    const char *secret = NULL;
    if (plan->settings.auth_type == LB_AUTH_OAUTH_M2M || plan->settings.auth_type == LB_AUTH_AUTO)
        secret = lb_settings_get(&plan->settings, LB_KEY_CLIENT_SECRET);
    else if (plan->settings.auth_type == LB_AUTH_PAT)
        secret = lb_settings_get(&plan->settings, LB_KEY_TOKEN);
    else if (plan->settings.auth_type == LB_AUTH_AZURE_CLIENT_SECRET)
        secret = lb_settings_get(&plan->settings, LB_KEY_AZURE_CLIENT_SECRET);
    return secret && secret[0] ? secret : NULL;
}

/* Refresh ahead: the part of a plan a background refresh needs once the connect that
 * started it has returned: the settings (secrets included), the logger, and a deadline
 * of its own. Wiped and freed by free_plan_copy. */
static void free_plan_copy(void *copy)
{
    lb_plan *p = copy;
    lb_plan_free(p);
    free(p);
}

static void *copy_plan(void *ctx, lb_cache_opts *opts)
{
    const lb_plan *plan = ctx;
    lb_plan *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    lb_settings *s = &p->settings;
    *s = plan->settings; /* the scalars; each value is copied below */
    memset(s->value, 0, sizeof(s->value));
    s->dsn = NULL;
    int ok = plan->settings.dsn == NULL || (s->dsn = strdup(plan->settings.dsn)) != NULL;
    for (int k = 0; ok && k < LB_KEY_COUNT; k++)
        if (plan->settings.value[k])
            ok = lb_settings_set(s, (lb_key)k, plan->settings.value[k], plan->settings.source[k]) == LB_OK;
    if (!ok) {
        free_plan_copy(p);
        return NULL;
    }
    p->log = plan->log; /* log files are shared per path and stay open */
    p->start_ms = lb_now_ms();
    long timeout = plan->settings.connect_timeout;
    lb_deadline_start(&p->deadline, 0, timeout > 0 && timeout < LB_CACHE_REFRESH_TIMEOUT_S ? timeout
                                                                                         : LB_CACHE_REFRESH_TIMEOUT_S);
    opts->log = &p->log;
    opts->deadline = &p->deadline;
    opts->stable_secret = lb_plan_stable_secret(p);
    return p;
}

static lb_cache_opts cache_opts(const lb_plan *plan, const char *what, int file_allowed)
{
    lb_cache_opts o = {.mode = plan->settings.cache_mode, .margin_s = plan->settings.refresh_margin,
                       .log = &plan->log, .what = what, .deadline = &plan->deadline,
                       .stable_secret = lb_plan_stable_secret(plan), .ctx_copy = copy_plan,
                       .ctx_free = free_plan_copy, .thread_done = lb_http_thread_release};
    /* Workspace tokens grant every API (scope all-apis): they never go to disk. */
    if ((o.mode == LB_CACHE_FILE || o.mode == LB_CACHE_AUTO) && !file_allowed)
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
    o.public_value = 1; /* public metadata: no secret seals it */
    o.ctx_copy = NULL;  /* looked up on the connect's clock, not in the background */
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
    lb_auth_ctx actx = {.settings = &plan->settings, .http = &http, .log = &plan->log, .deadline = &plan->deadline};
    const lb_auth_source *src = auth_source(plan);
    char *discovered = NULL;
    if (src->exchanges && lb_settings_get(&plan->settings, LB_KEY_TOKEN_ENDPOINT) == NULL) {
        lb_result drc = get_token_endpoint(plan, &discovered, err);
        if (drc != LB_OK)
            return drc;
        actx.discovered_endpoint = discovered;
    }
    lb_result rc = src->token(&actx, &t, err);
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

static void refused_fix(const lb_plan *plan, lb_error *err);

static lb_result get_token(lb_plan *plan, char **token, lb_error *err)
{
    lb_buf key;
    lb_buf_init(&key, 0);
    lb_plan_cache_key(plan, "token", &key);
    lb_cache_opts o = cache_opts(plan, "workspace token", 0);
    o.flight = &plan->token_flight; /* TokenCache=off: connects made together ask for one token */
    long long t0 = lb_now_ms();
    lb_result rc;
    if (!auth_source(plan)->fetched) {
        /* The token is a setting (a PAT): nothing to fetch or cache. */
        lb_cache_item item = {0};
        rc = fetch_token(plan, &item, err);
        *token = item.value;
        plan->token_origin = LB_FROM_FETCH;
    } else {
        rc = key.overflow ? lb_error_set(err, LB_ERR_NOMEM, "Out of memory.")
                          : lb_cache_get(key.data, &o, fetch_token, plan, token, &plan->token_origin, err);
    }
    plan->token_ms += lb_now_ms() - t0;
    lb_buf_free(&key);
    return rc;
}

lb_result lb_plan_workspace_token(lb_plan *plan, char **token, lb_error *err)
{
    lb_result rc = get_token(plan, token, err);
    if (rc != LB_OK && err->code == LB_ERR_AUTH)
        refused_fix(plan, err);
    return rc;
}

lb_http_opts lb_plan_http_opts(const lb_plan *plan)
{
    return http_opts(plan);
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

/* A 401's advice names the settings of the source in use. */
static void refused_fix(const lb_plan *plan, lb_error *err)
{
    static const char m2m_fix[] = "Check ClientID and ClientSecret.";
    char *at = strstr(err->message, m2m_fix);
    const char *fix = auth_source(plan)->fix_refused;
    if (at && fix != lb_auth_m2m.fix_refused)
        snprintf(at, sizeof(err->message) - (size_t)(at - err->message), "%s (AuthType %s.)", fix,
                 auth_source(plan)->name);
}

/* A workspace API call made with the plan's workspace token. */
typedef lb_result (*token_call)(lb_plan *plan, const lb_http_opts *http, const char *token, void *out, long *status,
                                lb_error *err);

/* Makes call with the plan's workspace token. A cached token the workspace refuses (HTTP
 * 401: revoked?) is forgotten and, when replace is set, replaced by a new one once.
 * *status (may be NULL) gets the last answer's HTTP status. */
static lb_result with_workspace_token(lb_plan *plan, const char *what, int replace, token_call call, void *out,
                                      long *status, lb_error *err)
{
    lb_http_opts http = http_opts(plan);
    for (int tries = 0;; tries++) {
        char *token = NULL;
        long st = 0;
        lb_result rc = get_token(plan, &token, err);
        if (rc != LB_OK)
            return rc;
        lb_error cerr;
        lb_error_init(&cerr);
        rc = call(plan, &http, token, out, &st, &cerr);
        int refused = rc != LB_OK && st == 401 && plan->token_origin != LB_FROM_FETCH;
        if (refused)
            forget_token(plan, token);
        lb_secret_free(token);
        if (refused && replace && tries == 0) {
            lb_log(&plan->log, LB_LOG_INFO, "%s: the cached workspace token was refused; fetching a new one", what);
            continue;
        }
        if (status)
            *status = st;
        if (rc != LB_OK)
            *err = cerr;
        return rc;
    }
}

static lb_result call_credential(lb_plan *plan, const lb_http_opts *http, const char *token, void *out, long *status,
                                 lb_error *err)
{
    const lb_settings *s = &plan->settings;
    if (lb_settings_get(s, LB_KEY_INSTANCE))
        return lb_provisioned_credential(http, lb_settings_get(s, LB_KEY_HOST), token,
                                         lb_settings_get(s, LB_KEY_INSTANCE), out, status, err);
    return lb_lakebase_credential(http, lb_settings_get(s, LB_KEY_HOST), token, lb_settings_get(s, LB_KEY_ENDPOINT),
                                  s->credential_lifetime, out, status, err);
}

lb_result lb_plan_fetch_credential(lb_plan *plan, lb_credential *out, lb_error *err)
{
    long status = 0;
    lb_result rc = with_workspace_token(plan, "credential", 1, call_credential, out, &status, err);
    if (rc != LB_OK && status == 401)
        refused_fix(plan, err);
    return rc;
}

static lb_result fetch_credential(void *ctx, lb_cache_item *out, lb_error *err)
{
    lb_credential cred;
    lb_result rc = lb_plan_fetch_credential(ctx, &cred, err);
    if (rc == LB_OK) {
        out->value = cred.token;
        out->lifetime_s = cred.expire_time ? (long long)(cred.expire_time - time(NULL)) : 0;
    }
    return rc;
}

const char *lb_plan_target_kind(const lb_plan *plan)
{
    return lb_settings_get(&plan->settings, LB_KEY_INSTANCE) ? "instance" : "endpoint";
}

const char *lb_plan_target_name(const lb_plan *plan)
{
    const char *inst = lb_settings_get(&plan->settings, LB_KEY_INSTANCE);
    const char *ep = lb_settings_get(&plan->settings, LB_KEY_ENDPOINT);
    return inst ? inst : ep ? ep : "(none: listing)"; /* lb_sources.no_target */
}

int lb_plan_state_awake(const lb_plan *plan, const char *state)
{
    return strcmp(state, lb_settings_get(&plan->settings, LB_KEY_INSTANCE) ? "AVAILABLE" : "ACTIVE") == 0;
}

lb_result lb_plan_check_state(const lb_plan *plan, const lb_endpoint_info *info, lb_error *err)
{
    const char *instance = lb_settings_get(&plan->settings, LB_KEY_INSTANCE);
    return instance ? lb_provisioned_refused(instance, info->state, err)
                    : lb_discovery_check_state(info, lb_settings_get(&plan->settings, LB_KEY_ENDPOINT), err);
}

#define LB_USER_NAME_MAX 512 /* a SCIM userName (an e-mail address) */

static lb_result call_me(lb_plan *plan, const lb_http_opts *http, const char *token, void *out, long *status,
                         lb_error *err)
{
    const lb_auth_source *src = auth_source(plan);
    if (src->role_from_token) /* the token names its identity (an Azure managed identity's appid) */
        return src->role_from_token(token, out, LB_USER_NAME_MAX) == 0
                   ? LB_OK
                   : lb_error_set(err, LB_ERR_PROTOCOL, "The token of AuthType %s names no application id (appid): "
                                  "set UID to the identity's application (client) id, its PostgreSQL role.",
                                  src->name);
    return lb_auth_me(http, lb_settings_get(&plan->settings, LB_KEY_HOST), token, out, LB_USER_NAME_MAX, status, err);
}

/* SCIM Me as a cache fetch: the user name behind the plan's token. */
static lb_result fetch_user(void *ctx, lb_cache_item *out, lb_error *err)
{
    lb_plan *plan = ctx;
    char user[LB_USER_NAME_MAX];
    long status = 0;
    lb_error merr; /* replaced by the source's advice on a 401 (lb_error_set keeps a first error) */
    lb_error_init(&merr);
    lb_result rc = with_workspace_token(plan, "user", 0, call_me, user, &status, &merr);
    if (rc != LB_OK && status == 401) {
        const lb_auth_source *src = auth_source(plan);
        return lb_error_set(err, LB_ERR_AUTH, "The workspace did not accept the token of AuthType %s (HTTP 401 from "
                            "SCIM Me, the look-up of the user behind the token). %s", src->name, src->fix_refused);
    }
    if (rc != LB_OK) {
        *err = merr;
        return rc;
    }
    if ((out->value = lb_secmem_dup(user)) == NULL)
        return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    out->lifetime_s = 2 * LB_USER_CACHE_S; /* the cache reuses a value for half its life */
    return LB_OK;
}

/* UID when it was not given (a person: pat, databricks-cli; federation without ClientID): the
 * user name behind the token, from SCIM Me, looked up once per identity (the memory cache; the
 * file cache when enabled). */
lb_result lb_plan_resolve_user(lb_plan *plan, lb_error *err)
{
    const lb_auth_source *src = auth_source(plan);
    if (lb_settings_get(&plan->settings, LB_KEY_UID)) {
        if (plan->settings.source[LB_KEY_UID] != LB_SRC_ME && !plan->user_logged) {
            lb_log(&plan->log, LB_LOG_INFO, "user: %s (UID, from %s)", lb_settings_get(&plan->settings, LB_KEY_UID),
                   lb_source_name(plan->settings.source[LB_KEY_UID]));
            plan->user_logged = 1;
        }
        return LB_OK;
    }
    lb_buf key;
    lb_buf_init(&key, 0);
    lb_plan_cache_key(plan, "user", &key);
    lb_cache_opts o = cache_opts(plan, "user name", 1);
    o.margin_s = 0;
    o.ctx_copy = NULL; /* looked up on the connect's clock, not in the background */
    if (o.mode == LB_CACHE_OFF)
        o.mode = LB_CACHE_MEMORY; /* a user name is no credential: TokenCache does not govern it */
    char *user = NULL;
    lb_cache_origin origin;
    long long t0 = lb_now_ms();
    lb_result rc = key.overflow ? lb_error_set(err, LB_ERR_NOMEM, "Out of memory.")
                                : lb_cache_get(key.data, &o, fetch_user, plan, &user, &origin, err);
    lb_buf_free(&key);
    if (rc != LB_OK) {
        lb_log(&plan->log, LB_LOG_ERROR, "user: %s", err->message);
        return rc;
    }
    lb_log(&plan->log, LB_LOG_INFO, "user: %s (UID not given; AuthType %s: %s, %s, %lld ms)", user, src->name,
           src->role_from_token ? "the application id (appid) in the token" : "the user name behind the token",
           origin != LB_FROM_FETCH ? "cached" : src->role_from_token ? "read from the token" : "looked up with SCIM Me",
           lb_now_ms() - t0);
    if (lb_settings_set(&plan->settings, LB_KEY_UID, user, LB_SRC_ME) != LB_OK)
        rc = lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    lb_secret_free(user);
    return rc;
}

lb_result lb_plan_whoami(lb_plan *plan, char *user, size_t size, lb_error *err)
{
    lb_cache_item item = {0};
    user[0] = '\0';
    lb_result rc = fetch_user(plan, &item, err);
    if (rc == LB_OK)
        snprintf(user, size, "%s", item.value);
    lb_secret_free(item.value);
    return rc;
}

lb_result lb_plan_credential(lb_plan *plan, lb_error *err)
{
    lb_secret_free(plan->psql_connstr);
    lb_secret_free(plan->credential);
    free(plan->out_connstr);
    plan->psql_connstr = plan->out_connstr = plan->credential = NULL;
    if (lb_settings_get(&plan->settings, LB_KEY_SERVER) == NULL)
        return lb_error_set(err, LB_ERR_INTERNAL, "No PostgreSQL host: lb_plan_target must run before the credential.");
    if (lb_plan_resolve_user(plan, err) != LB_OK)
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

/* The endpoint-info cache: a few entries keyed by workspace and endpoint, each kept
 * for LB_ENDPOINT_STATE_CACHE_MS; the oldest is replaced when full. Failures are not kept. */
#define STATE_CACHE_SIZE 32
static struct {
    char key[64]; /* SHA-256 hex of "host\nendpoint", truncated */
    lb_endpoint_info info;
    long long at_ms;
} state_cache[STATE_CACHE_SIZE];
static pthread_mutex_t state_mu = PTHREAD_MUTEX_INITIALIZER;

/* A Provisioned instance's look-up, in the endpoint's terms (state, host names). */
static void instance_as_endpoint(const lb_instance *inst, lb_endpoint_info *info)
{
    memset(info, 0, sizeof(*info));
    snprintf(info->state, sizeof(info->state), "%s", inst->state);
    snprintf(info->host, sizeof(info->host), "%s", inst->read_write_dns);
    snprintf(info->read_only_host, sizeof(info->read_only_host), "%s", inst->read_only_dns);
}

/* The target's state and host names: one look-up (quick: one short try). */
static lb_result target_info(lb_plan *plan, const lb_http_opts *http, const char *token, int quick,
                             lb_endpoint_info *info, long *status, lb_error *err)
{
    const lb_settings *s = &plan->settings;
    if (!lb_settings_get(s, LB_KEY_INSTANCE))
        return lb_discovery_endpoint(http, lb_settings_get(s, LB_KEY_HOST), token, lb_settings_get(s, LB_KEY_ENDPOINT),
                                     quick, info, status, err);
    lb_instance inst;
    lb_result rc = lb_provisioned_instance(http, lb_settings_get(s, LB_KEY_HOST), token,
                                           lb_settings_get(s, LB_KEY_INSTANCE), quick, &inst, status, err);
    if (rc == LB_OK)
        instance_as_endpoint(&inst, info);
    return rc;
}

static lb_result call_target(lb_plan *plan, const lb_http_opts *http, const char *token, void *out, long *status,
                             lb_error *err)
{
    return target_info(plan, http, token, 0, out, status, err);
}

static lb_result call_target_quick(lb_plan *plan, const lb_http_opts *http, const char *token, void *out,
                                   long *status, lb_error *err)
{
    return target_info(plan, http, token, 1, out, status, err);
}

lb_result lb_plan_endpoint_info(lb_plan *plan, int quick, lb_endpoint_info *info, lb_error *err)
{
    const lb_settings *s = &plan->settings;
    lb_buf k;
    lb_buf_init(&k, 0);
    lb_buf_printf(&k, "%s\n%s\n%s", lb_settings_get(s, LB_KEY_HOST), lb_plan_target_kind(plan), lb_plan_target_name(plan));
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
            *info = state_cache[i].info;
            found = 1;
        }
    pthread_mutex_unlock(&state_mu);
    if (found)
        return LB_OK;

    lb_result rc = with_workspace_token(plan, "endpoint", !quick, quick ? call_target_quick : call_target, info, NULL,
                                        err);
    if (rc != LB_OK)
        return rc;
    now = lb_now_ms();
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
    state_cache[slot].info = *info;
    state_cache[slot].at_ms = now;
    pthread_mutex_unlock(&state_mu);
    return LB_OK;
}

/* -- The plan's target: which endpoint, which host ------------------------------------ */

/* How long a branch's read-write endpoint and an endpoint's host, once looked up, are
 * reused (lb_cache's window: half of this). They change only when the endpoint is
 * replaced; a connection refused at a discovered host forgets it (lb_plan_forget_host). */
#define LB_DISCOVERY_LIFETIME_S (2 * 3600)
#define LB_DISCOVERY_PAGE_SIZE 100 /* the most the API gives per page */

static lb_cache_opts discovery_cache_opts(const lb_plan *plan, const char *what)
{
    lb_cache_opts o = cache_opts(plan, what, 1); /* no secret: the file cache may keep it */
    o.margin_s = 0;
    o.ctx_copy = NULL; /* looked up again on the connect's clock, not in the background */
    if (o.mode == LB_CACHE_OFF)
        o.mode = LB_CACHE_MEMORY; /* a host name is no credential: TokenCache=off does not govern it */
    return o;
}

static lb_result call_branch_endpoint(lb_plan *plan, const lb_http_opts *http, const char *token, void *out,
                                      long *status, lb_error *err)
{
    return lb_discovery_branch_endpoint(http, lb_settings_get(&plan->settings, LB_KEY_HOST), token, plan->branch,
                                        LB_DISCOVERY_PAGE_SIZE, out, LB_DISCOVERY_NAME_MAX, status, err);
}

static lb_result fetch_branch_endpoint(void *ctx, lb_cache_item *out, lb_error *err)
{
    lb_plan *plan = ctx;
    char name[LB_DISCOVERY_NAME_MAX];
    lb_result rc = with_workspace_token(plan, "branch", 1, call_branch_endpoint, name, NULL, err);
    if (rc != LB_OK)
        return rc;
    if ((out->value = strdup(name)) == NULL)
        return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    out->lifetime_s = LB_DISCOVERY_LIFETIME_S;
    return LB_OK;
}

/* A Provisioned instance's look-up, in the endpoint's terms (state, host names), once it
 * takes connections: lb_provisioned_await waits through its transient states and refuses
 * the others; a refused cached workspace token is replaced once. */
static lb_result call_await_instance(lb_plan *plan, const lb_http_opts *http, const char *token, void *out,
                                     long *status, lb_error *err)
{
    const lb_settings *s = &plan->settings;
    return lb_provisioned_await(http, lb_settings_get(s, LB_KEY_HOST), token, lb_settings_get(s, LB_KEY_INSTANCE),
                                &plan->log, out, status, err);
}

static lb_result instance_info(lb_plan *plan, lb_endpoint_info *info, lb_error *err)
{
    lb_instance inst;
    lb_result rc = with_workspace_token(plan, "instance", 1, call_await_instance, &inst, NULL, err);
    if (rc == LB_OK)
        instance_as_endpoint(&inst, info);
    return rc;
}

static lb_result fetch_host(void *ctx, lb_cache_item *out, lb_error *err)
{
    lb_plan *plan = ctx;
    const lb_settings *s = &plan->settings;
    const char *kind = lb_plan_target_kind(plan), *name = lb_plan_target_name(plan);
    int instance = lb_settings_get(s, LB_KEY_INSTANCE) != NULL;
    lb_endpoint_info info;
    lb_result rc = instance ? instance_info(plan, &info, err) : lb_plan_endpoint_info(plan, 0, &info, err);
    if (rc != LB_OK)
        return rc;
    lb_log(&plan->log, LB_LOG_INFO, "target: %s %s is %s%s", kind, name, info.state[0] ? info.state : "(no state)",
           info.disabled ? ", disabled" : "");
    if ((rc = lb_plan_check_state(plan, &info, err)) != LB_OK)
        return rc;
    const char *host = s->read_replica ? info.read_only_host : info.host;
    if (host[0] == '\0' && s->read_replica)
        return lb_error_set(err, LB_ERR_NOT_FOUND,
                            "ReadReplica=yes, but %s %s has no read-only host (%s: no readable secondaries). Enable "
                            "readable secondaries on the %s, set Servername to a read-only host, or leave ReadReplica "
                            "out.", kind, name, instance ? "read_only_dns" : "status.hosts.read_only_host", kind);
    if (host[0] == '\0')
        return lb_error_set(err, LB_ERR_PROTOCOL, "The look-up of %s %s (state %s) answered no %s: set Servername to "
                            "the %s's host name.", kind, name, info.state[0] ? info.state : "unknown",
                            instance ? "read_write_dns" : "status.hosts.host", kind);
    if ((out->value = strdup(host)) == NULL)
        return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    out->lifetime_s = LB_DISCOVERY_LIFETIME_S;
    return LB_OK;
}

/* A value through the cache under the plan's key of kind (branch endpoint, host), as a
 * malloc'd string. */
static lb_result cached(lb_plan *plan, const char *kind, lb_fetch_fn fetch, char **value, lb_cache_origin *origin,
                        lb_error *err)
{
    lb_buf key;
    lb_buf_init(&key, 0);
    lb_plan_cache_key(plan, kind, &key);
    lb_cache_opts o = discovery_cache_opts(plan, kind);
    char *copy = NULL;
    lb_result rc = key.overflow ? lb_error_set(err, LB_ERR_NOMEM, "Out of memory.")
                                : lb_cache_get(key.data, &o, fetch, plan, &copy, origin, err);
    lb_buf_free(&key);
    /* The cache hands out copies of its own kind (lb_secret_free); the settings free() theirs. */
    if (rc == LB_OK && (*value = strdup(copy)) == NULL)
        rc = lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    lb_secret_free(copy);
    return rc;
}

lb_result lb_plan_target(lb_plan *plan, lb_error *err)
{
    lb_settings *s = &plan->settings;
    long long t0 = lb_now_ms(), token_before = plan->token_ms;
    lb_result rc = LB_OK;
    char *value = NULL;
    lb_cache_origin origin = LB_FROM_FETCH;
    /* Which endpoint: a branch stands for its read-write endpoint, whose full name the
     * credential request needs. */
    const char *endpoint = lb_settings_get(s, LB_KEY_ENDPOINT); /* NULL for an Instance */
    if (endpoint && lb_discovery_is_branch(endpoint)) {
        if ((plan->branch = strdup(lb_settings_get(s, LB_KEY_ENDPOINT))) == NULL)
            return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
        if ((rc = cached(plan, "branch endpoint", fetch_branch_endpoint, &value, &origin, err)) != LB_OK)
            goto out;
        free(s->value[LB_KEY_ENDPOINT]);
        s->value[LB_KEY_ENDPOINT] = value;
        lb_log(&plan->log, LB_LOG_INFO, "target: branch %s -> read-write endpoint %s (%s)", plan->branch,
               lb_settings_get(s, LB_KEY_ENDPOINT), origin == LB_FROM_FETCH ? "listed" : "cached");
    }
    /* Which host: the user's Servername wins (no look-up); else the endpoint's or the
     * instance's own. */
    if (lb_settings_get(s, LB_KEY_SERVER) != NULL) {
        if (s->read_replica)
            lb_log(&plan->log, LB_LOG_INFO, "target: ReadReplica=yes has no effect: Servername (from %s) is used",
                   lb_source_name(s->source[LB_KEY_SERVER]));
        goto out;
    }
    const char *kind = s->read_replica ? "replica host" : "host";
    if ((rc = cached(plan, kind, fetch_host, &value, &origin, err)) != LB_OK)
        goto out;
    if ((rc = lb_settings_set(s, LB_KEY_SERVER, value, LB_SRC_DISCOVERED)) != LB_OK) {
        free(value);
        rc = lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
        goto out;
    }
    plan->host_origin = origin;
    lb_log(&plan->log, LB_LOG_INFO, "target: %s of %s %s is %s (%s)", kind, lb_plan_target_kind(plan),
           lb_plan_target_name(plan), value,
           origin == LB_FROM_FETCH ? "looked up" : origin == LB_FROM_MEMORY ? "cache hit (memory)" : "cache hit (file)");
    free(value);
out:
    plan->target_ms += lb_now_ms() - t0 - (plan->token_ms - token_before);
    if (rc != LB_OK)
        lb_log(&plan->log, LB_LOG_ERROR, "target: %s", err->message);
    return rc;
}

void lb_plan_forget_host(lb_plan *plan)
{
    const lb_settings *s = &plan->settings;
    if (s->source[LB_KEY_SERVER] != LB_SRC_DISCOVERED)
        return;
    lb_buf key;
    lb_buf_init(&key, 0);
    lb_plan_cache_key(plan, s->read_replica ? "replica host" : "host", &key);
    lb_cache_opts o = discovery_cache_opts(plan, "host");
    if (!key.overflow)
        lb_cache_invalidate(key.data, lb_settings_get(s, LB_KEY_SERVER), &o);
    lb_buf_free(&key);
}

int lb_plan_pooled_host(lb_plan *plan, char *direct, size_t size)
{
    const lb_settings *s = &plan->settings;
    const char *server = lb_settings_get(s, LB_KEY_SERVER);
    if (server == NULL || s->source[LB_KEY_SERVER] == LB_SRC_DISCOVERED || lb_settings_get(s, LB_KEY_INSTANCE))
        return 0; /* Provisioned instances have no pooled host names */
    lb_endpoint_info info;
    lb_error err;
    lb_error_init(&err);
    if (lb_plan_endpoint_info(plan, 1, &info, &err) != LB_OK) {
        lb_log(&plan->log, LB_LOG_INFO, "connect: could not tell whether %s is a pooled host (%s)", server,
               err.message);
        return 0;
    }
    const char *match = NULL;
    if (info.rw_pooled_host[0] && strcasecmp(server, info.rw_pooled_host) == 0)
        match = info.host;
    else if (info.ro_pooled_host[0] && strcasecmp(server, info.ro_pooled_host) == 0)
        match = info.read_only_host[0] ? info.read_only_host : info.host;
    if (match == NULL)
        return 0;
    snprintf(direct, size, "%s", match[0] ? match : "(not given)");
    return 1;
}
