/* Bounded JSON parsing helpers (see lb_json.h). */
#include "lb_json.h"

#include <ctype.h>
#include <json-c/json.h>
#include <math.h>
#include <json-c/printbuf.h>
#include <stdio.h>
#include <string.h>

#include "lb_buf.h"

/* The largest duration lb_json_seconds gives (far above any lifetime the cache keeps). */
#define LB_JSON_MAX_SECONDS 1000000000000000LL

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

/* "3599" or "3599.25": the whole seconds; -1 for anything else. */
static long long seconds_text(const char *s)
{
    const char *p = s;
    long long v = 0;
    if (!isdigit((unsigned char)*p))
        return -1;
    for (; isdigit((unsigned char)*p); p++)
        v = v < LB_JSON_MAX_SECONDS ? v * 10 + (*p - '0') : LB_JSON_MAX_SECONDS;
    if (*p == '.') {
        if (!isdigit((unsigned char)*++p))
            return -1;
        while (isdigit((unsigned char)*p))
            p++;
    }
    return *p == '\0' ? (v < LB_JSON_MAX_SECONDS ? v : LB_JSON_MAX_SECONDS) : -1;
}

int lb_json_seconds(struct json_object *obj, const char *key, long long *out)
{
    struct json_object *v = NULL;
    if (obj == NULL || !json_object_object_get_ex(obj, key, &v) || v == NULL)
        return -1;
    long long s = -1;
    switch (json_object_get_type(v)) {
    case json_type_int:
        s = (long long)json_object_get_int64(v);
        break;
    case json_type_double: {
        double d = json_object_get_double(v);
        if (isfinite(d) && d >= 1)
            s = d >= (double)LB_JSON_MAX_SECONDS ? LB_JSON_MAX_SECONDS : (long long)d;
        break;
    }
    case json_type_string:
        s = seconds_text(json_object_get_string(v));
        break;
    default:
        break;
    }
    if (s <= 0)
        return -2;
    *out = s > LB_JSON_MAX_SECONDS ? LB_JSON_MAX_SECONDS : s;
    return 0;
}

/* The code and message of an error object, in whichever shape it came (see lb_json.h). */
static void error_fields(struct json_object *obj, char *code, size_t code_size, const char **msg)
{
    struct json_object *v = NULL;
    code[0] = '\0';
    if (json_object_object_get_ex(obj, "error_code", &v) && json_object_is_type(v, json_type_int))
        snprintf(code, code_size, "%lld", (long long)json_object_get_int64(v));
    const char *c = code[0] ? code : lb_json_string(obj, "error_code");
    const char *m = lb_json_string(obj, "message");
    if (c == NULL || c[0] == '\0')
        c = lb_json_string(obj, "errorCode");
    if (m == NULL || m[0] == '\0')
        m = lb_json_string(obj, "errorSummary");
    if (m == NULL || m[0] == '\0')
        m = lb_json_string(obj, "error_description");
    const char *e = lb_json_string(obj, "error");
    if (e && e[0]) {
        /* OAuth's {"error": code, "error_description": text}, or the older REST
         * {"error": text} when nothing else describes the error. */
        if ((c == NULL || c[0] == '\0') && m && m[0])
            c = e;
        else if (m == NULL || m[0] == '\0')
            m = e;
    }
    if (c != code) {
        code[0] = '\0';
        if (c)
            printable(c, strlen(c), code, code_size);
    }
    *msg = (m && m[0]) ? m : NULL;
}

/* The reason of the first google.rpc.ErrorInfo in "details", or NULL. */
static const char *error_info_reason(struct json_object *obj)
{
    struct json_object *details = NULL;
    if (!json_object_object_get_ex(obj, "details", &details) || !json_object_is_type(details, json_type_array))
        return NULL;
    for (size_t i = 0; i < json_object_array_length(details) && i < 16; i++) {
        struct json_object *d = json_object_array_get_idx(details, i);
        const char *type = lb_json_string(d, "@type");
        const char *reason = lb_json_string(d, "reason");
        if (type && reason && reason[0] && strstr(type, "google.rpc.ErrorInfo"))
            return reason;
    }
    return NULL;
}

void lb_json_error_code(const char *body, size_t len, char *buf, size_t size)
{
    if (size)
        buf[0] = '\0';
    struct json_object *obj = lb_json_parse_object(body, len);
    if (obj == NULL || size == 0) {
        lb_json_put_wiped(obj);
        return;
    }
    const char *msg;
    error_fields(obj, buf, size, &msg);
    lb_json_put_wiped(obj);
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
    char c[64], m[300], r[64] = "";
    const char *msg = NULL;
    error_fields(obj, c, sizeof(c), &msg);
    printable(msg ? msg : "", msg ? strlen(msg) : 0, m, sizeof(m));
    const char *reason = error_info_reason(obj);
    if (reason) {
        printable(reason, strlen(reason), r, sizeof(r));
        if (strcmp(r, c) == 0 || strstr(m, r) != NULL)
            r[0] = '\0'; /* says nothing the code or message does not */
    }
    if (c[0] && msg)
        snprintf(buf, size, "%s: %s", c, m);
    else if (c[0] || msg)
        snprintf(buf, size, "%s", c[0] ? c : m);
    else
        snprintf(buf, size, "no error description");
    if (r[0] && (c[0] || msg) && size > 0) {
        size_t used = strlen(buf);
        snprintf(buf + used, size - used, " (reason: %s)", r);
    }
    lb_json_put_wiped(obj);
}
