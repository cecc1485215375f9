/* The benchmark's client (scripts/bench.sh runs it through tests/bench/bench_run.py): one
 * process runs one case through whichever ODBC driver its connection string names (the
 * Lakebase driver, or psqlODBC itself for the controls) and prints one JSON line of figures
 * on standard output. The connection string comes from $LB_BENCH_CONNSTR, never argv (it
 * holds a secret).
 *
 *   getdata ROWS     1 connect (untimed), then SELECT of ROWS rows x 10 mixed columns read
 *                    with SQLFetch + SQLGetData: "secs" is the execute and fetch
 *   bound ROWS       the same with bound columns and a rowset of 1000 (column-wise)
 *   prepared N       SQLPrepare once, then N executes of a one-row select with a parameter
 *   connects N       one warm-up connect, then N connect + disconnect: "times_ms" per connect
 *   storm T          T threads connect at once (a barrier), "times_ms" per connect
 *   once             connect, SELECT 1, disconnect: "times_ms" holds the connect
 *   spread S MS      a connect + SELECT 1 + disconnect every MS ms for S seconds: "times_ms"
 *                    and "at_s" (when each connect started, seconds from the first)
 *   rss ROWS         connect, fetch ROWS rows bound, disconnect
 * Every case's line ends with "maxrss_kib", the process's peak RSS.
 *
 * Exit 0 when the case ran to the end; 1 with the ODBC diagnostic on standard error when a
 * call failed or a result was not the expected one; 2 on bad usage. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sql.h>
#include <sqlext.h>

#define ROWSET 1000

static const char *connstr;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(SQLSMALLINT type, SQLHANDLE h, const char *what)
{
    char st[6] = "", msg[1024] = "";
    SQLINTEGER native = 0;
    SQLSMALLINT len = 0;
    if (h != SQL_NULL_HANDLE)
        SQLGetDiagRec(type, h, 1, (SQLCHAR *)st, &native, (SQLCHAR *)msg, sizeof(msg), &len);
    fprintf(stderr, "bench_client: %s failed: [%s] %s\n", what, st, msg);
    exit(1);
}

static void check(SQLRETURN rc, SQLSMALLINT type, SQLHANDLE h, const char *what)
{
    if (!SQL_SUCCEEDED(rc))
        die(type, h, what);
}

static SQLHENV new_env(void)
{
    SQLHENV env;
    if (SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env) != SQL_SUCCESS)
        die(SQL_HANDLE_ENV, SQL_NULL_HANDLE, "SQLAllocHandle(ENV)");
    check(SQLSetEnvAttr(env, SQL_ATTR_ODBC_VERSION, (SQLPOINTER)SQL_OV_ODBC3, 0), SQL_HANDLE_ENV, env,
          "SQLSetEnvAttr");
    return env;
}

/* Connects a new connection handle of env; the connect's seconds in *took. */
static SQLHDBC open_conn(SQLHENV env, double *took)
{
    SQLHDBC dbc;
    check(SQLAllocHandle(SQL_HANDLE_DBC, env, &dbc), SQL_HANDLE_ENV, env, "SQLAllocHandle(DBC)");
    double t0 = now_s();
    SQLRETURN rc = SQLDriverConnect(dbc, NULL, (SQLCHAR *)connstr, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
    if (took)
        *took = now_s() - t0;
    check(rc, SQL_HANDLE_DBC, dbc, "SQLDriverConnect");
    return dbc;
}

static void close_conn(SQLHDBC dbc)
{
    check(SQLDisconnect(dbc), SQL_HANDLE_DBC, dbc, "SQLDisconnect");
    SQLFreeHandle(SQL_HANDLE_DBC, dbc);
}

static void select_one(SQLHDBC dbc)
{
    SQLHSTMT st;
    check(SQLAllocHandle(SQL_HANDLE_STMT, dbc, &st), SQL_HANDLE_DBC, dbc, "SQLAllocHandle(STMT)");
    check(SQLExecDirect(st, (SQLCHAR *)"SELECT 1", SQL_NTS), SQL_HANDLE_STMT, st, "SELECT 1");
    check(SQLFetch(st), SQL_HANDLE_STMT, st, "SQLFetch");
    SQLINTEGER v = 0;
    SQLLEN ind;
    check(SQLGetData(st, 1, SQL_C_SLONG, &v, 0, &ind), SQL_HANDLE_STMT, st, "SQLGetData");
    if (v != 1) {
        fprintf(stderr, "bench_client: SELECT 1 gave %d\n", (int)v);
        exit(1);
    }
    SQLFreeHandle(SQL_HANDLE_STMT, st);
}

/* ROWS rows of ten columns of mixed types. */
static void wide_query(char *sql, size_t size, long rows)
{
    snprintf(sql, size,
             "SELECT i, i::int8 * 1000003, (i %% 30000)::int2, i / 7.0::float8, (i %% 100000 + 0.25)::numeric(12,2), "
             "'name-' || i, (i %% 2 = 0), DATE '2020-01-01' + (i %% 3650), "
             "TIMESTAMP '2020-01-01' + i * INTERVAL '1 second', repeat('x', i %% 20) "
             "FROM generate_series(1, %ld) AS s(i)",
             rows);
}

static void expect_rows(long got, long want)
{
    if (got != want) {
        fprintf(stderr, "bench_client: read %ld rows, expected %ld\n", got, want);
        exit(1);
    }
}

/* The end of a fetch loop: the seconds since t0, once the loop ended on SQL_NO_DATA with the
 * rows expected (and a checksum that saw them); the statement freed. */
static double end_fetch(SQLHSTMT st, SQLRETURN rc, double t0, long n, long long sum, long rows)
{
    if (rc != SQL_NO_DATA)
        die(SQL_HANDLE_STMT, st, "SQLFetch");
    double secs = now_s() - t0;
    expect_rows(n, rows);
    if (sum <= 0)
        expect_rows(-1, rows);
    SQLFreeHandle(SQL_HANDLE_STMT, st);
    return secs;
}

static double fetch_getdata(SQLHDBC dbc, long rows)
{
    SQLHSTMT st;
    char sql[1024];
    wide_query(sql, sizeof(sql), rows);
    check(SQLAllocHandle(SQL_HANDLE_STMT, dbc, &st), SQL_HANDLE_DBC, dbc, "SQLAllocHandle(STMT)");
    double t0 = now_s();
    check(SQLExecDirect(st, (SQLCHAR *)sql, SQL_NTS), SQL_HANDLE_STMT, st, "SQLExecDirect");
    long n = 0;
    long long sum = 0;
    SQLRETURN rc;
    while ((rc = SQLFetch(st)) == SQL_SUCCESS || rc == SQL_SUCCESS_WITH_INFO) {
        SQLINTEGER i4;
        SQLBIGINT i8;
        SQLSMALLINT i2;
        double f8;
        char num[40], text[64], pad[32];
        unsigned char b;
        SQL_DATE_STRUCT d;
        SQL_TIMESTAMP_STRUCT ts;
        SQLLEN ind;
        check(SQLGetData(st, 1, SQL_C_SLONG, &i4, 0, &ind), SQL_HANDLE_STMT, st, "SQLGetData 1");
        check(SQLGetData(st, 2, SQL_C_SBIGINT, &i8, 0, &ind), SQL_HANDLE_STMT, st, "SQLGetData 2");
        check(SQLGetData(st, 3, SQL_C_SSHORT, &i2, 0, &ind), SQL_HANDLE_STMT, st, "SQLGetData 3");
        check(SQLGetData(st, 4, SQL_C_DOUBLE, &f8, 0, &ind), SQL_HANDLE_STMT, st, "SQLGetData 4");
        check(SQLGetData(st, 5, SQL_C_CHAR, num, sizeof(num), &ind), SQL_HANDLE_STMT, st, "SQLGetData 5");
        check(SQLGetData(st, 6, SQL_C_CHAR, text, sizeof(text), &ind), SQL_HANDLE_STMT, st, "SQLGetData 6");
        check(SQLGetData(st, 7, SQL_C_BIT, &b, 0, &ind), SQL_HANDLE_STMT, st, "SQLGetData 7");
        check(SQLGetData(st, 8, SQL_C_TYPE_DATE, &d, 0, &ind), SQL_HANDLE_STMT, st, "SQLGetData 8");
        check(SQLGetData(st, 9, SQL_C_TYPE_TIMESTAMP, &ts, 0, &ind), SQL_HANDLE_STMT, st, "SQLGetData 9");
        check(SQLGetData(st, 10, SQL_C_CHAR, pad, sizeof(pad), &ind), SQL_HANDLE_STMT, st, "SQLGetData 10");
        sum += i4 + i2 + b;
        n++;
    }
    return end_fetch(st, rc, t0, n, sum, rows);
}

static double fetch_bound(SQLHDBC dbc, long rows)
{
    SQLHSTMT st;
    char sql[1024];
    wide_query(sql, sizeof(sql), rows);
    check(SQLAllocHandle(SQL_HANDLE_STMT, dbc, &st), SQL_HANDLE_DBC, dbc, "SQLAllocHandle(STMT)");
    static SQLINTEGER i4[ROWSET];
    static SQLBIGINT i8[ROWSET];
    static SQLSMALLINT i2[ROWSET];
    static double f8[ROWSET];
    static char num[ROWSET][40], text[ROWSET][64], pad[ROWSET][32];
    static unsigned char b[ROWSET];
    static SQL_DATE_STRUCT d[ROWSET];
    static SQL_TIMESTAMP_STRUCT ts[ROWSET];
    static SQLLEN ind[10][ROWSET];
    SQLULEN fetched = 0;
    check(SQLSetStmtAttr(st, SQL_ATTR_ROW_ARRAY_SIZE, (SQLPOINTER)(uintptr_t)ROWSET, 0), SQL_HANDLE_STMT, st,
          "SQL_ATTR_ROW_ARRAY_SIZE");
    check(SQLSetStmtAttr(st, SQL_ATTR_ROWS_FETCHED_PTR, &fetched, 0), SQL_HANDLE_STMT, st, "SQL_ATTR_ROWS_FETCHED_PTR");
    double t0 = now_s();
    check(SQLExecDirect(st, (SQLCHAR *)sql, SQL_NTS), SQL_HANDLE_STMT, st, "SQLExecDirect");
    check(SQLBindCol(st, 1, SQL_C_SLONG, i4, 0, ind[0]), SQL_HANDLE_STMT, st, "SQLBindCol 1");
    check(SQLBindCol(st, 2, SQL_C_SBIGINT, i8, 0, ind[1]), SQL_HANDLE_STMT, st, "SQLBindCol 2");
    check(SQLBindCol(st, 3, SQL_C_SSHORT, i2, 0, ind[2]), SQL_HANDLE_STMT, st, "SQLBindCol 3");
    check(SQLBindCol(st, 4, SQL_C_DOUBLE, f8, 0, ind[3]), SQL_HANDLE_STMT, st, "SQLBindCol 4");
    check(SQLBindCol(st, 5, SQL_C_CHAR, num, sizeof(num[0]), ind[4]), SQL_HANDLE_STMT, st, "SQLBindCol 5");
    check(SQLBindCol(st, 6, SQL_C_CHAR, text, sizeof(text[0]), ind[5]), SQL_HANDLE_STMT, st, "SQLBindCol 6");
    check(SQLBindCol(st, 7, SQL_C_BIT, b, 0, ind[6]), SQL_HANDLE_STMT, st, "SQLBindCol 7");
    check(SQLBindCol(st, 8, SQL_C_TYPE_DATE, d, 0, ind[7]), SQL_HANDLE_STMT, st, "SQLBindCol 8");
    check(SQLBindCol(st, 9, SQL_C_TYPE_TIMESTAMP, ts, 0, ind[8]), SQL_HANDLE_STMT, st, "SQLBindCol 9");
    check(SQLBindCol(st, 10, SQL_C_CHAR, pad, sizeof(pad[0]), ind[9]), SQL_HANDLE_STMT, st, "SQLBindCol 10");
    long n = 0;
    long long sum = 0;
    SQLRETURN rc;
    while ((rc = SQLFetch(st)) == SQL_SUCCESS || rc == SQL_SUCCESS_WITH_INFO) {
        for (SQLULEN r = 0; r < fetched; r++)
            sum += i4[r] + i2[r] + b[r];
        n += (long)fetched;
    }
    return end_fetch(st, rc, t0, n, sum, rows);
}

static double prepared(SQLHDBC dbc, long n)
{
    SQLHSTMT st;
    check(SQLAllocHandle(SQL_HANDLE_STMT, dbc, &st), SQL_HANDLE_DBC, dbc, "SQLAllocHandle(STMT)");
    check(SQLPrepare(st, (SQLCHAR *)"SELECT n, 'name-' || n FROM (SELECT CAST(? AS integer) AS n) AS t", SQL_NTS),
          SQL_HANDLE_STMT, st, "SQLPrepare");
    SQLINTEGER param = 0, got = 0;
    SQLLEN pind = 0, ind = 0;
    char name[64];
    check(SQLBindParameter(st, 1, SQL_PARAM_INPUT, SQL_C_SLONG, SQL_INTEGER, 0, 0, &param, 0, &pind),
          SQL_HANDLE_STMT, st, "SQLBindParameter");
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        param = (SQLINTEGER)(i % 100000);
        check(SQLExecute(st), SQL_HANDLE_STMT, st, "SQLExecute");
        check(SQLFetch(st), SQL_HANDLE_STMT, st, "SQLFetch");
        check(SQLGetData(st, 1, SQL_C_SLONG, &got, 0, &ind), SQL_HANDLE_STMT, st, "SQLGetData 1");
        check(SQLGetData(st, 2, SQL_C_CHAR, name, sizeof(name), &ind), SQL_HANDLE_STMT, st, "SQLGetData 2");
        if (got != param) {
            fprintf(stderr, "bench_client: prepared select gave %d for %d\n", (int)got, (int)param);
            exit(1);
        }
        check(SQLFreeStmt(st, SQL_CLOSE), SQL_HANDLE_STMT, st, "SQLFreeStmt(CLOSE)");
    }
    double secs = now_s() - t0;
    SQLFreeHandle(SQL_HANDLE_STMT, st);
    return secs;
}

