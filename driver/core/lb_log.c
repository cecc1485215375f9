/* Logging (see lb_log.h). */
#include "lb_log.h"

#include "lb_error.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_ulong next_id = 1;

/* Open log files, one per path, never closed (connections come and go). */
typedef struct open_file {
    char *path;
    FILE *f;
    struct open_file *next;
} open_file;
static open_file *files;

static FILE *file_for(const char *path)
{
    if (path == NULL || path[0] == '\0')
        return NULL;
    pthread_mutex_lock(&log_mu);
    open_file *o = files;
    while (o && strcmp(o->path, path) != 0)
        o = o->next;
    if (o == NULL) {
        FILE *f = fopen(path, "ae");
        if (f && (o = calloc(1, sizeof(*o))) != NULL && (o->path = strdup(path)) != NULL) {
            o->f = f;
            o->next = files;
            files = o;
        } else {
            if (f)
                fclose(f);
            free(o);
            o = NULL;
        }
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
    const char *lv = getenv("LAKEBASE_ODBC_LOG_LEVEL");
    lb_log_level level = LB_LOG_OFF;
    if (lv && strcasecmp(lv, "error") == 0)
        level = LB_LOG_ERROR;
    else if (lv && strcasecmp(lv, "info") == 0)
        level = LB_LOG_INFO;
    else if (lv && strcasecmp(lv, "debug") == 0)
        level = LB_LOG_DEBUG;
    lb_logger_init(log, level, getenv("LAKEBASE_ODBC_LOG_FILE"));
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
