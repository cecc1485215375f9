/* The one function that writes an lb_error. */
#include "lb_error.h"

#include <stdio.h>
#include <string.h>

void lb_error_init(lb_error *err)
{
    memset(err, 0, sizeof(*err));
}

int lb_error_isset(const lb_error *err)
{
    return err->code != LB_OK;
}

static lb_result set_v(lb_error *err, lb_result code, const char *fmt, va_list ap)
{
    if (err == NULL || err->code != LB_OK)
        return code;
    err->code = code;
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    lb_text_sanitize(err->message);
    lb_text_redact_userinfo(err->message);
    return code;
}

lb_result lb_error_set(lb_error *err, lb_result code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lb_result rc = set_v(err, code, fmt, ap);
    va_end(ap);
    return rc;
}

void lb_text_redact_userinfo(char *s)
{
    char *p = s;
    while ((p = strstr(p, "://")) != NULL) {
        char *auth = p + 3;
        size_t n = strcspn(auth, "/ \t'\"<>`");
        char *at = NULL;
        for (size_t i = 0; i < n; i++)
            if (auth[i] == '@')
                at = auth + i;
        if (at)
            memmove(auth, at + 1, strlen(at + 1) + 1);
        p = auth;
    }
}

/* Length of the valid UTF-8 sequence at p, or 0. */
static size_t utf8_seq(const unsigned char *p)
{
    if (p[0] < 0x80)
        return 1;
    size_t n = (p[0] & 0xE0) == 0xC0 ? 2 : (p[0] & 0xF0) == 0xE0 ? 3 : (p[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0)
        return 0;
    unsigned c = p[0] & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3F);
    }
    if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) || c > 0x10FFFF ||
        (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    return n;
}

void lb_text_sanitize(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        size_t n = utf8_seq(p);
        if (n == 0) {
            *p++ = '?'; /* a character cut by a precision, or not UTF-8 at all */
        } else if (n == 1 && (*p < 0x20 || *p == 0x7f)) {
            *p++ = ' ';
        } else {
            p += n;
        }
    }
}
