/* Network probes for diagnosis: name resolution, TCP, an http:// proxy's CONNECT,
 * PostgreSQL's SSLRequest and a TLS handshake whose chain is judged against the CAs in use
 * and against the system store (lb_probe.h). Every wait is bounded. */
#include "lb_probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "lb_buf.h"
#include "lb_error.h"
#include "lb_http.h"

int lb_probe_dns(const char *host, int port, long timeout_ms, struct addrinfo **out, char *addrs, size_t addrs_size,
                 char *why, size_t why_size)
{
    *out = NULL;
    addrs[0] = '\0';
    /* getaddrinfo_a: the request may outlive a timed-out wait, so it lives on the heap and
     * is left behind then (a bounded leak, once per probe, rather than a hang). */
    struct req {
        struct gaicb cb;
        struct addrinfo hints;
        char service[16];
        char host[];
    } *r = calloc(1, sizeof(*r) + strlen(host) + 1);
    if (r == NULL) {
        snprintf(why, why_size, "out of memory");
        return -1;
    }
    strcpy(r->host, host);
    snprintf(r->service, sizeof(r->service), "%d", port);
    r->hints.ai_family = AF_UNSPEC;
    r->hints.ai_socktype = SOCK_STREAM;
    r->cb.ar_name = r->host;
    r->cb.ar_service = r->service;
    r->cb.ar_request = &r->hints;
    struct gaicb *list[1] = {&r->cb};
    if (getaddrinfo_a(GAI_NOWAIT, list, 1, NULL) != 0) {
        snprintf(why, why_size, "the resolver could not start");
        free(r);
        return -1;
    }
    struct timespec ts = {timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};
    const struct gaicb *wait[1] = {&r->cb};
    int rc = gai_suspend(wait, 1, &ts);
    while (rc == EAI_INTR)
        rc = gai_suspend(wait, 1, &ts);
    rc = gai_error(&r->cb);
    if (rc == EAI_INPROGRESS) {
        if (gai_cancel(&r->cb) == EAI_CANCELED)
            free(r);
        snprintf(why, why_size, "no answer from the resolver within %ld ms", timeout_ms);
        return -1;
    }
    if (rc != 0) {
        snprintf(why, why_size, "%s", gai_strerror(rc));
        free(r);
        return -1;
    }
    *out = r->cb.ar_result;
    free(r);
    size_t used = 0;
    for (const struct addrinfo *a = *out; a && used + 2 < addrs_size; a = a->ai_next) {
        char text[INET6_ADDRSTRLEN] = "";
        const void *src = a->ai_family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr
                                                   : (const void *)&((struct sockaddr_in *)a->ai_addr)->sin_addr;
        inet_ntop(a->ai_family, src, text, sizeof(text));
        if (strstr(addrs, text))
            continue;
        int n = snprintf(addrs + used, addrs_size - used, "%s%s", used ? ", " : "", text);
        if (n < 0 || (size_t)n >= addrs_size - used)
            break;
        used += (size_t)n;
    }
    return 0;
}

static void peer_text(const struct addrinfo *a, char *buf, size_t size)
{
    char host[INET6_ADDRSTRLEN] = "?", serv[16] = "?";
    getnameinfo(a->ai_addr, a->ai_addrlen, host, sizeof(host), serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV);
    snprintf(buf, size, a->ai_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
}

int lb_probe_tcp(const struct addrinfo *ai, long timeout_ms, char *peer, size_t peer_size, char *why,
                 size_t why_size)
{
    snprintf(why, why_size, "no address to connect to");
    for (const struct addrinfo *a = ai; a; a = a->ai_next) {
        peer_text(a, peer, peer_size);
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0) {
            snprintf(why, why_size, "%s: %s", peer, strerror(errno));
            continue;
        }
        int rc = connect(fd, a->ai_addr, a->ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int n;
            do
                n = poll(&p, 1, (int)timeout_ms);
            while (n < 0 && errno == EINTR);
            int soerr = 0;
            socklen_t len = sizeof(soerr);
            if (n == 0) {
                errno = ETIMEDOUT;
                rc = -1;
            } else if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0) {
                rc = -1;
            } else {
                rc = soerr ? -1 : 0;
                errno = soerr;
            }
        }
        if (rc == 0) {
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
            struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
            why[0] = '\0';
            return fd;
        }
        if (errno == ETIMEDOUT)
            snprintf(why, why_size, "%s: no answer within %ld ms (a firewall dropping the packets, or no such host "
                     "on this network)", peer, timeout_ms);
        else
            snprintf(why, why_size, "%s: %s", peer, strerror(errno));
        close(fd);
    }
    return -1;
}

