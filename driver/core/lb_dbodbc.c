/* The Databricks SQL ODBC driver's authentication keys turned into ours (see lb_dbodbc.h):
 * which AuthMech and Auth_Flow mean which AuthType, which of its keys each flow reads, and the
 * conflicts with our own keys. */
#include "lb_dbodbc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lb_secmem.h"

static const lb_key_def dbodbc_keys[LB_DBODBC_COUNT] = {
    [LB_DBODBC_AUTH_MECH] = {.name = "AuthMech"},
    [LB_DBODBC_AUTH_FLOW] = {.name = "Auth_Flow"},
    [LB_DBODBC_ACCESS_TOKEN] = {.name = "Auth_AccessToken", .secret = 1},
    [LB_DBODBC_CLIENT_ID] = {.name = "Auth_Client_ID"},
    [LB_DBODBC_CLIENT_SECRET] = {.name = "Auth_Client_Secret", .secret = 1},
    [LB_DBODBC_PWD] = {.name = "PWD", .aliases = {"Password", NULL}, .secret = 1},
    [LB_DBODBC_HTTP_PATH] = {.name = "HTTPPath"},
};

#define FLOWS "0 (token passthrough: Auth_AccessToken), 1 (a service principal: Auth_Client_ID and " \
              "Auth_Client_Secret), 2 (a Databricks CLI login: databricks-cli) or 3 (an Azure managed identity: " \
              "azure-msi)"

const lb_key_def *lb_dbodbc_key_info(lb_dbodbc_key key)
{
    return key < LB_DBODBC_COUNT ? &dbodbc_keys[key] : NULL;
}

static int find(const char *name, int secret_only)
{
    for (int k = 0; k < LB_DBODBC_COUNT; k++) {
        const lb_key_def *d = &dbodbc_keys[k];
        int match = strcasecmp(d->name, name) == 0;
        for (int a = 0; !match && d->aliases[a]; a++)
            match = strcasecmp(d->aliases[a], name) == 0;
        if (match && (!secret_only || d->secret))
            return 1;
    }
    return 0;
}

/* That driver's other Auth_ keys (Auth_RefreshToken, Auth_JWT_Key_Passphrase, Auth_Scope, ...)
 * are not read: they are kept from psqlODBC and redacted like secrets, since some are. */
static int other_auth_key(const char *name)
{
    return strncasecmp(name, "Auth_", 5) == 0 && !find(name, 0);
}

int lb_dbodbc_is_key(const char *name)
{
    return find(name, 0) || other_auth_key(name);
}

int lb_dbodbc_is_secret(const char *name)
{
    return find(name, 1) || other_auth_key(name);
}

void lb_dbodbc_values_free(lb_dbodbc_values *v)
{
    for (int k = 0; k < LB_DBODBC_COUNT; k++) {
        if (dbodbc_keys[k].secret)
            lb_secret_free(v->value[k]);
        else
            free(v->value[k]);
    }
    memset(v, 0, sizeof(*v));
}

/* Set in the connection string or the DSN, the places a DSN's keys come from. */
static int given(const lb_settings *s, lb_key k)
{
    return s->value[k] != NULL && (s->source[k] == LB_SRC_CONNSTR || s->source[k] == LB_SRC_DSN);
}

/* Our key k takes the alias's value, unless the connection string or the DSN sets k to
 * something else: then an error naming both (quoting neither when k is a secret). */
