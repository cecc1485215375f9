/* The sealed file cache (TokenCache=auto, the default) and refresh ahead, end to end
 * through unixODBC, the driver, psqlODBC and the emulator. Each case runs in its own
 * process, with a private XDG_CACHE_HOME; other processes are this binary again
 * ("--connect <extra>"), so that they start with an empty memory cache.
 *   sealed_round_trip  a second process makes no credential request; the cache
 *                      directory holds none of the issued credentials (nor the secret)
 *   sealed_tampered    a tampered file: refused, logged, a new request, replaced
 *   auto_not_private   auto with a group-writable directory: memory, logged
 *   refresh_ahead      a connect past the refresh point returns without waiting for a
 *                      slow credential request, which lands in the background
 *   refresh_fork       fork() while a background refresh runs: the child connects
 *   refresh_file       a process that reads a sealed file past its refresh point connects
 *                      at once and refreshes the file before it exits: the next process,
 *                      past the old credential's end of use, makes no request
 * Usage: cache_test <case> */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testenv.h"

static void reset(void)
{
    emulator_call("DELETE", "/_emulator/faults", NULL);
    emulator_call("POST", "/_emulator/stats/reset", "{}");
}

/* One connect in another process (this binary): its exit status (0: connected). */
static int other_process(const char *extra)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    assert_true(n > 0);
    self[n] = '\0';
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl(self, self, "--connect", extra, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static char home[] = "/tmp/lb-cache-test-XXXXXX";
static char dir[600], log_path[700], log_extra[800];

/* A private cache home; the default TokenCache (the test suite's environment pins
 * memory for the other tests); a log file for the driver's info lines. */
static void private_cache(void)
{
    assert_non_null(mkdtemp(home));
    setenv("XDG_CACHE_HOME", home, 1);
    unsetenv("LAKEBASE_ODBC_TOKEN_CACHE");
    snprintf(dir, sizeof(dir), "%s/lakebase-odbc", home);
    snprintf(log_path, sizeof(log_path), "%s/driver.log", home);
    snprintf(log_extra, sizeof(log_extra), "LogLevel=info;LogFile={%s};", log_path);
}

static void drop_cache(void)
{
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
    assert_int_equal(system(cmd), 0);
}

static int log_has(const char *text)
{
    FILE *f = fopen(log_path, "r");
    if (f == NULL)
        return 0;
    char line[4096];
    int found = 0;
    while (!found && fgets(line, sizeof(line), f))
        found = strstr(line, text) != NULL;
    fclose(f);
    return found;
}

/* The kind line (the second) of a cache file: "sealed", "public" or "plain". */
static int file_kind_is(const char *path, const char *kind)
{
    FILE *f = fopen(path, "r");
    char line[128] = "";
    int is = 0;
    if (f != NULL && fgets(line, sizeof(line), f) && fgets(line, sizeof(line), f))
        is = strncmp(line, kind, strlen(kind)) == 0 && line[strlen(kind)] == '\n';
    if (f != NULL)
        fclose(f);
    return is;
}

/* The one sealed .cred file of the cache directory (the credential); the OAuth
 * discovery's public entry may sit beside it. */
static void cred_file(char *path, size_t size)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        char candidate[1200];
        if (len <= 5 || strcmp(de->d_name + len - 5, ".cred") != 0)
            continue;
        snprintf(candidate, sizeof(candidate), "%s/%s", dir, de->d_name);
        if (file_kind_is(candidate, "sealed")) {
            snprintf(path, size, "%s", candidate);
            n++;
        }
    }
    closedir(d);
    assert_int_equal(n, 1);
}

static long issued_lines(void)
{
    char path[1100];
    snprintf(path, sizeof(path), "%s/issued-secrets", need_env("LAKEBASE_LOCAL_STATE"));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    long n = 0;
    int c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

/* How many of the secrets issued after line `from` (and the client secret) appear in a
 * file of the cache directory; checks there were some to look for. */
static int secrets_in_cache(long from, long *looked_for)
{
    char path[1100], cmd[3000];
    snprintf(path, sizeof(path), "%s/issued-secrets", need_env("LAKEBASE_LOCAL_STATE"));
    snprintf(cmd, sizeof(cmd), "tail -n +%ld '%s' > '%s/needles' && cat '%s/client-secret' >> '%s/needles'", from + 1,
             path, home, need_env("LAKEBASE_LOCAL_STATE"), home);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "wc -l < '%s/needles'", home);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_int_equal(fscanf(p, "%ld", looked_for), 1);
    pclose(p);
    snprintf(cmd, sizeof(cmd), "grep -r -l -F -f '%s/needles' '%s' | wc -l", home, dir);
    p = popen(cmd, "r");
    assert_non_null(p);
    int hits = -1;
    assert_int_equal(fscanf(p, "%d", &hits), 1);
    pclose(p);
    return hits;
}

