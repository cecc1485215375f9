/* Secrets left in memory: after a connect through unixODBC with TokenCache=off and the
 * client secret in a ClientSecretFile (so the driver manager never sees it), a query, a
 * disconnect and freeing the handles, the process scans every readable mapping of its
 * own memory (/proc/self/mem: what a core dump would hold) for the client secret,
 * base64(form(id):form(secret)) as the driver sends it, and every workspace token and
 * database credential the emulator issued meanwhile; both whole copies and tails (the
 * last 24 bytes: a copy whose start was overwritten since).
 *
 * Two processes run, each forked from this one before it touches a secret:
 *   driver    the connect through the driver, as above;
 *   psqlodbc  for comparison, a connect straight into psqlODBC (dlopen'd, no driver
 *             manager, no driver) with the credential the driver case was issued, in the
 *             connection string the driver hands psqlODBC;
 *   profile   the driver case with the secret in a ~/.databrickscfg profile instead;
 *   memcache  the driver case with TokenCache=memory: the cached token and credential
 *             must be in mappings left out of core dumps (VmFlags "dd" in
 *             /proc/self/smaps) and nowhere else (but psqlODBC's copies);
 *   appcurl   the driver case in an application that initialised libcurl first: the
 *             driver's allocator is then not libcurl's, and its debug log must say so
 *             (what is left is printed, not asserted).
 * Asserted for the driver case: no copy or tail of the client secret, the base64 pair or
 * a workspace token; no whole credential but inside a copy of the connection string the
 * driver hands psqlODBC ("PWD={" before it), and at most two of those. psqlODBC 13's
 * SQLDriverConnect copies its input string and its parser copies it again, and frees both
 * without wiping (found with gdb: the block comes from a malloc in psqlODBC's
 * SQLDriverConnect; the driver's own string is wiped, at another address). Credential
 * tails are printed, not asserted: the ones seen are libpq's output buffer (the password
 * message, overwritten from the start by later queries) and freed blocks of psqlODBC's,
 * present in the psqlodbc case too. A planted canary proves the scan sees the heap.
 * Counts are printed, values never. The test holds each needle only XOR-masked (the
 * plain bytes never sit in its memory), reads files with read() into buffers it wipes,
 * and scans through a buffer outside every scanned range. LB_MEMSCAN_ADDRESSES=1 prints
 * the address of each find, for a debugger.
 *
 * Under a sanitizer the scan is skipped (exit 77): shadow memory and the allocator's
 * reserve are terabytes of readable address space. */
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sql.h>
#include <sqlext.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lb_buf.h"
#include "lb_http.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#endif

#define MAX_NEEDLES 64
#define CHUNK (1u << 20)

enum kind { K_SECRET, K_BASIC, K_TOKEN, K_CREDENTIAL, K_CANARY, K_KINDS };
static const char *kind_name[K_KINDS] = {"client secret", "base64(id:secret)", "workspace token",
                                         "database credential", "planted canary"};

#define TAIL 24 /* a copy's last TAIL bytes count as a copy (secrets here are longer) */

typedef struct {
    enum kind kind;
    size_t len;
    unsigned char tail_first; /* the tail's first byte in the clear: one byte is no copy */
    unsigned char *masked;    /* bytes XOR mask */
    unsigned char *mask;
} needle;

static needle needles[MAX_NEEDLES];
static int n_needles;

typedef struct {
    long whole[K_KINDS];      /* whole copies */
    long tails[K_KINDS];      /* tails without their head */
    long in_connstr;          /* whole credentials inside a connection string for psqlODBC */
    long whole_dd[K_KINDS];   /* whole copies in mappings left out of core dumps */
    int said_not_ours;        /* the debug log said libcurl's allocator is not the driver's */
} result;
static result res;

