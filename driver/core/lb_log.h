/* The only place that writes logs. A logger is a level, a destination and a
 * connection id; one line per event: UTC time, pid/tid, connection id, level, text.
 * Also the monotonic clock its timings use (lb_now_ms, lb_sleep_ms).
 * Callers never format secrets into log text: secrets are shown as "***" by the
 * helpers here (lb_log_connstr), and nothing else in the driver logs raw values of
 * secret keys. Log files are opened once per path and kept for the process. */
#ifndef LB_LOG_H
#define LB_LOG_H

#include "lb_connstr.h"
#include "lb_settings.h"

typedef struct {
    lb_log_level level;
    void *file;        /* FILE*, shared per path; NULL: standard error */
    unsigned long id;  /* connection attempt id */
} lb_logger;

/* A logger at the settings' level and file (standard error when no file or the file
 * cannot be opened), with a new connection id. */
void lb_logger_init(lb_logger *log, lb_log_level level, const char *path);
/* A logger for the time before settings are known: from LAKEBASE_ODBC_LOG_LEVEL and
 * LAKEBASE_ODBC_LOG_FILE only. */
void lb_logger_from_env(lb_logger *log);

int lb_log_enabled(const lb_logger *log, lb_log_level level);
void lb_log(const lb_logger *log, lb_log_level level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Appends the connection string to out with the value of every secret key shown as ***. */
void lb_log_connstr(const lb_kvlist *kv, lb_buf *out);

/* Milliseconds on the monotonic clock. */
long long lb_now_ms(void);
/* Sleeps ms milliseconds, resuming after signals. */
void lb_sleep_ms(long long ms);

#endif
