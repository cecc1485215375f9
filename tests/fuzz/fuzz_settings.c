/* fuzz_settings: lb_settings_resolve over three fuzzed sources. The input is
 *
 *     <connection string> NUL <odbc.ini lines> NUL <environment lines>
 *
 * (missing parts are empty). Lines are "key=value" separated by '\n'; the odbc.ini
 * lines are served for whatever DSN the connection string names (keys compared
 * ignoring case, as odbc.ini does), the environment lines by exact name.
 *
 * Invariants:
 *   - on success every required (not optional) key is set, non-empty and free of control characters,
 *     the port parses to 1..65535 and equals s.port, SSLmode is require, verify-ca or
 *     verify-full, DatabricksHost is "https://<host>" with no path, Endpoint has the
 *     projects/.../branches/.../endpoints/... shape; lb_build_psql_connstr then parses
 *     back with exactly one secret key, the final PWD holding the credential;
 *   - on failure the error record is well formed;
 *   - secrets (ClientSecret and its aliases, and any other key marked secret) never
 *     reach a message or another setting: resolving again with every secret value
 *     (connection string, odbc.ini, environment) replaced by a masked form of it
 *     (letters rotated, see masked()) gives the same result, SQLSTATE and message byte
 *     for byte, the same values and sources for every other key, and the masked secret
 *     for the secret keys. An error message that quoted a secret would differ. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_common.h"
#include "lb_connect.h"
#include "lb_connstr.h"
#include "lb_settings.h"

typedef struct {
    char **key;
    char **value;
    char **masked; /* value as served while masking secrets */
    size_t count;
} lines;

static lines g_dsn, g_env;
static int g_mask;          /* serve masked() secret values */
static int g_dsn_calls;

static char *masked(const char *v);

static void lines_parse(const char *s, size_t len, lines *out)
{
    memset(out, 0, sizeof(*out));
    size_t n = 1;
    for (size_t i = 0; i < len; i++)
        n += s[i] == '\n';
    out->key = calloc(n, sizeof(char *));
    out->value = calloc(n, sizeof(char *));
    out->masked = calloc(n, sizeof(char *));
    LBF_CHECK(out->key && out->value && out->masked);
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && s[end] != '\n')
            end++;
        const char *eq = memchr(s + i, '=', end - i);
        if (eq != NULL) {
            out->key[out->count] = strndup(s + i, (size_t)(eq - (s + i)));
            out->value[out->count] = strndup(eq + 1, (size_t)(s + end - eq - 1));
            LBF_CHECK(out->key[out->count] && out->value[out->count]);
            out->masked[out->count] = masked(out->value[out->count]);
            out->count++;
        }
        i = end + 1;
    }
}

static void lines_free(lines *l)
{
    for (size_t i = 0; i < l->count; i++) {
        free(l->key[i]);
        free(l->value[i]);
        free(l->masked[i]);
    }
    free(l->key);
    free(l->value);
    free(l->masked);
    memset(l, 0, sizeof(*l));
}

