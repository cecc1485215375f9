/* The ~/.databrickscfg profile reader, with the Databricks SDKs' rules: the file is
 * DATABRICKS_CONFIG_FILE or ~/.databrickscfg; the section is the one named (Profile or
 * DATABRICKS_CONFIG_PROFILE, resolved by the caller), else [__settings__] default_profile,
 * else [DEFAULT]; a named profile must exist. Which of its values are used (values set
 * elsewhere win) is the merge's (lb_settings.c). Also the INI section reader odbc.ini
 * checks use. */
#include "lb_profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_file.h"
#include "lb_secmem.h"

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        *--e = '\0';
    return s;
}

/* Reads the keys of [section] of the text of an INI file into out. 1 when the section
 * exists. Works on a copy of text, wiped afterwards (the profile holds a secret). */
int lb_ini_section(const char *text, const char *section, lb_kvlist *out)
{
    size_t n = strlen(text);
    char *copy = malloc(n + 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, text, n + 1);
    int in = 0, found = 0;
    for (char *line = copy; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        char *p = trim(line);
        line = nl ? nl + 1 : NULL;
        if (*p == '#' || *p == ';' || *p == '\0')
            continue;
        if (*p == '[') {
            char *end = strchr(p, ']');
            if (end) {
                *end = '\0';
                in = strcmp(trim(p + 1), section) == 0;
                found |= in;
            }
            continue;
        }
        char *eq = strchr(p, '=');
        if (in && eq) {
            *eq = '\0';
            lb_kvlist_add(out, trim(p), trim(eq + 1));
        }
    }
    lb_wipe(copy, n);
    free(copy);
    return found;
}

/* The most of ~/.databrickscfg the driver reads. */
#define CONFIG_FILE_MAX (1024 * 1024)

/* Loads the profile: the Profile setting, else [__settings__] default_profile, else
 * DEFAULT. A profile named by the user must exist. The file is read only when this is
 * called, that is when it can give something (lb_settings_resolve decides). It may be a
 * symbolic link (dotfiles often are); what it names must be a regular file, and a FIFO
 * or a directory is an error instead of a wait. why says what the file is read for. */
lb_result lb_profile_load(const char *named, const char *named_from, const char *(*env_get)(const char *),
                          const char *why, lb_kvlist *profile, lb_error *err)
{
    char path[4096];
    const char *file = env_get ? env_get("DATABRICKS_CONFIG_FILE") : NULL;
    const char *home = env_get ? env_get("HOME") : NULL;
    int from_env = file && file[0];
    if (from_env)
        snprintf(path, sizeof(path), "%s", file);
    else if (home && home[0])
        snprintf(path, sizeof(path), "%s/.databrickscfg", home);
    else
        path[0] = '\0';
    char *text = NULL;
    size_t len = 0;
    if (path[0]) {
        lb_file_info info;
        text = lb_file_slurp(path, LB_FILE_FOLLOW, CONFIG_FILE_MAX, &len, &info);
        if (text == NULL && info.status != LB_FILE_MISSING) {
            char problem[200];
            if (info.status == LB_FILE_TOO_BIG)
                snprintf(problem, sizeof(problem), "is larger than 1 MiB");
            else
                lb_file_explain(&info, problem, sizeof(problem));
            return lb_error_set(err, LB_ERR_SETTINGS,
                                "The Databricks config file %.300s (%s) %s. It is read because %s: "
                                "point DATABRICKS_CONFIG_FILE at a regular file, or set DatabricksHost, ClientID "
                                "and ClientSecret elsewhere and leave Profile unset.",
                                path, from_env ? "from DATABRICKS_CONFIG_FILE" : "~/.databrickscfg", problem, why);
        }
    }
    char name[256] = "DEFAULT";
    if (named) {
        snprintf(name, sizeof(name), "%s", named);
    } else if (text) {
        lb_kvlist settings;
        lb_kvlist_init(&settings);
        if (lb_ini_section(text, "__settings__", &settings) && lb_kvlist_get(&settings, "default_profile"))
            snprintf(name, sizeof(name), "%s", lb_kvlist_get(&settings, "default_profile"));
        lb_kvlist_free(&settings);
    }
    int found = text && lb_ini_section(text, name, profile);
    if (text) {
        lb_wipe(text, len);
        free(text);
    }
    if (found || !named)
        return LB_OK;
    return lb_error_set(err, LB_ERR_SETTINGS,
                        "Profile \"%.100s\" (from %s) is not a section of %s: check the name, or "
                        "DATABRICKS_CONFIG_FILE.", named, named_from,
                        path[0] ? path : "~/.databrickscfg (HOME is not set)");
}
