/* Secret memory: an allocator that wipes every block it frees, the region of pages kept
 * out of core dumps, and the stack scrub (see lb_secmem.h). */
#include "lb_secmem.h"

#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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

/* The region: REGION_PAGES pages reserved once (MAP_NORESERVE: only pages in use cost
 * memory), marked MADV_DONTDUMP; first fit, one run of pages per secret. run[i] is the
 * length of the run starting at page i, 0 on pages that start no run; busy[i] marks
 * pages in use. The driver is never unloaded (-z nodelete), so the region stays. */
#define REGION_PAGES 4096
static unsigned char *region;
static size_t page_size, region_size;
static unsigned short run[REGION_PAGES];
static unsigned char busy[REGION_PAGES];
static pthread_once_t region_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t region_mu = PTHREAD_MUTEX_INITIALIZER;

static void region_init(void)
{
    long ps = sysconf(_SC_PAGESIZE);
    size_t size = (size_t)(ps > 0 ? ps : 4096) * REGION_PAGES;
    void *r = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (r == MAP_FAILED)
        return;
    if (madvise(r, size, MADV_DONTDUMP) != 0) {
        munmap(r, size);
        return;
    }
    page_size = (size_t)(ps > 0 ? ps : 4096);
    region_size = size;
    __atomic_store_n(&region, (unsigned char *)r, __ATOMIC_RELEASE);
}

int lb_secmem_owns(const void *p)
{
    const unsigned char *r = __atomic_load_n(&region, __ATOMIC_ACQUIRE);
    return r != NULL && (const unsigned char *)p >= r && (const unsigned char *)p < r + region_size;
}

char *lb_secmem_dup(const char *s)
{
    size_t n = strlen(s) + 1;
    pthread_once(&region_once, region_init);
    char *out = NULL;
    if (region != NULL) {
        size_t pages = (n + page_size - 1) / page_size;
        pthread_mutex_lock(&region_mu);
        for (size_t i = 0, free_run = 0; pages <= REGION_PAGES && i < REGION_PAGES; i++) {
            free_run = busy[i] ? 0 : free_run + 1;
            if (free_run == pages) {
                size_t first = i + 1 - pages;
                memset(busy + first, 1, pages);
                run[first] = (unsigned short)pages;
                out = (char *)region + first * page_size;
                break;
            }
        }
        pthread_mutex_unlock(&region_mu);
    }
    if (out == NULL)
        out = malloc(n); /* region full, too small or unavailable: wiped on free all the same */
    if (out != NULL)
        memcpy(out, s, n);
    return out;
}

void lb_secmem_release(void *p)
{
    if (!lb_secmem_owns(p))
        return;
    size_t first = (size_t)((unsigned char *)p - region) / page_size;
    pthread_mutex_lock(&region_mu);
    size_t pages = run[first];
    if (pages != 0 && (unsigned char *)p == region + first * page_size) {
        lb_wipe(p, pages * page_size);
        memset(busy + first, 0, pages);
        run[first] = 0;
    }
    pthread_mutex_unlock(&region_mu);
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
