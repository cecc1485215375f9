/* Connection strings: parsing, formatting and the strings the driver builds from them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "lb_connect.h"
#include "lb_connstr.h"

static lb_kvlist parse_ok(const char *s)
{
    lb_kvlist kv;
    lb_error err;
    lb_error_init(&err);
    assert_int_equal(lb_connstr_parse(s, strlen(s), &kv, &err), LB_OK);
    return kv;
}

static void parse_fails(const char *s, size_t len, const char *phrase)
{
    lb_kvlist kv;
    lb_error err;
    lb_error_init(&err);
    assert_int_not_equal(lb_connstr_parse(s, len, &kv, &err), LB_OK);
    assert_int_equal(kv.count, 0);
    assert_non_null(strstr(err.message, phrase));
}

static void test_simple(void **state)
{
    (void)state;
    lb_kvlist kv = parse_ok("DSN=lakebase;UID=someone");
    assert_int_equal(kv.count, 2);
    assert_string_equal(kv.items[0].key, "DSN");
    assert_string_equal(lb_kvlist_get(&kv, "dsn"), "lakebase");
    assert_string_equal(lb_kvlist_get(&kv, "Uid"), "someone");
    assert_null(lb_kvlist_get(&kv, "PWD"));
    lb_kvlist_free(&kv);
}

static void test_braces_and_escapes(void **state)
{
    (void)state;
    lb_kvlist kv = parse_ok("PWD={a;b=c}}d{e};X=1;Y={}}};Z={;}");
    assert_string_equal(lb_kvlist_get(&kv, "PWD"), "a;b=c}d{e");
    assert_string_equal(lb_kvlist_get(&kv, "X"), "1");
    assert_string_equal(lb_kvlist_get(&kv, "Y"), "}");
    assert_string_equal(lb_kvlist_get(&kv, "Z"), ";");
    lb_kvlist_free(&kv);
}

static void test_empty_values_and_separators(void **state)
{
    (void)state;
    lb_kvlist kv = parse_ok(";;A=;B={};  ;C = x y ;");
    assert_int_equal(kv.count, 3);
    assert_string_equal(lb_kvlist_get(&kv, "A"), "");
    assert_string_equal(lb_kvlist_get(&kv, "B"), "");
    assert_string_equal(lb_kvlist_get(&kv, "C"), "x y");
    lb_kvlist_free(&kv);
    kv = parse_ok("");
    assert_int_equal(kv.count, 0);
    lb_kvlist_free(&kv);
}

static void test_duplicates_first_wins(void **state)
{
    (void)state;
    lb_kvlist kv = parse_ok("Port=1;port=2;PORT=3");
    assert_int_equal(kv.count, 3);
    assert_string_equal(lb_kvlist_get(&kv, "Port"), "1");
    lb_kvlist_free(&kv);
}

static void test_length_is_respected(void **state)
{
    (void)state;
    const char *s = "A=1;B=2";
    lb_kvlist kv;
    lb_error err;
    lb_error_init(&err);
    assert_int_equal(lb_connstr_parse(s, 3, &kv, &err), LB_OK);
    assert_int_equal(kv.count, 1);
    assert_string_equal(lb_kvlist_get(&kv, "A"), "1");
    lb_kvlist_free(&kv);
}

static void test_errors(void **state)
{
    (void)state;
    parse_fails("A={never closed;B=2", 19, "never closed");
    parse_fails("A=1;justakey;B=2", 16, "has no '='");
    parse_fails("=value", 6, "empty key");
    parse_fails("A={x}y;B=1", 10, "after the braced value");
    parse_fails("A=1\0B=2", 7, "NUL byte");
    parse_fails("A{=1", 4, "does not allow");
    size_t big = LB_CONNSTR_MAX + 1;
    char *s = malloc(big);
    memset(s, 'a', big);
    s[0] = 'K';
    s[1] = '=';
    parse_fails(s, big, "limit");
    free(s);
}

static void test_format_round_trip(void **state)
{
    (void)state;
    const char *values[] = {"plain", "a;b", "}{", " lead", "trail ", "x=y", "", "{x}", NULL};
    for (int i = 0; values[i]; i++) {
        lb_buf b;
        lb_buf_init(&b, 0);
        assert_int_equal(lb_connstr_append(&b, "K", values[i], 0), 0);
        assert_int_equal(lb_connstr_append(&b, "PWD", values[i], 1), 0);
        lb_kvlist kv = parse_ok(b.data);
        assert_string_equal(lb_kvlist_get(&kv, "K"), values[i]);
        assert_string_equal(lb_kvlist_get(&kv, "PWD"), values[i]);
        assert_int_equal(strncmp(strstr(b.data, "PWD="), "PWD={", 5), 0);
        lb_kvlist_free(&kv);
        lb_buf_free(&b);
    }
}

static void test_output_string_drops_secrets(void **state)
{
    (void)state;
    lb_kvlist kv = parse_ok("DSN=x;ClientSecret=s3cret;pwd={p;w};Password=pp;UseDeclareFetch=1;clientsecret=z");
    char *out = lb_build_output_connstr(&kv);
    assert_string_equal(out, "DSN=x;UseDeclareFetch=1;");
    free(out);
    lb_kvlist_free(&kv);
}

static void test_psql_string(void **state)
{
    (void)state;
    lb_kvlist kv = parse_ok("Driver=Lakebase;DSN=mine;DatabricksHost=https://h;ClientSecret=s;Server=ignored;"
                            "UseDeclareFetch=1;usedeclarefetch=2;ReadOnly={a;b};Endpoint=e;Debug=1;commlog=1");
    lb_settings s = {0};
    char dsn[] = "mine", server[] = "db.example", port[] = "5432", db[] = "databricks_postgres",
         uid[] = "c00f575e-d706-4f6b-b62c-e7a14850571b", mode[] = "require";
    s.dsn = dsn;
    s.value[LB_KEY_SERVER] = server;
    s.value[LB_KEY_PORT] = port;
    s.value[LB_KEY_DATABASE] = db;
    s.value[LB_KEY_UID] = uid;
    s.value[LB_KEY_SSLMODE] = mode;
    char *out = lb_build_psql_connstr(&s, &kv, "tok}en;=");
    /* Repeats of a key the driver does not own all go on, in order (psqlODBC takes the last). */
    assert_string_equal(out, "DSN=mine;UseDeclareFetch=1;usedeclarefetch=2;ReadOnly={a;b};Debug=0;CommLog=0;"
                             "Servername=db.example;Port=5432;"
                             "Database=databricks_postgres;UID=c00f575e-d706-4f6b-b62c-e7a14850571b;"
                             "SSLmode=require;PWD={tok}}en;=};");
    /* The credential survives a round trip through a parser that knows braces. */
    lb_kvlist back = parse_ok(out);
    assert_string_equal(lb_kvlist_get(&back, "PWD"), "tok}en;=");
    lb_kvlist_free(&back);
    lb_secret_free(out);
    lb_kvlist_free(&kv);
}

