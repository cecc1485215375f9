/* The key table's helpers for the merge (lb_settings.c): matching a key's spellings, its
 * ~/.databrickscfg profile key, and the checks of the merged values. The table itself is
 * read through lb_key_info (lb_settings.h). */
#ifndef LB_KEYS_H
#define LB_KEYS_H

#include "lb_settings.h"

/* True when name (any case) is the key's name or one of its aliases. */
int lb_keys_match(const lb_key_def *def, const char *name);

/* The key's name in a ~/.databrickscfg profile, or NULL when a profile cannot give it. */
const char *lb_keys_profile_name(lb_key key);

/* The error for a bad value: names the key, its source and the problem, and quotes the value
 * unless it is a secret (or pqopt, which may hold one). Returns LB_ERR_SETTINGS. */
lb_result lb_keys_bad_value(lb_error *err, const lb_settings *s, lb_key key, const char *problem);

/* Checks every merged value and fills the parsed forms (port, timeouts, cache mode, ...);
 * normalizes DatabricksHost and SSLmode, and names the system CA bundle as SSLRootCert when
 * SSLmode checks the certificate and none was named. */
lb_result lb_keys_validate(lb_settings *s, lb_error *err);

#endif
