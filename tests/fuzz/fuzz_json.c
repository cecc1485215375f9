/* fuzz_json: the parsers of the workspace's answers, all on the same input.
 *   - lb_oauth_parse_token: success gives a non-empty token and expires_in >= 0;
 *     failure gives no token and a well-formed error;
 *   - lb_lakebase_parse_credential: success gives a non-empty token of at most 16384
 *     bytes; failure gives no token and a well-formed error;
 *   - lb_json_describe_error into exactly-sized heap buffers of several sizes: always
 *     NUL-terminated inside the buffer, printable ASCII only, shorter than 4095 bytes,
 *     and each truncated result a prefix of the untruncated one (size 0 writes nothing);
 *   - lb_parse_rfc3339 on a NUL-terminated copy: success only for strings of at least
 *     20 bytes, and for a plain "YYYY-MM-DDTHH:MM:SSZ" with a real calendar day and
 *     seconds < 60, gmtime of the result prints the same text back. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz_common.h"
#include "lb_json.h"
#include "lb_lakebase.h"
#include "lb_oauth.h"

static void check_token(const char *body, size_t len)
{
    lb_token t;
    lb_error err;
    lb_error_init(&err);
    memset(&t, 0xA5, sizeof(t));
    lb_result rc = lb_oauth_parse_token(body, len, &t, &err);
    if (lbf_verbose())
        fprintf(stderr, "token: %s\n", rc == LB_OK ? "ok" : err.message);
    if (rc == LB_OK) {
        LBF_CHECK(!lb_error_isset(&err));
        LBF_CHECK(t.access_token != NULL && t.access_token[0] != '\0');
        LBF_CHECK(t.expires_in >= 0);
    } else {
        LBF_CHECK(t.access_token == NULL && t.expires_in == 0);
        lbf_check_error(&err);
        if (lbf_strict_utf8() && lbf_utf8_valid((const unsigned char *)body, len))
            LBF_CHECK(lbf_utf8_valid((const unsigned char *)err.message, strlen(err.message)));
    }
    lb_token_clear(&t);
    LBF_CHECK(t.access_token == NULL);
}

static void check_credential(const char *body, size_t len)
{
    lb_credential c;
    lb_error err;
    lb_error_init(&err);
    memset(&c, 0xA5, sizeof(c));
    lb_result rc = lb_lakebase_parse_credential(body, len, &c, &err);
    if (lbf_verbose())
        fprintf(stderr, "credential: %s\n", rc == LB_OK ? "ok" : err.message);
    if (rc == LB_OK) {
        LBF_CHECK(!lb_error_isset(&err));
        LBF_CHECK(c.token != NULL && c.token[0] != '\0' && strlen(c.token) <= 16384);
    } else {
        LBF_CHECK(c.token == NULL && c.expire_time == 0);
        lbf_check_error(&err);
        if (lbf_strict_utf8() && lbf_utf8_valid((const unsigned char *)body, len))
            LBF_CHECK(lbf_utf8_valid((const unsigned char *)err.message, strlen(err.message)));
    }
    lb_credential_clear(&c);
    LBF_CHECK(c.token == NULL);
}

static void check_describe(const char *body, size_t len)
{
    static const size_t sizes[] = {1, 2, 7, 64, 400, 4096};
    char *full = NULL;
    /* Largest first, so the smaller ones can be compared with it. */
    for (int i = (int)(sizeof(sizes) / sizeof(sizes[0])) - 1; i >= 0; i--) {
        size_t n = sizes[i];
        char *buf = malloc(n);
        LBF_CHECK(buf != NULL);
        memset(buf, 0x7f, n);
        lb_json_describe_error(body, len, buf, n);
        const char *nul = memchr(buf, '\0', n);
        LBF_CHECK(nul != NULL);
        size_t sl = (size_t)(nul - buf);
        for (size_t k = 0; k < sl; k++)
            LBF_CHECK(buf[k] >= 0x20 && buf[k] < 0x7f);
        if (full == NULL) {
            if (lbf_verbose())
                fprintf(stderr, "describe: %s\n", buf);
            /* Short. It can be empty: {"error":""} describes as "" (the caller then
             * prints "(HTTP 401, )"), which is poor but not unsafe. */
            LBF_CHECK(sl < 4095);
            full = buf;
            continue;
        }
        LBF_CHECK(sl == (strlen(full) < n - 1 ? strlen(full) : n - 1));
        LBF_CHECK(memcmp(buf, full, sl) == 0);
        free(buf);
    }
    /* Size 0: nothing may be written. */
    char guard = 0x5a;
    lb_json_describe_error(body, len, &guard, 0);
    LBF_CHECK(guard == 0x5a);
    free(full);
}

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return d[m - 1];
}

static void check_rfc3339(const uint8_t *data, size_t size)
{
    char *s = lbf_strndup(data, size);
    time_t t = (time_t)0x5a5a;
    int rc = lb_parse_rfc3339(s, &t);
    if (lbf_verbose())
        fprintf(stderr, "rfc3339: %d (%lld)\n", rc, (long long)t);
    if (rc != 0) {
        LBF_CHECK(rc == -1 && t == (time_t)0x5a5a);
    } else {
        size_t n = strlen(s);
        LBF_CHECK(n >= 20);
        /* A canonical UTC time with a real day must survive gmtime unchanged. */
        int Y, M, D, h, m, sec;
        char tail[2];
        if (n == 20 && (s[19] == 'Z') && s[10] == 'T' &&
            sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%1[Z]", &Y, &M, &D, &h, &m, &sec, tail) == 7 && Y >= 1000 &&
            D <= days_in_month(Y, M) && sec < 60) {
            struct tm tm;
            LBF_CHECK(gmtime_r(&t, &tm) != NULL);
            char back[64];
            strftime(back, sizeof(back), "%Y-%m-%dT%H:%M:%SZ", &tm);
            if (strcmp(back, s) != 0) {
                fprintf(stderr, "rfc3339 \"%s\" -> %lld -> \"%s\"\n", s, (long long)t, back);
                LBF_CHECK(0);
            }
        }
    }
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: the parsers must not read past len (no terminator here). */
    char *body = malloc(size ? size : 1);
    LBF_CHECK(body != NULL);
    if (size)
        memcpy(body, data, size);
    check_token(body, size);
    check_credential(body, size);
    check_describe(body, size);
    free(body);
    check_rfc3339(data, size);
    return 0;
}