static int has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* What a source serves for a secret while masking: the value with every ASCII letter
 * after the URL scheme (if any) rotated by 13. Length, emptiness, control characters,
 * digits, punctuation, case and the scheme stay as they were, so every check the
 * driver makes on a secret (non-empty, no control character, a proxy URL's scheme)
 * comes out the same, while the text differs wherever the secret has a letter. */
static char *masked(const char *v)
{
    char *m = strdup(v);
    LBF_CHECK(m != NULL);
    /* A leading URL scheme ("http:", with or without "//" after it: a Proxy value) is no
     * secret: it stays, so that the masked value is read as the same kind of URL. */
    size_t from = 0;
    if ((*m >= 'a' && *m <= 'z') || (*m >= 'A' && *m <= 'Z')) {
        size_t n = strspn(m, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
        if (n <= 16 && m[n] == ':')
            from = n + 1;
    }
    for (char *p = m + from; *p; p++) {
        if (*p >= 'a' && *p <= 'z')
            *p = (char)('a' + (*p - 'a' + 13) % 26);
        else if (*p >= 'A' && *p <= 'Z')
            *p = (char)('A' + (*p - 'A' + 13) % 26);
    }
    return m;
}

static int env_is_secret(const char *name)
{
    for (int k = 0; k < LB_KEY_COUNT; k++) {
        const lb_key_def *def = lb_key_info((lb_key)k);
        if (def->secret && def->env && strcmp(def->env, name) == 0)
            return 1;
    }
    return 0;
}

static int dsn_get(void *ctx, const char *dsn, const char *key, char *buf, size_t size)
{
    LBF_CHECK(ctx == &g_dsn);
    LBF_CHECK(dsn != NULL && dsn[0] != '\0');
    LBF_CHECK(key != NULL && buf != NULL && size > 0);
    g_dsn_calls++;
    for (size_t i = 0; i < g_dsn.count; i++) {
        if (strcasecmp(g_dsn.key[i], key) != 0)
            continue;
        const char *v = g_mask && lb_key_is_secret(key) ? g_dsn.masked[i] : g_dsn.value[i];
        if (v[0] == '\0')
            return 0;
        size_t n = strlen(v);
        if (n > size - 1)
            n = size - 1; /* truncate, as SQLGetPrivateProfileString does */
        memcpy(buf, v, n);
        buf[n] = '\0';
        return 1;
    }
    return 0;
}

static const char *env_get(const char *name)
{
    LBF_CHECK(name != NULL);
    for (size_t i = 0; i < g_env.count; i++) {
        if (strcmp(g_env.key[i], name) != 0)
            continue;
        return g_mask && env_is_secret(name) ? g_env.masked[i] : g_env.value[i];
    }
    return NULL;
}

static const lb_sources sources = {.dsn_get = dsn_get, .dsn_ctx = &g_dsn, .env_get = env_get};

static int is_id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* projects/<p>/branches/<b>/endpoints/<e>, or a branch, projects/<p>/branches/<b>. */
static void check_endpoint(const char *v)
{
    static const char *const parts[] = {"projects/", "branches/", "endpoints/"};
    for (int i = 0; i < 3; i++) {
        LBF_CHECK(strncmp(v, parts[i], strlen(parts[i])) == 0);
        v += strlen(parts[i]);
        LBF_CHECK(is_id_char(*v));
        while (is_id_char(*v))
            v++;
        if (i == 1 && *v == '\0')
            return; /* a branch */
        LBF_CHECK(*v == (i < 2 ? '/' : '\0'));
        if (i < 2)
            v++;
    }
}

static void check_settings(const lb_settings *s, const lb_kvlist *cs)
{
    for (int k = 0; k < LB_KEY_COUNT; k++) {
        if (lb_key_info((lb_key)k)->optional && s->value[k] == NULL)
            continue;
        LBF_CHECK(s->value[k] != NULL && s->value[k][0] != '\0');
        LBF_CHECK(!has_ctl(s->value[k]));
        LBF_CHECK(s->source[k] != LB_SRC_NONE);
    }
    const char *host = s->value[LB_KEY_HOST];
    LBF_CHECK(strncmp(host, "https://", 8) == 0 && host[8] != '\0');
    LBF_CHECK(strpbrk(host + 8, "/?#") == NULL);

    const char *port = s->value[LB_KEY_PORT];
    long p = 0;
    for (const char *c = port; *c; c++) {
        LBF_CHECK(*c >= '0' && *c <= '9');
        if (p <= 65535)
            p = p * 10 + (*c - '0');
    }
    LBF_CHECK(p >= 1 && p <= 65535 && s->port == p);

    const char *mode = s->value[LB_KEY_SSLMODE];
    LBF_CHECK(strcmp(mode, "require") == 0 || strcmp(mode, "verify-ca") == 0 ||
              strcmp(mode, "verify-full") == 0);
    /* Exactly one of Endpoint and Instance (Servername is optional: looked up). */
    LBF_CHECK((s->value[LB_KEY_ENDPOINT] == NULL) != (s->value[LB_KEY_INSTANCE] == NULL));
    if (s->value[LB_KEY_ENDPOINT])
        check_endpoint(s->value[LB_KEY_ENDPOINT]);

    const char *dsn = lb_kvlist_get(cs, "DSN");
    if (dsn && dsn[0])
        LBF_CHECK(s->dsn != NULL && strcmp(s->dsn, dsn) == 0);
    else
        LBF_CHECK(s->dsn == NULL);

    /* The string for psqlODBC: one password, the credential, last. */
    static const char cred[] = "cred;with}=braces{";
    char *psql = lb_build_psql_connstr(s, cs, cred);
    if (s->value[LB_KEY_SERVER] == NULL) { /* to be looked up: no string before the target step */
        LBF_CHECK(psql == NULL);
        return;
    }
    LBF_CHECK(psql != NULL);
    size_t plen = strlen(psql);
    if (plen <= LB_CONNSTR_MAX) {
        lb_kvlist out;
        lb_error err;
        lb_error_init(&err);
        LBF_CHECK(lb_connstr_parse(psql, plen, &out, &err) == LB_OK);
        LBF_CHECK(out.count >= 6);
        int secrets = 0;
        for (size_t i = 0; i < out.count; i++)
            secrets += lb_key_is_secret(out.items[i].key);
        LBF_CHECK(secrets == 1);
        const lb_kv *last = &out.items[out.count - 1];
        LBF_CHECK(strcmp(last->key, "PWD") == 0 && strcmp(last->value, cred) == 0);
        lb_kvlist_free(&out);
    }
    lb_secret_free(psql);
}

typedef struct {
    lb_result rc;
    lb_error err;
    lb_settings s;
} outcome;

static void resolve(const lb_kvlist *cs, int mask, outcome *o)
{
    g_mask = mask;
    lb_error_init(&o->err);
    o->rc = lb_settings_resolve(cs, &sources, &o->s, &o->err);
    g_mask = 0;
}

static void check_same_outcome(const outcome *a, const outcome *b)
{
    LBF_CHECK(a->rc == b->rc);
    LBF_CHECK(a->err.code == b->err.code);
    if (strcmp(a->err.message, b->err.message) != 0) {
        fprintf(stderr, "message depends on the secret:\n  %s\n  %s\n", a->err.message, b->err.message);
        LBF_CHECK(0);
    }
    if (a->rc != LB_OK)
        return;
    for (int k = 0; k < LB_KEY_COUNT; k++) {
        LBF_CHECK(a->s.source[k] == b->s.source[k]);
        LBF_CHECK((a->s.value[k] == NULL) == (b->s.value[k] == NULL));
        if (a->s.value[k] == NULL)
            continue;
        if (lb_key_info((lb_key)k)->secret) {
            /* The secret came from the same place: the masked run holds its masked form. */
            char *m = masked(a->s.value[k]);
            LBF_CHECK(strcmp(m, b->s.value[k]) == 0);
            free(m);
        } else {
            LBF_CHECK(strcmp(a->s.value[k], b->s.value[k]) == 0);
        }
    }
    LBF_CHECK(a->s.port == b->s.port);
    LBF_CHECK((a->s.dsn == NULL) == (b->s.dsn == NULL));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    const char *sep1 = memchr(s, '\0', size);
    size_t cs_len = sep1 ? (size_t)(sep1 - s) : size;
    const char *rest = sep1 ? sep1 + 1 : s + size;
    size_t rest_len = (size_t)(s + size - rest);
    const char *sep2 = memchr(rest, '\0', rest_len);
    size_t dsn_len = sep2 ? (size_t)(sep2 - rest) : rest_len;
    const char *env = sep2 ? sep2 + 1 : rest + rest_len;
    size_t env_len = (size_t)(s + size - env);

    lb_kvlist cs;
    lb_error perr;
    lb_error_init(&perr);
    if (lb_connstr_parse(s, cs_len, &cs, &perr) != LB_OK)
        return 0;
    lines_parse(rest, dsn_len, &g_dsn);
    lines_parse(env, env_len, &g_env);
    g_dsn_calls = 0;

    outcome plain;
    resolve(&cs, 0, &plain);
    if (lbf_verbose()) {
        if (plain.rc == LB_OK)
            fprintf(stderr, "settings: ok, host %s, port %d, sslmode %s\n", plain.s.value[LB_KEY_HOST], plain.s.port,
                    plain.s.value[LB_KEY_SSLMODE]);
        else
            fprintf(stderr, "settings: code %d %s\n", (int)plain.err.code, plain.err.message);
    }
    if (plain.rc == LB_OK) {
        LBF_CHECK(!lb_error_isset(&plain.err));
        check_settings(&plain.s, &cs);
    } else {
        lbf_check_error(&plain.err);
        if (lbf_strict_utf8() && lbf_utf8_valid(data, size))
            LBF_CHECK(lbf_utf8_valid((const unsigned char *)plain.err.message, strlen(plain.err.message)));
    }
    const char *dsn = lb_kvlist_get(&cs, "DSN");
    if (dsn == NULL || dsn[0] == '\0')
        LBF_CHECK(g_dsn_calls == 0);

    /* The same with every secret value replaced by the marker. */
    lb_kvlist mcs;
    lb_kvlist_init(&mcs);
    for (size_t i = 0; i < cs.count; i++) {
        const lb_kv *kv = &cs.items[i];
        char *m = masked(kv->value);
        LBF_CHECK(lb_kvlist_add(&mcs, kv->key, lb_key_is_secret(kv->key) ? m : kv->value) == 0);
        free(m);
    }
    outcome mask;
    resolve(&mcs, 1, &mask);
    check_same_outcome(&plain, &mask);

    /* Failures leave the settings empty, so freeing is always allowed. */
    lb_settings_free(&plain.s);
    lb_settings_free(&mask.s);
    lb_kvlist_free(&mcs);
    lb_kvlist_free(&cs);
    lines_free(&g_dsn);
    lines_free(&g_env);
    return 0;
}