/* Keeps s only masked. */
static void add_needle(enum kind k, const unsigned char *s, size_t len)
{
    if (len < TAIL || n_needles == MAX_NEEDLES) {
        fprintf(stderr, "needle too short or too many needles\n");
        _exit(2);
    }
    needle *n = &needles[n_needles++];
    n->kind = k;
    n->len = len;
    n->tail_first = s[len - TAIL];
    n->masked = malloc(len);
    n->mask = malloc(len);
    if (n->masked == NULL || n->mask == NULL || getrandom(n->mask, len, 0) != (ssize_t)len)
        _exit(2);
    for (size_t i = 0; i < len; i++) {
        while (n->mask[i] == 0)
            if (getrandom(&n->mask[i], 1, 0) != 1)
                _exit(2);
        n->masked[i] = s[i] ^ n->mask[i];
    }
}

/* Whether p holds bytes [from, from + count) of the needle. */
static int matches(const needle *n, const unsigned char *p, size_t from, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if ((unsigned char)(p[i] ^ n->mask[from + i]) != n->masked[from + i])
            return 0;
    return 1;
}

/* The whole of a small file, through read() into an mmap'd buffer (no stdio buffer
 * keeps a copy); the caller wipes and unmaps it. */
static char *slurp(const char *path, size_t *len, size_t *map_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        fprintf(stderr, "cannot read %s\n", path);
        _exit(2);
    }
    *map_len = (size_t)st.st_size + 4096;
    char *buf = mmap(NULL, *map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED)
        _exit(2);
    size_t got = 0;
    ssize_t r;
    while (got < *map_len - 1 && (r = read(fd, buf + got, *map_len - 1 - got)) > 0)
        got += (size_t)r;
    close(fd);
    buf[got] = '\0';
    *len = got;
    return buf;
}

static void unslurp(char *buf, size_t map_len)
{
    lb_wipe(buf, map_len);
    munmap(buf, map_len);
}

static const char *need(const char *name)
{
    const char *v = getenv(name);
    if (v == NULL || v[0] == '\0') {
        fprintf(stderr, "%s is not set: run this through ctest\n", name);
        exit(2);
    }
    return v;
}

static const char *issued_path(void)
{
    static char path[1024];
    snprintf(path, sizeof(path), "%s/issued-secrets", need("LAKEBASE_LOCAL_STATE"));
    return path;
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : 0;
}

/* Tokens and credentials the emulator issued after offset from: credentials are
 * JWT-shaped (with dots), workspace tokens are not. Returns the last credential's
 * line (into cred, when given). */
static void issued_needles(off_t from, char *cred, size_t cred_size)
{
    size_t len, map_len;
    char *buf = slurp(issued_path(), &len, &map_len);
    for (char *line = buf + from; line < buf + len;) {
        char *end = strchr(line, '\n');
        size_t l = end ? (size_t)(end - line) : strlen(line);
        if (l > 0) {
            int is_cred = memchr(line, '.', l) != NULL;
            add_needle(is_cred ? K_CREDENTIAL : K_TOKEN, (unsigned char *)line, l);
            if (is_cred && cred && l < cred_size) {
                memcpy(cred, line, l);
                cred[l] = '\0';
            }
        }
        line += l + 1;
    }
    unslurp(buf, map_len);
}

/* The client secret and base64(form(id):form(secret)), as basic_auth builds it. */
static void secret_needles(const char *state, const char *client_id)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/client-secret", state);
    size_t len, map_len;
    char *buf = slurp(path, &len, &map_len);
    buf[strcspn(buf, "\r\n")] = '\0';
    add_needle(K_SECRET, (unsigned char *)buf, strlen(buf));
    char *eid = lb_form_escape(client_id), *esec = lb_form_escape(buf);
    lb_buf pair;
    lb_buf_init(&pair, 0);
    lb_buf_puts(&pair, eid);
    lb_buf_puts(&pair, ":");
    lb_buf_puts(&pair, esec);
    char *b64 = lb_base64((unsigned char *)pair.data, pair.len);
    if (b64 == NULL)
        _exit(2);
    add_needle(K_BASIC, (unsigned char *)b64, strlen(b64));
    lb_secret_free(b64);
    lb_buf_free_secret(&pair);
    lb_secret_free(esec);
    free(eid);
    unslurp(buf, map_len);
}

