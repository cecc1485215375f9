/* The one way the driver opens a file it is told about (ClientSecretFile, the
 * ~/.databrickscfg profile, the credential cache files, LogFile): never blocking on a
 * FIFO (O_NONBLOCK at open), never handing a descriptor to a child (O_CLOEXEC), never
 * taking a terminal (O_NOCTTY), not following a symbolic link unless the caller allows
 * it, checked with fstat on the descriptor itself (regular file unless the caller
 * accepts other kinds; optionally owned by the effective user, optionally private),
 * and read with a bound that reports what did not fit. */
#ifndef LB_FILE_H
#define LB_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* Policy bits for lb_file_open. */
#define LB_FILE_FOLLOW 1u   /* follow a symbolic link; what it names is still checked */
#define LB_FILE_OWNED 2u    /* a regular file must be owned by the effective user */
#define LB_FILE_PRIVATE 4u  /* ... and grant nothing to group or others (implies OWNED) */
#define LB_FILE_ANY_KIND 8u /* accept devices, FIFOs and sockets too (never a directory) */

typedef enum {
    LB_FILE_OK,
    LB_FILE_MISSING,     /* no such file */
    LB_FILE_OPEN_FAILED, /* open(2) failed otherwise: see err */
    LB_FILE_SYMLINK,     /* a symbolic link, and links are not followed */
    LB_FILE_NOT_REGULAR, /* a FIFO, directory, device or socket: see mode */
    LB_FILE_NOT_OWNED,   /* owned by another user: see uid */
    LB_FILE_NOT_PRIVATE, /* group or others have permissions: see mode */
    LB_FILE_READ_FAILED, /* read(2) failed: see err */
    LB_FILE_TOO_BIG,     /* more bytes than the bound */
} lb_file_status;

typedef struct {
    lb_file_status status;
    int err;      /* errno for OPEN_FAILED and READ_FAILED */
    mode_t mode;  /* st_mode of what was opened */
    uid_t uid;    /* its owner */
} lb_file_info;

/* Opens path with oflags (O_RDONLY, O_WRONLY | O_APPEND | O_CREAT, ...) plus O_NONBLOCK,
 * O_CLOEXEC, O_NOCTTY and, without LB_FILE_FOLLOW, O_NOFOLLOW; create_mode applies with
 * O_CREAT. Checks the descriptor against policy, then clears O_NONBLOCK. Returns the
 * descriptor, or -1 with info->status saying why (and errno EPERM for a refusal). */
int lb_file_open(const char *path, int oflags, mode_t create_mode, unsigned policy, lb_file_info *info);

/* Reads fd to its end into buf, at most size - 1 bytes, and NUL-terminates it.
 * LB_FILE_OK with *len, or LB_FILE_TOO_BIG (buf holds the first size - 1 bytes), or
 * LB_FILE_READ_FAILED. Retries on EINTR and short reads. */
lb_file_status lb_file_read(int fd, char *buf, size_t size, size_t *len, lb_file_info *info);

/* Opens path for reading under policy and reads all of it into a malloc'd,
 * NUL-terminated buffer of at most max bytes (free it with lb_secret_free when it may
 * hold a secret). NULL with info->status on failure. */
char *lb_file_slurp(const char *path, unsigned policy, size_t max, size_t *len, lb_file_info *info);

/* A few words for a message, after the file's name: "is a FIFO (named pipe), not a
 * regular file", "is owned by uid 65534, not by this user (uid 0)", ... */
void lb_file_explain(const lb_file_info *info, char *buf, size_t size);

#endif
