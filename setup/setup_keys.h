/* What the setup library (and the tool) know about the driver's keys beyond the core's
 * key table (lb_key_info): how a configuration form shows each key (text, choice list,
 * file name, masked secret) and the checks on the keys of a DSN being written: values
 * that lb_settings_resolve would refuse, secrets in a system-wide odbc.ini. */
#ifndef LB_SETUP_KEYS_H
#define LB_SETUP_KEYS_H

#include <stddef.h>

#include "lb_connstr.h"
#include "lb_settings.h"

typedef enum { LB_FORM_TEXT, LB_FORM_CHOICE, LB_FORM_FILE, LB_FORM_SECRET } lb_form_kind;

typedef struct {
    lb_form_kind kind;
    const char *const *choices; /* NULL-terminated for LB_FORM_CHOICE, else NULL */
} lb_setup_form;

/* How a form shows key. */
lb_setup_form lb_setup_keys_form(lb_key key);

/* A line of help for key: what it is, its environment variable and its default. */
void lb_setup_keys_help(lb_key key, char *buf, size_t size);

/* Checks the keys of a DSN (attrs: key=value pairs, DSN= and Driver= included or not)
 * before it is written; system_dsn: it goes to the system-wide odbc.ini, where no
 * secret may go. 0, or -1 and a message naming the key (never a secret's value). */
int lb_setup_keys_check(const lb_kvlist *attrs, int system_dsn, char *msg, size_t size);

#endif
