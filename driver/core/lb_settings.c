/* Settings: the merge of the sources (connection string over DSN over environment over
 * ~/.databrickscfg profile over the defaults), each value's source recorded, and the checks
 * that involve several keys or their sources. The keys and the checks of single values are
 * lb_keys.c's; the profile reader is lb_profile.c's. */
#include "lb_settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/lb_auth.h"
#include "lb_dbodbc.h"
#include "lb_file.h"
#include "lb_keys.h"
#include "lb_profile.h"
#include "lb_secmem.h"

const char *lb_source_name(lb_source src)
{
    switch (src) {
    case LB_SRC_CONNSTR: return "the connection string";
    case LB_SRC_DSN: return "the DSN";
    case LB_SRC_ENV: return "the environment";
    case LB_SRC_PROFILE: return "the Databricks config profile";
    case LB_SRC_DEFAULT: return "the default";
    case LB_SRC_DISCOVERED: return "the workspace's look-up";
    case LB_SRC_ME: return "the workspace's SCIM Me (the user behind the token)";
    default: return "nowhere";
    }
}

void lb_settings_free(lb_settings *s)
{
    for (int k = 0; k < LB_KEY_COUNT; k++) {
        if (lb_key_info((lb_key)k)->secret)
            lb_secret_free(s->value[k]);
        else
            free(s->value[k]);
    }
    free(s->dsn);
    memset(s, 0, sizeof(*s));
}

/* The first non-empty value of the key under any of its spellings. */
static const char *from_connstr(const lb_kvlist *cs, const lb_key_def *def)
{
    for (size_t i = 0; cs && i < cs->count; i++)
        if (lb_keys_match(def, cs->items[i].key) && cs->items[i].value[0] != '\0')
            return cs->items[i].value;
    return NULL;
}

/* The longest odbc.ini value the driver takes (the driver manager may take less). */
#define DSN_VALUE_MAX 4095

/* The value of the key (under any of its spellings) in the DSN's section: 1 and buf, 0
 * when absent, -1 when the value did not fit in buf or dsn_get says it was cut. */
static int from_dsn(const lb_sources *src, const char *dsn, const lb_key_def *def, char *buf, size_t size)
{
    if (src == NULL || src->dsn_get == NULL || dsn == NULL)
        return 0;
    for (int a = -1; a < 0 || def->aliases[a]; a++) {
        buf[0] = '\0';
        int got = src->dsn_get(src->dsn_ctx, dsn, a < 0 ? def->name : def->aliases[a], buf, size);
        if (got < 0 || (got > 0 && strlen(buf) >= size - 1)) {
            lb_wipe(buf, size);
            return -1;
        }
        if (got > 0 && buf[0])
            return 1;
    }
    return 0;
}

/* ClientSecretFile: the secret is its first line, of at most LB_SECRET_MAX bytes; the
 * rest (notes, a trailing newline) is ignored, up to LB_SECRET_FILE_MAX bytes in all. */
#define LB_SECRET_MAX 4096
#define LB_SECRET_FILE_MAX (64 * 1024)

/* ClientSecretFile replaces ClientSecret when it comes from a source that ranks higher
 * (or ClientSecret is not set at all). The file must be a regular file (not a link), the
 * user's and private. */
static lb_result secret_from_file(lb_settings *s, lb_error *err)
{
    const char *path = s->value[LB_KEY_CLIENT_SECRET_FILE];
    if (path == NULL)
        return LB_OK;
    if (s->value[LB_KEY_CLIENT_SECRET] && s->source[LB_KEY_CLIENT_SECRET] <= s->source[LB_KEY_CLIENT_SECRET_FILE])
        return LB_OK;
    lb_file_info info;
    size_t n = 0;
    char *buf = lb_file_slurp(path, LB_FILE_PRIVATE, LB_SECRET_FILE_MAX, &n, &info);
    char problem[512];
    if (buf == NULL) {
        char why[200];
        lb_file_explain(&info, why, sizeof(why));
        switch (info.status) {
        case LB_FILE_NOT_OWNED:
        case LB_FILE_NOT_PRIVATE:
            snprintf(problem, sizeof(problem), "is refused: it %.200s; it must be owned by the user the driver runs "
                     "as and readable by nobody else (chmod 600)", why);
            break;
        case LB_FILE_TOO_BIG:
            snprintf(problem, sizeof(problem), "is larger than 64 KiB: it should hold the secret on its first line");
            break;
        case LB_FILE_MISSING:
        case LB_FILE_OPEN_FAILED:
        case LB_FILE_READ_FAILED:
            snprintf(problem, sizeof(problem), "cannot be read as a file: it %.200s", why);
            break;
        default:
            snprintf(problem, sizeof(problem), "%.200s: point it at a file whose first line is the secret", why);
        }
        return lb_keys_bad_value(err, s, LB_KEY_CLIENT_SECRET_FILE, problem);
    }
    size_t first = strcspn(buf, "\r\n");
    lb_result rc = LB_OK;
    if (first == 0)
        rc = lb_keys_bad_value(err, s, LB_KEY_CLIENT_SECRET_FILE, n ? "has an empty first line: put the secret there" : "is empty");
    else if (first > LB_SECRET_MAX || memchr(buf, '\0', first) != NULL)
        rc = lb_keys_bad_value(err, s, LB_KEY_CLIENT_SECRET_FILE,
                               "holds more than a secret: its first line is longer than 4096 bytes (or holds a NUL byte)");
    else {
        buf[first] = '\0';
        lb_secret_free(s->value[LB_KEY_CLIENT_SECRET]);
        s->value[LB_KEY_CLIENT_SECRET] = lb_secmem_dup(buf);
        s->source[LB_KEY_CLIENT_SECRET] = s->source[LB_KEY_CLIENT_SECRET_FILE];
        if (s->value[LB_KEY_CLIENT_SECRET] == NULL)
            rc = lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    }
    lb_wipe(buf, n);
    free(buf);
    return rc;
}

