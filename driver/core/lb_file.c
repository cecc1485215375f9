/* Opening and reading files safely (see lb_file.h). */
#include "lb_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int refuse(int fd, lb_file_info *info, lb_file_status status)
{
    close(fd);
    info->status = status;
    errno = EPERM;
    return -1;
}

int lb_file_open(const char *path, int oflags, mode_t create_mode, unsigned policy, lb_file_info *info)
{
    memset(info, 0, sizeof(*info));
    int flags = oflags | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
    if (!(policy & LB_FILE_FOLLOW))
        flags |= O_NOFOLLOW;
    int fd = open(path, flags, create_mode);
    if (fd < 0) {
        info->err = errno;
        if (errno == ENOENT)
            info->status = LB_FILE_MISSING;
        else if (errno == ELOOP && !(policy & LB_FILE_FOLLOW))
            info->status = LB_FILE_SYMLINK; /* O_NOFOLLOW on a link (or a loop of links) */
        else
            info->status = LB_FILE_OPEN_FAILED;
        errno = info->err;
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        info->err = errno;
        close(fd);
        info->status = LB_FILE_OPEN_FAILED;
        errno = info->err;
        return -1;
    }
    info->mode = st.st_mode;
    info->uid = st.st_uid;
    if (S_ISDIR(st.st_mode) || (!S_ISREG(st.st_mode) && !(policy & LB_FILE_ANY_KIND)))
        return refuse(fd, info, LB_FILE_NOT_REGULAR);
    if (S_ISREG(st.st_mode) && (policy & (LB_FILE_OWNED | LB_FILE_PRIVATE)) && st.st_uid != geteuid())
        return refuse(fd, info, LB_FILE_NOT_OWNED);
    if (S_ISREG(st.st_mode) && (policy & LB_FILE_PRIVATE) && (st.st_mode & 077))
        return refuse(fd, info, LB_FILE_NOT_PRIVATE);
    /* Reads and writes from here on behave as on any descriptor. */
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    info->status = LB_FILE_OK;
    return fd;
}

lb_file_status lb_file_read(int fd, char *buf, size_t size, size_t *len, lb_file_info *info)
{
    size_t n = 0;
    *len = 0;
    info->status = LB_FILE_OK;
    if (size == 0)
        return info->status = LB_FILE_TOO_BIG;
    for (;;) {
        char extra;
        /* Once buf is full, one more byte tells whether the file was longer. */
        ssize_t r = n < size - 1 ? read(fd, buf + n, size - 1 - n) : read(fd, &extra, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            info->err = errno;
            info->status = LB_FILE_READ_FAILED;
            break;
        }
        if (r == 0)
            break;
        if (n == size - 1) {
            info->status = LB_FILE_TOO_BIG;
            break;
        }
        n += (size_t)r;
    }
    buf[n] = '\0';
    *len = n;
    return info->status;
}

char *lb_file_slurp(const char *path, unsigned policy, size_t max, size_t *len, lb_file_info *info)
{
    *len = 0;
    int fd = lb_file_open(path, O_RDONLY, 0, policy, info);
    if (fd < 0)
        return NULL;
    char *buf = malloc(max + 1);
    if (buf == NULL) {
        close(fd);
        info->err = ENOMEM;
        info->status = LB_FILE_READ_FAILED;
        return NULL;
    }
    lb_file_status st = lb_file_read(fd, buf, max + 1, len, info);
    close(fd);
    if (st != LB_FILE_OK) {
        memset(buf, 0, max + 1); /* it may have held a secret */
        free(buf);
        *len = 0;
        return NULL;
    }
    return buf;
}

static const char *kind(mode_t mode)
{
    if (S_ISFIFO(mode))
        return "a FIFO (named pipe)";
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a regular file";
}

void lb_file_explain(const lb_file_info *info, char *buf, size_t size)
{
    switch (info->status) {
    case LB_FILE_OK:
        snprintf(buf, size, "is usable");
        break;
    case LB_FILE_MISSING:
        snprintf(buf, size, "does not exist");
        break;
    case LB_FILE_OPEN_FAILED:
        snprintf(buf, size, "cannot be opened (%s)", strerror(info->err));
        break;
    case LB_FILE_SYMLINK:
        snprintf(buf, size, "is a symbolic link, which is not followed here; name the file itself");
        break;
    case LB_FILE_NOT_REGULAR:
        snprintf(buf, size, "is %s, not a regular file", kind(info->mode));
        break;
    case LB_FILE_NOT_OWNED:
        snprintf(buf, size, "is owned by uid %ld, not by this user (uid %ld)", (long)info->uid, (long)geteuid());
        break;
    case LB_FILE_NOT_PRIVATE:
        snprintf(buf, size, "is readable or writable by group or others (mode %03o; want 0600)",
                 (unsigned)(info->mode & 0777));
        break;
    case LB_FILE_READ_FAILED:
        snprintf(buf, size, "cannot be read (%s)", strerror(info->err));
        break;
    case LB_FILE_TOO_BIG:
        snprintf(buf, size, "is larger than the driver reads");
        break;
    }
}