/* Reads up to size - 1 bytes until "\r\n\r\n" (an HTTP head), within the socket's timeout. */
static ssize_t read_head(int fd, char *buf, size_t size)
{
    size_t len = 0;
    while (len + 1 < size) {
        ssize_t n = recv(fd, buf + len, 1, 0);
        if (n <= 0)
            return n < 0 ? -1 : (ssize_t)len;
        len += (size_t)n;
        buf[len] = '\0';
        if (len >= 4 && memcmp(buf + len - 4, "\r\n\r\n", 4) == 0)
            break;
    }
    buf[len] = '\0';
    return (ssize_t)len;
}

int lb_probe_proxy_connect(int fd, const char *host, int port, const char *user, const char *password, char *why,
                           size_t why_size)
{
    char auth[1024] = "";
    if (user) {
        size_t n = strlen(user) + 1 + (password ? strlen(password) : 0);
        char *pair = malloc(n + 1);
        char *b64 = NULL;
        if (pair) {
            snprintf(pair, n + 1, "%s:%s", user, password ? password : "");
            b64 = lb_base64((const unsigned char *)pair, n);
            lb_wipe(pair, n);
            free(pair);
        }
        if (b64 == NULL || strlen(b64) + 40 > sizeof(auth)) {
            snprintf(why, why_size, "the proxy's user and password are too long");
            if (b64)
                lb_wipe(b64, strlen(b64));
            free(b64);
            return -1;
        }
        snprintf(auth, sizeof(auth), "Proxy-Authorization: Basic %s\r\n", b64);
        lb_wipe(b64, strlen(b64));
        free(b64);
    }
    char req[2048];
    int n = snprintf(req, sizeof(req), "CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n%sUser-Agent: lakebase-odbc doctor\r\n\r\n",
                     host, port, host, port, auth);
    lb_wipe(auth, sizeof(auth));
    int sent = n > 0 && (size_t)n < sizeof(req) && send(fd, req, (size_t)n, MSG_NOSIGNAL) == n;
    lb_wipe(req, sizeof(req));
    if (!sent) {
        snprintf(why, why_size, "the proxy took no request (%s)", strerror(errno));
        return -1;
    }
    char head[4096];
    ssize_t got = read_head(fd, head, sizeof(head));
    if (got <= 0) {
        snprintf(why, why_size, "the proxy did not answer CONNECT (%s)", got < 0 ? strerror(errno) : "closed");
        return -1;
    }
    head[strcspn(head, "\r\n")] = '\0';
    int status = 0;
    if (sscanf(head, "HTTP/%*s %d", &status) != 1 || status < 200 || status > 299) {
        lb_text_sanitize(head);
        snprintf(why, why_size, "the proxy refused CONNECT %s:%d: \"%.120s\"", host, port, head);
        return -1;
    }
    return 0;
}

int lb_probe_pg_sslrequest(int fd, char *why, size_t why_size)
{
    /* Int32 length 8, Int32 80877103 (1234 << 16 | 5679), both in network order. */
    static const unsigned char ssl_request[8] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f};
    if (send(fd, ssl_request, sizeof(ssl_request), MSG_NOSIGNAL) != (ssize_t)sizeof(ssl_request)) {
        snprintf(why, why_size, "could not send PostgreSQL's SSLRequest (%s)", strerror(errno));
        return -1;
    }
    unsigned char answer = 0;
    ssize_t n;
    do
        n = recv(fd, &answer, 1, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        snprintf(why, why_size, "no answer to PostgreSQL's SSLRequest within the time allowed: something that is "
                 "not PostgreSQL listens there, or it hangs");
        return -1;
    }
    if (n <= 0) {
        snprintf(why, why_size, "the server closed the connection at PostgreSQL's SSLRequest (%s)",
                 n < 0 ? strerror(errno) : "no answer");
        return -1;
    }
    if (answer == 'S')
        return 1;
    if (answer == 'N')
        return 0;
    snprintf(why, why_size, "the server answered PostgreSQL's SSLRequest with byte 0x%02x: not PostgreSQL",
             (unsigned)answer);
    return -1;
}

static void name_of(X509_NAME *name, char *buf, size_t size)
{
    buf[0] = '\0';
    if (name == NULL)
        return;
    X509_NAME_oneline(name, buf, (int)size);
    lb_text_sanitize(buf);
}

/* Verifies leaf with the chain the server sent against store; 1 when it does (anchor
 * named), 0 when not (error named). */
