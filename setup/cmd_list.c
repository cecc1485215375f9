/* lakebase-odbc list: the user and system DSNs whose driver is this driver, with their
 * keys; the value of every secret key is masked. */
#include "tool.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool_odbcini.h"

static int list_scope(lb_tool_out *out, int system, json_object *arr)
{
    lb_kvlist names;
    lb_kvlist_init(&names);
    int found = 0;
    if (lb_tool_odbcini_sections(system, "odbc.ini", &names) == 0) {
        for (size_t i = 0; i < names.count; i++) {
            const char *dsn = names.items[i].key;
            lb_kvlist keys;
            lb_kvlist_init(&keys);
            lb_tool_odbcini_section(system, "odbc.ini", dsn, &keys);
            const char *driver = lb_kvlist_get(&keys, "Driver");
            if (lb_tool_odbcini_is_our_driver(driver)) {
                found++;
                json_object *entry = NULL, *settings = NULL;
                if (arr) {
                    entry = json_object_new_object();
                    settings = json_object_new_object();
                    json_object_object_add(entry, "name", json_object_new_string(dsn));
                    json_object_object_add(entry, "scope", json_object_new_string(system ? "system" : "user"));
                    json_object_object_add(entry, "settings", settings);
                    json_object_array_add(arr, entry);
                } else {
                    lb_tool_say(out, "%s%s%s (%s DSN)", lb_tool_bold(out), dsn, lb_tool_reset(out),
                                system ? "system" : "user");
                }
                for (size_t k = 0; k < keys.count; k++) {
                    const char *shown = lb_tool_shown_value(keys.items[k].key, keys.items[k].value);
                    if (settings)
                        json_object_object_add(settings, keys.items[k].key, json_object_new_string(shown));
                    else
                        lb_tool_say(out, "    %-20s = %s", keys.items[k].key, shown);
                }
            }
            lb_kvlist_free(&keys);
        }
    }
    lb_kvlist_free(&names);
    return found;
}

/* 1 when the user's odbc.ini (ODBCINI, else ~/.odbc.ini) is the system's (ODBCSYSINI/odbc.ini,
 * else /etc/odbc.ini), as in the local Lakebase's setup: its DSNs are listed once. */
static int same_file(void)
{
    char user[PATH_MAX], sys[PATH_MAX], ru[PATH_MAX], rs[PATH_MAX];
    const char *ini = secure_getenv("ODBCINI"), *home = secure_getenv("HOME"), *sysdir = secure_getenv("ODBCSYSINI");
    snprintf(user, sizeof(user), "%s%s", ini ? ini : home ? home : "", ini ? "" : "/.odbc.ini");
    snprintf(sys, sizeof(sys), "%s/odbc.ini", sysdir ? sysdir : "/etc");
    return realpath(user, ru) && realpath(sys, rs) && strcmp(ru, rs) == 0;
}

int lb_tool_cmd_list(lb_tool_out *out, int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--json") != 0) {
            lb_tool_fail(out, "list: unknown argument %s", argv[i]);
            return TOOL_EXIT_USAGE;
        }
    json_object *arr = out->json ? json_object_new_array() : NULL;
    if (arr)
        json_object_object_add(out->doc, "dsns", arr);
    int n = list_scope(out, 0, arr) + (same_file() ? 0 : list_scope(out, 1, arr));
    if (n == 0)
        lb_tool_say(out, "no DSN uses the Lakebase driver");
    return TOOL_EXIT_OK;
}
