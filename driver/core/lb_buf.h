/* A growable, NUL-terminated byte buffer with a hard size limit, for everything we
 * build (connection strings) or read (HTTP bodies). The caller owns buf->data and
 * frees it with lb_buf_free (lb_buf_free_secret wipes it first). */
#ifndef LB_BUF_H
#define LB_BUF_H

#include <stddef.h>

typedef struct {
    char *data;     /* NUL-terminated, or NULL while empty */
    size_t len;
    size_t cap;
    size_t max;     /* lb_buf_append fails past this many bytes (0: no limit) */
    int overflow;   /* set once an append was refused */
} lb_buf;

void lb_buf_init(lb_buf *b, size_t max);
/* 0 on success, -1 on allocation failure or when max would be exceeded. */
int lb_buf_append(lb_buf *b, const void *data, size_t len);
int lb_buf_puts(lb_buf *b, const char *s);
int lb_buf_printf(lb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the string to the caller (never NULL on success: "" when empty). */
char *lb_buf_steal(lb_buf *b);
void lb_buf_free(lb_buf *b);
void lb_buf_free_secret(lb_buf *b);

/* Wipes and frees a NUL-terminated secret, malloc'd or from lb_secmem_dup's region
 * (pages kept out of core dumps); NULL is a no-op. */
void lb_secret_free(char *s);
/* Overwrites n bytes in a way the compiler may not drop. */
void lb_wipe(void *p, size_t n);

#endif
