/* Bad input, table-driven: each case names its input, the SQLSTATE the application
 * must get and a phrase its message must hold, and must end in bounded time with no
 * crash (the sanitizer builds run this too) and no secret in any message.
 * Cases: malformed connection strings and settings, invalid UTF-16 and lengths in the
 * W and ANSI calls, null pointers, special files (a FIFO, a directory, a link) as
 * ClientSecretFile and DATABRICKS_CONFIG_FILE, and hostile workspace answers (errors, not JSON,
 * wrong shapes, 10 MB, truncated, trickling, reset, a certificate for another host).
 * Every driver record must carry a native error code. test_first_record checks that the
 * first record (all most clients show) holds the SQLSTATE, the native code and the fix,
 * through SQLGetDiagRec, SQLGetDiagField, their W forms and SQLError. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lb_utf16.h"
#include "testenv.h"

typedef enum {
    K_STRING,        /* SQLDriverConnect with the string built from the fields below */
    K_WIDE,          /* the same through SQLDriverConnectW */
    K_RAW,           /* SQLDriverConnect with raw, exactly */
    K_NUL_INSIDE,    /* raw with a NUL byte inside its stated length */
    K_BIG,           /* a 1 MB connection string, SQL_NTS */
    K_NEG_LEN,       /* a negative input length other than SQL_NTS */
    K_NULL_IN,       /* a NULL input string */
    K_NEG_OUT,       /* a negative output buffer length */
    K_BAD_COMPLETION,/* a driver completion value that does not exist */
    K_LONE_SURROGATE,/* SQLDriverConnectW with an unpaired surrogate */
    K_NUL_INSIDE_W,  /* SQLDriverConnectW with a NUL inside its stated length */
    K_BROWSE_W,      /* SQLBrowseConnectW */
    K_UNKNOWN_DSN,   /* SQLConnect to a DSN that does not exist */
    K_SECRET_FILE,   /* ClientSecretFile readable by others */
    K_FILE,          /* raw names a special file (below) given as ClientSecretFile or DATABRICKS_CONFIG_FILE */
    K_WIDE_DSN,      /* SQLDriverConnectW to a DSN of a private odbc.ini holding pre's lines */
} kind;

typedef struct {
    const char *name;
    kind kind;
    const char *pre;     /* placed before the base string: its keys win (first occurrence) */
    const char *omit;    /* a key of the base string to leave out */
    const char *raw;
    const char *fault;   /* JSON fault for the emulator, cleared after the case */
    const char *config;  /* JSON emulator settings, restored after the case */
    int login_timeout;
    const char *state;   /* the SQLSTATE of the first record; "" for success */
    const char *phrase;  /* in one of the messages */
} hcase;

#define TOK "\"path\": \"/oidc/v1/token\", \"method\": \"POST\""
#define CRED "\"path\": \"/api/2.0/postgres/credentials\", \"method\": \"POST\""
#define DISC "\"path\": \"/oidc/.well-known/oauth-authorization-server\", \"method\": \"GET\""

