/* lb_probe: PostgreSQL's SSLRequest (the bytes sent; 'S', 'N', another byte, a close and
 * silence within the socket's timeout), an http:// proxy's CONNECT (the request, Basic
 * credentials, a refusal quoted without them), DNS of localhost, and TCP to a closed and
 * to a listening loopback port. The peer is the other end of a socket pair or a loopback
 * listener; the TLS handshake itself is covered by tests/setup/doctor_test.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "lb_log.h"
#include "lb_probe.h"

static void pair(int sv[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct timeval tv = {0, 300 * 1000};
    setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static int sslrequest_answered(const char *answer, size_t len, char *why, size_t size)
{
    int sv[2];
    pair(sv);
    if (len)
        assert_int_equal(write(sv[1], answer, len), (ssize_t)len);
    int rc = lb_probe_pg_sslrequest(sv[0], why, size);
    unsigned char sent[16];
    ssize_t n = recv(sv[1], sent, sizeof(sent), MSG_DONTWAIT);
    static const unsigned char want[8] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f};
    assert_int_equal(n, 8);
    assert_memory_equal(sent, want, 8);
    close(sv[0]);
    close(sv[1]);
    return rc;
}

static void test_sslrequest(void **state)
{
    (void)state;
    char why[256] = "";
    assert_int_equal(sslrequest_answered("S", 1, why, sizeof(why)), 1);
    assert_int_equal(sslrequest_answered("N", 1, why, sizeof(why)), 0);
    assert_int_equal(sslrequest_answered("E", 1, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "byte 0x45: not PostgreSQL"));
    long long t0 = lb_now_ms();
    assert_int_equal(sslrequest_answered("", 0, why, sizeof(why)), -1);
    long long ms = lb_now_ms() - t0;
    printf("silent peer: %s (after %lld ms, timeout 300 ms)\n", why, ms);
    assert_non_null(strstr(why, "no answer to PostgreSQL's SSLRequest"));
    assert_true(ms < 5000);
    /* The peer closes after reading. */
    int sv[2];
    pair(sv);
    shutdown(sv[1], SHUT_WR);
    assert_int_equal(lb_probe_pg_sslrequest(sv[0], why, sizeof(why)), -1);
    assert_non_null(strstr(why, "closed the connection"));
    close(sv[0]);
    close(sv[1]);
}

static int proxy_answered(const char *answer, const char *user, const char *password, char *request, size_t rsize,
                          char *why, size_t wsize)
{
    int sv[2];
    pair(sv);
    assert_int_equal(write(sv[1], answer, strlen(answer)), (ssize_t)strlen(answer));
    int rc = lb_probe_proxy_connect(sv[0], "workspace.example", 443, user, password, why, wsize);
    ssize_t n = recv(sv[1], request, rsize - 1, MSG_DONTWAIT);
    request[n > 0 ? n : 0] = '\0';
    close(sv[0]);
    close(sv[1]);
    return rc;
}

static void test_proxy_connect(void **state)
{
    (void)state;
    char req[2048], why[256] = "";
    assert_int_equal(proxy_answered("HTTP/1.1 200 Connection established\r\n\r\n", NULL, NULL, req, sizeof(req), why,
                                    sizeof(why)),
                     0);
    assert_non_null(strstr(req, "CONNECT workspace.example:443 HTTP/1.1\r\nHost: workspace.example:443\r\n"));
    assert_null(strstr(req, "Proxy-Authorization"));
    /* Basic credentials: base64("tester:s3cret-pw") */
    assert_int_equal(proxy_answered("HTTP/1.0 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n",
                                    "tester", "s3cret-pw", req, sizeof(req), why, sizeof(why)),
                     -1);
    assert_non_null(strstr(req, "Proxy-Authorization: Basic dGVzdGVyOnMzY3JldC1wdw==\r\n"));
    printf("refused: %s\n", why);
    assert_non_null(strstr(why, "the proxy refused CONNECT workspace.example:443: \"HTTP/1.0 407"));
    assert_null(strstr(why, "s3cret-pw"));
    assert_null(strstr(why, "dGVzdGVy"));
    assert_int_equal(proxy_answered("", NULL, NULL, req, sizeof(req), why, sizeof(why)), -1);
    assert_non_null(strstr(why, "did not answer CONNECT"));
}

static void test_dns_and_tcp(void **state)
{
    (void)state;
    struct addrinfo *ai = NULL;
    char addrs[256], why[256] = "", peer[128];
    assert_int_equal(lb_probe_dns("localhost", 5432, 5000, &ai, addrs, sizeof(addrs), why, sizeof(why)), 0);
    printf("localhost is %s\n", addrs);
    assert_non_null(strstr(addrs, "127.0.0.1"));
    freeaddrinfo(ai);

    /* A listener on loopback: connected; closed, then refused. */
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(l, 1), 0);
    assert_int_equal(getsockname(l, (struct sockaddr *)&sa, &len), 0);
    int port = ntohs(sa.sin_port);
    assert_int_equal(lb_probe_dns("127.0.0.1", port, 5000, &ai, addrs, sizeof(addrs), why, sizeof(why)), 0);
    int fd = lb_probe_tcp(ai, 5000, peer, sizeof(peer), why, sizeof(why));
    assert_true(fd >= 0);
    char want[64];
    snprintf(want, sizeof(want), "127.0.0.1:%d", port);
    assert_string_equal(peer, want);
    close(fd);
    close(l);
    long long t0 = lb_now_ms();
    assert_int_equal(lb_probe_tcp(ai, 5000, peer, sizeof(peer), why, sizeof(why)), -1);
    printf("closed port: %s (%lld ms)\n", why, lb_now_ms() - t0);
    assert_non_null(strstr(why, "Connection refused"));
    freeaddrinfo(ai);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sslrequest),
        cmocka_unit_test(test_proxy_connect),
        cmocka_unit_test(test_dns_and_tcp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
