/* lakebase-odbc add-dsn: writes a DSN through the ODBC installer API and tests it. The
 * endpoint or instance is given, or (on a terminal) chosen by number from the workspace's
 * listing (tool_listing.c). A client secret is never an argument: it is read from standard
 * input (no echo on a terminal) or --secret-file, stored in a 0600 file of the user's that
 * the DSN names with ClientSecretFile; a system DSN names only a root-owned file outside
 * the home directories. Missing input without a terminal is an error, never a prompt. */
#include "tool.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "lb_buf.h"
#include "lb_file.h"
#include "tool_listing.h"
#include "tool_odbcini.h"

int lb_tool_cmd_test(lb_tool_out *out, int argc, char **argv);

#define SECRET_MAX 4096 /* the driver's longest ClientSecretFile secret (its first line) */
#define MAX_SETS 64

typedef struct {
    const char *name, *host, *profile, *endpoint, *instance, *auth_type, *client_id, *secret_file, *driver;
    int system;
    const char *sets[MAX_SETS];
    int nsets;
} add_opts;

/* --opt VALUE or --opt=VALUE: 1 (value set), 0 (not this option), -1 (no value). */
static int value_option(lb_tool_out *out, int argc, char **argv, int *i, const char *name, const char **value)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0 || (argv[*i][n] != '\0' && argv[*i][n] != '='))
        return 0;
    if (argv[*i][n] == '=') {
        *value = argv[*i] + n + 1;
    } else if (*i + 1 >= argc) {
        lb_tool_fail(out, "add-dsn: %s needs a value", name);
        return -1;
    } else {
        *value = argv[++*i];
    }
    return 1;
}

/* A DSN name the installer and every driver manager take: 1 to 32 characters
 * (SQL_MAX_DSN_LENGTH), letters, digits, '-', '_', '.' and spaces. */
static int dsn_name_ok(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > 32 || n[0] == ' ')
        return 0;
    for (const char *p = n; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
              *p == '_' || *p == '.' || *p == ' '))
            return 0;
    return 1;
}

static int parse_args(lb_tool_out *out, add_opts *o, int argc, char **argv)
{
    memset(o, 0, sizeof(*o));
    o->driver = "Lakebase";
    int user = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        int r = 0;
        if (strcmp(a, "--json") == 0)
            continue;
        if (strcmp(a, "--user") == 0) {
            user = 1;
            continue;
        }
        if (strcmp(a, "--system") == 0) {
            o->system = 1;
            continue;
        }
        if (strncmp(a, "--client-secret", 15) == 0 || strncmp(a, "--secret", 8) == 0 ||
            strncmp(a, "--token", 7) == 0 || strncmp(a, "--password", 10) == 0) {
            if (strncmp(a, "--secret-file", 13) != 0) {
                lb_tool_fail(out, "add-dsn takes no secret as an argument (other users of this machine can read "
                                  "process arguments): pipe the client secret on standard input, type it when asked, "
                                  "or give --secret-file FILE");
                return -1;
            }
        }
        static const char *const names[] = {"--host",      "--profile",     "--endpoint", "--instance", "--auth-type",
                                             "--client-id", "--secret-file", "--driver",   "--set",      NULL};
        const char **dest[] = {&o->host,      &o->profile,     &o->endpoint, &o->instance, &o->auth_type,
                               &o->client_id, &o->secret_file, &o->driver,   NULL};
        int k = 0;
        for (; names[k] && (r = value_option(out, argc, argv, &i, names[k], &v)) == 0; k++)
            ;
        if (r < 0)
            return -1;
        if (r == 0) {
            if (a[0] == '-' || o->name) {
                lb_tool_fail(out, "add-dsn: unexpected argument %s (see add-dsn --help)", a);
                return -1;
            }
            o->name = a;
            continue;
        }
        if (dest[k]) {
            *dest[k] = v;
            continue;
        }
        /* --set KEY=VALUE: any driver key but a secret, which never goes into a DSN. */
        const char *eq = strchr(v, '=');
        if (eq == NULL || eq == v) {
            lb_tool_fail(out, "--set takes KEY=VALUE (a driver key such as CAFile or Port), not \"%.60s\"", v);
            return -1;
        }
        char key[128];
        snprintf(key, sizeof(key), "%.*s", (int)(eq - v), v);
        if (lb_key_is_secret(key)) {
            lb_tool_fail(out, "add-dsn: --set %s is refused: a DSN never holds a secret, and other users can read "
                              "process arguments; pipe the client secret on standard input or give --secret-file",
                         key);
            return -1;
        }
        if (o->nsets >= MAX_SETS) {
            lb_tool_fail(out, "too many --set options");
            return -1;
        }
        o->sets[o->nsets++] = v;
    }
    if (o->name == NULL) {
        lb_tool_fail(out, "add-dsn: name the DSN to write (add-dsn NAME ...; see add-dsn --help)");
        return -1;
    }
    if (!dsn_name_ok(o->name)) {
        lb_tool_fail(out, "add-dsn: \"%.60s\" is not a DSN name: 1 to 32 letters, digits, '-', '_', '.' or spaces",
                     o->name);
        return -1;
    }
    if (user && o->system) {
        lb_tool_fail(out, "add-dsn: --user and --system: choose one");
        return -1;
    }
    if (o->endpoint && o->instance) {
        lb_tool_fail(out, "add-dsn: --endpoint and --instance: a DSN connects to an Autoscaling endpoint or a "
                          "Provisioned instance, not both");
        return -1;
    }
    return 0;
}

