/* Secret memory: the allocator that wipes, for libraries that copy the driver's secrets
 * (libcurl copies request headers and bodies, answers and TLS state into blocks of its
 * own). lb_secmem_free overwrites the whole block (its usable size, not just what the
 * caller asked for) before giving it back, and lb_secmem_realloc never leaves the old
 * contents in a block it gives up. The five functions have the shapes of malloc, free,
 * realloc, strdup and calloc, so that they can be handed to a library as its allocator
 * (curl_global_init_mem); their blocks are ordinary malloc blocks. */
#ifndef LB_SECMEM_H
#define LB_SECMEM_H

#include <stddef.h>

void *lb_secmem_malloc(size_t size);
void lb_secmem_free(void *p);
void *lb_secmem_realloc(void *p, size_t size);
char *lb_secmem_strdup(const char *s);
void *lb_secmem_calloc(size_t n, size_t size);

/* How many blocks lb_secmem_malloc, _calloc, _strdup and _realloc have handed out so far:
 * whoever handed its allocator to a library can check that the library uses it. */
unsigned long lb_secmem_handed_out(void);

/* Long-lived secrets (tokens, credentials, the connection string handed to psqlODBC)
 * live in pages of one region the driver maps itself and marks MADV_DONTDUMP, so that a
 * core dump leaves them out. lb_secmem_dup copies s there (a whole number of pages per
 * secret; when the region is full or cannot be mapped, an ordinary malloc'd copy);
 * lb_secret_free (lb_buf.h) frees either kind: it wipes, then gives region pages back
 * through lb_secmem_release. */
char *lb_secmem_dup(const char *s);
/* Whether p lies in the region. */
int lb_secmem_owns(const void *p);
/* Wipes and frees a block lb_secmem_dup returned from the region. */
void lb_secmem_release(void *p);

/* Wipes up to `bytes` of the calling thread's stack below the caller's frame: what the
 * callees of a connect left there (libcurl's, OpenSSL's, psqlODBC's and libpq's locals
 * that held the request, the answer or the password). Never comes closer than 16 KiB to
 * the end of the thread's stack. */
void lb_secmem_scrub_stack(size_t bytes);

#endif