static void print_times(const char *name, const double *v, long n, double scale)
{
    printf(", \"%s\": [", name);
    for (long i = 0; i < n; i++)
        printf("%s%.3f", i ? ", " : "", v[i] * scale);
    printf("]");
}

typedef struct {
    SQLHENV env;
    pthread_barrier_t *go;
    double took;
} storm_arg;

static void *storm_thread(void *p)
{
    storm_arg *a = p;
    pthread_barrier_wait(a->go);
    SQLHDBC dbc = open_conn(a->env, &a->took);
    select_one(dbc);
    close_conn(dbc);
    return NULL;
}

/* The process's peak RSS: VmHWM, which starts again at exec (getrusage's ru_maxrss keeps
 * the forking parent's peak across exec, so a runner's own size would show). */
static long peak_rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kib;
}

static long arg_long(int argc, char **argv, int i)
{
    if (i >= argc) {
        fprintf(stderr, "bench_client %s: missing argument %d (see the file's opening comment)\n", argv[1], i - 1);
        exit(2);
    }
    char *end;
    long v = strtol(argv[i], &end, 10);
    if (*end != '\0' || v <= 0) {
        fprintf(stderr, "bench_client %s: \"%s\" is not a positive number\n", argv[1], argv[i]);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    connstr = getenv("LB_BENCH_CONNSTR");
    if (argc < 2 || connstr == NULL || connstr[0] == '\0') {
        fprintf(stderr, "usage: LB_BENCH_CONNSTR=... bench_client getdata|bound|prepared|connects|storm|once|spread|rss "
                        "[N ...]\n");
        return 2;
    }
    const char *c = argv[1];
    SQLHENV env = new_env();
    printf("{\"case\": \"%s\"", c);
    if (strcmp(c, "getdata") == 0 || strcmp(c, "bound") == 0 || strcmp(c, "prepared") == 0 ||
        strcmp(c, "rss") == 0) {
        long n = arg_long(argc, argv, 2);
        SQLHDBC dbc = open_conn(env, NULL);
        double secs = c[0] == 'g' ? fetch_getdata(dbc, n) : c[0] == 'p' ? prepared(dbc, n) : fetch_bound(dbc, n);
        close_conn(dbc);
        printf(", \"n\": %ld, \"secs\": %.6f", n, secs);
    } else if (strcmp(c, "connects") == 0 || strcmp(c, "once") == 0) {
        long n = c[0] == 'o' ? 1 : arg_long(argc, argv, 2);
        if (c[0] == 'c')
            close_conn(open_conn(env, NULL)); /* the warm-up: fills the cache */
        double *t = calloc((size_t)n, sizeof(double));
        double t0 = now_s();
        for (long i = 0; i < n && t; i++) {
            SQLHDBC dbc = open_conn(env, &t[i]);
            if (c[0] == 'o')
                select_one(dbc);
            close_conn(dbc);
        }
        printf(", \"n\": %ld, \"secs\": %.6f", n, now_s() - t0);
        print_times("times_ms", t, t ? n : 0, 1e3);
        free(t);
    } else if (strcmp(c, "storm") == 0) {
        long n = arg_long(argc, argv, 2);
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, (unsigned)n);
        pthread_t *th = calloc((size_t)n, sizeof(pthread_t));
        storm_arg *a = calloc((size_t)n, sizeof(storm_arg));
        double *t = calloc((size_t)n, sizeof(double));
        if (!th || !a || !t)
            return 1;
        double t0 = now_s();
        for (long i = 0; i < n; i++) {
            a[i] = (storm_arg){.env = env, .go = &go};
            if (pthread_create(&th[i], NULL, storm_thread, &a[i]) != 0)
                return 1;
        }
        for (long i = 0; i < n; i++) {
            pthread_join(th[i], NULL);
            t[i] = a[i].took;
        }
        printf(", \"n\": %ld, \"secs\": %.6f", n, now_s() - t0);
        print_times("times_ms", t, n, 1e3);
        free(th);
        free(a);
        free(t);
    } else if (strcmp(c, "spread") == 0) {
        long secs = arg_long(argc, argv, 2), every_ms = arg_long(argc, argv, 3);
        long max = secs * 1000 / every_ms + 1, n = 0;
        double *t = calloc((size_t)max, sizeof(double)), *at = calloc((size_t)max, sizeof(double));
        if (!t || !at)
            return 1;
        double t0 = now_s();
        for (; n < max; n++) { /* until the time is up: a connect may take longer than MS */
            double start = t0 + (double)n * (double)every_ms / 1e3, left = start - now_s();
            if (now_s() - t0 >= (double)secs)
                break;
            if (left > 0)
                usleep((useconds_t)(left * 1e6));
            at[n] = now_s() - t0;
            SQLHDBC dbc = open_conn(env, &t[n]);
            select_one(dbc);
            close_conn(dbc);
        }
        printf(", \"n\": %ld, \"secs\": %.6f", n, now_s() - t0);
        print_times("times_ms", t, n, 1e3);
        print_times("at_s", at, n, 1.0);
        free(t);
        free(at);
    } else {
        fprintf(stderr, "bench_client: unknown case \"%s\"\n", c);
        return 2;
    }
    printf(", \"maxrss_kib\": %ld}\n", peak_rss_kib());
    SQLFreeHandle(SQL_HANDLE_ENV, env);
    return 0;
}
