/* Helpers shared by the fuzz targets: invariant checks that abort with a message
 * (libFuzzer then saves the input as a crash artifact) and a strict UTF-8 validator
 * written independently of lb_utf16.c, so the targets can cross-check it. */
#ifndef LB_FUZZ_COMMON_H
#define LB_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_error.h"

#define LBF_CHECK(cond)                                                                      \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "\n*** fuzz invariant failed at %s:%d: %s\n", __FILE__, __LINE__, \
                    #cond);                                                                  \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

/* A malloc'd copy of len bytes plus a NUL, sized exactly so ASan sees over-reads. */
static inline char *lbf_strndup(const uint8_t *data, size_t len)
{
    char *s = malloc(len + 1);
    LBF_CHECK(s != NULL);
    if (len)
        memcpy(s, data, len);
    s[len] = '\0';
    return s;
}

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing past U+10FFFF. */
static inline int lbf_utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t need;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            need = 1; cp = c & 0x1F; min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2; cp = c & 0x0F; min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3; cp = c & 0x07; min = 0x10000;
        } else {
            return 0;
        }
        if (n - i - 1 < need)
            return 0;
        for (size_t k = 1; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += need + 1;
    }
    return 1;
}

/* The message of a recorded error: NUL-terminated inside the record and not empty. */
static inline void lbf_check_error(const lb_error *err)
{
    LBF_CHECK(err->code != LB_OK);
    LBF_CHECK(memchr(err->message, '\0', sizeof(err->message)) != NULL);
    LBF_CHECK(err->message[0] != '\0');
    LBF_CHECK(err->code > LB_OK && (int)err->code < (int)LB_ERR_COUNT);
    LBF_CHECK(strncmp(err->message, "[Lakebase]", 10) != 0); /* the driver adds the prefix */
    for (const char *p = err->message; *p; p++)
        LBF_CHECK(*p != '\r' && *p != '\n' && *p != '\t');
}

/* Opt-in (LB_FUZZ_STRICT_UTF8=1): a message built from valid UTF-8 input must itself
 * be valid UTF-8, or SQLGetDiagRecW cannot convert it and the user sees no message. */
static inline int lbf_strict_utf8(void)
{
    static int v = -1;
    if (v < 0) {
        const char *e = getenv("LB_FUZZ_STRICT_UTF8");
        v = e != NULL && e[0] == '1';
    }
    return v;
}

/* LB_FUZZ_VERBOSE=1: the targets say what each input did (for checking a new seed). */
static inline int lbf_verbose(void)
{
    static int v = -1;
    if (v < 0) {
        const char *e = getenv("LB_FUZZ_VERBOSE");
        v = e != NULL && e[0] == '1';
    }
    return v;
}

#endif
