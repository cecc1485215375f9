/* lakebase-odbc doctor: the setup checked one piece at a time, one line each (OK, WARN,
 * FAIL with its fix, or SKIP when a check it depends on failed): the settings and their
 * origin; the workspace over TLS (the CA in use, a TLS-inspecting proxy named); the
 * authentication source and its identity; the endpoint or instance and its state; DNS, TCP
 * and TLS (after PostgreSQL's SSLRequest) to the PostgreSQL host; the login through the
 * driver manager and the driver, its refusal mapped to the cause; the file cache's
 * directory; a secret in an odbc.ini others can read; psqlODBC. The network probes are
 * the core's (lb_probe.h), each bounded; the workspace calls run on the connect plan's
 * deadline. Exit status 0 when nothing failed. No secret is printed. */
#include "tool.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/lb_auth.h"
#include "lb_buf.h"
#include "lb_cache.h"
#include "lb_connect.h"
#include "lb_http.h"
#include "lb_log.h"
#include "lb_pgerror.h"
#include "lb_probe.h"
#include "tool_dm.h"
#include "tool_driver.h"

/* Each network probe's bound (resolving, connecting, each read of a handshake). */
#define PROBE_MS 5000L
/* The workspace calls' bound (the connect plan's deadline, as a login timeout). */
#define WORKSPACE_S 30L

typedef enum { CHECK_OK, CHECK_WARN, CHECK_FAIL, CHECK_SKIP } check_status;

typedef struct {
    lb_tool_out *out;
    int counts[4];
    json_object *checks; /* --json: the "checks" array */
} doctor;

static const char *const status_word[] = {"OK", "WARN", "FAIL", "SKIP"};
static const char *const status_json[] = {"ok", "warn", "fail", "skip"};

