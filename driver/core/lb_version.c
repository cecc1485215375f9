/* The driver's version (see lb_version.h). */
#include "lb_version.h"

#include <stdio.h>

#ifndef LB_VERSION
#error "LB_VERSION comes from CMake's project() version"
#endif

const char *lb_version(void)
{
    return LB_VERSION;
}

void lb_version_odbc(char *buf, size_t size)
{
    unsigned major = 0, minor = 0, patch = 0;
    sscanf(LB_VERSION, "%u.%u.%u", &major, &minor, &patch);
    snprintf(buf, size, "%02u.%02u.%04u", major % 100, minor % 100, patch % 10000);
}
