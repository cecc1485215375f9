/* Logging (see lb_log.h). */
#include "lb_log.h"

#include <fcntl.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lb_error.h"

#include "lb_file.h"

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_ulong next_id = 1;

/* Log files, one per path, never closed (connections come and go). A path that could
 * not be used stays in the list with f NULL, so that it is reported once. */
typedef struct open_file {
    char *path;
    FILE *f;
    struct open_file *next;
} open_file;
static open_file *files;

/* True when path is under /dev/ and the directory holding it is not writable by
 * others (/dev/shm is, so a link there is not followed). */
static int system_device_path(const char *path)
{
    if (strncmp(path, "/dev/", 5) != 0 || strstr(path, "/../") != NULL)
        return 0;
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    *slash = '\0';
    struct stat st;
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && !(st.st_mode & 022);
}

/* Opens a log file to append to: created 0600; never through a symbolic link, since a
 * link planted where the log goes would make the driver append, with its rights, to
 * the file the link names; refused when it is a regular file of another user. Links
 * are followed only under /dev/ (/dev/stderr -> /proc/self/fd/2, whatever that is) or
 * to a character device (a link to /dev/null), and never with O_CREAT. Devices, FIFOs
 * and sockets are accepted (a FIFO without a reader fails instead of blocking). */
static int open_log(const char *path, char *why, size_t size)
{
    lb_file_info info;
    int fd = lb_file_open(path, O_WRONLY | O_APPEND | O_CREAT, 0600, LB_FILE_OWNED | LB_FILE_ANY_KIND, &info);
    if (fd < 0 && info.status == LB_FILE_SYMLINK) {
        int dev = system_device_path(path);
        fd = lb_file_open(path, O_WRONLY | O_APPEND, 0, LB_FILE_FOLLOW | LB_FILE_ANY_KIND | (dev ? 0 : LB_FILE_OWNED),
                          &info);
        if (fd >= 0 && !dev && !S_ISCHR(info.mode)) {
            close(fd);
            fd = -1;
        }
        if (fd < 0) {
            snprintf(why, size, "is a symbolic link, and links are followed only under /dev/ or to a character "
                                "device; name the file itself");
            return -1;
        }
    }
    if (fd < 0)
        lb_file_explain(&info, why, size);
    return fd;
}

static FILE *file_for(const char *path)
{
    if (path == NULL || path[0] == '\0')
        return NULL;
    pthread_mutex_lock(&log_mu);
    open_file *o = files;
    while (o && strcmp(o->path, path) != 0)
        o = o->next;
    int fresh = 0;
    if (o == NULL && (o = calloc(1, sizeof(*o))) != NULL) {
        fresh = 1;
        if ((o->path = strdup(path)) == NULL) {
            free(o);
            o = NULL;
        }
    }
    if (o != NULL && fresh) {
        char why[300];
        int fd = open_log(path, why, sizeof(why));
        if (fd >= 0 && (o->f = fdopen(fd, "a")) == NULL)
            close(fd);
        if (o->f == NULL)
            fprintf(stderr, "lakebase-odbc: LogFile %.1000s is refused: it %s; logging to standard error instead\n",
                    path, fd >= 0 ? "cannot be opened" : why);
        o->next = files;
        files = o;
    }
    pthread_mutex_unlock(&log_mu);
    return o ? o->f : NULL;
}

void lb_logger_init(lb_logger *log, lb_log_level level, const char *path)
{
    log->level = level;
    log->file = level == LB_LOG_OFF ? NULL : file_for(path);
    log->id = atomic_fetch_add(&next_id, 1);
}

void lb_logger_from_env(lb_logger *log)
{
    const char *lv = secure_getenv("LAKEBASE_ODBC_LOG_LEVEL");
    lb_log_level level = LB_LOG_OFF;
    if (lv && strcasecmp(lv, "error") == 0)
        level = LB_LOG_ERROR;
    else if (lv && strcasecmp(lv, "info") == 0)
        level = LB_LOG_INFO;
    else if (lv && strcasecmp(lv, "debug") == 0)
        level = LB_LOG_DEBUG;
    lb_logger_init(log, level, secure_getenv("LAKEBASE_ODBC_LOG_FILE"));
}

int lb_log_enabled(const lb_logger *log, lb_log_level level)
{
    return log && level != LB_LOG_OFF && log->level >= level;
}

long long lb_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void lb_sleep_ms(long long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

void lb_log(const lb_logger *log, lb_log_level level, const char *fmt, ...)
{
    if (!lb_log_enabled(log, level))
        return;
    static const char *const names[] = {"", "ERROR", "INFO", "DEBUG"};
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    for (char *p = text; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    lb_text_redact_userinfo(text);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    FILE *f = log->file ? log->file : stderr;
    pthread_mutex_lock(&log_mu);
    fprintf(f, "%s.%03ldZ lakebase-odbc[%ld:%ld] conn=%lu %s %s\n", when, (long)(tv.tv_usec / 1000), (long)getpid(),
            (long)syscall(SYS_gettid), log->id, names[level], text);
    fflush(f);
    pthread_mutex_unlock(&log_mu);
}

void lb_log_connstr(const lb_kvlist *kv, lb_buf *out)
{
    for (size_t i = 0; kv && i < kv->count; i++)
        lb_connstr_append(out, kv->items[i].key, lb_key_is_secret(kv->items[i].key) ? "***" : kv->items[i].value, 0);
}
