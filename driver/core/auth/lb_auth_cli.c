/* Source databricks-cli: a `databricks auth login` session, through the CLI itself:
 * `databricks auth token --host H` (or `--profile P` when a profile is in use), run without a
 * shell (posix_spawn, an argv), bounded by the connect's deadline (killed past it, with its
 * process group), its JSON answer's access_token and expiry read. The CLI's own token cache
 * is never read. It stands for a person: the PostgreSQL role is their user name. */
#include "lb_auth.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lb_json.h"
#include "lb_lakebase.h"
#include "lb_secmem.h"

extern char **environ;

#define CLI_OUT_MAX (64 * 1024) /* the JSON answer */
#define CLI_ERR_MAX 4096        /* what of its standard error is kept for the message */
#define CLI_NO_DEADLINE_MS 60000 /* the bound when the connect has no deadline (tests of the core) */
#define CLI_KILLED (-1)         /* run's exit codes that are not the CLI's own */
#define CLI_SIGNALLED (-2)
#define CLI_STATUS_UNKNOWN (-3) /* the application ignores SIGCHLD: the kernel reaped it */

static void cli_identity(const lb_settings *s, lb_buf *out)
{
    /* The login the CLI is asked for: the profile, or the host (already in every key). */
    const char *profile = lb_settings_get(s, LB_KEY_PROFILE), *path = lb_settings_get(s, LB_KEY_CLI_PATH);
    lb_buf_printf(out, "databricks-cli\n%s%s\n%s", profile ? "profile " : "host", profile ? profile : "",
                  path ? path : "");
}

static const char *cli_role(const lb_settings *s)
{
    (void)s;
    return NULL;
}

lb_result lb_auth_cli_parse(const char *body, size_t len, lb_token *out, lb_error *err)
{
    memset(out, 0, sizeof(*out));
    struct json_object *obj = lb_json_parse_object(body, len);
    const char *tok = lb_json_string(obj, "access_token"), *exp = lb_json_string(obj, "expiry");
    lb_result rc = LB_OK;
    time_t t = 0;
    if (obj == NULL)
        rc = lb_error_set(err, LB_ERR_PROTOCOL, "The Databricks CLI's `auth token` did not print a JSON object.");
    else if (tok == NULL || tok[0] == '\0')
        rc = lb_error_set(err, LB_ERR_PROTOCOL, "The Databricks CLI's `auth token` printed no access_token.");
    else if ((out->access_token = lb_secmem_dup(tok)) == NULL)
        rc = lb_error_set(err, LB_ERR_NOMEM, "Out of memory.");
    else if (exp && lb_parse_rfc3339(exp, &t) == 0 && t > time(NULL))
        out->expires_in = (long long)(t - time(NULL));
    else
        out->expires_in_unreadable = 1;
    lb_json_put_wiped(obj);
    return rc;
}

/* Long runs of token-like characters (a JWT, an opaque token) become [redacted]: the
 * message quotes the CLI's standard error, which should hold no token, but may. */
static void redact_tokens(char *s)
{
    char *w = s;
    for (const char *r = s; *r;) {
        size_t n = 0;
        while (isalnum((unsigned char)r[n]) || r[n] == '.' || r[n] == '-' || r[n] == '_')
            n++;
        if (n >= 32) {
            memcpy(w, "[redacted]", 10);
            w += 10;
            r += n;
        } else if (n > 0) {
            memmove(w, r, n);
            w += n;
            r += n;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
}

static void kill_group(pid_t pid)
{
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
}

/* Runs argv; its standard output into out (a secret), the start of its standard error into
 * errtext. *exit_code: its exit status, or CLI_KILLED, CLI_SIGNALLED, CLI_STATUS_UNKNOWN. */
static lb_result run(const lb_auth_ctx *ctx, char *const argv[], lb_buf *out, char *errtext, size_t errsize,
                     int *exit_code, lb_error *err)
{
    int op[2] = {-1, -1}, ep[2] = {-1, -1};
    errtext[0] = '\0';
    if (pipe2(op, O_CLOEXEC) != 0 || pipe2(ep, O_CLOEXEC) != 0) {
        int e = errno;
        for (int i = 0; i < 2; i++) {
            if (op[i] >= 0)
                close(op[i]);
            if (ep[i] >= 0)
                close(ep[i]);
        }
        return lb_error_set(err, LB_ERR_INTERNAL, "Could not run the Databricks CLI: pipe: %s.", strerror(e));
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, op[1], 1);
    posix_spawn_file_actions_adddup2(&fa, ep[1], 2);
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setpgroup(&attr, 0); /* its own group: a deadline kills what it started too */
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    pid_t pid = 0;
    int e = posix_spawn(&pid, argv[0], &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(op[1]);
    close(ep[1]);
    if (e != 0) {
        close(op[0]);
        close(ep[0]);
        return lb_error_set(err, LB_ERR_SETTINGS,
                            "The Databricks CLI %.300s could not be run (%s): install the Databricks CLI, or set "
                            "DatabricksCliPath to it.", argv[0], strerror(e));
    }
    long long left = lb_deadline_left_ms(ctx->deadline);
    long long end = lb_now_ms() + (left == LLONG_MAX ? CLI_NO_DEADLINE_MS : left);
    size_t elen = 0;
    int open_fds = 2, killed = 0;
    char chunk[4096];
    while (open_fds > 0) {
        long long wait = end - lb_now_ms();
        if (wait <= 0) {
            kill_group(pid);
            killed = 1;
            break;
        }
        struct pollfd pf[2] = {{.fd = op[0], .events = POLLIN}, {.fd = ep[0], .events = POLLIN}};
        int n = poll(pf, 2, wait > 1000 ? 1000 : (int)wait);
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; n > 0 && i < 2; i++) {
            if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t got = read(pf[i].fd, chunk, sizeof(chunk));
            if (got <= 0) {
                close(pf[i].fd);
                if (i == 0)
                    op[0] = -1;
                else
                    ep[0] = -1;
                open_fds--;
            } else if (i == 0) {
                if (out->len + (size_t)got <= CLI_OUT_MAX)
                    lb_buf_append(out, chunk, (size_t)got);
                else
                    out->overflow = 1;
            } else if (elen + 1 < errsize) {
                size_t take = (size_t)got < errsize - 1 - elen ? (size_t)got : errsize - 1 - elen;
                memcpy(errtext + elen, chunk, take);
                elen += take;
                errtext[elen] = '\0';
            }
        }
        lb_wipe(chunk, sizeof(chunk));
    }
    if (op[0] >= 0)
        close(op[0]);
    if (ep[0] >= 0)
        close(ep[0]);
    int status = 0, unknown = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, killed ? 0 : WNOHANG);
        unknown = w < 0 && errno == ECHILD;
        if (w == pid || (w < 0 && errno != EINTR))
            break;
        if (w == 0 && lb_now_ms() >= end) {
            kill_group(pid);
            killed = 1;
        } else if (w == 0) {
            lb_sleep_ms(10);
        }
    }
    *exit_code = killed ? CLI_KILLED : unknown ? CLI_STATUS_UNKNOWN : WIFEXITED(status) ? WEXITSTATUS(status)
                                                                                   : CLI_SIGNALLED;
    lb_text_sanitize(errtext);
    redact_tokens(errtext);
    return LB_OK;
}