static const hcase cases[] = {
    /* First, while no discovery has succeeded in this process (it is cached per host). */
    {"discovery 404", K_STRING, NULL, NULL, NULL, "{" DISC ", \"status\": 404}", NULL, 0, "08001", "does not offer Databricks OAuth"},
    {"discovery not JSON", K_STRING, NULL, NULL, NULL, "{" DISC ", \"body\": \"<html>hello</html>\"}", NULL, 0, "08001", "not a JSON object"},
    {"discovery sends an http:// token endpoint", K_STRING, NULL, NULL, NULL,
     "{" DISC ", \"body\": \"{\\\"token_endpoint\\\": \\\"http://localhost:1/token\\\"}\"}", NULL, 0, "08001", "not an https:// URL"},
    /* Connection-string syntax. */
    {"unbalanced brace", K_RAW, NULL, NULL, "DSN=lakebase-local;ClientSecret={never closed", NULL, NULL, 0, "HY000", "never closed"},
    {"attribute without =", K_STRING, "justakey;", NULL, NULL, NULL, NULL, 0, "HY000", "has no '='"},
    {"empty key", K_STRING, "=value;", NULL, NULL, NULL, NULL, 0, "HY000", "empty key"},
    {"text after a braced value", K_STRING, "UID={a}b;", NULL, NULL, NULL, NULL, 0, "HY000", "after the braced value"},
    {"forbidden character in a key", K_STRING, "Bad{Key=1;", NULL, NULL, NULL, NULL, 0, "HY000", "does not allow"},
    {"NUL byte inside the stated length", K_NUL_INSIDE, NULL, NULL, "DSN=lakebase-local;X=123", NULL, NULL, 0, "HY090", "NUL"},
    {"1 MB connection string", K_BIG, NULL, NULL, NULL, NULL, NULL, 0, "HY090", "limit"},
    {"negative input length", K_NEG_LEN, NULL, NULL, NULL, NULL, NULL, 0, "HY090", ""},
    {"NULL input string", K_NULL_IN, NULL, NULL, NULL, NULL, NULL, 0, "IM002", ""}, /* the manager's answer */
    {"negative output length", K_NEG_OUT, NULL, NULL, NULL, NULL, NULL, 0, "HY090", ""},
    {"unknown completion value", K_BAD_COMPLETION, NULL, NULL, NULL, NULL, NULL, 0, "HY110", ""},
    /* Missing settings. */
    {"missing DatabricksHost", K_STRING, NULL, "DatabricksHost", NULL, NULL, NULL, 0, "HY000", "Missing setting DatabricksHost"},
    {"missing ClientID", K_STRING, NULL, "ClientID", NULL, NULL, NULL, 0, "HY000", "Missing setting ClientID"},
    {"missing ClientSecret", K_STRING, NULL, "ClientSecret", NULL, NULL, NULL, 0, "HY000", "Missing setting ClientSecret"},
    {"missing Endpoint", K_STRING, NULL, "Endpoint", NULL, NULL, NULL, 0, "HY000", "Missing setting Endpoint"},
    {"missing Servername: looked up", K_STRING, NULL, "Servername", NULL, NULL, NULL, 0, "", ""},
    {"unknown DSN", K_UNKNOWN_DSN, NULL, NULL, NULL, NULL, NULL, 0, "IM002", "Data source name not found"},
    /* Malformed settings. */
    {"http:// workspace", K_STRING, "DatabricksHost=http://localhost:1;", NULL, NULL, NULL, NULL, 0, "HY000", "https://"},
    {"ftp:// workspace", K_STRING, "DatabricksHost=ftp://x;", NULL, NULL, NULL, NULL, 0, "HY000", "not an https:// URL"},
    {"host with a space", K_STRING, "DatabricksHost={https://bad host};", NULL, NULL, NULL, NULL, 0, "HY000", "not a valid host name"},
    {"endpoint id alone", K_STRING, "Endpoint=primary;", NULL, NULL, NULL, NULL, 0, "HY000", "is not of the form"},
    {"endpoint given as a host", K_STRING, "Endpoint=ep-1.database.eastus2.azuredatabricks.net;", NULL, NULL, NULL, NULL, 0, "HY000", "looks like a host name"},
    {"endpoint with an extra segment", K_STRING, "Endpoint=projects/a/branches/b/endpoints/c/d;", NULL, NULL, NULL, NULL, 0, "HY000", "is not of the form"},
    {"branch with a trailing slash", K_STRING, "Endpoint=projects/a/branches/b/;", NULL, NULL, NULL, NULL, 0, "HY000", "is not of the form"},
    {"CredentialLifetime below 300", K_STRING, "CredentialLifetime=299;", NULL, NULL, NULL, NULL, 0, "HY000", "between 300 and 3600"},
    {"CredentialLifetime above 3600", K_STRING, "CredentialLifetime=3601;", NULL, NULL, NULL, NULL, 0, "HY000", "between 300 and 3600"},
    {"ReadReplica unknown", K_STRING, "ReadReplica=sometimes;", NULL, NULL, NULL, NULL, 0, "HY000", "is not yes or no"},
    {"port 0", K_STRING, "Port=0;", NULL, NULL, NULL, NULL, 0, "HY000", "between 1 and 65535"},
    {"port 70000", K_STRING, "Port=70000;", NULL, NULL, NULL, NULL, 0, "HY000", "between 1 and 65535"},
    {"port not a number", K_STRING, "Port=abc;", NULL, NULL, NULL, NULL, 0, "HY000", "between 1 and 65535"},
    {"sslmode disable", K_STRING, "SSLmode=disable;", NULL, NULL, NULL, NULL, 0, "HY000", "requires TLS"},
    {"sslmode prefer", K_STRING, "sslmode=prefer;", NULL, NULL, NULL, NULL, 0, "HY000", "requires TLS"},
    {"sslmode unknown", K_STRING, "SSLmode=sometimes;", NULL, NULL, NULL, NULL, 0, "HY000", "not one of require"},
    {"CAFile missing", K_STRING, "CAFile=/nonexistent/ca.pem;", NULL, NULL, NULL, NULL, 0, "HY000", "not a readable file"},
    {"SSLRootCert missing", K_STRING, "SSLRootCert=/nonexistent/root.pem;", NULL, NULL, NULL, NULL, 0, "HY000", "not a readable file"},
    {"SSLRootCert a directory", K_STRING, "SSLRootCert=/tmp;", NULL, NULL, NULL, NULL, 0, "HY000", "not a readable file"},
    {"sslrootcert inside pqopt", K_STRING, "pqopt={sslrootcert=/tmp/x.pem};", NULL, NULL, NULL, NULL, 0, "HY000", "set SSLRootCert instead"},
    {"TokenCache unknown", K_STRING, "TokenCache=disk;", NULL, NULL, NULL, NULL, 0, "HY000", "not one of auto, memory, file, off"},
    {"TokenRefreshMargin negative", K_STRING, "TokenRefreshMargin=-1;", NULL, NULL, NULL, NULL, 0, "HY000", "between 0 and 3600"},
    {"WakeTimeout too large", K_STRING, "WakeTimeout=99999;", NULL, NULL, NULL, NULL, 0, "HY000", "between 0 and 3600"},
    {"MaxConnectionAge negative", K_STRING, "MaxConnectionAge=-5;", NULL, NULL, NULL, NULL, 0, "HY000", "between 0 (off) and 604800"},
    {"LogLevel unknown", K_STRING, "LogLevel=verbose;", NULL, NULL, NULL, NULL, 0, "HY000", "not one of off, error"},
    {"Proxy not a URL", K_STRING, "Proxy=ftp://proxy;", NULL, NULL, NULL, NULL, 0, "HY000", "not a proxy URL"},
    {"ClientSecretFile missing", K_STRING, "ClientSecretFile=/nonexistent/secret;", "ClientSecret", NULL, NULL, NULL, 0, "HY000", "cannot be read"},
    {"ClientSecretFile readable by others", K_SECRET_FILE, NULL, "ClientSecret", NULL, NULL, NULL, 0, "HY000", "chmod 600"},
    /* Files that are not files, or not what the driver expects; each must end at once (a
     * 20 s alarm turns a hang into a failure). raw: what to make and where to name it. */
    {"ClientSecretFile is a FIFO", K_FILE, NULL, "ClientSecret", "fifo secret", NULL, NULL, 0, "HY000", "FIFO"},
    {"ClientSecretFile is a directory", K_FILE, NULL, "ClientSecret", "dir secret", NULL, NULL, 0, "HY000", "directory"},
    {"ClientSecretFile is a symbolic link", K_FILE, NULL, "ClientSecret", "link secret", NULL, NULL, 0, "HY000", "symbolic link"},
    {"ClientSecretFile: secret, then 2 KB of notes", K_FILE, NULL, "ClientSecret", "notes secret", NULL, NULL, 0, "", ""},
    {"ClientSecretFile of 70 KB", K_FILE, NULL, "ClientSecret", "huge secret", NULL, NULL, 0, "HY000", "larger than 64 KiB"},
    {"ClientSecretFile: 5000-byte first line", K_FILE, NULL, "ClientSecret", "longline secret", NULL, NULL, 0, "HY000", "first line is longer"},
    {"config file a FIFO, every key set", K_FILE, NULL, NULL, "fifo config", NULL, NULL, 0, "", ""},
    {"config file a FIFO, host missing", K_FILE, NULL, "DatabricksHost", "fifo config", NULL, NULL, 0, "HY000", "FIFO"},
    {"config file a directory, host missing", K_FILE, NULL, "DatabricksHost", "dir config", NULL, NULL, 0, "HY000", "directory"},
    {"config file a FIFO, Profile named", K_FILE, "Profile=DEFAULT;", NULL, "fifo config", NULL, NULL, 0, "HY000", "DATABRICKS_CONFIG_FILE"},
    {"control character in ClientID", K_STRING, "ClientID={a\tb};", NULL, NULL, NULL, NULL, 0, "HY000", "control character"},
    /* The W entry points. */
    {"W: unpaired surrogate", K_LONE_SURROGATE, NULL, NULL, NULL, NULL, NULL, 0, "HY000", "not valid UTF-16"},
    {"W: NUL inside the stated length", K_NUL_INSIDE_W, NULL, NULL, NULL, NULL, NULL, 0, "HY090", "NUL"},
    {"W: missing Endpoint", K_WIDE, NULL, "Endpoint", NULL, NULL, NULL, 0, "HY000", "Missing setting Endpoint"},
    {"W: browse connect", K_BROWSE_W, NULL, NULL, NULL, NULL, NULL, 0, "HYC00", "not supported"},
    /* Text that cannot go on to psqlODBC's W entry point: not valid UTF-8. */
    {"W: DSN value caf\\xe9 (Latin-1)", K_WIDE_DSN, "Database=caf\xe9\n", NULL, NULL, NULL, NULL, 0, "HY000",
     "Database (from the DSN) is not valid UTF-8"},
    {"W: credential with the bytes FF FE", K_WIDE, NULL, NULL, NULL,
     "{" CRED ", \"body_hex\": \"7b22746f6b656e223a202265794a68624763694f694a49557a49314e694a392e6533302e63326c6efffe"
     "222c20226578706972655f74696d65223a2022323033302d30312d30315430303a30303a30305a227d\"}", NULL, 0, "HY000",
     "credential the workspace issued is not valid UTF-8"},
    /* Hostile workspace answers. */
    {"token: invalid_client", K_STRING, "ClientSecret=wrong;", NULL, NULL, NULL, NULL, 0, "28000", "Check ClientID and ClientSecret"},
    {"token: empty 200 answer", K_STRING, NULL, NULL, NULL, "{" TOK ", \"body\": \"\"}", NULL, 0, "08001", "not a JSON object"},
    {"token: wrong shape", K_STRING, NULL, NULL, NULL, "{" TOK ", \"body\": \"{\\\"access_token\\\": 5}\"}", NULL, 0, "08001", "no access_token"},
    {"token: JSON nested 1000 deep", K_STRING, NULL, NULL, NULL, NULL, NULL, 0, "08001", "not a JSON object"},
    {"token: not a bearer token", K_STRING, NULL, NULL, NULL,
     "{" TOK ", \"body\": \"{\\\"access_token\\\": \\\"x\\\", \\\"token_type\\\": \\\"MAC\\\"}\"}", NULL, 0, "08001", "expected Bearer"},
    {"token: 10 MB answer", K_STRING, NULL, NULL, NULL, "{" TOK ", \"body\": \"0123456789abcdef\", \"body_repeat\": 655360}", NULL, 0, "08001", "larger than"},
    {"token: truncated answer", K_STRING, NULL, NULL, NULL,
     "{" TOK ", \"count\": -1, \"body\": \"{\\\"access_token\\\": \\\"abcdefgh\\\"}\", \"truncate_at\": 10}", NULL, 0, "08001", "workspace"},
    {"token: connection reset", K_STRING, NULL, NULL, NULL, "{" TOK ", \"count\": -1, \"reset\": true}", NULL, 0, "08001", "Could not reach"},
    {"token: one byte per second", K_STRING, NULL, NULL, NULL, "{" TOK ", \"count\": -1, \"trickle_bytes_per_s\": 1}", NULL, 3, "HYT00", "Login timeout"},
    {"credential: no workspace access", K_STRING, NULL, NULL, NULL,
     "{" CRED ", \"status\": 403, \"body\": \"{\\\"error_code\\\": \\\"PERMISSION_DENIED\\\", \\\"message\\\": \\\"API is disabled for users without workspace-access entitlement\\\"}\"}",
     NULL, 0, "28000", "Workspace access"},
    {"credential: endpoint not found", K_STRING, "Endpoint=projects/demo/branches/main/endpoints/nope;", NULL, NULL, NULL, NULL, 0, "08001", "was not found"},
    {"credential: 400", K_STRING, NULL, NULL, NULL, "{" CRED ", \"status\": 400}", NULL, 0, "HY000", "HTTP 400"},
    {"credential: not JSON", K_STRING, NULL, NULL, NULL, "{" CRED ", \"body\": \"not json\"}", NULL, 0, "08001", "not a JSON object"},
    {"credential: no token", K_STRING, NULL, NULL, NULL, "{" CRED ", \"body\": \"{\\\"expire_time\\\": \\\"2030-01-01T00:00:00Z\\\"}\"}", NULL, 0, "08001", "has no token"},
    {"credential: bad expire_time", K_STRING, NULL, NULL, NULL,
     "{" CRED ", \"body\": \"{\\\"token\\\": \\\"t\\\", \\\"expire_time\\\": \\\"soon\\\"}\"}", NULL, 0, "08001", "RFC 3339"},
    {"credential: 500", K_STRING, NULL, NULL, NULL, "{" CRED ", \"status\": 500}", NULL, 0, "08001", "HTTP 500"},
    /* Retried to the connect's deadline (here a 4 s login timeout), naming the last answer. */
    {"credential: 503 for good", K_STRING, NULL, NULL, NULL, "{" CRED ", \"count\": -1, \"status\": 503}", NULL, 4, "HYT00", "HTTP 503"},
    {"workspace port closed", K_STRING, "DatabricksHost=https://localhost:1;", NULL, NULL, NULL, NULL, 0, "08001", "Could not reach"},
    {"certificate for another host", K_STRING, NULL, NULL, NULL, NULL, NULL, 0, "08001", "TLS"},
    /* PostgreSQL's refusals: the first record holds PostgreSQL's reason and the driver's fix,
     * under psqlODBC's SQLSTATE (a phrase starting with '[' must start the first record). */
    {"UID is not the client id", K_STRING, "UID=someone_else;", NULL, NULL, NULL, NULL, 0, "08001",
     "[08001] [Lakebase] password authentication failed for user \"someone_else\": UID \"someone_else\" is not the service principal's client id"},
    {"database does not exist", K_STRING, "Database=nope;", NULL, NULL, NULL, NULL, 0, "08001",
     "[08001] [Lakebase] database \"nope\" does not exist: Database \"nope\" does not exist on this endpoint"},
    /* A credential holding } ; = must still reach PostgreSQL intact. */
    {"credential with } ; = characters", K_STRING, NULL, NULL, NULL, NULL, "{\"token_suffix\": \"}{;=x}\"}", 0, "", ""},
};

