/* The driver library loaded on its own, without the driver manager: its version and
 * psqlODBC's as the driver reports them (SQLGetInfo(SQL_DRIVER_VER) on an unconnected
 * handle, which psqlODBC answers without a server), and the psqlODBC library the driver
 * loaded. For --version and doctor. */
#ifndef LB_TOOL_DRIVER_H
#define LB_TOOL_DRIVER_H

#include <stddef.h>

/* The driver registered as Lakebase in odbcinst.ini when it is this driver, else this
 * build's (or installation's) library: 0 and the path, or -1. */
int lb_tool_driver_path(char *path, size_t size);

/* "00.01.0000 Lakebase (psqlODBC 13.02.0000)" from the driver library at path into buf;
 * 0, or -1 with why. */
int lb_tool_driver_version(const char *path, char *buf, size_t size, char *why, size_t why_size);

/* After lb_tool_driver_version succeeded: the path of the psqlODBC library the driver
 * loaded into this process (a loaded object named psqlodbc*), or -1. */
int lb_tool_driver_psqlodbc_path(char *buf, size_t size);

#endif