/* Counts, for every needle in every readable mapping but the scan buffer, the whole
 * copies and the tails (its last TAIL bytes without the whole: a copy partly overwritten
 * since); prints where they are (mapping names and addresses only). */
static void scan(void)
{
    size_t longest = 0;
    for (int i = 0; i < n_needles; i++)
        if (needles[i].len > longest)
            longest = needles[i].len;
    size_t cap = longest + CHUNK + TAIL;
    unsigned char *win = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (win == MAP_FAILED)
        _exit(2);
    uintptr_t self_lo = (uintptr_t)win, self_hi = self_lo + cap;
    /* The mappings, with whether each is left out of core dumps (VmFlags "dd"). */
    int mfd = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC);
    int mem = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
    if (mfd < 0 || mem < 0)
        _exit(2);
    static char smaps[4 << 20];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof(smaps) - 1 && (r = read(mfd, smaps + got, sizeof(smaps) - 1 - got)) > 0)
        got += (size_t)r;
    smaps[got] = '\0';
    close(mfd);
    static struct {
        unsigned long lo, hi;
        char perms[8], name[512];
        int dd;
    } maps[8192];
    int n_maps = 0;
    for (char *line = strtok(smaps, "\n"); line; line = strtok(NULL, "\n")) {
        unsigned long lo, hi;
        char perms[8] = "", name[512] = "";
        if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %511[^\n]", &lo, &hi, perms, name) >= 3 && n_maps < 8192) {
            maps[n_maps].lo = lo;
            maps[n_maps].hi = hi;
            memcpy(maps[n_maps].perms, perms, sizeof(perms));
            memcpy(maps[n_maps].name, name, sizeof(name));
            maps[n_maps++].dd = 0;
        } else if (n_maps > 0 && strncmp(line, "VmFlags:", 8) == 0) {
            maps[n_maps - 1].dd = strstr(line, " dd") != NULL;
        }
    }
    int verbose = getenv("LB_MEMSCAN_ADDRESSES") != NULL; /* for a debugger: where, never what */
    unsigned long long scanned = 0;
    for (int m = 0; m < n_maps; m++) {
        unsigned long lo = maps[m].lo, hi = maps[m].hi;
        const char *perms = maps[m].perms, *name = maps[m].name;
        if (perms[0] != 'r' || strstr(name, "[vvar") || strstr(name, "[vsyscall]") || (lo < self_hi && hi > self_lo))
            continue;
        long whole[K_KINDS] = {0}, tails[K_KINDS] = {0}, in_cs = 0;
        for (unsigned long at = lo; at < hi; at += CHUNK) {
            /* The window: up to longest bytes before the chunk (for the heads of tails found
             * in it), the chunk, and TAIL bytes after it. */
            unsigned long start = at - lo > longest ? at - longest : lo;
            unsigned long end = hi - at > CHUNK + TAIL ? at + CHUNK + TAIL : hi;
            ssize_t n = pread(mem, win, end - start, (off_t)start);
            if (n <= 0)
                break;
            unsigned char *from = win + (at - start), *stop = win + n;
            unsigned char *limit = from + CHUNK < stop ? from + CHUNK : stop; /* tails starting here count */
            if (limit <= from)
                break;
            scanned += (unsigned long long)(limit - from);
            for (int i = 0; i < n_needles; i++) {
                const needle *nd = &needles[i];
                size_t off = nd->len - TAIL;
                for (unsigned char *q = from; q < limit && (q = memchr(q, nd->tail_first, (size_t)(limit - q))) != NULL; q++) {
                    if (q + TAIL > stop || !matches(nd, q, off, TAIL))
                        continue;
                    size_t back = (size_t)(q - win);
                    unsigned char *p = back >= off ? q - off : NULL;
                    int is_whole = p != NULL && matches(nd, p, 0, off);
                    if (!is_whole) {
                        tails[nd->kind]++;
                    } else {
                        whole[nd->kind]++;
                        /* Inside a connection string handed to psqlODBC: PWD={...}, or that string
                         * cut up by psqlODBC's parser (PWD\0{...}). */
                        if (back >= off + 5 && (memcmp(p - 5, "PWD={", 5) == 0 || memcmp(p - 5, "PWD\0{", 5) == 0))
                            in_cs++;
                    }
                    if (verbose)
                        printf("    %s %s at %#lx\n", is_whole ? "copy of" : "tail of", kind_name[nd->kind],
                               start + (unsigned long)(q - win));
                }
            }
            lb_wipe(win, (size_t)n);
        }
        for (int k = 0; k < K_KINDS; k++) {
            if (whole[k] == 0 && tails[k] == 0)
                continue;
            printf("    %ld x %s", whole[k], kind_name[k]);
            if (k == K_CREDENTIAL)
                printf(" (%ld in a connection string for psqlODBC)", in_cs);
            printf(", %ld tail(s), in %lx-%lx %s %s%s\n", tails[k], lo, hi, perms, name[0] ? name : "(anonymous)",
                   maps[m].dd ? " (left out of core dumps)" : "");
            res.whole[k] += whole[k];
            if (maps[m].dd)
                res.whole_dd[k] += whole[k];
            res.tails[k] += tails[k];
        }
        res.in_connstr += in_cs;
    }
    close(mem);
    munmap(win, cap);
    printf("  scanned %.1f MiB\n", (double)scanned / (1024.0 * 1024.0));
}