static int judge(X509_STORE *store, X509 *leaf, STACK_OF(X509) *chain, const char *host, char *anchor,
                 size_t anchor_size, char *error, size_t error_size)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int ok = 0;
    if (ctx && X509_STORE_CTX_init(ctx, store, leaf, chain) == 1) {
        if (host)
            X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(ctx), host, 0);
        ok = X509_verify_cert(ctx) == 1;
        if (ok && anchor) {
            STACK_OF(X509) *built = X509_STORE_CTX_get0_chain(ctx);
            int n = built ? sk_X509_num(built) : 0;
            if (n > 0)
                name_of(X509_get_subject_name(sk_X509_value(built, n - 1)), anchor, anchor_size);
        }
        if (!ok && error)
            snprintf(error, error_size, "%s", X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    } else if (error) {
        snprintf(error, error_size, "out of memory");
    }
    X509_STORE_CTX_free(ctx);
    return ok;
}

void lb_probe_system_store(char *buf, size_t size)
{
    const char *file = secure_getenv(X509_get_default_cert_file_env());
    snprintf(buf, size, "%s", file && file[0] ? file : X509_get_default_cert_file());
    if (access(buf, R_OK) != 0) {
        const char *dir = secure_getenv(X509_get_default_cert_dir_env());
        snprintf(buf, size, "%s", dir && dir[0] ? dir : X509_get_default_cert_dir());
    }
}

static X509_STORE *store_of(const char *cafile)
{
    X509_STORE *s = X509_STORE_new();
    if (s == NULL)
        return NULL;
    int ok = cafile ? X509_STORE_load_file(s, cafile) == 1 : X509_STORE_set_default_paths(s) == 1;
    if (!ok) {
        X509_STORE_free(s);
        return NULL;
    }
    return s;
}

int lb_probe_tls(int fd, const char *host, const char *cafile, int check_host, lb_probe_tls_report *r, char *why,
                 size_t why_size)
{
    memset(r, 0, sizeof(*r));
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = ctx ? SSL_new(ctx) : NULL;
    int rc = -1;
    if (ssl == NULL) {
        snprintf(why, why_size, "OpenSSL could not start a TLS session");
        goto done;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL); /* judged below, twice, from the chain */
    /* SNI only for a name, never for an address literal. */
    struct in6_addr any;
    if (inet_pton(AF_INET, host, &any) != 1 && inet_pton(AF_INET6, host, &any) != 1)
        SSL_set_tlsext_host_name(ssl, host);
    SSL_set_fd(ssl, fd);
    ERR_clear_error();
    if (SSL_connect(ssl) != 1) {
        unsigned long e = ERR_peek_last_error();
        char text[200] = "";
        if (e)
            ERR_error_string_n(e, text, sizeof(text));
        snprintf(why, why_size, "the TLS handshake failed (%s)",
                 text[0] ? text : errno == EAGAIN || errno == EWOULDBLOCK ? "no answer within the time allowed"
                                : errno ? strerror(errno) : "the server closed the connection");
        ERR_clear_error();
        goto done;
    }
    snprintf(r->protocol, sizeof(r->protocol), "%s", SSL_get_version(ssl));
    X509 *leaf = SSL_get1_peer_certificate(ssl);
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl); /* the server's, leaf first */
    if (leaf == NULL) {
        snprintf(why, why_size, "the server sent no certificate");
        goto done;
    }
    name_of(X509_get_subject_name(leaf), r->subject, sizeof(r->subject));
    name_of(X509_get_issuer_name(leaf), r->issuer, sizeof(r->issuer));
    int n = chain ? sk_X509_num(chain) : 0;
    name_of(X509_get_issuer_name(n > 0 ? sk_X509_value(chain, n - 1) : leaf), r->top_issuer, sizeof(r->top_issuer));
    const char *name = check_host ? host : NULL;
    X509_STORE *in_use = store_of(cafile);
    if (in_use == NULL) {
        snprintf(r->verify_error, sizeof(r->verify_error), "the CA bundle %s could not be read",
                 cafile ? cafile : "of the system");
    } else {
        r->verified = judge(in_use, leaf, chain, name, r->anchor, sizeof(r->anchor), r->verify_error,
                            sizeof(r->verify_error));
        X509_STORE_free(in_use);
    }
    X509_STORE *system = cafile ? store_of(NULL) : NULL;
    r->system_trusted = cafile ? (system && judge(system, leaf, chain, name, NULL, 0, NULL, 0)) : r->verified;
    X509_STORE_free(system);
    X509_free(leaf);
    rc = 0;
done:
    if (ssl && rc == 0)
        SSL_shutdown(ssl); /* a close_notify after a completed handshake; the caller closes fd */
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return rc;
}
