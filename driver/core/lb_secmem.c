/* Secret memory: an allocator that wipes every block it frees (see lb_secmem.h). */
#include "lb_secmem.h"

#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lb_buf.h"

static unsigned long handed_out; /* updated atomically */

static void *counted(void *p)
{
    if (p)
        __atomic_add_fetch(&handed_out, 1, __ATOMIC_RELAXED);
    return p;
}

unsigned long lb_secmem_handed_out(void)
{
    return __atomic_load_n(&handed_out, __ATOMIC_RELAXED);
}

void *lb_secmem_malloc(size_t size)
{
    return counted(malloc(size));
}

void lb_secmem_free(void *p)
{
    if (p == NULL)
        return;
    lb_wipe(p, malloc_usable_size(p));
    free(p);
}

void *lb_secmem_realloc(void *p, size_t size)
{
    if (p == NULL)
        return lb_secmem_malloc(size);
    if (size == 0) {
        lb_secmem_free(p);
        return NULL;
    }
    size_t have = malloc_usable_size(p);
    if (size <= have)
        return p; /* it fits: nothing moves, nothing is left behind */
    void *q = malloc(size);
    if (q == NULL)
        return NULL; /* p stays valid, as with realloc */
    memcpy(q, p, have);
    lb_secmem_free(p);
    return counted(q);
}

char *lb_secmem_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return counted(p);
}

void *lb_secmem_calloc(size_t n, size_t size)
{
    return counted(calloc(n, size));
}

/* The VLA lies below the caller's frame, where its callees' frames were. */
static __attribute__((noinline)) void scrub(size_t n)
{
    unsigned char area[n];
    lb_wipe(area, n);
    __asm__ volatile("" : : "r"(area) : "memory");
}

void lb_secmem_scrub_stack(size_t bytes)
{
    pthread_attr_t attr;
    void *low = NULL;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return;
    int ok = pthread_attr_getstack(&attr, &low, &size) == 0;
    pthread_attr_destroy(&attr);
    uintptr_t here = (uintptr_t)&attr, floor = (uintptr_t)low + 16384;
    if (!ok || here <= floor + 1024 || here > (uintptr_t)low + size)
        return;
    size_t room = here - floor - 1024;
    scrub(bytes < room ? bytes : room);
}