/* Whether the DSN needs a client secret: a client id for oauth-m2m (the type given, or auto). */
static int needs_secret(const add_opts *o)
{
    return o->client_id && (o->auth_type == NULL || strcasecmp(o->auth_type, "oauth-m2m") == 0 ||
                            strcasecmp(o->auth_type, "auto") == 0);
}

/* The first line of text into secret; -1 when it is empty or too long. */
static int first_line(const char *text, size_t len, char *secret, size_t size)
{
    size_t n = 0;
    while (n < len && text[n] != '\n' && text[n] != '\r' && text[n] != '\0')
        n++;
    if (n == 0 || n >= size)
        return -1;
    memcpy(secret, text, n);
    secret[n] = '\0';
    return 0;
}

/* The client secret from --secret-file, or standard input (without echo on a terminal). */
static int read_secret(lb_tool_out *out, const add_opts *o, char *secret, size_t size)
{
    if (o->secret_file) {
        lb_file_info info;
        size_t n = 0;
        char *text = lb_file_slurp(o->secret_file, LB_FILE_FOLLOW, 64 * 1024, &n, &info);
        if (text == NULL) {
            char why[200];
            lb_file_explain(&info, why, sizeof(why));
            lb_tool_fail(out, "add-dsn: --secret-file %s %s", o->secret_file, why);
            return -1;
        }
        int rc = first_line(text, n, secret, size);
        lb_wipe(text, n);
        free(text);
        if (rc != 0)
            lb_tool_fail(out, "add-dsn: --secret-file %s: its first line must be the client secret (1 to %d bytes)",
                         o->secret_file, SECRET_MAX);
        return rc;
    }
    int tty = isatty(STDIN_FILENO);
    struct termios saved, quiet;
    int echo_off = 0;
    if (tty) {
        /* Echo off before the prompt: what is typed after it is never shown. */
        if (tcgetattr(STDIN_FILENO, &saved) == 0) {
            quiet = saved;
            quiet.c_lflag &= (tcflag_t)~ECHO;
            echo_off = tcsetattr(STDIN_FILENO, TCSANOW, &quiet) == 0;
        }
        fprintf(stderr, "Client secret of %s (not shown as you type): ", o->client_id);
        fflush(stderr);
    }
    char buf[SECRET_MAX + 2];
    size_t n = 0;
    int rc = 0;
    if (fgets(buf, sizeof(buf), stdin) == NULL)
        rc = -1;
    else
        n = strlen(buf);
    if (echo_off)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    if (tty)
        fputc('\n', stderr);
    if (rc == 0 && n == sizeof(buf) - 1 && buf[n - 1] != '\n')
        rc = -1; /* longer than a secret */
    if (rc == 0)
        rc = first_line(buf, n, secret, size);
    lb_wipe(buf, sizeof(buf));
    if (rc != 0)
        lb_tool_fail(out, "add-dsn: no client secret on standard input (its first line, 1 to %d bytes): pipe it in "
                          "(e.g. from a secret manager), type it when asked, or give --secret-file", SECRET_MAX);
    return rc;
}

