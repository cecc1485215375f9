/* The Azure sources' shared parts (driver/core/auth/lb_auth_azure.c): Entra v1 and
 * metadata-service token answers (expires_in as a string, expires_on alone), their error bodies
 * (the first line of the AADSTS description, a secret never shown), the appid claim of a token,
 * the clouds, and the bearer value with the management-token header lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth/lb_auth_azure.h"
#include "lb_secmem.h"

static void test_parse_token(void **state)
{
    (void)state;
    lb_token t;
    lb_error err;
    lb_error_init(&err);
    static const char v1[] = "{\"token_type\":\"Bearer\",\"expires_in\":\"3599\",\"ext_expires_in\":\"3599\","
                             "\"expires_on\":\"1700000000\",\"resource\":\"r\",\"access_token\":\"eyJ.a.b\"}";
    assert_int_equal(lb_azure_parse_token(v1, strlen(v1), "Entra ID", &t, &err), LB_OK);
    assert_string_equal(t.access_token, "eyJ.a.b");
    assert_int_equal(t.expires_in, 3599);
    lb_token_clear(&t);
    char on[200];
    snprintf(on, sizeof(on), "{\"access_token\":\"x\",\"expires_on\":\"%lld\"}", (long long)time(NULL) + 600);
    assert_int_equal(lb_azure_parse_token(on, strlen(on), "IMDS", &t, &err), LB_OK);
    assert_true(t.expires_in > 590 && t.expires_in <= 600);
    lb_token_clear(&t);
    static const char none[] = "{\"access_token\":\"x\"}";
    assert_int_equal(lb_azure_parse_token(none, strlen(none), "IMDS", &t, &err), LB_OK);
    assert_int_equal(t.expires_in_unreadable, 1);
    lb_token_clear(&t);
    static const char mac[] = "{\"access_token\":\"x\",\"token_type\":\"mac\"}";
    assert_int_equal(lb_azure_parse_token(mac, strlen(mac), "Entra ID", &t, &err), LB_ERR_PROTOCOL);
    static const char nl[] = "{\"access_token\":\"x\\nEvil: y\"}";
    assert_int_equal(lb_azure_parse_token(nl, strlen(nl), "Entra ID", &t, &err), LB_ERR_PROTOCOL);
    assert_int_equal(lb_azure_parse_token("[]", 2, "Entra ID", &t, &err), LB_ERR_PROTOCOL);
}

static void test_describe_error(void **state)
{
    (void)state;
    static const char body[] = "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: Invalid client "
                               "secret provided (s3cr3t).\\r\\nTrace ID: 1\\r\\nCorrelation ID: 2\","
                               "\"error_codes\":[7000215]}";
    char buf[300];
    lb_azure_describe_error(body, strlen(body), "s3cr3t", buf, sizeof(buf));
    assert_string_equal(buf, "invalid_client: AADSTS7000215: Invalid client secret provided (******).");
    static const char imds[] = "{\"error\":\"invalid_request\",\"error_description\":\"Identity not found\"}";
    lb_azure_describe_error(imds, strlen(imds), NULL, buf, sizeof(buf));
    assert_string_equal(buf, "invalid_request: Identity not found");
}

static void test_appid(void **state)
{
    (void)state;
    char id[80];
    /* {"appid":"5d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a","oid":"o"} base64url, no padding */
    static const char tok[] = "eyJhbGciOiJIUzI1NiJ9.eyJhcHBpZCI6IjVkOGU5ZjBhLTFiMmMtNGQzZS04ZjRhLTViNmM3ZDhlOWYwYSIsIm9p"
                              "ZCI6Im8ifQ.sig\nX-Databricks-Azure-SP-Management-Token: m";
    assert_int_equal(lb_azure_token_appid(tok, id, sizeof(id)), 0);
    assert_string_equal(id, "5d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a");
    /* {"appid":"x'; drop"} : not an application id */
    static const char bad[] = "h.eyJhcHBpZCI6IngnOyBkcm9wIn0.s";
    assert_int_equal(lb_azure_token_appid(bad, id, sizeof(id)), -1);
    assert_int_equal(lb_azure_token_appid("opaque-token", id, sizeof(id)), -1);
    assert_int_equal(lb_azure_token_appid("a.!!!.c", id, sizeof(id)), -1);
}

static void test_cloud_and_bearer(void **state)
{
    (void)state;
    lb_settings s;
    memset(&s, 0, sizeof(s));
    char login[512], mgmt[128];
    lb_error err;
    lb_error_init(&err);
    char host[] = "https://adb-1.2.databricks.azure.us";
    s.value[LB_KEY_HOST] = host;
    assert_int_equal(lb_azure_cloud(&s, login, sizeof(login), mgmt, sizeof(mgmt), &err), LB_OK);
    assert_string_equal(login, "https://login.microsoftonline.us");
    assert_string_equal(mgmt, "https://management.core.usgovcloudapi.net/");
    char env[] = "china", lh[] = "https://localhost:1/";
    s.value[LB_KEY_AZURE_ENVIRONMENT] = env;
    s.value[LB_KEY_AZURE_LOGIN_HOST] = lh;
    assert_int_equal(lb_azure_cloud(&s, login, sizeof(login), mgmt, sizeof(mgmt), &err), LB_OK);
    assert_string_equal(login, "https://localhost:1");
    assert_string_equal(mgmt, "https://management.core.chinacloudapi.cn/");
    char rid[] = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Databricks/workspaces/w";
    s.value[LB_KEY_AZURE_RESOURCE_ID] = rid;
    lb_token a = {.access_token = lb_secmem_dup("dbx"), .expires_in = 3599},
             b = {.access_token = lb_secmem_dup("mgmt"), .expires_in = 600}, out;
    assert_int_equal(lb_azure_bearer(&s, &a, &b, &out, &err), LB_OK);
    assert_string_equal(out.access_token, "dbx\nX-Databricks-Azure-SP-Management-Token: mgmt\n"
                                          "X-Databricks-Azure-Workspace-Resource-Id: /subscriptions/s/resourceGroups/g/"
                                          "providers/Microsoft.Databricks/workspaces/w");
    assert_int_equal(out.expires_in, 600);
    assert_null(a.access_token);
    lb_token_clear(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_token), cmocka_unit_test(test_describe_error), cmocka_unit_test(test_appid),
        cmocka_unit_test(test_cloud_and_bearer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