static char wrong_host[256];

static void base_string(char *buf, size_t size, const hcase *c)
{
    const char *host = strstr(c->name, "another host") ? wrong_host : emulator_url;
    const char *parts[][2] = {{"DatabricksHost", host}, {"ClientID", client_id}, {"ClientSecret", secret},
                              {"Endpoint", "projects/demo/branches/main/endpoints/primary"},
                              {"Servername", "localhost"}, {"Port", pg_port}, {"CAFile", ca_file}};
    /* Driver first: the driver manager must find it to hand the rest to the driver. */
    snprintf(buf, size, "Driver={%s};%sTokenCache=off;", driver, c->pre ? c->pre : "");
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        if (c->omit && strcmp(c->omit, parts[i][0]) == 0)
            continue;
        size_t used = strlen(buf);
        snprintf(buf + used, size - used, "%s={%s};", parts[i][0], parts[i][1]);
    }
}

/* Every message, and the SQLSTATE of the first record ("" when there is none). */
static void messages(SQLHDBC dbc, char *first_state, char *all, size_t size)
{
    all_diags(dbc, all, size);
    first_state[0] = '\0';
    if (all[0] == '[')
        snprintf(first_state, 6, "%.5s", all + 1);
}

static SQLRETURN run(const hcase *c, conn *k)
{
    char in[8192];
    base_string(in, sizeof(in), c);
    switch (c->kind) {
    case K_STRING:
        return SQLDriverConnect(k->dbc, NULL, (SQLCHAR *)in, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
    case K_SECRET_FILE: {
        char path[] = "/tmp/lb-secret-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, secret, strlen(secret)), (ssize_t)strlen(secret));
        fchmod(fd, 0644);
        close(fd);
        char with[9000];
        snprintf(with, sizeof(with), "ClientSecretFile=%s;%s", path, in);
        SQLRETURN rc = SQLDriverConnect(k->dbc, NULL, (SQLCHAR *)with, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
        unlink(path);
        return rc;
    }
    case K_FILE: {
        char dir[] = "/tmp/lb-hostile-XXXXXX", path[64], target[64];
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/f", dir);
        snprintf(target, sizeof(target), "%s/target", dir);
        if (strncmp(c->raw, "fifo", 4) == 0) {
            assert_int_equal(mkfifo(path, 0600), 0);
        } else if (strncmp(c->raw, "dir", 3) == 0) {
            assert_int_equal(mkdir(path, 0700), 0);
        } else {
            /* A private file: the secret, then what the case adds. */
            size_t extra = strstr(c->raw, "notes") ? 2000 : strstr(c->raw, "huge") ? 70000 : 0;
            size_t first = strstr(c->raw, "longline") ? 5000 : 0;
            int fd = open(strncmp(c->raw, "link", 4) == 0 ? target : path, O_WRONLY | O_CREAT | O_EXCL, 0600);
            assert_true(fd >= 0);
            char *text = malloc(strlen(secret) + first + extra + 2);
            size_t n = (size_t)sprintf(text, "%s", secret);
            memset(text + n, 'x', first);
            n += first;
            text[n++] = '\n';
            memset(text + n, '#', extra);
            n += extra;
            assert_int_equal(write(fd, text, n), (ssize_t)n);
            free(text);
            close(fd);
            if (strncmp(c->raw, "link", 4) == 0)
                assert_int_equal(symlink(target, path), 0);
        }
        char with[9000];
        const char *old = getenv("DATABRICKS_CONFIG_FILE");
        char *saved = old ? strdup(old) : NULL;
        if (strstr(c->raw, "config")) {
            setenv("DATABRICKS_CONFIG_FILE", path, 1);
            snprintf(with, sizeof(with), "%s", in);
        } else {
            snprintf(with, sizeof(with), "ClientSecretFile=%s;%s", path, in);
        }
        alarm(20);
        SQLRETURN rc = SQLDriverConnect(k->dbc, NULL, (SQLCHAR *)with, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
        alarm(0);
        if (saved)
            setenv("DATABRICKS_CONFIG_FILE", saved, 1);
        else
            unsetenv("DATABRICKS_CONFIG_FILE");
        free(saved);
        unlink(path);
        rmdir(path);
        unlink(target);
        rmdir(dir);
        return rc;
    }
    case K_WIDE: {
        uint16_t *w = lb_utf8_to_utf16(in, NULL);
        SQLRETURN rc = SQLDriverConnectW(k->dbc, NULL, w, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
        free(w);
        return rc;
    }
    case K_WIDE_DSN: {
        /* A private odbc.ini with one DSN: the base settings, then pre's raw lines. */
        char ini[] = "/tmp/lb-odbcini-XXXXXX";
        int fd = mkstemp(ini);
        assert_true(fd >= 0);
        FILE *f = fdopen(fd, "w");
        fprintf(f, "[bad-text]\nDriver=Lakebase\nDatabricksHost=%s\nClientID=%s\nClientSecret=%s\n"
                   "Endpoint=projects/demo/branches/main/endpoints/primary\nServername=localhost\nPort=%s\n"
                   "CAFile=%s\nTokenCache=off\n%s", emulator_url, client_id, secret, pg_port, ca_file, c->pre);
        fclose(f);
        char *saved = strdup(getenv("ODBCINI"));
        setenv("ODBCINI", ini, 1);
        uint16_t *w = lb_utf8_to_utf16("DSN=bad-text", NULL);
        SQLRETURN rc = SQLDriverConnectW(k->dbc, NULL, w, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
        free(w);
        setenv("ODBCINI", saved, 1);
        free(saved);
        unlink(ini);
        return rc;
    }
    case K_RAW:
        return SQLDriverConnect(k->dbc, NULL, (SQLCHAR *)c->raw, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
    case K_NUL_INSIDE: {
        char buf[64];
        size_t n = strlen(c->raw);
        memcpy(buf, c->raw, n);
        buf[n - 2] = '\0'; /* inside the value of X, after the DSN the driver manager needs */
        return SQLDriverConnect(k->dbc, NULL, (SQLCHAR *)buf, (SQLSMALLINT)n, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
    }
    case K_BIG: {
        size_t n = 1 << 20;
        char *big = malloc(n + 1);
        memcpy(big, "DSN=lakebase-local;X=", 21);
        memset(big + 21, 'a', n - 21);
        big[n] = '\0';
        SQLRETURN rc = SQLDriverConnect(k->dbc, NULL, (SQLCHAR *)big, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
        free(big);
        return rc;
    }
    case K_NEG_LEN:
        return SQLDriverConnect(k->dbc, NULL, (SQLCHAR *)in, -7, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
    case K_NULL_IN:
        return SQLDriverConnect(k->dbc, NULL, NULL, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
    case K_NEG_OUT: {
        char out[64];
        SQLSMALLINT len;
        return SQLDriverConnect(k->dbc, NULL, (SQLCHAR *)in, SQL_NTS, (SQLCHAR *)out, -1, &len, SQL_DRIVER_NOPROMPT);
    }
    case K_BAD_COMPLETION:
        return SQLDriverConnect(k->dbc, NULL, (SQLCHAR *)in, SQL_NTS, NULL, 0, NULL, 99);
    case K_LONE_SURROGATE: {
        size_t units = 0;
        uint16_t *w = lb_utf8_to_utf16(in, &units);
        w[units - 3] = 0xD800; /* inside the last value */
        SQLRETURN rc = SQLDriverConnectW(k->dbc, NULL, w, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
        free(w);
        return rc;
    }
    case K_NUL_INSIDE_W: {
        size_t units = 0;
        uint16_t *w = lb_utf8_to_utf16(in, &units);
        w[units - 3] = 0;
        SQLRETURN rc = SQLDriverConnectW(k->dbc, NULL, w, (SQLSMALLINT)units, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
        free(w);
        return rc;
    }
    case K_BROWSE_W: {
        uint16_t *w = lb_utf8_to_utf16("DSN=lakebase-local", NULL);
        SQLWCHAR out[256];
        SQLSMALLINT len;
        SQLRETURN rc = SQLBrowseConnectW(k->dbc, w, SQL_NTS, out, 256, &len);
        free(w);
        return rc;
    }
    case K_UNKNOWN_DSN:
        return SQLConnect(k->dbc, (SQLCHAR *)"no-such-dsn", SQL_NTS, NULL, 0, NULL, 0);
    }
    return SQL_ERROR;
}

static const char *current; /* the case under way, for hung() */

static void hung(int sig)
{
    (void)sig;
    static const char msg[] = "FAIL: a connect hung for 20 s on a special file: ";
    (void)!write(1, msg, sizeof(msg) - 1);
    (void)!write(1, current, strlen(current));
    (void)!write(1, "\n", 1);
    _exit(1);
}

static void test_table(void **state)
{
    (void)state;
    signal(SIGALRM, hung);
    setvbuf(stdout, NULL, _IOLBF, 0);
    size_t n = sizeof(cases) / sizeof(cases[0]);
    int failed = 0;
    snprintf(wrong_host, sizeof(wrong_host), "%s", need_env("LAKEBASE_WRONG_HOST_URL"));
    for (size_t i = 0; i < n; i++) {
        const hcase *c = &cases[i];
        current = c->name;
        emulator_call("DELETE", "/_emulator/faults", NULL);
        if (c->fault)
            emulator_call("POST", "/_emulator/faults", c->fault);
        if (strstr(c->name, "nested 1000 deep")) {
            static char deep[2300];
            size_t o = (size_t)snprintf(deep, sizeof(deep), "{" TOK ", \"body\": \"{\\\"a\\\":");
            for (int d = 0; d < 1000; d++)
                deep[o++] = '[';
            snprintf(deep + o, sizeof(deep) - o, "\"}");
            emulator_call("POST", "/_emulator/faults", deep);
        }
        if (c->config)
            emulator_call("POST", "/_emulator/config", c->config);
        conn k = new_conn();
        if (c->login_timeout)
            SQLSetConnectAttr(k.dbc, SQL_ATTR_LOGIN_TIMEOUT, (SQLPOINTER)(intptr_t)c->login_timeout, 0);
        double t0 = now_s();
        SQLRETURN rc = run(c, &k);
        double took = now_s() - t0;
        char st[6], all[8192];
        messages(k.dbc, st, all, sizeof(all));
        int ok;
        if (c->state[0] == '\0') {
            ok = SQL_SUCCEEDED(rc);
            if (ok)
                check_identity(k.dbc);
        } else {
            ok = rc == SQL_ERROR && strcmp(st, c->state) == 0 && strstr(all, c->phrase) != NULL &&
                 (c->phrase[0] != '[' || strncmp(all, c->phrase, strlen(c->phrase)) == 0);
        }
        /* Every driver record carries a native error code (README: Troubleshooting). */
        for (SQLSMALLINT r = 1; r < 10; r++) {
            char rst[6], rmsg[1200];
            SQLINTEGER native = 0;
            SQLSMALLINT len;
            if (!SQL_SUCCEEDED(SQLGetDiagRec(SQL_HANDLE_DBC, k.dbc, r, (SQLCHAR *)rst, &native, (SQLCHAR *)rmsg,
                                             sizeof(rmsg), &len)))
                break;
            if (strstr(rmsg, "[Lakebase]") && (native < 10000 || native > 69999)) {
                ok = 0;
                printf("  (record %d has native error %d)\n", r, (int)native);
            }
        }
        if (strstr(all, secret) != NULL) {
            ok = 0;
            printf("  (the client secret appears in a message)\n");
        }
        if (took > 30) {
            ok = 0;
            printf("  (took %.1f s)\n", took);
        }
        printf("%s %2zu %-42s -> %s in %.2f s  %.160s\n", ok ? "ok  " : "FAIL", i + 1, c->name,
               SQL_SUCCEEDED(rc) ? "success" : st, took, all);
        failed += !ok;
        if (SQL_SUCCEEDED(rc))
            SQLDisconnect(k.dbc);
        free_conn(&k);
        if (c->config)
            emulator_call("POST", "/_emulator/config", "{\"token_suffix\": \"\"}");
    }
    emulator_call("DELETE", "/_emulator/faults", NULL);
    printf("%zu cases, %d failed\n", n, failed);
    assert_int_equal(failed, 0);
}

/* The ODBC 2 path: the driver manager maps SQLError onto the driver's SQLGetDiagRec;
 * it must hand out the records once and then say SQL_NO_DATA. */
static void test_sqlerror_terminates(void **state)
{
    (void)state;
    SQLHENV env;
    SQLHDBC dbc;
    SQLAllocEnv(&env);
    SQLAllocConnect(env, &dbc);
    char in[4096];
    dsnless(in, sizeof(in), "Endpoint=bad;");
    char with[4200];
    snprintf(with, sizeof(with), "Endpoint=bad;%s", in);
    assert_int_equal(SQLDriverConnect(dbc, NULL, (SQLCHAR *)with, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT), SQL_ERROR);
    int records = 0;
    for (int i = 0; i < 50; i++) {
        SQLCHAR st[6], msg[1024];
        SQLINTEGER native;
        SQLSMALLINT len;
        if (SQLError(env, dbc, SQL_NULL_HSTMT, st, &native, msg, sizeof(msg), &len) != SQL_SUCCESS)
            break;
        if (records == 0)
            assert_non_null(strstr((char *)msg, "Endpoint"));
        records++;
    }
    assert_true(records >= 1 && records < 5);
    /* Bad arguments to the diagnostic functions are errors, not crashes. (The driver
     * manager answers these from its own copy of the records.) */
    SQLCHAR st[6], msg[16];
    SQLINTEGER native;
    SQLSMALLINT len;
    assert_int_equal(SQLDriverConnect(dbc, NULL, (SQLCHAR *)with, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT), SQL_ERROR);
    assert_int_equal(SQLGetDiagRec(SQL_HANDLE_DBC, dbc, 0, st, &native, msg, sizeof(msg), &len), SQL_ERROR);
    assert_int_equal(SQLGetDiagRec(SQL_HANDLE_DBC, dbc, 1, st, &native, msg, sizeof(msg), &len), SQL_SUCCESS_WITH_INFO);
    assert_true(len > (SQLSMALLINT)sizeof(msg));
    assert_true(SQL_SUCCEEDED(SQLGetDiagRec(SQL_HANDLE_DBC, dbc, 1, NULL, NULL, NULL, 0, NULL)));
    SQLFreeConnect(dbc);
    SQLFreeEnv(env);
}

/* UTF-16 to UTF-8 for the W checks (ASCII and Latin-1 are enough for these messages). */
static void narrow(const SQLWCHAR *w, char *out, size_t size)
{
    size_t i = 0;
    for (; w[i] && i + 1 < size; i++)
        out[i] = w[i] < 0x80 ? (char)w[i] : '?';
    out[i] = '\0';
}

/* Most clients show only the first record: it must carry the SQLSTATE the application
 * acts on, the driver's native code, and a text with the cause and the fix, through every
 * diagnostic function (ANSI and W) and SQLError, via the real unixODBC. */
static void check_first(const char *label, const char *extra, const char *state, const char *start, int native,
                        int min_records)
{
    conn k = new_conn();
    char in[4096];
    dsnless(in, sizeof(in), "TokenCache=off;");
    char with[4300];
    snprintf(with, sizeof(with), "%s%s", extra, in);
    assert_int_equal(SQLDriverConnect(k.dbc, NULL, (SQLCHAR *)with, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT),
                     SQL_ERROR);
    SQLCHAR st[6], msg[1200];
    SQLINTEGER nat = 0;
    SQLSMALLINT len = 0;
    assert_int_equal(SQLGetDiagRec(SQL_HANDLE_DBC, k.dbc, 1, st, &nat, msg, sizeof(msg), &len), SQL_SUCCESS);
    printf("%-28s record 1: [%s] native %d  %s\n", label, st, (int)nat, msg);
    assert_string_equal((char *)st, state);
    assert_int_equal(nat, native);
    if (strncmp((char *)msg, start, strlen(start)) != 0)
        fail_msg("record 1 \"%s\" does not start with \"%s\"", msg, start);
    /* SQLGetDiagField, ANSI. */
    SQLINTEGER number = 0, fnat = 0;
    assert_true(SQL_SUCCEEDED(SQLGetDiagField(SQL_HANDLE_DBC, k.dbc, 0, SQL_DIAG_NUMBER, &number, 0, NULL)));
    assert_true(number >= min_records);
    char fst[6], fmsg[1200];
    assert_true(SQL_SUCCEEDED(SQLGetDiagField(SQL_HANDLE_DBC, k.dbc, 1, SQL_DIAG_SQLSTATE, fst, sizeof(fst), &len)));
    assert_string_equal(fst, state);
    assert_true(SQL_SUCCEEDED(SQLGetDiagField(SQL_HANDLE_DBC, k.dbc, 1, SQL_DIAG_NATIVE, &fnat, 0, NULL)));
    assert_int_equal(fnat, native);
    assert_true(SQL_SUCCEEDED(SQLGetDiagField(SQL_HANDLE_DBC, k.dbc, 1, SQL_DIAG_MESSAGE_TEXT, fmsg, sizeof(fmsg), &len)));
    assert_string_equal(fmsg, (char *)msg);
    /* The W functions. */
    SQLWCHAR wst[6], wmsg[1200];
    char nst[6], nmsg[1200];
    nat = 0;
    assert_true(SQL_SUCCEEDED(SQLGetDiagRecW(SQL_HANDLE_DBC, k.dbc, 1, wst, &nat, wmsg, 1200, &len)));
    narrow(wst, nst, sizeof(nst));
    narrow(wmsg, nmsg, sizeof(nmsg));
    assert_string_equal(nst, state);
    assert_int_equal(nat, native);
    assert_string_equal(nmsg, (char *)msg);
    assert_true(SQL_SUCCEEDED(SQLGetDiagFieldW(SQL_HANDLE_DBC, k.dbc, 1, SQL_DIAG_MESSAGE_TEXT, wmsg, sizeof(wmsg), &len)));
    narrow(wmsg, nmsg, sizeof(nmsg));
    assert_string_equal(nmsg, (char *)msg);
    fnat = 0;
    assert_true(SQL_SUCCEEDED(SQLGetDiagFieldW(SQL_HANDLE_DBC, k.dbc, 1, SQL_DIAG_NATIVE, &fnat, 0, NULL)));
    assert_int_equal(fnat, native);
    assert_true(SQL_SUCCEEDED(SQLGetDiagFieldW(SQL_HANDLE_DBC, k.dbc, 1, SQL_DIAG_SQLSTATE, wst, sizeof(wst), &len)));
    narrow(wst, nst, sizeof(nst));
    assert_string_equal(nst, state);
    /* SQLError (ODBC 2): the same first record. */
    nat = 0;
    assert_int_equal(SQLError(k.env, k.dbc, SQL_NULL_HSTMT, st, &nat, msg, sizeof(msg), &len), SQL_SUCCESS);
    assert_string_equal((char *)st, state);
    assert_int_equal(nat, native);
    if (strstr((char *)msg, start) == NULL)
        fail_msg("SQLError's first record \"%s\" lacks \"%s\"", msg, start);
    free_conn(&k);
}

static void test_first_record(void **state)
{
    (void)state;
    emulator_call("DELETE", "/_emulator/faults", NULL);
    check_first("UID is not the client id", "UID=someone_else;", "08001",
                "[Lakebase] password authentication failed for user \"someone_else\": UID \"someone_else\" is not "
                "the service principal's client id", 20002, 2);
    check_first("database does not exist", "Database=nope;", "08001",
                "[Lakebase] database \"nope\" does not exist: Database \"nope\"", 10005, 2);
    check_first("malformed Endpoint", "Endpoint=primary;", "HY000", "[Lakebase] Endpoint \"primary\"", 10001, 1);
    check_first("connection string syntax", "Bad{Key=1;", "HY000", "[Lakebase] Connection string:", 10002, 1);
    check_first("wrong client secret", "ClientSecret=wrong;", "28000", "[Lakebase] The workspace rejected", 20001, 1);
    check_first("workspace port closed", "DatabricksHost=https://localhost:1;", "08001",
                "[Lakebase] Could not reach the Databricks workspace", 30001, 1);
    check_first("endpoint not found", "Endpoint=projects/demo/branches/main/endpoints/nope;", "08001",
                "[Lakebase] Endpoint projects/demo/branches/main/endpoints/nope was not found", 10004, 1);
}

int main(void)
{
    read_state();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_sqlerror_terminates),
        cmocka_unit_test(test_first_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