/* A secret goes to pages kept out of core dumps (lb_settings_free wipes it). */
static lb_result set_value(lb_settings *s, lb_key k, const char *v, lb_source src)
{
    if ((s->value[k] = lb_key_info((lb_key)k)->secret ? lb_secmem_dup(v) : strdup(v)) == NULL)
        return LB_ERR_NOMEM;
    s->source[k] = src;
    return LB_OK;
}

lb_result lb_settings_set(lb_settings *s, lb_key key, const char *value, lb_source src)
{
    char *copy = lb_key_info(key)->secret ? lb_secmem_dup(value) : strdup(value);
    if (copy == NULL)
        return LB_ERR_NOMEM;
    if (lb_key_info(key)->secret)
        lb_secret_free(s->value[key]);
    else
        free(s->value[key]);
    s->value[key] = copy;
    s->source[key] = src;
    return LB_OK;
}

/* "the connection string", or "the environment variable ENDPOINT_NAME": where a key's value came from. */
static void where_from(const lb_settings *s, lb_key k, char *buf, size_t size)
{
    if (s->source[k] == LB_SRC_ENV && lb_key_info((lb_key)k)->env)
        snprintf(buf, size, "the environment variable %s", lb_key_info((lb_key)k)->env);
    else
        snprintf(buf, size, "%s", lb_source_name(s->source[k]));
}

/* Where the connection goes: exactly one of Endpoint (a Lakebase Autoscaling endpoint) and
 * Instance (a Lakebase Provisioned instance); Servername is required with Endpoint (with
 * Instance, the instance look-up gives it). */
static lb_result check_target(const lb_settings *s, int no_target, lb_error *err)
{
    const char *ep = s->value[LB_KEY_ENDPOINT], *inst = s->value[LB_KEY_INSTANCE];
    if (ep && inst) {
        char a[64], b[64];
        where_from(s, LB_KEY_ENDPOINT, a, sizeof(a));
        where_from(s, LB_KEY_INSTANCE, b, sizeof(b));
        return lb_error_set(err, LB_ERR_SETTINGS,
                            "Both Endpoint \"%.200s\" (from %s) and Instance \"%.100s\" (from %s) are set: a "
                            "connection goes to a Lakebase Autoscaling endpoint (Endpoint) or to a Lakebase "
                            "Provisioned instance (Instance), not both. Remove one of them.", ep, a, inst, b);
    }
    if (ep == NULL && inst == NULL && !no_target)
        return lb_error_set(err, LB_ERR_SETTINGS,
                            "Missing setting Endpoint or Instance: set Endpoint (a Lakebase Autoscaling endpoint, "
                            "projects/<project>/branches/<branch>/endpoints/<endpoint>; or export ENDPOINT_NAME) "
                            "or Instance (a Lakebase Provisioned instance's name; or export LAKEBASE_INSTANCE) in "
                            "the connection string or in the DSN's section of odbc.ini%s; find them with "
                            "`databricks postgres list-endpoints` or `databricks database "
                            "list-database-instances`.", s->dsn ? "" : " (no DSN was named)");
    if (inst && s->value[LB_KEY_CREDENTIAL_LIFETIME])
        return lb_error_set(err, LB_ERR_SETTINGS,
                            "CredentialLifetime (from %s) applies to Lakebase Autoscaling endpoints only: the "
                            "Provisioned credential API (Instance) takes no lifetime. Remove CredentialLifetime.",
                            lb_source_name(s->source[LB_KEY_CREDENTIAL_LIFETIME]));
    return LB_OK;
}