static void odbc_fail(SQLSMALLINT type, SQLHANDLE h, const char *what)
{
    SQLCHAR state[6] = "", msg[1024] = "";
    SQLINTEGER native;
    SQLSMALLINT l;
    SQLGetDiagRec(type, h, 1, state, &native, msg, sizeof(msg), &l);
    fprintf(stderr, "%s failed: %s %s\n", what, state, msg);
    _exit(1);
}

static int from_profile; /* the profile case: the secret in a ~/.databrickscfg profile */
static const char *cache_mode = "off"; /* TokenCache of the DSN */

/* A Databricks config file whose DEFAULT profile holds the client secret. */
static void write_databrickscfg(const char *state, const char *dir)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/client-secret", state);
    size_t len, map_len;
    char *buf = slurp(path, &len, &map_len);
    buf[strcspn(buf, "\r\n")] = '\0';
    snprintf(path, sizeof(path), "%s/databrickscfg", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    static const char head[] = "[DEFAULT]\nclient_secret = ";
    if (fd < 0 || write(fd, head, sizeof(head) - 1) != (ssize_t)sizeof(head) - 1 ||
        write(fd, buf, strlen(buf)) != (ssize_t)strlen(buf) || write(fd, "\n", 1) != 1)
        _exit(2);
    close(fd);
    unslurp(buf, map_len);
    setenv("DATABRICKS_CONFIG_FILE", path, 1);
}

/* The DSN: the fixture's, without ClientSecret, with ClientSecretFile (but in the profile
 * case) and TokenCache=off. */
static void write_odbc_ini(const char *state, const char *dir)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/odbc.ini", state);
    size_t len, map_len;
    char *buf = slurp(path, &len, &map_len);
    snprintf(path, sizeof(path), "%s/odbc.ini", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        _exit(2);
    char *section = strstr(buf, "[lakebase-local]");
    if (section == NULL) {
        fprintf(stderr, "no [lakebase-local] in %s/odbc.ini\n", state);
        _exit(2);
    }
    char head[1200];
    int hl = from_profile ? snprintf(head, sizeof(head), "[lakebase-scan]\nTokenCache=%s\n", cache_mode)
                          : snprintf(head, sizeof(head), "[lakebase-scan]\nClientSecretFile=%s/client-secret\nTokenCache=%s\n",
                                     state, cache_mode);
    if (write(fd, head, (size_t)hl) != hl)
        _exit(2);
    for (char *line = strchr(section, '\n') + 1; line < buf + len;) {
        size_t l = strcspn(line, "\n");
        if (line[0] == '[')
            break;
        if (strncasecmp(line, "ClientSecret", 12) != 0 && (write(fd, line, l) != (ssize_t)l || write(fd, "\n", 1) != 1))
            _exit(2);
        line += l + 1;
    }
    close(fd);
    unslurp(buf, map_len);
}

