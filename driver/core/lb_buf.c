/* Bounded growable buffers and secret wiping. */
#include "lb_buf.h"
#include "lb_secmem.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lb_buf_init(lb_buf *b, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->max = max;
}

static int reserve(lb_buf *b, size_t need)
{
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    /* Grow by copy, not realloc, so a secret never lingers in a freed block. */
    char *p = malloc(cap);
    if (p == NULL)
        return -1;
    if (b->data) {
        memcpy(p, b->data, b->len + 1);
        lb_wipe(b->data, b->cap);
        free(b->data);
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

int lb_buf_append(lb_buf *b, const void *data, size_t len)
{
    if (b->overflow)
        return -1;
    if ((b->max && b->len + len > b->max) || reserve(b, b->len + len + 1) != 0) {
        b->overflow = 1;
        return -1;
    }
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int lb_buf_puts(lb_buf *b, const char *s)
{
    return lb_buf_append(b, s, strlen(s));
}

int lb_buf_printf(lb_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n < sizeof(small))
        return lb_buf_append(b, small, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (big == NULL)
        return -1;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = lb_buf_append(b, big, (size_t)n);
    lb_wipe(big, (size_t)n);
    free(big);
    return rc;
}

char *lb_buf_steal(lb_buf *b)
{
    if (b->data == NULL && reserve(b, 1) != 0)
        return NULL;
    if (b->len == 0)
        b->data[0] = '\0';
    char *s = b->data;
    b->data = NULL;
    b->len = b->cap = 0;
    return s;
}

void lb_buf_free(lb_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void lb_buf_free_secret(lb_buf *b)
{
    if (b->data)
        lb_wipe(b->data, b->cap);
    lb_buf_free(b);
}

void lb_wipe(void *p, size_t n)
{
    if (p && n)
        OPENSSL_cleanse(p, n);
}

void lb_secret_free(char *s)
{
    if (s == NULL)
        return;
    if (lb_secmem_owns(s)) {
        lb_secmem_release(s);
        return;
    }
    lb_wipe(s, strlen(s));
    free(s);
}
