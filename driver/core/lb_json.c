/* Bounded JSON parsing helpers (see lb_json.h). */
#include "lb_json.h"

#include <json-c/json.h>
#include <json-c/printbuf.h>
#include <stdio.h>
#include <string.h>

#include "lb_buf.h"

/* The tokener collects every string it parses in its printbuf (json-c 0.16 keeps the
 * struct public, fields marked deprecated): wiped before json-c frees it unwiped. */
static void wipe_tokener(struct json_tokener *tok)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    if (tok->pb && tok->pb->buf && tok->pb->size > 0)
        lb_wipe(tok->pb->buf, (size_t)tok->pb->size);
#pragma GCC diagnostic pop
}

/* json-c frees strings unwiped: every string value (tokens, credentials) is wiped first.
 * json_object_get_string gives the object's own buffer. */
static void wipe_strings(struct json_object *obj, int depth)
{
    if (obj == NULL || depth > LB_JSON_MAX_DEPTH + 1)
        return;
    switch (json_object_get_type(obj)) {
    case json_type_string:
        lb_wipe((char *)json_object_get_string(obj), (size_t)json_object_get_string_len(obj));
        break;
    case json_type_object: {
        json_object_object_foreach(obj, key, val) {
            (void)key;
            wipe_strings(val, depth + 1);
        }
        break;
    }
    case json_type_array:
        for (size_t i = 0; i < json_object_array_length(obj); i++)
            wipe_strings(json_object_array_get_idx(obj, i), depth + 1);
        break;
    default:
        break;
    }
}

void lb_json_put_wiped(struct json_object *obj)
{
    if (obj != NULL && json_object_get_type(obj) != json_type_null)
        wipe_strings(obj, 0);
    json_object_put(obj);
}

struct json_object *lb_json_parse_object(const char *text, size_t len)
{
    if (text == NULL || len == 0 || len > (size_t)0x7fffffff)
        return NULL;
    struct json_tokener *tok = json_tokener_new_ex(LB_JSON_MAX_DEPTH);
    if (tok == NULL)
        return NULL;
    struct json_object *obj = json_tokener_parse_ex(tok, text, (int)len);
    size_t used = json_tokener_get_parse_end(tok);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    wipe_tokener(tok);
    json_tokener_free(tok);
    if (obj == NULL || jerr != json_tokener_success) {
        lb_json_put_wiped(obj);
        return NULL;
    }
    for (size_t i = used; i < len; i++) {
        if (text[i] != ' ' && text[i] != '\n' && text[i] != '\r' && text[i] != '\t') {
            lb_json_put_wiped(obj);
            return NULL;
        }
    }
    if (!json_object_is_type(obj, json_type_object)) {
        lb_json_put_wiped(obj);
        return NULL;
    }
    return obj;
}

const char *lb_json_string(struct json_object *obj, const char *key)
{
    struct json_object *v = NULL;
    if (obj == NULL || !json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

int lb_json_int64(struct json_object *obj, const char *key, long long *out)
{
    struct json_object *v = NULL;
    if (obj == NULL || !json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_int))
        return -1;
    *out = (long long)json_object_get_int64(v);
    return 0;
}

static void printable(const char *s, size_t len, char *buf, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : ' ';
    }
    if (size)
        buf[o] = '\0';
}

void lb_json_describe_error(const char *body, size_t len, char *buf, size_t size)
{
    struct json_object *obj = lb_json_parse_object(body, len);
    if (obj == NULL) {
        if (len == 0)
            snprintf(buf, size, "empty answer");
        else {
            char raw[160];
            printable(body, len < 120 ? len : 120, raw, sizeof(raw));
            snprintf(buf, size, "answer is not JSON: \"%s%s\"", raw, len > 120 ? "..." : "");
        }
        return;
    }
    const char *code = lb_json_string(obj, "error_code");
    const char *msg = lb_json_string(obj, "message");
    if (code == NULL && msg == NULL) {
        code = lb_json_string(obj, "error");
        msg = lb_json_string(obj, "error_description");
    }
    if (code && code[0] == '\0')
        code = NULL;
    if (msg && msg[0] == '\0')
        msg = NULL;
    char c[64], m[300];
    printable(code ? code : "", code ? strlen(code) : 0, c, sizeof(c));
    printable(msg ? msg : "", msg ? strlen(msg) : 0, m, sizeof(m));
    if (code && msg)
        snprintf(buf, size, "%s: %s", c, m);
    else if (code || msg)
        snprintf(buf, size, "%s", code ? c : m);
    else
        snprintf(buf, size, "no error description");
    lb_json_put_wiped(obj);
}
