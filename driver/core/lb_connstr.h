/* ODBC connection strings: parse "key=value;key={va;lue}" into an ordered key/value
 * list and write one back. Keys compare case-insensitively; the first occurrence of a
 * repeated key wins (as the ODBC specification says); {braced} values may hold ';',
 * '=' and '}' written as '}}'. The list owns its strings; values are wiped on free
 * because some of them are secrets. */
#ifndef LB_CONNSTR_H
#define LB_CONNSTR_H

#include <stddef.h>

#include "lb_buf.h"
#include "lb_error.h"

typedef struct {
    char *key;
    char *value;
} lb_kv;

typedef struct {
    lb_kv *items;
    size_t count;
    size_t cap;
} lb_kvlist;

/* The longest connection string we accept, in bytes. */
#define LB_CONNSTR_MAX (64 * 1024)

void lb_kvlist_init(lb_kvlist *list);
void lb_kvlist_free(lb_kvlist *list);
/* Appends a copy of key and value; -1 when out of memory. */
int lb_kvlist_add(lb_kvlist *list, const char *key, const char *value);
/* The value of the first key equal to key ignoring case, or NULL. */
const char *lb_kvlist_get(const lb_kvlist *list, const char *key);

/* Parses len bytes of s (which need not be NUL-terminated). On failure the list is
 * left empty and err says what is wrong and where. */
lb_result lb_connstr_parse(const char *s, size_t len, lb_kvlist *out, lb_error *err);

/* Appends "key=value;" to out, bracing the value when it needs it (or always when
 * force_braces is set: passwords, which psqlODBC would percent-decode otherwise). */
int lb_connstr_append(lb_buf *out, const char *key, const char *value, int force_braces);

#endif
