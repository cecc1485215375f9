/* The ~/.databrickscfg profile reader (the Databricks SDKs' rules) and the INI section
 * reader it is built on. */
#ifndef LB_PROFILE_H
#define LB_PROFILE_H

#include "lb_connstr.h"
#include "lb_error.h"

/* Adds the keys of [section] of an INI file's text (~/.databrickscfg, odbc.ini) to out;
 * 1 when the section exists. */
int lb_ini_section(const char *text, const char *section, lb_kvlist *out);

/* Adds the keys of a profile to out: the file is DATABRICKS_CONFIG_FILE, else
 * $HOME/.databrickscfg (env_get reads both; may be NULL); the section is named (a profile
 * the user named: it must exist; named_from says where it was named, for the error), else
 * [__settings__] default_profile, else DEFAULT. A missing file gives nothing (unless a
 * profile was named); a file that is not a regular file, or larger than 1 MiB, is an error
 * saying why it was read (why). */
lb_result lb_profile_load(const char *named, const char *named_from, const char *(*env_get)(const char *),
                          const char *why, lb_kvlist *out, lb_error *err);

#endif