/* The fixture's odbcinst.ini, so that the driver manager reads no odbc.ini that holds the
 * secret (it reads the one beside odbcinst.ini too). */
static void copy_odbcinst_ini(const char *state, const char *dir)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/odbcinst.ini", state);
    size_t len, map_len;
    char *buf = slurp(path, &len, &map_len);
    snprintf(path, sizeof(path), "%s/odbcinst.ini", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
        _exit(2);
    close(fd);
    unslurp(buf, map_len);
}

/* The DSN lakebase-scan in dir, for the driver manager and psqlODBC. */
static void use_dsn(const char *state, const char *dir)
{
    write_odbc_ini(state, dir);
    copy_odbcinst_ini(state, dir);
    char ini[1100];
    snprintf(ini, sizeof(ini), "%s/odbc.ini", dir);
    setenv("ODBCINI", ini, 1);
    setenv("ODBCSYSINI", dir, 1);
}

static int run_driver_case(const char *client_id, char *cred_out, size_t cred_size)
{
    off_t from = file_size(issued_path());

    SQLHENV env;
    SQLHDBC dbc;
    SQLHSTMT st;
    if (SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env) != SQL_SUCCESS)
        _exit(1);
    SQLSetEnvAttr(env, SQL_ATTR_ODBC_VERSION, (SQLPOINTER)SQL_OV_ODBC3, 0);
    SQLAllocHandle(SQL_HANDLE_DBC, env, &dbc);
    if (!SQL_SUCCEEDED(SQLDriverConnect(dbc, NULL, (SQLCHAR *)"DSN=lakebase-scan", SQL_NTS, NULL, 0, NULL,
                                        SQL_DRIVER_NOPROMPT)))
        odbc_fail(SQL_HANDLE_DBC, dbc, "connect through the driver");
    SQLAllocHandle(SQL_HANDLE_STMT, dbc, &st);
    if (!SQL_SUCCEEDED(SQLExecDirect(st, (SQLCHAR *)"SELECT current_user", SQL_NTS)) || SQLFetch(st) != SQL_SUCCESS)
        odbc_fail(SQL_HANDLE_STMT, st, "query");
    char user[256] = "";
    SQLLEN ind;
    SQLGetData(st, 1, SQL_C_CHAR, user, sizeof(user), &ind);
    if (strcmp(user, client_id) != 0) {
        fprintf(stderr, "connected as %s, not the client id\n", user);
        _exit(1);
    }
    SQLFreeHandle(SQL_HANDLE_STMT, st);
    SQLDisconnect(dbc);
    SQLFreeHandle(SQL_HANDLE_DBC, dbc);
    SQLFreeHandle(SQL_HANDLE_ENV, env);

    secret_needles(need("LAKEBASE_LOCAL_STATE"), client_id);
    cred_out[0] = '\0';
    issued_needles(from, cred_out, cred_size);
    if (cred_out[0] == '\0') {
        fprintf(stderr, "the emulator recorded no credential for this connect\n");
        _exit(1);
    }
    return 0;
}

typedef SQLRETURN (*alloc_fn)(SQLSMALLINT, SQLHANDLE, SQLHANDLE *);
typedef SQLRETURN (*setenv_fn)(SQLHENV, SQLINTEGER, SQLPOINTER, SQLINTEGER);
typedef SQLRETURN (*connect_fn)(SQLHDBC, SQLHWND, SQLCHAR *, SQLSMALLINT, SQLCHAR *, SQLSMALLINT, SQLSMALLINT *,
                                SQLUSMALLINT);
typedef SQLRETURN (*exec_fn)(SQLHSTMT, SQLCHAR *, SQLINTEGER);
typedef SQLRETURN (*handle_fn)(SQLHANDLE);
typedef SQLRETURN (*free_fn)(SQLSMALLINT, SQLHANDLE);