static lb_result dsn_too_long(const lb_key_def *def, const char *dsn, lb_error *err)
{
    return lb_error_set(err, LB_ERR_SETTINGS,
                        "The value of %s in the DSN \"%.200s\" (odbc.ini) is too long to be read whole (the driver "
                        "reads up to %d bytes, and unixODBC cuts odbc.ini lines at 999 characters): shorten it, or "
                        "give it in the connection string or the environment.", def->name, dsn, DSN_VALUE_MAX);
}

lb_result lb_settings_resolve(const lb_kvlist *connstr, const lb_sources *sources,
                              lb_settings *out, lb_error *err)
{
    memset(out, 0, sizeof(*out));
    const char *dsn = connstr ? lb_kvlist_get(connstr, "DSN") : NULL;
    if (dsn && dsn[0] && (out->dsn = strdup(dsn)) == NULL)
        return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");

    /* First the sources above the profile: the connection string, the DSN, the environment. */
    char buf[DSN_VALUE_MAX + 2]; /* one more byte than a value may take: a full buffer was cut */
    for (int k = 0; k < LB_KEY_COUNT; k++) {
        const lb_key_def *def = lb_key_info((lb_key)k);
        const char *v = from_connstr(connstr, def);
        lb_source src = LB_SRC_CONNSTR;
        int in_dsn = v == NULL ? from_dsn(sources, out->dsn, def, buf, sizeof(buf)) : 0;
        if (in_dsn < 0) {
            lb_result rc = dsn_too_long(def, out->dsn, err);
            lb_settings_free(out);
            return rc;
        }
        if (in_dsn > 0) {
            v = buf;
            src = LB_SRC_DSN;
        }
        if (v == NULL && def->env && sources && sources->env_get) {
            v = sources->env_get(def->env);
            src = LB_SRC_ENV;
            if (v && v[0] == '\0')
                v = NULL;
        }
        if (v != NULL && set_value(out, (lb_key)k, v, src) != LB_OK) {
            lb_wipe(buf, sizeof(buf));
            lb_settings_free(out);
            return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
        }
    }
    lb_wipe(buf, sizeof(buf));

    /* The environment's proxy, in libcurl's order, checked like Proxy (below). */
    static const char *const proxy_vars[] = {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", NULL};
    for (int i = 0; out->value[LB_KEY_PROXY] == NULL && proxy_vars[i] && sources && sources->env_get; i++) {
        const char *v = sources->env_get(proxy_vars[i]);
        if (v && v[0]) {
            if (set_value(out, LB_KEY_PROXY, v, LB_SRC_ENV) != LB_OK) {
                lb_settings_free(out);
                return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
            }
            out->proxy_env = proxy_vars[i];
        }
    }

    /* The Databricks SQL ODBC driver's keys (AuthMech, Auth_Flow, ...), read from the
     * connection string and the DSN like ours, become ours before the profile is considered. */
    lb_dbodbc_values dv;
    memset(&dv, 0, sizeof(dv));
    char compat_note[256] = "";
    lb_result drc = LB_OK;
    for (int k = 0; drc == LB_OK && k < LB_DBODBC_COUNT; k++) {
        const lb_key_def *def = lb_dbodbc_key_info((lb_dbodbc_key)k);
        const char *v = from_connstr(connstr, def);
        lb_source src = LB_SRC_CONNSTR;
        int in_dsn = v == NULL ? from_dsn(sources, out->dsn, def, buf, sizeof(buf)) : 0;
        if (in_dsn < 0)
            drc = dsn_too_long(def, out->dsn, err);
        if (in_dsn > 0) {
            v = buf;
            src = LB_SRC_DSN;
        }
        if (v != NULL && (dv.value[k] = def->secret ? lb_secmem_dup(v) : strdup(v)) == NULL)
            drc = lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
        dv.source[k] = src;
    }
    lb_wipe(buf, sizeof(buf));
    if (drc == LB_OK)
        drc = lb_dbodbc_apply(out, &dv, compat_note, sizeof(compat_note), err);
    lb_dbodbc_values_free(&dv);
    if (drc != LB_OK) {
        lb_settings_free(out);
        return drc;
    }

    /* Then a ~/.databrickscfg profile, read only when it can give something: a profile
     * named explicitly (it must exist), or a key it holds that is still missing. */
    const char *why = NULL;
    char reason[200];
    if (out->value[LB_KEY_PROFILE]) {
        snprintf(reason, sizeof(reason), "Profile \"%.100s\" (from %s) names a section of it",
                 out->value[LB_KEY_PROFILE], lb_source_name(out->source[LB_KEY_PROFILE]));
        why = reason;
    } else {
        /* Credentials are complete when some source's settings are (the choice itself is
         * lb_auth_select's, after the merge). */
        const char *at = out->value[LB_KEY_AUTH_TYPE];
        int creds = out->value[LB_KEY_TOKEN] || out->value[LB_KEY_CLI_PATH] ||
                    (at && strcasecmp(at, "databricks-cli") == 0) || out->value[LB_KEY_OIDC_TOKEN_FILE] ||
                    (out->value[LB_KEY_CLIENT_ID] &&
                     (out->value[LB_KEY_CLIENT_SECRET] || out->value[LB_KEY_CLIENT_SECRET_FILE])) ||
                    lb_auth_azure_configured(out);
        for (int k = 0; why == NULL && k < LB_KEY_COUNT; k++) {
            int needed = k == LB_KEY_HOST || (!creds && (k == LB_KEY_CLIENT_ID || k == LB_KEY_CLIENT_SECRET));
            if (out->value[k] == NULL && needed && /* an optional key is no reason to read it */
                !(k == LB_KEY_CLIENT_SECRET && out->value[LB_KEY_CLIENT_SECRET_FILE])) {
                snprintf(reason, sizeof(reason), "%s is set nowhere else", lb_key_info((lb_key)k)->name);
                why = reason;
            }
        }
    }
    if (why != NULL) {
        lb_kvlist profile;
        lb_kvlist_init(&profile);
        lb_result prc = lb_profile_load(out->value[LB_KEY_PROFILE], lb_source_name(out->source[LB_KEY_PROFILE]),
                                        sources ? sources->env_get : NULL, why, &profile, err);
        for (int k = 0; prc == LB_OK && k < LB_KEY_COUNT; k++) {
            const char *name = lb_keys_profile_name((lb_key)k);
            const char *v = name ? lb_kvlist_get(&profile, name) : NULL;
            if (out->value[k] == NULL && v && v[0] && set_value(out, (lb_key)k, v, LB_SRC_PROFILE) != LB_OK)
                prc = lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
        }
        lb_kvlist_free(&profile);
        if (prc != LB_OK) {
            lb_settings_free(out);
            return prc;
        }
    }

    /* Last the defaults (UID's, the client id for oauth-m2m, comes after the choice of source). */
    for (int k = 0; k < LB_KEY_COUNT; k++) {
        const char *v = lb_key_info((lb_key)k)->def;
        if (out->value[k] == NULL && v != NULL && set_value(out, (lb_key)k, v, LB_SRC_DEFAULT) != LB_OK) {
            lb_settings_free(out);
            return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
        }
    }

    lb_result frc = secret_from_file(out, err);
    if (frc != LB_OK) {
        lb_settings_free(out);
        return frc;
    }
    for (int k = 0; k < LB_KEY_COUNT; k++) {
        if (out->value[k] == NULL && !lb_key_info((lb_key)k)->optional) {
            const lb_key_def *def = lb_key_info((lb_key)k);
            char where[256];
            lb_settings_where((lb_key)k, where, sizeof(where));
            lb_result rc = lb_error_set(err, LB_ERR_SETTINGS,
                                        "Missing setting %s (%s): %s%s%s.", def->name, def->what,
                                        where, out->dsn ? "" : " (no DSN was named)",
                                        k == LB_KEY_ENDPOINT ? "; find it with `databricks postgres list-endpoints`" : "");
            lb_settings_free(out);
            return rc;
        }
    }
    lb_auth_type auth = LB_AUTH_AUTO;
    lb_result rc = lb_auth_select(out, sources ? sources->env_get : NULL, &auth, out->auth_why,
                                  sizeof(out->auth_why), err);
    out->auth_type = (int)auth;
    size_t wl = strlen(out->auth_why);
    if (rc == LB_OK && compat_note[0])
        snprintf(out->auth_why + wl, sizeof(out->auth_why) - wl, "; %s", compat_note);
    /* A service principal's role is its client id (oauth-m2m; federation with a ClientID; the
     * Azure sources' application id): the source's role. */
    const lb_auth_source *chosen = rc == LB_OK ? lb_auth_source_of(auth) : NULL;
    const char *role = chosen && !chosen->person ? chosen->role(out) : NULL;
    if (rc == LB_OK && out->value[LB_KEY_UID] == NULL && role &&
        set_value(out, LB_KEY_UID, role, LB_SRC_DEFAULT) != LB_OK)
        rc = lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    if (rc == LB_OK)
        rc = check_target(out, sources && sources->no_target, err);
    if (rc == LB_OK)
        rc = lb_keys_validate(out, err);
    if (rc != LB_OK)
        lb_settings_free(out);
    return rc;
}