static lb_result cli_token(const lb_auth_ctx *ctx, lb_token *out, lb_error *err)
{
    const lb_settings *s = ctx->settings;
    const char *host = lb_settings_get(s, LB_KEY_HOST), *profile = lb_settings_get(s, LB_KEY_PROFILE);
    char path[1024];
    const char *named = lb_settings_get(s, LB_KEY_CLI_PATH);
    if (named)
        snprintf(path, sizeof(path), "%s", named);
    else if (lb_auth_find_on_path(secure_getenv("PATH"), "databricks", path, sizeof(path)) != 0)
        return lb_error_set(err, LB_ERR_SETTINGS,
                            "AuthType databricks-cli: the Databricks CLI (databricks) is not on PATH. Install it and "
                            "run `databricks auth login --host %s`, or set DatabricksCliPath to it.", host);
    char a_auth[] = "auth", a_token[] = "token", a_flag[16], a_value[1024];
    snprintf(a_flag, sizeof(a_flag), "%s", profile ? "--profile" : "--host");
    snprintf(a_value, sizeof(a_value), "%s", profile ? profile : host);
    char *argv[] = {path, a_auth, a_token, a_flag, a_value, NULL};
    char how[400];
    snprintf(how, sizeof(how), "databricks auth token %s %.200s", argv[3], argv[4]);
    lb_buf outb;
    lb_buf_init(&outb, 0);
    char errtext[CLI_ERR_MAX];
    int code = 0;
    long long t0 = lb_now_ms();
    lb_result rc = run(ctx, argv, &outb, errtext, sizeof(errtext), &code, err);
    long long took = lb_now_ms() - t0;
    char login[300];
    snprintf(login, sizeof(login), "databricks auth login %s %.200s", argv[3], argv[4]);
    if (rc == LB_OK && code == CLI_KILLED)
        rc = lb_error_set(err, LB_ERR_TIMEOUT,
                          "`%s` did not finish within the connect's time (%lld ms; stopped).%s%.300s%s Run `%s` "
                          "if it waits for a login, or raise ConnectTimeout.", how, took,
                          errtext[0] ? " It said: \"" : "", errtext, errtext[0] ? "\"." : "", login);
    else if (rc == LB_OK && code != 0 && code != CLI_STATUS_UNKNOWN)
        rc = lb_error_set(err, LB_ERR_AUTH, "`%s` failed (%s %d): \"%.400s\". Run `%s` and connect again.", how,
                          code == CLI_SIGNALLED ? "ended by signal" : "exit status", code == CLI_SIGNALLED ? 0 : code,
                          errtext[0] ? errtext : "(it printed nothing on standard error)", login);
    else if (rc == LB_OK && outb.overflow)
        rc = lb_error_set(err, LB_ERR_PROTOCOL, "`%s` printed more than %d bytes: is %s the Databricks CLI?", how,
                          CLI_OUT_MAX, path);
    else if (rc == LB_OK) {
        lb_error perr;
        lb_error_init(&perr);
        rc = lb_auth_cli_parse(outb.data ? outb.data : "", outb.len, out, &perr);
        if (rc != LB_OK && code == CLI_STATUS_UNKNOWN && errtext[0])
            rc = lb_error_set(err, LB_ERR_AUTH, "`%s` failed: \"%.400s\" (its exit status is unknown: this "
                              "application ignores SIGCHLD). Run `%s` and connect again.", how, errtext, login);
        else if (rc != LB_OK)
            *err = perr;
        if (rc == LB_OK)
            lb_log(ctx->log, LB_LOG_INFO, "token: `%s` answered in %lld ms%s", how, took,
                   out->expires_in_unreadable ? " (its expiry is unreadable: the token is used for this connect only)"
                                              : "");
    }
    lb_buf_free_secret(&outb);
    return rc;
}

const lb_auth_source lb_auth_cli = {.name = "databricks-cli", .person = 1, .fetched = 1, .identity = cli_identity,
                                    .token = cli_token, .role = cli_role,
                                    .fix_refused = "Run `databricks auth login` for this workspace and connect "
                                                   "again."};