/* psqlODBC alone, given the credential the way the driver gives it: the same DSN first
 * (psqlODBC then parses the string twice), the keys the driver sets, a braced PWD. */
static int run_psqlodbc_case(const char *client_id, char *cred)
{
    void *so = dlopen(LB_PSQLODBC, RTLD_NOW | RTLD_LOCAL);
    if (so == NULL) {
        fprintf(stderr, "dlopen psqlODBC: %s\n", dlerror());
        _exit(2);
    }
    alloc_fn alloc = (alloc_fn)dlsym(so, "SQLAllocHandle");
    setenv_fn envattr = (setenv_fn)dlsym(so, "SQLSetEnvAttr");
    connect_fn drvconnect = (connect_fn)dlsym(so, "SQLDriverConnect");
    exec_fn exec = (exec_fn)dlsym(so, "SQLExecDirect");
    handle_fn fetch = (handle_fn)dlsym(so, "SQLFetch"), disconnect = (handle_fn)dlsym(so, "SQLDisconnect");
    free_fn freeh = (free_fn)dlsym(so, "SQLFreeHandle");
    if (!alloc || !envattr || !drvconnect || !exec || !fetch || !disconnect || !freeh)
        _exit(2);
    SQLHENV env;
    SQLHDBC dbc;
    SQLHSTMT st;
    alloc(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env);
    envattr(env, SQL_ATTR_ODBC_VERSION, (SQLPOINTER)SQL_OV_ODBC3, 0);
    alloc(SQL_HANDLE_DBC, env, &dbc);
    char cs[20000];
    snprintf(cs, sizeof(cs), "DSN=lakebase-scan;Debug=0;CommLog=0;Servername=localhost;Port=%s;Database=databricks_postgres;UID=%s;"
             "SSLmode=require;PWD={%s}", need("LAKEBASE_PG_PORT"), client_id, cred);
    SQLRETURN rc = drvconnect(dbc, NULL, (SQLCHAR *)cs, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
    lb_wipe(cs, sizeof(cs));
    add_needle(K_CREDENTIAL, (unsigned char *)cred, strlen(cred));
    lb_wipe(cred, strlen(cred));
    if (!SQL_SUCCEEDED(rc)) {
        fprintf(stderr, "psqlODBC refused the credential (rc %d)\n", rc);
        _exit(1);
    }
    alloc(SQL_HANDLE_STMT, dbc, &st);
    if (!SQL_SUCCEEDED(exec(st, (SQLCHAR *)"SELECT current_user", SQL_NTS)) || fetch(st) != SQL_SUCCESS)
        _exit(1);
    freeh(SQL_HANDLE_STMT, st);
    disconnect(dbc);
    freeh(SQL_HANDLE_DBC, dbc);
    freeh(SQL_HANDLE_ENV, env);
    return 0;
}

/* Runs one case in a child; its counts come back through a pipe. The credential of the
 * driver case goes to the psqlodbc case through the parent in a pipe too, never
 * through the parent's memory: the parent passes the pipe's descriptor on. */
static int child(const char *which, int cred_in, int cred_out, result *out)
{
    int fds[2];
    if (pipe(fds) != 0)
        _exit(2);
    /* The case's files (DSN, profile with the secret, log): removed by the parent, whatever
     * becomes of the child. */
    char dir[] = "/tmp/lb-memscan-XXXXXX";
    if (mkdtemp(dir) == NULL)
        _exit(2);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        const char *state = need("LAKEBASE_LOCAL_STATE"), *client_id = need("LAKEBASE_CLIENT_ID");
        static char cred[17000];
        printf("%s case:\n", which);
        from_profile = strcmp(which, "profile") == 0;
        int app_curl = strcmp(which, "appcurl") == 0;
        if (strcmp(which, "memcache") == 0)
            cache_mode = "memory";
        char log_path[1100];
        snprintf(log_path, sizeof(log_path), "%s/driver.log", dir);
        if (app_curl) {
            /* The application initialises libcurl before the driver's first connect. */
            if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                _exit(2);
            setenv("LAKEBASE_ODBC_LOG_LEVEL", "debug", 1);
            setenv("LAKEBASE_ODBC_LOG_FILE", log_path, 1);
        }
        use_dsn(state, dir);
        if (from_profile)
            write_databrickscfg(state, dir);
        if (strcmp(which, "psqlodbc") != 0) {
            run_driver_case(client_id, cred, sizeof(cred));
            size_t l = strlen(cred);
            if (cred_out >= 0 && write(cred_out, cred, l) != (ssize_t)l)
                _exit(2);
            lb_wipe(cred, sizeof(cred));
            if (cred_out >= 0)
                close(cred_out);
        } else {
            size_t got = 0;
            ssize_t r;
            while (got < sizeof(cred) - 1 && (r = read(cred_in, cred + got, sizeof(cred) - 1 - got)) > 0)
                got += (size_t)r;
            cred[got] = '\0';
            if (got == 0)
                _exit(2);
            run_psqlodbc_case(client_id, cred);
        }
        if (app_curl) {
            size_t len, map_len;
            char *log = slurp(log_path, &len, &map_len);
            res.said_not_ours = strstr(log, "libcurl was initialised by the application before the driver") != NULL;
            unslurp(log, map_len);
        }
        /* The scan must find this one live copy of a random needle (in the heap). */
        unsigned char *canary = malloc(64);
        if (canary == NULL || getrandom(canary, 64, 0) != 64)
            _exit(2);
        add_needle(K_CANARY, canary, 64);
        scan();
        free(canary);
        if (write(fds[1], &res, sizeof(res)) != (ssize_t)sizeof(res))
            _exit(2);
        fflush(stdout);
        _exit(0);
    }
    close(fds[1]);
    if (cred_out >= 0)
        close(cred_out);
    int status = 0;
    ssize_t n = read(fds[0], out, sizeof(*out));
    close(fds[0]);
    waitpid(pid, &status, 0);
    static const char *const files[] = {"odbc.ini", "odbcinst.ini", "databrickscfg", "driver.log"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char path[1100];
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
    if (n != (ssize_t)sizeof(*out) || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "%s case failed (exit %d)\n", which, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return -1;
    }
    return 0;
}

/* TokenCache=memory: the cache still holds a token and a credential after the disconnect,
 * in pages left out of core dumps, and nowhere else but psqlODBC's copies. */
static int check_cached(const result *r)
{
    int failed = 0;
    printf("  driver case, TokenCache=memory (the cache keeps a token and a credential):\n");
    for (int k = K_SECRET; k <= K_BASIC; k++) {
        int ok = r->whole[k] == 0 && r->tails[k] == 0;
        printf("%s %-20s %ld, %ld (want 0, 0)\n", ok ? "ok  " : "FAIL", kind_name[k], r->whole[k], r->tails[k]);
        failed += !ok;
    }
    long out_tok = r->whole[K_TOKEN] - r->whole_dd[K_TOKEN];
    int ok = out_tok == 0 && r->tails[K_TOKEN] == 0 && r->whole_dd[K_TOKEN] >= 1;
    printf("%s %-20s %ld left out of core dumps (want 1 or more), %ld elsewhere, %ld tail(s) (want 0, 0)\n",
           ok ? "ok  " : "FAIL", kind_name[K_TOKEN], r->whole_dd[K_TOKEN], out_tok, r->tails[K_TOKEN]);
    failed += !ok;
    long out_cred = r->whole[K_CREDENTIAL] - r->whole_dd[K_CREDENTIAL] - r->in_connstr;
    ok = out_cred == 0 && r->whole_dd[K_CREDENTIAL] >= 1;
    printf("%s %-20s %ld left out of core dumps (want 1 or more), %ld elsewhere but psqlODBC's copies (want 0)\n",
           ok ? "ok  " : "FAIL", kind_name[K_CREDENTIAL], r->whole_dd[K_CREDENTIAL], out_cred);
    return failed + !ok;
}

/* The assertions on a driver case; the number of failed ones. */
static int check(const char *title, const result *r)
{
    int failed = 0;
    printf("  %s:\n", title);
    for (int k = 0; k < K_KINDS; k++) {
        if (k == K_CREDENTIAL || k == K_CANARY)
            continue;
        int ok = r->whole[k] == 0 && r->tails[k] == 0;
        printf("%s %-20s %ld, %ld (want 0, 0)\n", ok ? "ok  " : "FAIL", kind_name[k], r->whole[k], r->tails[k]);
        failed += !ok;
    }
    long bare = r->whole[K_CREDENTIAL] - r->in_connstr;
    int ok = bare == 0;
    printf("%s %-20s %ld outside a connection string for psqlODBC (want 0)\n", ok ? "ok  " : "FAIL",
           kind_name[K_CREDENTIAL], bare);
    failed += !ok;
    ok = r->in_connstr <= 2;
    printf("%s %-20s %ld in psqlODBC's copies of its connection string (want at most its 2), %ld tail(s)\n",
           ok ? "ok  " : "FAIL", kind_name[K_CREDENTIAL], r->in_connstr, r->tails[K_CREDENTIAL]);
    return failed + !ok;
}

int main(void)
{
#ifdef UNDER_SANITIZER
    printf("SKIP: under a sanitizer the shadow memory and the allocator's reserve are terabytes of readable "
           "address space, and ASan's quarantine keeps freed blocks: the scan runs in the main build\n");
    (void)child;
    (void)check;
    (void)check_cached;
    return 77;
#else
    need("LAKEBASE_LOCAL_STATE");
    int cred_pipe[2];
    if (pipe(cred_pipe) != 0)
        return 2;
    result drv, base, prof;
    if (child("driver", -1, cred_pipe[1], &drv) != 0)
        return 1;
    if (child("psqlodbc", cred_pipe[0], -1, &base) != 0)
        return 1;
    close(cred_pipe[0]);
    if (child("profile", -1, -1, &prof) != 0)
        return 1;
    if (drv.whole[K_CANARY] != 1 || base.whole[K_CANARY] != 1 || prof.whole[K_CANARY] != 1) {
        printf("FAIL the scan missed the planted canary (%ld, %ld, %ld copies found, want 1)\n", drv.whole[K_CANARY],
               base.whole[K_CANARY], prof.whole[K_CANARY]);
        return 1;
    }
    printf("left in memory after disconnect (whole copies, tails):\n");
    int failed = check("driver case, secret in ClientSecretFile", &drv);
    printf("     psqlODBC alone, same connection string: credential %ld whole (%ld in it), %ld tail(s)\n",
           base.whole[K_CREDENTIAL], base.in_connstr, base.tails[K_CREDENTIAL]);
    failed += check("driver case, secret in a ~/.databrickscfg profile", &prof);
    result app;
    if (child("appcurl", -1, -1, &app) != 0)
        return 1;
    if (app.whole[K_CANARY] != 1) {
        printf("FAIL the scan missed the planted canary in the appcurl case\n");
        return 1;
    }
    result mc;
    if (child("memcache", -1, -1, &mc) != 0)
        return 1;
    if (mc.whole[K_CANARY] != 1) {
        printf("FAIL the scan missed the planted canary in the memcache case\n");
        return 1;
    }
    failed += check_cached(&mc);
    int ok = app.said_not_ours;
    printf("  driver case, the application initialised libcurl first (outside the driver's reach):\n"
           "%s the debug log says libcurl's copies are not wiped\n"
           "     left: base64(id:secret) %ld, %ld; workspace token %ld, %ld; credential %ld outside psqlODBC's "
           "connection strings\n", ok ? "ok  " : "FAIL", app.whole[K_BASIC], app.tails[K_BASIC], app.whole[K_TOKEN],
           app.tails[K_TOKEN], app.whole[K_CREDENTIAL] - app.in_connstr);
    failed += !ok;
    return failed ? 1 : 0;
#endif
}