/* sslrootcert joins the user's pqopt, single-quoted for libpq, the whole braced for ODBC. */
static void test_psql_string_pqopt(void **state)
{
    (void)state;
    lb_kvlist kv = parse_ok("pqopt={ignored};D5=ignored");
    lb_settings s = {0};
    char server[] = "db", port[] = "5432", db[] = "d", uid[] = "u", mode[] = "verify-full",
         root[] = "/a b/it's\\}.pem", pqopt[] = "application_name=x";
    s.value[LB_KEY_SERVER] = server;
    s.value[LB_KEY_PORT] = port;
    s.value[LB_KEY_DATABASE] = db;
    s.value[LB_KEY_UID] = uid;
    s.value[LB_KEY_SSLMODE] = mode;
    s.value[LB_KEY_SSL_ROOT_CERT] = root;
    s.value[LB_KEY_PQOPT] = pqopt;
    char *out = lb_build_psql_connstr(&s, &kv, "t");
    assert_string_equal(out, "Debug=0;CommLog=0;Servername=db;Port=5432;Database=d;UID=u;SSLmode=verify-full;"
                             "pqopt={application_name=x sslrootcert='/a b/it\\'s\\\\}}.pem'};PWD={t};");
    lb_secret_free(out);
    /* Without SSLRootCert the user's pqopt goes on alone; without either, no pqopt. */
    s.value[LB_KEY_SSL_ROOT_CERT] = NULL;
    out = lb_build_psql_connstr(&s, &kv, "t");
    assert_non_null(strstr(out, ";pqopt={application_name=x};PWD"));
    lb_secret_free(out);
    s.value[LB_KEY_PQOPT] = NULL;
    out = lb_build_psql_connstr(&s, &kv, "t");
    assert_null(strstr(out, "pqopt"));
    lb_secret_free(out);
    lb_kvlist_free(&kv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple),
        cmocka_unit_test(test_braces_and_escapes),
        cmocka_unit_test(test_empty_values_and_separators),
        cmocka_unit_test(test_duplicates_first_wins),
        cmocka_unit_test(test_length_is_respected),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_format_round_trip),
        cmocka_unit_test(test_output_string_drops_secrets),
        cmocka_unit_test(test_psql_string),
        cmocka_unit_test(test_psql_string_pqopt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
