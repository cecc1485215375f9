/* The driver's keys as a configuration form shows them, and the checks on a DSN's keys
 * before they are written (see setup_keys.h). The values themselves are validated by
 * the core's lb_settings_resolve, the code the driver runs at connect time. */
#include "setup_keys.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const sslmodes[] = {"require", "verify-ca", "verify-full", NULL};
static const char *const cache_modes[] = {"auto", "memory", "file", "off", NULL};
static const char *const log_levels[] = {"off", "error", "info", "debug", NULL};

lb_setup_form lb_setup_keys_form(lb_key key)
{
    lb_setup_form f = {LB_FORM_TEXT, NULL};
    const lb_key_def *def = lb_key_info(key);
    if (def == NULL)
        return f;
    if (def->secret)
        f.kind = LB_FORM_SECRET;
    else if (strcmp(def->name, "SSLmode") == 0)
        f = (lb_setup_form){LB_FORM_CHOICE, sslmodes};
    else if (strcmp(def->name, "TokenCache") == 0)
        f = (lb_setup_form){LB_FORM_CHOICE, cache_modes};
    else if (strcmp(def->name, "LogLevel") == 0)
        f = (lb_setup_form){LB_FORM_CHOICE, log_levels};
    else if (strcmp(def->name, "ClientSecretFile") == 0 || strcmp(def->name, "SSLRootCert") == 0 ||
             strcmp(def->name, "CAFile") == 0 || strcmp(def->name, "LogFile") == 0)
        f.kind = LB_FORM_FILE;
    return f;
}

void lb_setup_keys_help(lb_key key, char *buf, size_t size)
{
    const lb_key_def *def = lb_key_info(key);
    if (def == NULL) {
        buf[0] = '\0';
        return;
    }
    snprintf(buf, size, "%s.%s%s%s%s%s%s", def->what, def->env ? " Environment: " : "", def->env ? def->env : "",
             def->env ? "." : "", def->def ? " Default: " : "", def->def ? def->def : "", def->def ? "." : "");
}

/* Values that satisfy the required keys without a default, so that resolving the DSN's
 * own keys reaches every one of them: only keys the DSN leaves out get one. */
static const struct {
    const char *key, *value;
} placeholders[] = {
    {"DatabricksHost", "https://workspace.invalid"},
    {"ClientID", "00000000-0000-0000-0000-000000000000"},
    {"ClientSecret", "placeholder"},
    {"Endpoint", "projects/p/branches/b/endpoints/e"},
    {"Servername", "postgres.invalid"},
};

static const char *no_env(const char *name)
{
    (void)name;
    return NULL;
}

static int is_secret_value(const char *key, const char *value)
{
    if (!lb_key_is_secret(key) || value[0] == '\0')
        return 0;
    /* A proxy URL is a secret only when it carries a user and password. */
    return strcasecmp(key, "Proxy") != 0 || strchr(value, '@') != NULL;
}

int lb_setup_keys_check(const lb_kvlist *attrs, int system_dsn, char *msg, size_t size)
{
    lb_kvlist kv;
    lb_kvlist_init(&kv);
    int rc = 0;
    for (size_t i = 0; i < attrs->count && rc == 0; i++) {
        const char *k = attrs->items[i].key, *v = attrs->items[i].value;
        if (system_dsn && is_secret_value(k, v)) {
            if (strcasecmp(k, "Proxy") == 0)
                snprintf(msg, size,
                         "Proxy with a user and password may not be written to the system-wide odbc.ini (every user "
                         "can read it): give the proxy without them there, and its credentials in each user's "
                         "https_proxy or in a user DSN");
            else
                snprintf(msg, size,
                         "%s may not be written to the system-wide odbc.ini (every user can use a system DSN): give "
                         "the secret as ClientSecretFile in a user DSN, or in DATABRICKS_CLIENT_SECRET",
                         k);
            rc = -1;
        } else if (strcasecmp(k, "DSN") != 0 && strcasecmp(k, "Driver") != 0 && strcasecmp(k, "Description") != 0 &&
                   v[0] != '\0' && lb_kvlist_add(&kv, k, v) != 0) {
            snprintf(msg, size, "out of memory");
            rc = -1;
        }
    }
    if (rc == 0) {
        int has_file = lb_kvlist_get(&kv, "ClientSecretFile") != NULL;
        for (size_t p = 0; p < sizeof(placeholders) / sizeof(placeholders[0]); p++) {
            int given = 0;
            for (int k = 0; k < LB_KEY_COUNT && !given; k++) {
                const lb_key_def *def = lb_key_info((lb_key)k);
                if (strcasecmp(def->name, placeholders[p].key) != 0)
                    continue;
                given = lb_kvlist_get(&kv, def->name) != NULL;
                for (int a = 0; !given && def->aliases[a]; a++)
                    given = lb_kvlist_get(&kv, def->aliases[a]) != NULL;
            }
            if (strcmp(placeholders[p].key, "ClientSecret") == 0 && has_file)
                given = 1; /* the file is read and checked as the driver would */
            if (!given)
                lb_kvlist_add(&kv, placeholders[p].key, placeholders[p].value);
        }
        lb_sources sources = {.env_get = no_env};
        lb_settings s;
        lb_error err;
        lb_error_init(&err);
        if (lb_settings_resolve(&kv, &sources, &s, &err) != LB_OK) {
            /* A required key of a later driver without a placeholder here is not the DSN's fault. */
            if (strncmp(err.message, "Missing setting ", 16) != 0) {
                /* The keys were resolved as a connection string: the DSN is where they go. */
                char *from = strstr(err.message, " (from the connection string)");
                if (from)
                    memmove(from, from + 29, strlen(from + 29) + 1);
                snprintf(msg, size, "%s", err.message);
                rc = -1;
            }
        } else {
            lb_settings_free(&s);
        }
    }
    lb_kvlist_free(&kv);
    return rc;
}