static lb_result put(lb_settings *s, lb_key k, const char *value, lb_source src, const char *alias, lb_error *err)
{
    const lb_key_def *def = lb_key_info(k);
    if (given(s, k)) {
        int same = k == LB_KEY_AUTH_TYPE ? strcasecmp(s->value[k], value) == 0 : strcmp(s->value[k], value) == 0;
        if (same)
            return LB_OK;
        if (k == LB_KEY_AUTH_TYPE)
            return lb_error_set(err, LB_ERR_SETTINGS,
                                "AuthType \"%.60s\" (from %s) and %s (from %s, the Databricks ODBC driver's keys for "
                                "AuthType %s) differ: keep one of them.",
                                s->value[k], lb_source_name(s->source[k]), alias, lb_source_name(src), value);
        if (def->secret)
            return lb_error_set(err, LB_ERR_SETTINGS,
                                "%s (from %s) and %s (from %s, the Databricks ODBC driver's key for it) are both set, "
                                "to different values (not shown): keep one of them.",
                                def->name, lb_source_name(s->source[k]), alias, lb_source_name(src));
        return lb_error_set(err, LB_ERR_SETTINGS,
                            "%s \"%.200s\" (from %s) and %s \"%.200s\" (from %s, the Databricks ODBC driver's key "
                            "for it) differ: keep one of them.",
                            def->name, s->value[k], lb_source_name(s->source[k]), alias, value, lb_source_name(src));
    }
    return lb_settings_set(s, k, value, src) == LB_OK ? LB_OK : lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
}

/* A key the chosen AuthMech / Auth_Flow does not read is refused rather than ignored. */
static lb_result unread(const lb_dbodbc_values *v, lb_dbodbc_key k, const char *mode, const char *instead,
                        lb_error *err)
{
    return lb_error_set(err, LB_ERR_SETTINGS, "%s (from %s) is not read with %s: remove it%s%s.",
                        dbodbc_keys[k].name, lb_source_name(v->source[k]), mode, instead[0] ? ", or " : "", instead);
}

static lb_result needs(const lb_dbodbc_values *v, lb_dbodbc_key k, const char *mode, lb_dbodbc_key from,
                       lb_error *err)
{
    static const char *const ours[LB_DBODBC_COUNT] = {[LB_DBODBC_ACCESS_TOKEN] = "Token",
                                                      [LB_DBODBC_CLIENT_ID] = "ClientID",
                                                      [LB_DBODBC_CLIENT_SECRET] = "ClientSecret or ClientSecretFile",
                                                      [LB_DBODBC_PWD] = "Token"};
    return lb_error_set(err, LB_ERR_SETTINGS,
                        "Missing setting %s: %s (from %s) needs it (the Databricks ODBC driver's key; or the driver's "
                        "own %s), in the connection string or in the DSN's section of odbc.ini.",
                        dbodbc_keys[k].name, mode, lb_source_name(v->source[from]), ours[k]);
}

/* AuthMech=3: UID=token and PWD=a personal access token, used as our Token (pat). The
 * password never reaches psqlODBC: ClientSecret, which PWD also spells, is cleared. */
