/* Connection-string parsing and formatting (see lb_connstr.h). */
#include "lb_connstr.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void lb_kvlist_init(lb_kvlist *list)
{
    memset(list, 0, sizeof(*list));
}

void lb_kvlist_free(lb_kvlist *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i].key);
        lb_secret_free(list->items[i].value);
    }
    free(list->items);
    lb_kvlist_init(list);
}

static int add_n(lb_kvlist *list, const char *key, size_t klen, const char *value, size_t vlen)
{
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 16;
        lb_kv *items = realloc(list->items, cap * sizeof(*items));
        if (items == NULL)
            return -1;
        list->items = items;
        list->cap = cap;
    }
    char *k = strndup(key, klen);
    char *v = strndup(value, vlen);
    if (k == NULL || v == NULL) {
        free(k);
        lb_secret_free(v);
        return -1;
    }
    list->items[list->count].key = k;
    list->items[list->count].value = v;
    list->count++;
    return 0;
}

int lb_kvlist_add(lb_kvlist *list, const char *key, const char *value)
{
    return add_n(list, key, strlen(key), value, strlen(value));
}

const char *lb_kvlist_get(const lb_kvlist *list, const char *key)
{
    for (size_t i = 0; i < list->count; i++)
        if (strcasecmp(list->items[i].key, key) == 0)
            return list->items[i].value;
    return NULL;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Characters ODBC forbids in a keyword. */
static int bad_key_char(char c)
{
    return strchr("[]{}(),;?*=!@", c) != NULL || (unsigned char)c < 0x20;
}

lb_result lb_connstr_parse(const char *s, size_t len, lb_kvlist *out, lb_error *err)
{
    lb_kvlist_init(out);
    if (len > LB_CONNSTR_MAX)
        return lb_error_set(err, LB_ERR_ARGUMENT,
                            "The connection string is %zu bytes long; the limit is %d bytes.",
                            len, LB_CONNSTR_MAX);
    if (s == NULL)
        return LB_OK;
    if (memchr(s, '\0', len) != NULL)
        return lb_error_set(err, LB_ERR_CONNSTR,
                            "The connection string contains a NUL byte at offset %zu: "
                            "pass its length without the terminator, or SQL_NTS.",
                            (size_t)((const char *)memchr(s, '\0', len) - s));

    lb_buf value;
    lb_buf_init(&value, LB_CONNSTR_MAX);
    size_t i = 0;
    lb_result rc = LB_OK;
    while (i < len) {
        while (i < len && (is_space(s[i]) || s[i] == ';'))
            i++;
        if (i >= len)
            break;
        size_t kstart = i;
        while (i < len && s[i] != '=' && s[i] != ';')
            i++;
        size_t kend = i;
        while (kend > kstart && is_space(s[kend - 1]))
            kend--;
        if (i >= len || s[i] != '=') {
            rc = lb_error_set(err, LB_ERR_CONNSTR,
                              "Connection string: \"%.*s\" at offset %zu has no '=': "
                              "write attributes as key=value, separated by ';'.",
                              (int)(kend - kstart > 40 ? 40 : kend - kstart), s + kstart, kstart);
            goto out;
        }
        if (kend == kstart) {
            rc = lb_error_set(err, LB_ERR_CONNSTR,
                              "Connection string: an attribute at offset %zu has an empty key.",
                              kstart);
            goto out;
        }
        for (size_t k = kstart; k < kend; k++)
            if (bad_key_char(s[k])) {
                rc = lb_error_set(err, LB_ERR_CONNSTR,
                                  "Connection string: the key \"%.*s\" contains '%c', "
                                  "which ODBC does not allow in a key.",
                                  (int)(kend - kstart > 40 ? 40 : kend - kstart), s + kstart, s[k]);
                goto out;
            }
        i++; /* '=' */
        while (i < len && is_space(s[i]))
            i++;
        value.len = 0;
        if (value.data)
            value.data[0] = '\0';
        if (i < len && s[i] == '{') {
            size_t open = i++;
            int closed = 0;
            while (i < len) {
                if (s[i] == '}') {
                    if (i + 1 < len && s[i + 1] == '}') {
                        lb_buf_append(&value, "}", 1);
                        i += 2;
                        continue;
                    }
                    closed = 1;
                    i++;
                    break;
                }
                lb_buf_append(&value, s + i, 1);
                i++;
            }
            if (!closed) {
                rc = lb_error_set(err, LB_ERR_CONNSTR,
                                  "Connection string: the value of %.*s opens a '{' at offset %zu "
                                  "that is never closed; write a literal '}' inside braces as '}}'.",
                                  (int)(kend - kstart > 40 ? 40 : kend - kstart), s + kstart, open);
                goto out;
            }
            while (i < len && is_space(s[i]))
                i++;
            if (i < len && s[i] != ';') {
                rc = lb_error_set(err, LB_ERR_CONNSTR,
                                  "Connection string: unexpected '%c' at offset %zu after the "
                                  "braced value of %.*s; a ';' must follow the closing '}'.",
                                  s[i], i, (int)(kend - kstart > 40 ? 40 : kend - kstart), s + kstart);
                goto out;
            }
        } else {
            size_t vstart = i;
            while (i < len && s[i] != ';')
                i++;
            size_t vend = i;
            while (vend > vstart && is_space(s[vend - 1]))
                vend--;
            lb_buf_append(&value, s + vstart, vend - vstart);
        }
        if (value.overflow || add_n(out, s + kstart, kend - kstart, value.data ? value.data : "",
                                    value.len) != 0) {
            rc = lb_error_set(err, LB_ERR_NOMEM, "Out of memory while parsing the connection string.");
            goto out;
        }
    }
out:
    lb_buf_free_secret(&value);
    if (rc != LB_OK)
        lb_kvlist_free(out);
    return rc;
}

static int needs_braces(const char *v)
{
    size_t n = strlen(v);
    if (n == 0)
        return 0;
    if (is_space(v[0]) || is_space(v[n - 1]) || v[0] == '{')
        return 1;
    return strpbrk(v, ";{}") != NULL;
}

int lb_connstr_append(lb_buf *out, const char *key, const char *value, int force_braces)
{
    int rc = lb_buf_puts(out, key);
    rc |= lb_buf_puts(out, "=");
    if (force_braces || needs_braces(value)) {
        rc |= lb_buf_puts(out, "{");
        for (const char *p = value; *p; p++)
            rc |= (*p == '}') ? lb_buf_puts(out, "}}") : lb_buf_append(out, p, 1);
        rc |= lb_buf_puts(out, "}");
    } else {
        rc |= lb_buf_puts(out, value);
    }
    rc |= lb_buf_puts(out, ";");
    return rc ? -1 : 0;
}
