/* An LD_PRELOAD library for dsn_read_test.sh: counts the SQLGetPrivateProfileString calls on
 * odbc.ini made from inside one shared object (LB_COUNT_OBJECT, the driver under test; the
 * driver manager's own calls and the driver's odbcinst.ini reads are not counted), passes each to unixODBC's, and writes the count to
 * LB_COUNT_FILE when the process exits. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef int (*profile_fn)(const char *, const char *, const char *, char *, int, const char *);
static atomic_long calls;

int SQLGetPrivateProfileString(const char *section, const char *entry, const char *def, char *buf, int size,
                               const char *file);

int SQLGetPrivateProfileString(const char *section, const char *entry, const char *def, char *buf, int size,
                               const char *file)
{
    static profile_fn real;
    if (real == NULL)
        real = (profile_fn)dlsym(RTLD_NEXT, "SQLGetPrivateProfileString");
    if (real == NULL) {
        /* isql does not link unixODBC's installer library: the driver brings it in, in its
         * own (local) scope, where RTLD_NEXT does not look. */
        void *lib = dlopen("libodbcinst.so.2", RTLD_NOW | RTLD_NOLOAD);
        if (lib == NULL)
            lib = dlopen("libodbcinst.so.2", RTLD_NOW);
        if (lib)
            real = (profile_fn)dlsym(lib, "SQLGetPrivateProfileString");
    }
    const char *object = getenv("LB_COUNT_OBJECT");
    Dl_info info;
    if (object && file && strcasecmp(file, "odbc.ini") == 0 && dladdr(__builtin_return_address(0), &info) &&
        info.dli_fname && strcmp(info.dli_fname, object) == 0)
        atomic_fetch_add(&calls, 1);
    return real ? real(section, entry, def, buf, size, file) : -1;
}

__attribute__((destructor)) static void write_count(void)
{
    const char *path = getenv("LB_COUNT_FILE");
    FILE *f = path ? fopen(path, "a") : NULL;
    if (f) {
        fprintf(f, "%ld\n", atomic_load(&calls));
        fclose(f);
    }
}