static lb_result apply_pat_mech(lb_settings *s, const lb_dbodbc_values *v, lb_error *err)
{
    static const lb_dbodbc_key oauth_keys[] = {LB_DBODBC_AUTH_FLOW, LB_DBODBC_ACCESS_TOKEN, LB_DBODBC_CLIENT_ID,
                                               LB_DBODBC_CLIENT_SECRET};
    for (size_t i = 0; i < sizeof(oauth_keys) / sizeof(oauth_keys[0]); i++)
        if (v->value[oauth_keys[i]])
            return unread(v, oauth_keys[i], "AuthMech=3 (OAuth keys go with AuthMech=11)", "set AuthMech=11", err);
    const char *pat = v->value[LB_DBODBC_PWD];
    if (pat == NULL && s->value[LB_KEY_TOKEN] == NULL)
        return needs(v, LB_DBODBC_PWD, "AuthMech=3 (UID=token and PWD=a personal access token)", LB_DBODBC_AUTH_MECH,
                     err);
    const char *uid = s->value[LB_KEY_UID];
    if (given(s, LB_KEY_UID) && strcasecmp(uid, "token") != 0)
        return lb_error_set(err, LB_ERR_SETTINGS,
                            "AuthMech=3 (from %s) takes UID=token and the personal access token as PWD, but UID is "
                            "\"%.100s\" (from %s): set UID=token (the PostgreSQL role is then the token's user), or "
                            "use Token=<the token> and UID=<the role> instead of AuthMech.",
                            lb_source_name(v->source[LB_DBODBC_AUTH_MECH]), uid, lb_source_name(s->source[LB_KEY_UID]));
    if (uid && strcasecmp(uid, "token") == 0) {
        free(s->value[LB_KEY_UID]);
        s->value[LB_KEY_UID] = NULL;
        s->source[LB_KEY_UID] = LB_SRC_NONE;
    }
    if (pat == NULL) /* Token stands in for PWD */
        return put(s, LB_KEY_AUTH_TYPE, "pat", v->source[LB_DBODBC_AUTH_MECH], "AuthMech=3", err);
    const char *cs = s->value[LB_KEY_CLIENT_SECRET];
    if (cs && strcmp(cs, pat) == 0) { /* PWD's value, read as ClientSecret too */
        lb_secret_free(s->value[LB_KEY_CLIENT_SECRET]);
        s->value[LB_KEY_CLIENT_SECRET] = NULL;
        s->source[LB_KEY_CLIENT_SECRET] = LB_SRC_NONE;
    } else if (given(s, LB_KEY_CLIENT_SECRET)) {
        return lb_error_set(err, LB_ERR_SETTINGS,
                            "ClientSecret (from %s) and PWD (from %s, a personal access token with AuthMech=3) are "
                            "both set, to different values (not shown): keep one of them.",
                            lb_source_name(s->source[LB_KEY_CLIENT_SECRET]), lb_source_name(v->source[LB_DBODBC_PWD]));
    }
    lb_result rc = put(s, LB_KEY_TOKEN, pat, v->source[LB_DBODBC_PWD], "PWD (with AuthMech=3)", err);
    return rc == LB_OK ? put(s, LB_KEY_AUTH_TYPE, "pat", v->source[LB_DBODBC_AUTH_MECH], "AuthMech=3", err) : rc;
}

/* AuthMech=11: Auth_Flow (default 0) chooses the AuthType and the keys it reads. */
static lb_result apply_oauth_mech(lb_settings *s, const lb_dbodbc_values *v, char *note, size_t note_size,
                                  lb_error *err)
{
    const char *flow_text = v->value[LB_DBODBC_AUTH_FLOW] ? v->value[LB_DBODBC_AUTH_FLOW] : "0";
    lb_source flow_src = v->value[LB_DBODBC_AUTH_FLOW] ? v->source[LB_DBODBC_AUTH_FLOW] : v->source[LB_DBODBC_AUTH_MECH];
    static const char *const types[] = {"pat", "oauth-m2m", "databricks-cli", "azure-msi"};
    int flow = -1;
    if (flow_text[0] >= '0' && flow_text[0] <= '3' && flow_text[1] == '\0')
        flow = flow_text[0] - '0';
    if (flow < 0)
        return lb_error_set(err, LB_ERR_SETTINGS, "Auth_Flow \"%.40s\" (from %s) is not one of " FLOWS ".", flow_text,
                            lb_source_name(flow_src));
    /* The keys each flow reads; any other is refused. */
    static const int reads[4][LB_DBODBC_COUNT] = {
        [0] = {[LB_DBODBC_ACCESS_TOKEN] = 1},
        [1] = {[LB_DBODBC_CLIENT_ID] = 1, [LB_DBODBC_CLIENT_SECRET] = 1},
    };
    char mode[64];
    snprintf(mode, sizeof(mode), "AuthMech=11 and Auth_Flow=%d", flow);
    static const lb_dbodbc_key flow_keys[] = {LB_DBODBC_ACCESS_TOKEN, LB_DBODBC_CLIENT_ID, LB_DBODBC_CLIENT_SECRET};
    for (size_t i = 0; i < sizeof(flow_keys) / sizeof(flow_keys[0]); i++) {
        lb_dbodbc_key k = flow_keys[i];
        if (v->value[k] && !reads[flow][k])
            return unread(v, k, mode,
                          flow == 3 && k == LB_DBODBC_CLIENT_ID
                              ? "name a user-assigned managed identity with AzureClientID"
                              : "set the Auth_Flow that reads it",
                          err);
    }
    /* The flow's keys become ours; our own (ClientSecretFile too) may stand in for them. */
    static const struct {
        int flow;
        lb_dbodbc_key alias;
        lb_key ours, or_ours;
    } maps[] = {{0, LB_DBODBC_ACCESS_TOKEN, LB_KEY_TOKEN, LB_KEY_TOKEN},
                {1, LB_DBODBC_CLIENT_ID, LB_KEY_CLIENT_ID, LB_KEY_CLIENT_ID},
                {1, LB_DBODBC_CLIENT_SECRET, LB_KEY_CLIENT_SECRET, LB_KEY_CLIENT_SECRET_FILE}};
    lb_result rc = LB_OK;
    for (size_t i = 0; rc == LB_OK && i < sizeof(maps) / sizeof(maps[0]); i++) {
        if (maps[i].flow != flow)
            continue;
        lb_dbodbc_key a = maps[i].alias;
        if (v->value[a])
            rc = put(s, maps[i].ours, v->value[a], v->source[a], dbodbc_keys[a].name, err);
        else if (s->value[maps[i].ours] == NULL && s->value[maps[i].or_ours] == NULL)
            rc = needs(v, a, mode, v->value[LB_DBODBC_AUTH_FLOW] ? LB_DBODBC_AUTH_FLOW : LB_DBODBC_AUTH_MECH, err);
    }
    if (rc == LB_OK) {
        char alias[64];
        snprintf(alias, sizeof(alias), "AuthMech=11 with Auth_Flow=%d", flow);
        rc = put(s, LB_KEY_AUTH_TYPE, types[flow], flow_src, alias, err);
    }
    if (rc == LB_OK)
        snprintf(note, note_size, "AuthType %s from the Databricks ODBC driver's AuthMech=11 and Auth_Flow=%d (from %s)",
                 types[flow], flow, lb_source_name(flow_src));
    return rc;
}