static void test_sealed_round_trip(void **state)
{
    (void)state;
    private_cache();
    reset();
    long from = issued_lines();
    int first = other_process(log_extra);
    long long after_first = emulator_count(CREDENTIALS);
    int second = other_process(log_extra);
    long long after_second = emulator_count(CREDENTIALS);
    int file_hit = log_has("database credential: cache hit (file)");
    char path[1200];
    cred_file(path, sizeof(path));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    long looked_for = 0;
    int hits = secrets_in_cache(from, &looked_for);
    FILE *f = fopen(path, "r");
    char head[64] = "";
    assert_non_null(f);
    assert_non_null(fgets(head, sizeof(head), f));
    assert_non_null(fgets(head + strlen(head), (int)(sizeof(head) - strlen(head)), f));
    fclose(f);
    printf("default TokenCache: two processes, %lld then %lld credential request(s); the second %s; file mode %03o, "
           "header %.*s; %d of the cache's files hold one of %ld issued secrets or the client secret\n",
           after_first, after_second, file_hit ? "read the file" : "did not read the file",
           (unsigned)(st.st_mode & 0777), (int)strcspn(head, "\n"), head, hits, looked_for);
    drop_cache();
    assert_int_equal(first, 0);
    assert_int_equal(second, 0);
    assert_int_equal(after_first, 1);
    assert_int_equal(after_second, 1);
    assert_true(file_hit);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_non_null(strstr(head, "sealed"));
    assert_true(looked_for >= 3); /* a token, a credential, the client secret */
    assert_int_equal(hits, 0);
}

static void test_sealed_tampered(void **state)
{
    (void)state;
    private_cache();
    reset();
    assert_int_equal(other_process(log_extra), 0);
    char path[1200];
    cred_file(path, sizeof(path));
    /* Flip one hex digit of the sealed value (the last line). */
    FILE *f = fopen(path, "r+");
    assert_non_null(f);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    assert_true(n > 10);
    buf[n] = '\0';
    char *p = buf + n - 2; /* the last digit before the final newline */
    *p = *p == '0' ? '1' : '0';
    rewind(f);
    assert_int_equal(fwrite(buf, 1, n, f), n);
    fclose(f);
    int tampered_status = other_process(log_extra);
    long long after_tampered = emulator_count(CREDENTIALS);
    int refused = log_has("refusing") && log_has("not a sealed cache file of this identity");
    unlink(log_path);
    int replaced_status = other_process(log_extra);
    long long after_replaced = emulator_count(CREDENTIALS);
    int file_hit = log_has("database credential: cache hit (file)");
    printf("tampered sealed file: exit %d, %s, %lld credential requests; next process: exit %d, %s, %lld requests\n",
           tampered_status, refused ? "refused and logged" : "NOT refused", after_tampered, replaced_status,
           file_hit ? "read the replaced file" : "did not read the file", after_replaced);
    drop_cache();
    assert_int_equal(tampered_status, 0);
    assert_true(refused);
    assert_int_equal(after_tampered, 2);
    assert_int_equal(replaced_status, 0);
    assert_true(file_hit);
    assert_int_equal(after_replaced, 2);
}

static void test_auto_not_private(void **state)
{
    (void)state;
    private_cache();
    reset();
    assert_int_equal(mkdir(dir, 0770), 0);
    assert_int_equal(chmod(dir, 0770), 0);
    int a = other_process(log_extra), b = other_process(log_extra);
    long long creds = emulator_count(CREDENTIALS);
    int logged = log_has("TokenCache=auto: refusing") && log_has("using the in-memory cache");
    char cmd[1400];
    snprintf(cmd, sizeof(cmd), "rm -f '%s'/*.lock; ls '%s' | grep -c cred", dir, dir);
    FILE *p = popen(cmd, "r");
    int files = -1;
    assert_non_null(p);
    assert_int_equal(fscanf(p, "%d", &files), 1);
    pclose(p);
    printf("TokenCache=auto, group-writable cache directory: exits %d %d, %lld credential requests, %d files, %s\n",
           a, b, creds, files, logged ? "logged" : "not logged");
    drop_cache();
    assert_int_equal(a, 0);
    assert_int_equal(b, 0);
    assert_int_equal(creds, 2);
    assert_int_equal(files, 0);
    assert_true(logged);
}

/* A 24 s credential with a 6 s margin: fresh for 12 s, used until 18 s. */
#define SHORT_LIFE "{\"credential_lifetime\": 24}"
#define SHORT_EXTRA "TokenCache=memory;TokenRefreshMargin=6;"
#define REFRESH_POINT 12.0
#define END_OF_USE 18.0
#define DELAY_MS 5000