/* One line: status, check, duration (ms < 0: none), detail; for WARN and FAIL the fix. */
static void report(doctor *d, check_status st, const char *check, long long ms, const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static void report(doctor *d, check_status st, const char *check, long long ms, const char *fix, const char *fmt, ...)
{
    char detail[2048], fixed[1024] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    lb_text_redact_userinfo(detail);
    if (fix) {
        snprintf(fixed, sizeof(fixed), "%s", fix);
        lb_text_redact_userinfo(fixed);
    }
    d->counts[st]++;
    if (d->out->json) {
        json_object *c = json_object_new_object();
        json_object_object_add(c, "check", json_object_new_string(check));
        json_object_object_add(c, "status", json_object_new_string(status_json[st]));
        if (ms >= 0)
            json_object_object_add(c, "ms", json_object_new_int64(ms));
        json_object_object_add(c, "detail", json_object_new_string(detail));
        if (fixed[0])
            json_object_object_add(c, "fix", json_object_new_string(fixed));
        json_object_array_add(d->checks, c);
        if (st == CHECK_FAIL)
            lb_tool_fail(d->out, "%s: %s", check, detail);
        return;
    }
    const char *color = st == CHECK_OK ? lb_tool_green(d->out) : st == CHECK_FAIL ? lb_tool_red(d->out)
                        : st == CHECK_WARN ? lb_tool_bold(d->out) : "";
    char took[32] = "";
    if (ms >= 0)
        snprintf(took, sizeof(took), "%lld ms", ms);
    printf("%s%-4s%s %-13s %8s  %s\n", color, status_word[st], lb_tool_reset(d->out), check, took, detail);
    if (fixed[0])
        printf("     %-13s %8s  fix: %s\n", "", "", fixed);
}

static void skip(doctor *d, const char *check, const char *because)
{
    report(d, CHECK_SKIP, check, -1, NULL, "not checked: %s", because);
}

/* host and port of an https URL (DatabricksHost), through the core's URL parser. */
static int url_host_port(const char *url, char *host, size_t size, int *port)
{
    char origin[512];
    if (url == NULL || lb_url_origin(url, origin, sizeof(origin)) != 0)
        return -1;
    const char *h = origin + strlen("https://"), *colon = strrchr(h, ':');
    if (colon == NULL)
        return -1;
    *port = atoi(colon + 1);
    if (*h == '[' && colon > h + 1 && colon[-1] == ']')
        snprintf(host, size, "%.*s", (int)(colon - h - 2), h + 1);
    else
        snprintf(host, size, "%.*s", (int)(colon - h), h);
    return 0;
}

/* A TCP connection to host:port within PROBE_MS, or -1 with why. */
static int connect_to(const char *host, int port, char *peer, size_t peer_size, char *why, size_t why_size)
{
    struct addrinfo *ai = NULL;
    char addrs[512];
    if (lb_probe_dns(host, port, PROBE_MS, &ai, addrs, sizeof(addrs), why, why_size) != 0)
        return -1;
    int fd = lb_probe_tcp(ai, PROBE_MS, peer, peer_size, why, why_size);
    freeaddrinfo(ai);
    return fd;
}

/* "the system store (path)" or "CAFile path". */
static void ca_in_use(const char *key, const char *file, char *buf, size_t size)
{
    if (file) {
        snprintf(buf, size, "%s %.400s", key, file);
    } else {
        char store[PATH_MAX];
        lb_probe_system_store(store, sizeof(store));
        snprintf(buf, size, "the system store (%.400s)", store);
    }
}

/* Why a chain did not verify, and the fix: a TLS-inspecting proxy, a wrong name, a CA
 * bundle without the CA. what: "the workspace" or "PostgreSQL"; key: CAFile or SSLRootCert. */
static void explain_chain(const lb_probe_tls_report *r, const char *host, const char *what, const char *key,
                          const char *file, char *detail, size_t dsize, char *fix, size_t fsize)
{
    char ca[512];
    ca_in_use(key, file, ca, sizeof(ca));
    if (strstr(r->verify_error, "host") || strstr(r->verify_error, "Hostname")) {
        snprintf(detail, dsize, "%s's certificate (%s) is not for %s: %s", what, r->subject, host, r->verify_error);
        if (strcmp(key, "SSLRootCert") == 0)
            snprintf(fix, fsize, "Set Servername to the name the certificate is for, or leave it out (the endpoint's "
                     "host is then looked up); with another name use SSLmode=verify-ca");
        else
            snprintf(fix, fsize, "Something answers in place of %s (a proxy, or a wrong host name): check "
                     "DatabricksHost; a TLS-inspecting proxy must be configured to pass %s through", host, host);
    } else if (file && r->system_trusted) {
        snprintf(detail, dsize, "%s's certificate chain (issued by %s) does not verify against %s (%s), though the "
                 "system store trusts it", what, r->top_issuer, ca, r->verify_error);
        snprintf(fix, fsize, "%s does not hold the CA that signed it: remove %s to use the system store, or add that CA",
                 key, key);
    } else if (!r->system_trusted) {
        snprintf(detail, dsize, "%s's certificate chain is issued by %s, which is not a public CA the system store "
                 "trusts, and does not verify against %s (%s): a TLS-inspecting proxy (or a private CA) is in the way",
                 what, r->top_issuer, ca, r->verify_error);
        snprintf(fix, fsize, "If your network inspects TLS, set %s to its CA bundle (ask your network team for the "
                 "PEM file); otherwise something is intercepting the connection", key);
    } else {
        snprintf(detail, dsize, "%s's certificate chain does not verify against %s (%s)", what, ca, r->verify_error);
        snprintf(fix, fsize, "Set %s to the CA bundle that signed it", key);
    }
}

/* The workspace over TLS: DatabricksHost directly, or through an http:// Proxy (CONNECT). */
static int check_workspace(doctor *d, const lb_settings *s)
{
    const char *check = "workspace-tls";
    char host[256], peer[128] = "", why[512], proxy_host[256] = "";
    int port = 0, proxy_port = 0;
    if (url_host_port(lb_settings_get(s, LB_KEY_HOST), host, sizeof(host), &port) != 0) {
        report(d, CHECK_FAIL, check, -1, "Set DatabricksHost to the workspace URL, https://<workspace host>",
               "DatabricksHost %s is not an https URL with a host", lb_tool_setting(s, LB_KEY_HOST));
        return 0;
    }
    lb_proxy proxy = {0};
    const char *proxy_text = lb_settings_get(s, LB_KEY_PROXY), *problem = NULL;
    if (proxy_text && lb_proxy_parse(proxy_text, &proxy, &problem) == 0) {
        if (strncmp(proxy.url, "http://", 7) != 0) {
            report(d, CHECK_WARN, check, -1, "None needed when the auth check passes",
                   "through the proxy %s: its certificate chain is not inspected through a proxy of this kind "
                   "(only http:// proxies); the auth check below goes through it", proxy.url);
            lb_proxy_free(&proxy);
            return 1;
        }
        const char *hp = proxy.url + 7, *colon = strrchr(hp, ':');
        proxy_port = colon ? atoi(colon + 1) : 80;
        size_t n = colon ? (size_t)(colon - hp) : strlen(hp);
        if (n >= 2 && hp[0] == '[' && hp[n - 1] == ']') /* an IPv6 literal */
            hp++, n -= 2;
        snprintf(proxy_host, sizeof(proxy_host), "%.*s", (int)n, hp);
    }
    long long t0 = lb_now_ms();
    int fd = proxy_host[0] ? connect_to(proxy_host, proxy_port, peer, sizeof(peer), why, sizeof(why))
                           : connect_to(host, port, peer, sizeof(peer), why, sizeof(why));
    if (fd >= 0 && proxy_host[0] &&
        lb_probe_proxy_connect(fd, host, port, proxy.user, proxy.password, why, sizeof(why)) != 0) {
        close(fd);
        fd = -1;
    }
    int ok = 0;
    char via[300] = "";
    if (proxy_host[0])
        snprintf(via, sizeof(via), " through the proxy %s", proxy.url);
    if (fd < 0) {
        report(d, CHECK_FAIL, check, lb_now_ms() - t0,
               proxy_host[0] ? "Check Proxy (host, port, credentials) and that it allows CONNECT to the workspace"
                             : "Check DatabricksHost, this machine's network and DNS; behind a proxy set Proxy",
               "%s:%d%s (bound %ld s per step): %s", host, port, via, PROBE_MS / 1000, why);
        lb_proxy_free(&proxy);
        return 0;
    }
    lb_probe_tls_report r;
    const char *cafile = lb_settings_get(s, LB_KEY_CAFILE);
    int tls = lb_probe_tls(fd, host, cafile, 1, &r, why, sizeof(why));
    close(fd);
    long long ms = lb_now_ms() - t0;
    char ca[512];
    ca_in_use("CAFile", cafile, ca, sizeof(ca));
    if (tls != 0) {
        report(d, CHECK_FAIL, check, ms, "Check DatabricksHost (its port must speak HTTPS) and what sits in between",
               "%s:%d%s: %s", host, port, via, why);
    } else if (!r.verified) {
        char detail[1536], fix[768];
        explain_chain(&r, host, "the workspace", "CAFile", cafile, detail, sizeof(detail), fix, sizeof(fix));
        report(d, CHECK_FAIL, check, ms, fix, "%s:%d%s, %s: %s", host, port, via, r.protocol, detail);
    } else if (!r.system_trusted) {
        ok = 1;
        report(d, CHECK_OK, check, ms, NULL,
               "%s:%d%s, %s, certificate %s verified through %s from %s; the system store does not trust that CA "
               "(a private CA or a TLS-inspecting proxy, as CAFile says)", host, port, via, r.protocol, r.subject,
               r.anchor, ca);
    } else {
        ok = 1;
        report(d, CHECK_OK, check, ms, NULL, "%s:%d%s, %s, certificate %s verified through %s from %s", host, port,
               via, r.protocol, r.subject, r.anchor, ca);
    }
    lb_proxy_free(&proxy);
    return ok;
}

static const char *origin_name(lb_cache_origin o)
{
    return o == LB_FROM_MEMORY ? "from the memory cache" : o == LB_FROM_FILE ? "from the file cache" : "fetched";
}

static int check_auth(doctor *d, lb_plan *plan, char *identity, size_t size)
{
    const lb_auth_source *src = lb_auth_source_of((lb_auth_type)plan->settings.auth_type);
    const char *name = src ? src->name : "oauth-m2m";
    lb_error err;
    lb_error_init(&err);
    long long t0 = lb_now_ms();
    if (lb_plan_whoami(plan, identity, size, &err) != LB_OK) {
        report(d, CHECK_FAIL, "auth", lb_now_ms() - t0,
               err.code == LB_ERR_AUTH && src ? src->fix_refused : "As the message says", "AuthType %s: %s", name,
               err.message);
        return 0;
    }
    report(d, CHECK_OK, "auth", lb_now_ms() - t0, NULL,
           "AuthType %s (%s): the workspace knows it as %s (SCIM Me); workspace token %s", name, plan->settings.auth_why,
           identity, origin_name(plan->token_origin));
    return 1;
}

static int check_endpoint(doctor *d, lb_plan *plan)
{
    const lb_settings *s = &plan->settings;
    lb_error err;
    lb_error_init(&err);
    long long t0 = lb_now_ms();
    lb_endpoint_info info;
    memset(&info, 0, sizeof(info));
    lb_result rc = lb_plan_target(plan, &err);
    if (rc == LB_OK)
        rc = lb_plan_endpoint_info(plan, 0, &info, &err);
    if (rc == LB_OK)
        rc = lb_plan_check_state(plan, &info, &err);
    long long ms = lb_now_ms() - t0;
    const char *kind = lb_plan_target_kind(plan), *name = lb_plan_target_name(plan);
    if (rc != LB_OK) {
        const char *fix = rc == LB_ERR_UNAVAILABLE ? "Start it, or wait for it, in the Lakebase UI (or with the API)"
                          : rc == LB_ERR_NOT_FOUND ? "Check Endpoint (projects/<p>/branches/<b>/endpoints/<e>) or "
                                                     "Instance; lakebase-odbc endpoints lists what the workspace has"
                                                   : NULL;
        report(d, CHECK_FAIL, "endpoint", ms, fix, "%s %s: %s", kind, name, err.message);
        return 0;
    }
    report(d, CHECK_OK, "endpoint", ms, NULL, "%s %s: state %s%s%s%s, host %s (Servername from %s)", kind, name,
           info.state[0] ? info.state : "(not said)",
           lb_plan_state_awake(plan, info.state) ? "" : " (a connection wakes it; allow WakeTimeout)",
           info.type[0] ? ", type " : "", info.type, lb_tool_setting(s, LB_KEY_SERVER),
           lb_tool_source_name(s->source[LB_KEY_SERVER]));
    return 1;
}

/* DNS, TCP and TLS to PostgreSQL: 1 when all passed. */
static int check_postgres_path(doctor *d, const lb_settings *s)
{
    const char *host = lb_settings_get(s, LB_KEY_SERVER);
    int port = s->port;
    char why[512], addrs[512], peer[128];
    struct addrinfo *ai = NULL;
    long long t0 = lb_now_ms();
    if (lb_probe_dns(host, port, PROBE_MS, &ai, addrs, sizeof(addrs), why, sizeof(why)) != 0) {
        report(d, CHECK_FAIL, "dns", lb_now_ms() - t0,
               "Check Servername (leave it out to have the driver look the endpoint's host up) and this machine's DNS",
               "%s (bound %ld s): %s", host, PROBE_MS / 1000, why);
        skip(d, "tcp", "the host does not resolve");
        skip(d, "tls", "the host does not resolve");
        return 0;
    }
    report(d, CHECK_OK, "dns", lb_now_ms() - t0, NULL, "%s is %s", host, addrs);
    t0 = lb_now_ms();
    int fd = lb_probe_tcp(ai, PROBE_MS, peer, sizeof(peer), why, sizeof(why));
    freeaddrinfo(ai);
    if (fd < 0) {
        report(d, CHECK_FAIL, "tcp", lb_now_ms() - t0,
               "Check Servername and Port (Lakebase listens on 5432); a firewall or the workspace's IP access list "
               "may block this network",
               "%s port %d (bound %ld s): %s", host, port, PROBE_MS / 1000, why);
        skip(d, "tls", "no TCP connection");
        return 0;
    }
    report(d, CHECK_OK, "tcp", lb_now_ms() - t0, NULL, "connected to %s", peer);
    t0 = lb_now_ms();
    int ssl = lb_probe_pg_sslrequest(fd, why, sizeof(why));
    if (ssl <= 0) {
        close(fd);
        report(d, CHECK_FAIL, "tls", lb_now_ms() - t0,
               "Lakebase always speaks TLS on its port: Servername and Port point at another server",
               "%s (bound %ld s): %s", peer, PROBE_MS / 1000,
               ssl == 0 ? "PostgreSQL there does not offer TLS (it answered N to SSLRequest)" : why);
        return 0;
    }
    const char *mode = lb_tool_setting(s, LB_KEY_SSLMODE), *root = lb_settings_get(s, LB_KEY_SSL_ROOT_CERT);
    int strict = strcmp(mode, "require") != 0;
    lb_probe_tls_report r;
    int tls = lb_probe_tls(fd, host, root, strcmp(mode, "verify-full") == 0, &r, why, sizeof(why));
    close(fd);
    long long ms = lb_now_ms() - t0;
    if (tls != 0) {
        report(d, CHECK_FAIL, "tls", ms, "Check Servername and Port, and what sits between this machine and the host",
               "%s after SSLRequest (bound %ld s per read): %s", peer, PROBE_MS / 1000, why);
        return 0;
    }
    char ca[512];
    ca_in_use("SSLRootCert", root, ca, sizeof(ca));
    if (!r.verified) {
        char detail[1536], fix[768];
        explain_chain(&r, host, "PostgreSQL", "SSLRootCert", root, detail, sizeof(detail), fix, sizeof(fix));
        if (strict) {
            report(d, CHECK_FAIL, "tls", ms, fix, "%s, %s, SSLmode %s: %s", peer, r.protocol, mode, detail);
            return 0;
        }
        report(d, CHECK_WARN, "tls", ms, "Use SSLmode=verify-full (with SSLRootCert when the CA is not public)",
               "%s, %s, SSLmode require accepts any certificate, and this one would not verify: %s", peer, r.protocol,
               detail);
        return 1;
    }
    report(d, CHECK_OK, "tls", ms, NULL, "%s, %s after SSLRequest, certificate %s verified through %s from %s (SSLmode %s)",
           peer, r.protocol, r.subject, r.anchor, ca, mode);
    return 1;
}

/* The login through the driver manager and the driver; a refusal mapped to its cause. */
static void check_login(doctor *d, const lb_settings *s, const char *connstr, const char *identity)
{
    lb_tool_dm dm;
    long long t0 = lb_now_ms();
    int rc = lb_tool_dm_connect(&dm, connstr);
    long long ms = lb_now_ms() - t0;
    const char *uid = lb_settings_get(s, LB_KEY_UID);
    uid = uid ? uid : identity;
    if (rc == 0) {
        char user[256] = "", db[256] = "";
        if (lb_tool_dm_identity(&dm, user, sizeof(user), db, sizeof(db)) == 0)
            report(d, CHECK_OK, "login", ms, NULL, "logged in through the driver manager as role %s to database %s",
                   user, db);
        else
            report(d, CHECK_FAIL, "login", ms, NULL, "logged in, but SELECT current_user failed: %s", dm.first_text);
        lb_tool_dm_close(&dm);
        return;
    }
    const char *text = dm.first_text, *cause;
    char fix[768];
    int person = s->auth_type == LB_AUTH_PAT || s->auth_type == LB_AUTH_DATABRICKS_CLI;
    snprintf(fix, sizeof(fix), "Create the OAuth role in the Lakebase SQL editor: SELECT databricks_create_role('%.200s', "
             "'%s'); and check that DatabricksHost is the workspace that owns the project", identity,
             person ? "USER" : "SERVICE_PRINCIPAL");
    if (strstr(text, "role \"") && strstr(text, "does not exist")) {
        cause = "the role is missing";
    } else if (strstr(text, "pg_hba.conf")) {
        cause = "pg_hba: the server takes no connection from this address, role or TLS setting";
        snprintf(fix, sizeof(fix), "Lakebase takes TLS connections only (SSLmode require or stronger), from the networks "
                 "the workspace's IP access list allows");
    } else if (strstr(text, "database \"") && strstr(text, "does not exist")) {
        cause = "the database is missing";
        snprintf(fix, sizeof(fix), "Check Database (the default is databricks_postgres)");
    } else if (lb_pgerror_is_auth(text) && strcmp(uid, identity) != 0) {
        cause = "the role is not the identity's: UID names another role, or one that does not exist";
        snprintf(fix, sizeof(fix), "Leave UID out, or set it to %.200s (a credential logs in only as its identity's role)",
                 identity);
    } else if (lb_pgerror_is_auth(text)) {
        cause = "the role is missing or not an OAuth role, or the credential is refused (PostgreSQL does not tell "
                "these apart to a password login)";
    } else if (strstr(text, "certificate")) {
        cause = "PostgreSQL's certificate";
        snprintf(fix, sizeof(fix), "Set SSLRootCert to the CA bundle that signed it, and Servername to the name in it");
    } else {
        cause = "the connect failed";
        snprintf(fix, sizeof(fix), "As the driver's message says");
    }
    char bound[64];
    snprintf(bound, sizeof(bound), "ConnectTimeout %d s, WakeTimeout %d s", s->connect_timeout, s->wake_timeout);
    report(d, CHECK_FAIL, "login", ms, fix, "as role %s (%s): %s: %s", uid, bound,
           cause, text);
    lb_tool_dm_close(&dm);
}

static void check_cache_dir(doctor *d, const lb_settings *s)
{
    if (s->cache_mode == LB_CACHE_MEMORY || s->cache_mode == LB_CACHE_OFF) {
        report(d, CHECK_OK, "cache-dir", -1, NULL, "TokenCache=%s: no file cache", lb_tool_setting(s, LB_KEY_TOKEN_CACHE));
        return;
    }
    char dir[PATH_MAX], why[PATH_MAX + 128];
    if (lb_cache_dir(dir, sizeof(dir)) != 0) {
        report(d, CHECK_WARN, "cache-dir", -1, "Set HOME or XDG_CACHE_HOME",
               "no cache directory (neither XDG_CACHE_HOME nor HOME): the driver keeps tokens in memory only");
        return;
    }
    struct stat st;
    if (lstat(dir, &st) != 0 && errno == ENOENT) {
        report(d, CHECK_OK, "cache-dir", -1, NULL, "%s does not exist yet: the driver creates it (0700) on first use",
               dir);
        return;
    }
    if (lb_cache_dir_problem(dir, why, sizeof(why)) != 0) {
        char fix[PATH_MAX + 64];
        if (S_ISDIR(st.st_mode) && st.st_uid == geteuid())
            snprintf(fix, sizeof(fix), "chmod 700 %s", dir);
        else
            snprintf(fix, sizeof(fix), "Remove %s (the driver makes it again), or set XDG_CACHE_HOME", dir);
        report(d, CHECK_WARN, "cache-dir", -1, fix, "%s: the driver keeps tokens in memory only", why);
        return;
    }
    report(d, CHECK_OK, "cache-dir", -1, NULL, "%s: owned by this user, mode %03o (TokenCache=%s)", dir,
           (unsigned)(st.st_mode & 0777), lb_tool_setting(s, LB_KEY_TOKEN_CACHE));
}

static void check_odbcini(doctor *d, const char *dsn)
{
    if (dsn == NULL) {
        report(d, CHECK_OK, "odbc.ini", -1, NULL, "no DSN used: nothing to check");
        return;
    }
    char key[128], file[PATH_MAX], fix[PATH_MAX + 200];
    unsigned mode = 0;
    if (lb_plan_exposed_secret(dsn, key, sizeof(key), file, sizeof(file), &mode)) {
        snprintf(fix, sizeof(fix), "chmod 600 %s, or move the secret to %s", file, lb_plan_exposed_secret_fix(key));
        report(d, CHECK_WARN, "odbc.ini", -1, fix, "DSN %s holds %s in %s, which other users can read (mode %03o)", dsn,
               key, file, mode);
        return;
    }
    report(d, CHECK_OK, "odbc.ini", -1, NULL, "DSN %s: no secret in an odbc.ini other users can read", dsn);
}

static void check_psqlodbc(doctor *d)
{
    char path[PATH_MAX], ver[256], why[512] = "", lib[PATH_MAX] = "";
    long long t0 = lb_now_ms();
    if (lb_tool_driver_path(path, sizeof(path)) != 0) {
        report(d, CHECK_FAIL, "psqlodbc", -1, "Run lakebase-odbc install-driver",
               "the driver is neither registered as Lakebase in odbcinst.ini nor beside this tool");
        return;
    }
    const char *mark = NULL;
    if (lb_tool_driver_version(path, ver, sizeof(ver), why, sizeof(why)) == 0)
        mark = strstr(ver, "(psqlODBC ");
    if (mark == NULL) {
        report(d, CHECK_FAIL, "psqlodbc", lb_now_ms() - t0,
               "Install psqlODBC (the odbc-postgresql package), or point PsqlODBC= in the driver's odbcinst.ini "
               "section (or LAKEBASE_PSQLODBC) at psqlodbcw.so",
               "the driver %s did not load psqlODBC: %s", path, why[0] ? why : ver);
        return;
    }
    char version[64];
    snprintf(version, sizeof(version), "%s", mark + strlen("(psqlODBC "));
    version[strcspn(version, ")")] = '\0';
    if (lb_tool_driver_psqlodbc_path(lib, sizeof(lib)) != 0)
        snprintf(lib, sizeof(lib), "(its path not found among the loaded libraries)");
    report(d, CHECK_OK, "psqlodbc", lb_now_ms() - t0, NULL, "psqlODBC %s at %s, loaded by the driver %s", version, lib,
           path);
}

int lb_tool_cmd_doctor(lb_tool_out *out, int argc, char **argv)
{
    lb_tool_conn_opts o;
    if (lb_tool_conn_args(out, &o, argc, argv, NULL, NULL) != 0)
        return TOOL_EXIT_USAGE;
    lb_tool_conn_warn_args(out, &o);
    signal(SIGPIPE, SIG_IGN); /* a server closing during a probe is a failed check, not the end */

    doctor d;
    memset(&d, 0, sizeof(d));
    d.out = out;
    if (out->json) {
        d.checks = json_object_new_array();
        json_object_object_add(out->doc, "checks", d.checks);
    } else {
        lb_tool_say(out, "(network probes bounded by %ld s each; workspace calls by %ld s in all)", PROBE_MS / 1000,
                    WORKSPACE_S);
    }
    lb_error err;
    lb_error_init(&err);
    lb_tool_session ts;
    long long t0 = lb_now_ms();
    int settings_ok = lb_tool_session_open(&ts, &o, WORKSPACE_S, &err) == LB_OK;
    lb_plan *plan = &ts.plan;
    const lb_settings *s = &plan->settings;
    char identity[512] = "";
    if (!settings_ok) {
        report(&d, CHECK_FAIL, "settings", lb_now_ms() - t0, "Fix the setting named; lakebase-odbc list shows the DSNs",
               "%s", err.message);
        const char *const dependent[] = {"workspace-tls", "auth", "endpoint", "dns", "tcp", "tls", "login"};
        for (size_t i = 0; i < sizeof(dependent) / sizeof(dependent[0]); i++)
            skip(&d, dependent[i], "the settings do not resolve");
    } else {
        report(&d, CHECK_OK, "settings", plan->settings_ms, NULL, "resolved%s%s; %s %s on %s", s->dsn ? " with DSN " : "",
               s->dsn ? s->dsn : "", lb_plan_target_kind(plan), lb_plan_target_name(plan),
               lb_tool_setting(s, LB_KEY_HOST));
        lb_tool_conn_print_settings(out, s);
        int workspace_ok = check_workspace(&d, s);
        int auth_ok = workspace_ok ? check_auth(&d, plan, identity, sizeof(identity)) : 0;
        if (!workspace_ok)
            skip(&d, "auth", "the workspace does not answer over TLS");
        int endpoint_ok = auth_ok ? check_endpoint(&d, plan) : 0;
        if (!auth_ok)
            skip(&d, "endpoint", workspace_ok ? "no workspace token" : "the workspace does not answer over TLS");
        int path_ok = 0;
        if (lb_settings_get(s, LB_KEY_SERVER)) {
            path_ok = check_postgres_path(&d, s);
        } else {
            const char *because = "no PostgreSQL host: Servername is not set and the endpoint's was not looked up";
            skip(&d, "dns", because);
            skip(&d, "tcp", because);
            skip(&d, "tls", because);
        }
        if (auth_ok && endpoint_ok && path_ok)
            check_login(&d, s, ts.connstr.data, identity);
        else
            skip(&d, "login", !workspace_ok  ? "the workspace does not answer over TLS"
                              : !auth_ok     ? "no workspace token"
                              : !endpoint_ok ? "the endpoint takes no connections"
                                             : "PostgreSQL cannot be reached over TLS");
    }
    if (settings_ok) {
        check_cache_dir(&d, s);
    } else {
        skip(&d, "cache-dir", "the settings do not resolve");
    }
    check_odbcini(&d, settings_ok ? s->dsn : o.dsn);
    check_psqlodbc(&d);

    int status = d.counts[CHECK_FAIL] ? TOOL_EXIT_FAIL : TOOL_EXIT_OK;
    if (out->json) {
        json_object_object_add(out->doc, "failed", json_object_new_int(d.counts[CHECK_FAIL]));
        json_object_object_add(out->doc, "warnings", json_object_new_int(d.counts[CHECK_WARN]));
    } else {
        lb_tool_say(out, "%d OK, %d WARN, %d FAIL, %d SKIP", d.counts[CHECK_OK], d.counts[CHECK_WARN],
                    d.counts[CHECK_FAIL], d.counts[CHECK_SKIP]);
    }
    lb_tool_session_free(&ts);
    return status;
}