lb_result lb_dbodbc_apply(lb_settings *s, const lb_dbodbc_values *v, char *note, size_t note_size, lb_error *err)
{
    note[0] = '\0';
    if (v->value[LB_DBODBC_HTTP_PATH])
        return lb_error_set(err, LB_ERR_SETTINGS,
                            "HTTPPath (from %s) names a SQL warehouse, a key of the Databricks SQL ODBC driver with "
                            "no meaning for Lakebase: remove it (and Host, Port=443, SSL and ThriftTransport), set "
                            "DatabricksHost=https://<the Host> and Endpoint (or Instance) to the Lakebase database; "
                            "see docs/migrating-from-databricks-odbc.md.",
                            lb_source_name(v->source[LB_DBODBC_HTTP_PATH]));
    const char *mech = v->value[LB_DBODBC_AUTH_MECH];
    if (mech == NULL) {
        for (lb_dbodbc_key k = LB_DBODBC_AUTH_FLOW; k <= LB_DBODBC_CLIENT_SECRET; k++)
            if (v->value[k])
                return lb_error_set(err, LB_ERR_SETTINGS,
                                    "%s (from %s) is a key of the Databricks ODBC driver's OAuth, read with "
                                    "AuthMech=11 only: add AuthMech=11 (and Auth_Flow), or use the driver's own keys "
                                    "(AuthType, Token, ClientID, ClientSecret).",
                                    dbodbc_keys[k].name, lb_source_name(v->source[k]));
        return LB_OK;
    }
    if (strcmp(mech, "3") == 0) {
        lb_result rc = apply_pat_mech(s, v, err);
        if (rc == LB_OK)
            snprintf(note, note_size, "AuthType pat from the Databricks ODBC driver's AuthMech=3 (from %s): the "
                     "token is PWD", lb_source_name(v->source[LB_DBODBC_AUTH_MECH]));
        return rc;
    }
    if (strcmp(mech, "11") == 0)
        return apply_oauth_mech(s, v, note, note_size, err);
    return lb_error_set(err, LB_ERR_SETTINGS,
                        "AuthMech \"%.40s\" (from %s) is not supported: use 11 (OAuth, with Auth_Flow " FLOWS ") or 3 "
                        "(UID=token and PWD=a personal access token).",
                        mech, lb_source_name(v->source[LB_DBODBC_AUTH_MECH]));
}