static void slow_credentials(int ms)
{
    char fault[256];
    snprintf(fault, sizeof(fault),
             "{\"method\": \"POST\", \"path\": \"/api/2.0/postgres/credentials\", \"count\": 1, \"latency_ms\": %d}", ms);
    emulator_call("POST", "/_emulator/faults", fault);
}

static void sleep_until(double t)
{
    double left = t - now_s();
    if (left > 0)
        usleep((useconds_t)(left * 1e6));
}

static void test_refresh_ahead(void **state)
{
    (void)state;
    private_cache();
    reset();
    emulator_call("POST", "/_emulator/config", SHORT_LIFE);
    char extra[1000], st[6], msg[1024];
    snprintf(extra, sizeof(extra), "%s%s", SHORT_EXTRA, log_extra);
    double took0, took1, took2;
    double t0 = now_s();
    SQLRETURN rc0 = timed_connect(extra, 0, st, msg, sizeof(msg), &took0);
    sleep_until(t0 + REFRESH_POINT + 0.5); /* past the refresh point, before the end of use */
    slow_credentials(DELAY_MS);
    SQLRETURN rc1 = timed_connect(extra, 0, st, msg, sizeof(msg), &took1);
    long long during = emulator_count(CREDENTIALS);
    int landed_before = log_has("refreshed in the background in "); /* the connect did not wait for it */
    /* The background request lands after its delay; past the old credential's end of
     * use a connect uses the new one without a request. */
    for (int i = 0; i < 300 && !log_has("refreshed in the background in "); i++)
        usleep(50 * 1000);
    int landed = log_has("refreshed in the background in ");
    sleep_until(t0 + END_OF_USE + 1.0);
    SQLRETURN rc2 = timed_connect(extra, 0, st, msg, sizeof(msg), &took2);
    long long after = emulator_count(CREDENTIALS);
    emulator_call("POST", "/_emulator/config", "{\"credential_lifetime\": 3600}");
    printf("refresh ahead: first connect %.2f s; past the refresh point, with the credential request delayed %.2f s: "
           "connected in %.2f s (the refresh %s then); refresh %s; past the old credential's end of use: connected "
           "in %.2f s; %lld credential requests (%lld when the second connect returned)\n",
           took0, DELAY_MS / 1000.0, took1, landed_before ? "had landed" : "had not landed",
           landed ? "landed" : "did not land", took2, after, during);
    drop_cache();
    assert_true(SQL_SUCCEEDED(rc0));
    assert_true(SQL_SUCCEEDED(rc1));
    assert_false(landed_before);
    assert_true(took1 < DELAY_MS / 1000.0 - 1.0); /* waiting takes the delay; 0.3 s on a quiet machine */
    assert_true(landed);
    assert_true(SQL_SUCCEEDED(rc2));
    assert_int_equal(after, 2);
}

static void test_refresh_fork(void **state)
{
    (void)state;
    private_cache();
    reset();
    emulator_call("POST", "/_emulator/config", SHORT_LIFE);
    char extra[1000], st[6], msg[1024];
    snprintf(extra, sizeof(extra), "%s%s", SHORT_EXTRA, log_extra);
    double took0, took1;
    double t0 = now_s();
    SQLRETURN rc0 = timed_connect(extra, 0, st, msg, sizeof(msg), &took0);
    sleep_until(t0 + REFRESH_POINT + 0.5);
    slow_credentials(3000);
    SQLRETURN rc1 = timed_connect(extra, 0, st, msg, sizeof(msg), &took1); /* starts the refresh */
    int started = log_has("past its refresh point: used now");
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(stdout);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        close(fds[0]);
        char cst[6], cmsg[1024], out[64];
        double ctook;
        SQLRETURN crc = timed_connect(extra, 10, cst, cmsg, sizeof(cmsg), &ctook);
        int n = snprintf(out, sizeof(out), "%d %.2f", SQL_SUCCEEDED(crc) ? 1 : 0, ctook);
        if (write(fds[1], out, (size_t)n) != n)
            _exit(3);
        exit(SQL_SUCCEEDED(crc) ? 0 : 1); /* exit, not _exit: its own refresh is awaited */
    }
    close(fds[1]);
    char report[64] = "";
    ssize_t got = read(fds[0], report, sizeof(report) - 1);
    close(fds[0]);
    double t_wait = now_s();
    int status = 0;
    while (waitpid(child, &status, 0) < 0)
        ;
    double child_exit = now_s() - t_wait;
    int child_ok = 0;
    double child_took = -1;
    if (got > 0)
        sscanf(report, "%d %lf", &child_ok, &child_took);
    for (int i = 0; i < 300 && !log_has("refreshed in the background in "); i++)
        usleep(50 * 1000);
    int landed = log_has("refreshed in the background in ");
    long long creds = emulator_count(CREDENTIALS);
    emulator_call("POST", "/_emulator/config", "{\"credential_lifetime\": 3600}");
    printf("fork during a background refresh: first connect %.2f s; past the refresh point the parent connected in "
           "%.2f s; child connected %s in %.2f s and exited "
           "%.2f s later (status %d); refresh landed: %s; %lld credential requests\n",
           took0, took1, child_ok ? "yes" : "no", child_took, child_exit, WIFEXITED(status) ? WEXITSTATUS(status) : -1,
           landed ? "yes" : "no", creds);
    drop_cache();
    assert_true(SQL_SUCCEEDED(rc0));
    assert_true(SQL_SUCCEEDED(rc1));
    assert_true(started);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_true(child_ok);
    assert_true(child_took < 5.0);
    assert_true(landed);
}

