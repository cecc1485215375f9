/* The driver's version, from CMake's project() version: the one place the user agent,
 * SQLGetInfo and the tools read it from. */
#ifndef LB_VERSION_H
#define LB_VERSION_H

#include <stddef.h>

/* "major.minor.patch", as in CMakeLists.txt. */
const char *lb_version(void);
/* ODBC's "##.##.####" form of it (0.1.0 is "00.01.0000"). */
void lb_version_odbc(char *buf, size_t size);

#endif