/* mkdir -p for the user's config directory, each new level 0700. */
static int make_dirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0700);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    return mkdir(path, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

/* The user's secret file of the DSN: $XDG_CONFIG_HOME/lakebase-odbc/<name>.secret (else
 * $HOME/.config/...), the name's spaces as '_'. */
static int user_secret_path(const char *name, char *path, size_t size, char *dir, size_t dsize)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && xdg[0] == '/')
        n = snprintf(dir, dsize, "%s/lakebase-odbc", xdg);
    else if (home && home[0] == '/')
        n = snprintf(dir, dsize, "%s/.config/lakebase-odbc", home);
    else
        return -1;
    if (n < 0 || (size_t)n >= dsize)
        return -1;
    n = snprintf(path, size, "%s/%s.secret", dir, name);
    for (char *p = path + strlen(dir) + 1; *p; p++)
        if (*p == ' ')
            *p = '_';
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* Writes secret to a new 0600 file beside path, named in tmp: renamed onto path only once
 * the DSN naming path is written, so that a failed or abandoned run leaves an existing
 * secret file (another run's DSN names it) as it was. */
static int store_secret(lb_tool_out *out, const char *secret, const char *path, char *dir, char *tmp, size_t size)
{
    if (make_dirs(dir) != 0) {
        lb_tool_fail(out, "add-dsn: cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    snprintf(tmp, size, "%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        lb_tool_fail(out, "add-dsn: cannot write in %s: %s", dir, strerror(errno));
        tmp[0] = '\0';
        return -1;
    }
    size_t len = strlen(secret);
    int ok = fchmod(fd, 0600) == 0 && write(fd, secret, len) == (ssize_t)len && write(fd, "\n", 1) == 1 &&
             fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok) {
        lb_tool_fail(out, "add-dsn: cannot write %s: %s", tmp, strerror(errno));
        unlink(tmp);
        tmp[0] = '\0';
        return -1;
    }
    return 0;
}

/* 1 when path is inside dir (both resolved). */
static int inside(const char *path, const char *dir)
{
    char real[PATH_MAX];
    if (dir == NULL || dir[0] != '/' || realpath(dir, real) == NULL)
        return 0;
    size_t n = strlen(real);
    return strcmp(real, "/") != 0 && strncmp(path, real, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* A system DSN's secret file: root's, private, outside the home directories; its resolved
 * path into real. Otherwise the refusal and what to do. */
static int system_secret_file(lb_tool_out *out, const add_opts *o, char *real)
{
    char fix[400];
    snprintf(fix, sizeof(fix), "put the secret in a root-owned file outside the home directories, e.g. "
             "/etc/lakebase-odbc/%s.secret (chown root:root, chmod 600), and give it with --secret-file; or write "
             "a user DSN (--user)", o->name);
    if (o->secret_file == NULL) {
        lb_tool_fail(out, "add-dsn --system: a system DSN is read by every user's applications and must not name a "
                          "user's secret file, so the secret is not read from standard input: %s", fix);
        return -1;
    }
    struct stat st;
    if (realpath(o->secret_file, real) == NULL || stat(real, &st) != 0 || !S_ISREG(st.st_mode)) {
        lb_tool_fail(out, "add-dsn --system: --secret-file %s is not a readable regular file: %s", o->secret_file, fix);
        return -1;
    }
    const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
    if (st.st_uid != 0 || inside(real, home) || inside(real, xdg) || inside(real, "/home") || inside(real, "/root")) {
        lb_tool_fail(out, "add-dsn --system: refused: %s is a user's secret file (%s), and a system DSN never names "
                          "one: %s", real, st.st_uid != 0 ? "not owned by root" : "in a home directory", fix);
        return -1;
    }
    if (st.st_mode & 077) {
        lb_tool_fail(out, "add-dsn --system: %s grants access to group or others (mode %03o); the driver takes only a "
                          "private file: chmod 600 %s", real, (unsigned)(st.st_mode & 0777), real);
        return -1;
    }
    return 0;
}

static void add_pair(lb_kvlist *kv, const char *key, const char *value, int *oom)
{
    if (value && lb_kvlist_add(kv, key, value) != 0)
        *oom = 1;
}

/* kv becomes the DSN's keys (Driver= comes from the installer), in the order they are written. */
static int dsn_keys(lb_tool_out *out, const add_opts *o, const char *secret_file, lb_kvlist *kv)
{
    lb_kvlist_free(kv);
    lb_kvlist_init(kv);
    int oom = 0;
    add_pair(kv, "Description", "Lakebase (written by lakebase-odbc add-dsn)", &oom);
    add_pair(kv, "DatabricksHost", o->host, &oom);
    add_pair(kv, "Profile", o->profile, &oom);
    add_pair(kv, "Endpoint", o->endpoint, &oom);
    add_pair(kv, "Instance", o->instance, &oom);
    add_pair(kv, "AuthType", o->auth_type, &oom);
    add_pair(kv, "ClientID", o->client_id, &oom);
    add_pair(kv, "ClientSecretFile", secret_file, &oom);
    for (int i = 0; i < o->nsets; i++) {
        const char *eq = strchr(o->sets[i], '=');
        char key[128];
        snprintf(key, sizeof(key), "%.*s", (int)(eq - o->sets[i]), o->sets[i]);
        add_pair(kv, key, eq + 1, &oom);
    }
    if (oom)
        lb_tool_fail(out, "Out of memory.");
    return oom ? -1 : 0;
}

/* Lists the workspace and asks for an endpoint or instance by number (or its name). */
static int choose_target(lb_tool_out *out, add_opts *o, const lb_kvlist *kv, char *chosen, size_t size)
{
    lb_plan plan;
    lb_listing l;
    lb_listing_init(&l);
    int rc = -1;
    if (lb_tool_listing_fetch(out, kv, NULL, NULL, &plan, &l) != 0)
        goto done;
    int n = lb_tool_listing_print(out, &l, 1);
    if (n == 0) {
        lb_tool_fail(out, "add-dsn: the workspace lists no endpoint or instance this identity can see: create one, "
                          "grant access to it, or give --endpoint or --instance");
        goto done;
    }
    for (int tries = 0; tries < 5; tries++) {
        printf("Endpoint or instance for [%s]: a number 1-%d (or its name; q to quit): ", o->name, n);
        fflush(stdout);
        char line[LB_DISCOVERY_NAME_MAX + 2];
        if (fgets(line, sizeof(line), stdin) == NULL) {
            printf("\n");
            break;
        }
        line[strcspn(line, "\r\n")] = '\0';
        if (strcmp(line, "q") == 0 || strcmp(line, "quit") == 0)
            break;
        const lb_listing_item *it = NULL;
        char *end = NULL;
        long k = strtol(line, &end, 10);
        if (end != line && *end == '\0')
            it = lb_tool_listing_choice(&l, (int)k);
        for (int j = 1; it == NULL && j <= n; j++)
            if (strcmp(lb_tool_listing_choice(&l, j)->name, line) == 0)
                it = lb_tool_listing_choice(&l, j);
        if (it == NULL) {
            printf("  \"%.60s\" is not one of 1-%d\n", line, n);
            continue;
        }
        snprintf(chosen, size, "%s", it->name);
        if (it->kind == LB_LISTING_INSTANCE)
            o->instance = chosen;
        else
            o->endpoint = chosen;
        printf("  %s %s\n", it->kind == LB_LISTING_INSTANCE ? "instance" : "endpoint", chosen);
        rc = 0;
        goto done;
    }
    lb_tool_fail(out, "add-dsn: no endpoint or instance chosen: nothing written");
done:
    lb_listing_free(&l);
    lb_plan_free(&plan);
    return rc;
}

/* The settings the DSN will give, resolved as the driver resolves them (a bad value, a
 * missing key): before anything is written. */
static int check_settings(lb_tool_out *out, const lb_kvlist *keys)
{
    lb_sources sources = lb_tool_conn_sources();
    lb_settings s;
    lb_error err;
    lb_error_init(&err);
    if (lb_settings_resolve(keys, &sources, &s, &err) != LB_OK) {
        lb_tool_fail(out, "add-dsn: the DSN would not work, nothing written: %s", err.message);
        return -1;
    }
    lb_settings_free(&s);
    return 0;
}

int lb_tool_cmd_add_dsn(lb_tool_out *out, int argc, char **argv)
{
    add_opts o;
    if (parse_args(out, &o, argc, argv) != 0)
        return TOOL_EXIT_USAGE;
    int ask = !o.endpoint && !o.instance;
    if (ask && (!isatty(STDIN_FILENO) || out->json)) {
        lb_tool_fail(out, "add-dsn: no --endpoint or --instance, and %s: give --endpoint "
                          "projects/<p>/branches/<b>/endpoints/<e> or --instance NAME (lakebase-odbc endpoints lists "
                          "them)", out->json ? "--json does not ask" : "standard input is not a terminal to ask on");
        return TOOL_EXIT_USAGE;
    }
    if (o.secret_file && !needs_secret(&o)) {
        lb_tool_fail(out, "add-dsn: --secret-file holds a client secret, which goes with --client-id (AuthType "
                          "oauth-m2m)");
        return TOOL_EXIT_USAGE;
    }
    if (o.auth_type && strcasecmp(o.auth_type, "oauth-m2m") == 0 && !o.client_id) {
        lb_tool_fail(out, "add-dsn: --auth-type oauth-m2m needs --client-id (the service principal's client id)");
        return TOOL_EXIT_USAGE;
    }

    char secret_path[PATH_MAX + 64] = "", dir[PATH_MAX] = "", chosen[LB_DISCOVERY_NAME_MAX];
    char pending[PATH_MAX + 80] = ""; /* the new secret file until the DSN names its final path */
    int status = TOOL_EXIT_FAIL;
    lb_kvlist keys;
    lb_kvlist_init(&keys);
    if (needs_secret(&o)) {
        if (o.system) {
            if (system_secret_file(out, &o, secret_path) != 0)
                return TOOL_EXIT_USAGE;
        } else {
            if (user_secret_path(o.name, secret_path, sizeof(secret_path), dir, sizeof(dir)) != 0) {
                lb_tool_fail(out, "add-dsn: neither XDG_CONFIG_HOME nor HOME is an absolute path: no place for the "
                                  "secret file");
                return TOOL_EXIT_FAIL;
            }
            char secret[SECRET_MAX + 1];
            int rc = read_secret(out, &o, secret, sizeof(secret));
            if (rc == 0)
                rc = store_secret(out, secret, secret_path, dir, pending, sizeof(pending));
            lb_wipe(secret, sizeof(secret));
            if (rc != 0)
                return TOOL_EXIT_FAIL;
        }
    }
    /* Until the DSN is written, the listing and the check read the new secret where it is. */
    const char *secret_now = pending[0] ? pending : secret_path[0] ? secret_path : NULL;
    if (dsn_keys(out, &o, secret_now, &keys) != 0)
        goto done;
    if (ask && choose_target(out, &o, &keys, chosen, sizeof(chosen)) != 0)
        goto done;
    /* Checked with the choice; written naming the secret file's own path. */
    if (dsn_keys(out, &o, secret_now, &keys) != 0 || check_settings(out, &keys) != 0 ||
        dsn_keys(out, &o, secret_path[0] ? secret_path : NULL, &keys) != 0)
        goto done;
    char msg[600];
    if (lb_tool_odbcini_write_dsn(o.system, o.name, o.driver, &keys, msg, sizeof(msg)) != 0) {
        lb_tool_fail(out, "add-dsn: %s", msg);
        goto done;
    }
    if (pending[0]) {
        if (rename(pending, secret_path) != 0) {
            lb_tool_fail(out, "add-dsn: cannot put the secret file in place (%s): %s", secret_path, strerror(errno));
            goto done;
        }
        pending[0] = '\0';
        lb_tool_say(out, "wrote the client secret to %s (mode 0600)", secret_path);
    }
    const char *ini = o.system ? "ODBCSYSINI/odbc.ini" : getenv("ODBCINI") ? getenv("ODBCINI") : "~/.odbc.ini";
    lb_tool_say(out, "wrote %s DSN [%s] (%s); testing it:", o.system ? "system" : "user", o.name, ini);
    if (out->json) {
        json_object_object_add(out->doc, "dsn", json_object_new_string(o.name));
        json_object_object_add(out->doc, "scope", json_object_new_string(o.system ? "system" : "user"));
        json_object_object_add(out->doc, "secret_file", secret_path[0] ? json_object_new_string(secret_path) : NULL);
        json_object_object_add(out->doc, o.instance ? "instance" : "endpoint",
                               json_object_new_string(o.instance ? o.instance : o.endpoint));
    }
    char test_cmd[] = "test", test_dsn[40];
    snprintf(test_dsn, sizeof(test_dsn), "%s", o.name);
    char *test_argv[] = {test_cmd, test_dsn, NULL};
    status = lb_tool_cmd_test(out, 2, test_argv);
    if (status != TOOL_EXIT_OK)
        lb_tool_say(out, "The DSN [%s] is written; fix what the test says, then run: lakebase-odbc test %s", o.name,
                    o.name);
done:
    if (pending[0])
        unlink(pending); /* nothing names it */
    lb_kvlist_free(&keys);
    return status;
}
