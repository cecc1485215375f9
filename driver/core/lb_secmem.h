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

/* Wipes up to `bytes` of the calling thread's stack below the caller's frame: what the
 * callees of a connect left there (libcurl's, OpenSSL's, psqlODBC's and libpq's locals
 * that held the request, the answer or the password). Never comes closer than 16 KiB to
 * the end of the thread's stack. */
void lb_secmem_scrub_stack(size_t bytes);

#endif
