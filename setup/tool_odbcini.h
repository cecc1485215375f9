/* The tool's access to the ODBC configuration, all of it through unixODBC's installer
 * API (libodbcinst), never by editing the files: the DSNs of odbc.ini (user or system)
 * and their keys, the drivers of odbcinst.ini, registering the driver, the installer's
 * error text, and where this build's driver and setup library are. */
#ifndef LB_TOOL_ODBCINI_H
#define LB_TOOL_ODBCINI_H

#include <stddef.h>

#include "lb_connstr.h"

/* The basename of the driver library: how a DSN's driver is recognised as ours. */
#define LB_TOOL_DRIVER_FILE "liblakebase-odbc.so"
#define LB_TOOL_SETUP_FILE "liblakebase-odbcS.so"

/* lb_sources' dsn_get: the key of the DSN's section through SQLGetPrivateProfileString,
 * with the driver's rule for a line unixODBC may have cut (-1). */
int lb_tool_odbcini_dsn_get(void *ctx, const char *dsn, const char *key, char *buf, size_t size);

/* The section names of odbc.ini (system: the system file, else the user's) into out as
 * keys with empty values; 0, or -1 when the file cannot be read. */
int lb_tool_odbcini_sections(int system, const char *file, lb_kvlist *out);
/* Every key of [section] of file (odbc.ini or odbcinst.ini) in the given mode; 1 when
 * the section has keys, 0 when none. */
int lb_tool_odbcini_section(int system, const char *file, const char *section, lb_kvlist *out);

/* 1 when a DSN's Driver= value (a driver name of odbcinst.ini, or a path) is this driver. */
int lb_tool_odbcini_is_our_driver(const char *driver);

/* Registers the driver [name] in odbcinst.ini with Driver= and Setup=: a new entry
 * through SQLInstallDriverEx, an existing one updated in place (so running it twice
 * leaves one entry and its UsageCount alone). *existed says which. 0 or -1 (msg). */
int lb_tool_odbcini_install_driver(const char *name, const char *driver, const char *setup, int *existed,
                                   char *msg, size_t size);

/* Removes the driver [name] from odbcinst.ini (the whole section, whatever its
 * UsageCount) when its Driver= is this driver; odbc.ini and its DSNs are not touched.
 * *removed is 0 when there was no such entry (not an error: running it twice is fine).
 * 0, or -1 (msg) when [name] is another driver or the installer failed. */
int lb_tool_odbcini_uninstall_driver(const char *name, int *removed, char *msg, size_t size);

/* Writes the DSN [name] with Driver=driver and keys, in that order, to the user's odbc.ini
 * (ODBCINI, else ~/.odbc.ini) or the system's (ODBCSYSINI/odbc.ini), replacing a DSN of that
 * name, through SQLWriteDSNToIni and SQLWritePrivateProfileString. 0, or -1 (msg). */
int lb_tool_odbcini_write_dsn(int system, const char *name, const char *driver, const lb_kvlist *keys, char *msg,
                              size_t size);

/* The installer's last error as text ("" when none). */
void lb_tool_odbcini_error(char *buf, size_t size);

/* This build's driver or setup library (file: one of the names above), found next to
 * the tool: <dir>/../driver/ (the build tree), <dir>/ (the build tree's setup library),
 * <dir>/../<the layout's ODBC directory>/ (installed: packaging/layout.cmake). 0 and the
 * path, or -1. */
int lb_tool_odbcini_own_library(const char *file, char *buf, size_t size);

#endif