/* One connect in another process, through a pipe: its exit status and the connect's
 * own duration (from its report line), and the process's whole wall time. */
static int other_process_timed(const char *extra, double *took, double *wall)
{
    char self[PATH_MAX], cmd[PATH_MAX + 1200];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    assert_true(n > 0);
    self[n] = '\0';
    snprintf(cmd, sizeof(cmd), "'%s' --connect '%s'", self, extra);
    fflush(stdout);
    double t0 = now_s();
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[4096] = "", word[32] = "";
    *took = -1;
    while (fgets(line, sizeof(line), p))
        if (sscanf(line, "  [pid %*d] %31s after %lf", word, took) == 2)
            printf("%s", line);
    int status = pclose(p);
    *wall = now_s() - t0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void test_refresh_file(void **state)
{
    (void)state;
    private_cache();
    reset();
    emulator_call("POST", "/_emulator/config", SHORT_LIFE);
    char extra[1000];
    snprintf(extra, sizeof(extra), "TokenRefreshMargin=6;%s", log_extra);
    double t0 = now_s(), took_a, wall_a, took_b, wall_b, took_c, wall_c;
    int a = other_process_timed(extra, &took_a, &wall_a);
    sleep_until(t0 + REFRESH_POINT + 0.5);
    slow_credentials(4000); /* lands before the old end of use, within the exit's wait */
    int b = other_process_timed(extra, &took_b, &wall_b);
    long long after_b = emulator_count(CREDENTIALS);
    sleep_until(t0 + END_OF_USE + 1.0);
    int c = other_process_timed(extra, &took_c, &wall_c);
    long long after_c = emulator_count(CREDENTIALS);
    int file_hits = 0;
    FILE *f = fopen(log_path, "r");
    char line[4096];
    while (f && fgets(line, sizeof(line), f))
        file_hits += strstr(line, "database credential: cache hit (file)") != NULL;
    if (f)
        fclose(f);
    emulator_call("POST", "/_emulator/config", "{\"credential_lifetime\": 3600}");
    printf("sealed file past its refresh point: a second process connected in %.2f s with the credential request "
           "delayed 4.00 s (its exit waited for the refresh: %.2f s in all); a third, past the old credential's end "
           "of use, connected in %.2f s; %lld then %lld credential requests; %d file hits\n",
           took_b, wall_b, took_c, after_b, after_c, file_hits);
    drop_cache();
    assert_int_equal(a, 0);
    assert_int_equal(b, 0);
    assert_int_equal(c, 0);
    assert_true(took_b >= 0 && took_b < 3.0); /* 4 s when it waits; 0.6 s here, up to 2.6 s under TSan */
    assert_int_equal(after_b, 2);                   /* the refresh landed before b exited */
    assert_int_equal(after_c, 2);                   /* c took the refreshed file */
    assert_int_equal(file_hits, 2);
}

int main(int argc, char **argv)
{
    read_state();
    if (argc == 3 && strcmp(argv[1], "--connect") == 0) {
        char st[6], msg[2048];
        double took;
        SQLRETURN rc = timed_connect(argv[2], 10, st, msg, sizeof(msg), &took);
        printf("  [pid %ld] %s after %.2f s%s%s\n", (long)getpid(), SQL_SUCCEEDED(rc) ? "connected" : st, took,
               SQL_SUCCEEDED(rc) ? "" : ": ", msg);
        fflush(stdout);
        return SQL_SUCCEEDED(rc) ? 0 : 1;
    }
    const struct CMUnitTest cases[] = {
        cmocka_unit_test(test_sealed_round_trip),
        cmocka_unit_test(test_sealed_tampered),
        cmocka_unit_test(test_auto_not_private),
        cmocka_unit_test(test_refresh_ahead),
        cmocka_unit_test(test_refresh_fork),
        cmocka_unit_test(test_refresh_file),
    };
    return testenv_run_case(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
