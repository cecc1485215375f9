/* The workspace options the tool's commands share (--dsn, --profile, --set,
 * --connection-string), the connection string they make, the sources the driver reads
 * besides it, and showing resolved settings with their origin, secrets masked. */
#include "tool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <odbcinst.h>

#include "lb_buf.h"
#include "tool_odbcini.h"

static const char *option_value(lb_tool_out *out, int argc, char **argv, int *i)
{
    const char *arg = argv[*i], *eq = strchr(arg, '=');
    if (eq && strncmp(arg, "--", 2) == 0)
        return eq + 1; /* --dsn=NAME */
    if (*i + 1 >= argc) {
        lb_tool_fail(out, "%s needs a value", arg);
        return NULL;
    }
    return argv[++*i];
}

static int is_option(const char *arg, const char *name)
{
    size_t n = strlen(name);
    return strncmp(arg, name, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

int lb_tool_conn_option(lb_tool_out *out, lb_tool_conn_opts *o, int argc, char **argv, int *i)
{
    const char *arg = argv[*i], *v;
    if (is_option(arg, "--dsn")) {
        if ((v = option_value(out, argc, argv, i)) == NULL)
            return -1;
        o->dsn = v;
    } else if (is_option(arg, "--profile")) {
        if ((v = option_value(out, argc, argv, i)) == NULL)
            return -1;
        o->profile = v;
    } else if (is_option(arg, "--connection-string")) {
        if ((v = option_value(out, argc, argv, i)) == NULL)
            return -1;
        o->connection_string = v;
    } else if (is_option(arg, "--set")) {
        if ((v = option_value(out, argc, argv, i)) == NULL)
            return -1;
        const char *eq = strchr(v, '=');
        if (eq == NULL || eq == v) {
            lb_tool_fail(out, "--set takes KEY=VALUE (a driver key such as CAFile or Proxy), not \"%.60s\"", v);
            return -1;
        }
        if (o->nsets >= (int)(sizeof(o->sets) / sizeof(o->sets[0]))) {
            lb_tool_fail(out, "too many --set options");
            return -1;
        }
        char key[128];
        snprintf(key, sizeof(key), "%.*s", (int)(eq - v), v);
        if (lb_key_is_secret(key))
            o->secret_in_args = 1;
        o->sets[o->nsets++] = v;
    } else {
        return 0;
    }
    return 1;
}

lb_result lb_tool_conn_string(const lb_tool_conn_opts *o, lb_buf *out, lb_error *err)
{
    for (int i = 0; i < o->nsets; i++) {
        const char *eq = strchr(o->sets[i], '=');
        char key[128];
        snprintf(key, sizeof(key), "%.*s", (int)(eq - o->sets[i]), o->sets[i]);
        lb_connstr_append(out, key, eq + 1, 0);
    }
    if (o->profile)
        lb_connstr_append(out, "Profile", o->profile, 0);
    if (o->connection_string) {
        lb_buf_puts(out, o->connection_string);
        if (o->dsn) {
            if (out->data && out->len && out->data[out->len - 1] != ';')
                lb_buf_puts(out, ";");
            lb_connstr_append(out, "DSN", o->dsn, 0);
        }
    } else if (o->dsn) {
        lb_connstr_append(out, "DSN", o->dsn, 0);
    }
    if (out->overflow)
        return lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    if (out->data == NULL || out->len == 0)
        return lb_error_set(err, LB_ERR_SETTINGS,
                            "No settings given: name a DSN, or give --connection-string, --profile or --set KEY=VALUE.");
    return LB_OK;
}

static const char *env_get(const char *name)
{
    return secure_getenv(name);
}

lb_sources lb_tool_conn_sources(void)
{
    lb_sources s = {.dsn_get = lb_tool_odbcini_dsn_get, .env_get = env_get};
    return s;
}

void lb_tool_conn_warn_args(const lb_tool_out *out, const lb_tool_conn_opts *o)
{
    int secret = o->secret_in_args;
    if (o->connection_string) {
        lb_kvlist kv;
        lb_kvlist_init(&kv);
        lb_error err;
        lb_error_init(&err);
        if (lb_connstr_parse(o->connection_string, strlen(o->connection_string), &kv, &err) == LB_OK)
            for (size_t i = 0; i < kv.count; i++)
                if (lb_key_is_secret(kv.items[i].key) && kv.items[i].value[0])
                    secret = 1;
        lb_kvlist_free(&kv);
    }
    if (secret)
        lb_tool_warn(out, "a secret on the command line can be read by other users of this machine (ps); keep it in a "
                          "ClientSecretFile, DATABRICKS_CLIENT_SECRET or a ~/.databrickscfg profile");
}

const char *lb_tool_shown_value(const char *key, const char *value)
{
    if (value == NULL)
        return "";
    return lb_key_is_secret(key) && value[0] ? "********" : value;
}

const char *lb_tool_source_name(lb_source src)
{
    /* The tool's connection string is its command line. */
    return src == LB_SRC_CONNSTR ? "the command line" : lb_source_name(src);
}

const char *lb_tool_setting(const lb_settings *s, lb_key key)
{
    const char *v = lb_settings_get(s, key);
    return v ? v : "(not set)";
}

void lb_tool_conn_print_settings(lb_tool_out *out, const lb_settings *s)
{
    json_object *obj = out->json ? json_object_new_object() : NULL;
    for (int k = 0; k < LB_KEY_COUNT; k++) {
        const lb_key_def *def = lb_key_info((lb_key)k);
        if (s->value[k] == NULL)
            continue;
        const char *shown = lb_tool_shown_value(def->name, s->value[k]);
        const char *src = lb_tool_source_name(s->source[k]);
        if (obj) {
            json_object *e = json_object_new_object();
            json_object_object_add(e, "value", json_object_new_string(shown));
            json_object_object_add(e, "source", json_object_new_string(src));
            json_object_object_add(obj, def->name, e);
        } else {
            lb_tool_say(out, "     %-20s %-40s (%s)", def->name, shown, src);
        }
    }
    if (obj)
        json_object_object_add(out->doc, "settings", obj);
}

lb_result lb_tool_conn_prepare(const lb_tool_conn_opts *o, lb_buf *connstr, lb_kvlist *kv, lb_error *err)
{
    lb_buf s;
    lb_buf_init(&s, 0);
    lb_result rc = lb_tool_conn_string(o, &s, err);
    char probe[16] = "";
    if (rc == LB_OK && o->dsn && SQLGetPrivateProfileString(o->dsn, NULL, "", probe, sizeof(probe), "odbc.ini") <= 0)
        rc = lb_error_set(err, LB_ERR_SETTINGS,
                          "DSN \"%.200s\" is in neither the user's odbc.ini (ODBCINI, else ~/.odbc.ini) nor the system's "
                          "(ODBCSYSINI/odbc.ini, else /etc/odbc.ini); lakebase-odbc list shows the DSNs of this driver.",
                          o->dsn);
    if (rc == LB_OK)
        rc = lb_connstr_parse(s.data, s.len, kv, err);
    if (rc == LB_OK) {
        /* The driver manager needs a DSN or a driver: without either, this driver by its usual name. */
        if (!lb_kvlist_get(kv, "DSN") && !lb_kvlist_get(kv, "Driver") && !lb_kvlist_get(kv, "FileDSN"))
            lb_buf_puts(connstr, "Driver=Lakebase;");
        lb_buf_puts(connstr, s.data);
        if (connstr->overflow)
            rc = lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    }
    lb_buf_free_secret(&s);
    return rc;
}

lb_result lb_tool_session_open(lb_tool_session *ts, const lb_tool_conn_opts *o, long login_timeout_s, lb_error *err)
{
    lb_buf_init(&ts->connstr, 0);
    lb_kvlist_init(&ts->kv);
    memset(&ts->plan, 0, sizeof(ts->plan));
    lb_sources sources = lb_tool_conn_sources();
    lb_result rc = lb_tool_conn_prepare(o, &ts->connstr, &ts->kv, err);
    return rc != LB_OK ? rc : lb_plan_settings(&ts->plan, &ts->kv, &sources, login_timeout_s, err);
}

void lb_tool_session_free(lb_tool_session *ts)
{
    lb_plan_free(&ts->plan);
    lb_kvlist_free(&ts->kv);
    lb_buf_free_secret(&ts->connstr);
}

int lb_tool_conn_args(lb_tool_out *out, lb_tool_conn_opts *o, int argc, char **argv, const char *flag, int *flag_set)
{
    memset(o, 0, sizeof(*o));
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            continue;
        if (flag && strcmp(argv[i], flag) == 0) {
            *flag_set = 1;
            continue;
        }
        int r = lb_tool_conn_option(out, o, argc, argv, &i);
        if (r < 0)
            return -1;
        if (r > 0)
            continue;
        if (argv[i][0] == '-' || o->dsn) {
            lb_tool_fail(out, "%s: unexpected argument %s (see %s --help)", argv[0], argv[i], argv[0]);
            return -1;
        }
        o->dsn = argv[i];
    }
    return 0;
}
