/* Network probes for diagnosis (lakebase-odbc doctor): a name resolved, a TCP connect, a
 * tunnel through an http:// proxy (CONNECT), PostgreSQL's SSLRequest and a TLS handshake
 * whose certificate chain is then judged twice: against the CA bundle in use (CAFile,
 * SSLRootCert, else the system store) and against the system store alone, so that a chain
 * a public CA did not sign (a TLS-inspecting proxy, a private CA) can be named. Every probe
 * is bounded by a timeout in milliseconds. ODBC-free; no secret passes through here. */
#ifndef LB_PROBE_H
#define LB_PROBE_H

#include <stddef.h>

struct addrinfo;

#define LB_PROBE_TEXT_MAX 256

/* Resolves host (TCP, any family) within timeout_ms: 0 with *out (freeaddrinfo it) and the
 * addresses as text in addrs ("127.0.0.1, ::1"); -1 with why. */
int lb_probe_dns(const char *host, int port, long timeout_ms, struct addrinfo **out, char *addrs, size_t addrs_size,
                 char *why, size_t why_size);

/* Connects to the first address of ai that answers, each within timeout_ms: the socket
 * (blocking, its reads and writes bounded by timeout_ms) and the address in peer, or -1
 * with why (refused, timed out, unreachable). */
int lb_probe_tcp(const struct addrinfo *ai, long timeout_ms, char *peer, size_t peer_size, char *why,
                 size_t why_size);

/* Through an http:// proxy already connected on fd: CONNECT host:port (with Basic
 * credentials when user is set), 0 once the proxy answers 2xx, or -1 with why (its status
 * line, never the credentials). */
int lb_probe_proxy_connect(int fd, const char *host, int port, const char *user, const char *password, char *why,
                           size_t why_size);

/* PostgreSQL's SSLRequest on fd: 1 when the server answers 'S' (TLS follows), 0 for 'N'
 * (no TLS), -1 with why (closed, timed out, not PostgreSQL). */
int lb_probe_pg_sslrequest(int fd, char *why, size_t why_size);

typedef struct {
    char protocol[32];                 /* "TLSv1.3" */
    char subject[LB_PROBE_TEXT_MAX];   /* the server certificate's subject */
    char issuer[LB_PROBE_TEXT_MAX];    /* the server certificate's issuer */
    char top_issuer[LB_PROBE_TEXT_MAX];/* the issuer of the last certificate the server sent */
    char anchor[LB_PROBE_TEXT_MAX];    /* the trusted CA the chain ends at (when verified) */
    char verify_error[LB_PROBE_TEXT_MAX]; /* why it did not verify against the CAs in use ("" when it did) */
    int verified;                      /* the chain verifies against the CAs in use, for host */
    int system_trusted;                /* the chain verifies against the system store alone */
} lb_probe_tls_report;

/* A TLS handshake on fd with host as SNI (within the socket's timeouts), then the chain
 * judged against cafile (NULL: the system store) and against the system store, with the
 * host name checked when check_host. 0 when the handshake completed (the report says
 * whether the chain verified), -1 with why when it did not. */
int lb_probe_tls(int fd, const char *host, const char *cafile, int check_host, lb_probe_tls_report *r, char *why,
                 size_t why_size);

/* The system store's location as OpenSSL uses it ("/etc/ssl/certs/ca-certificates.crt"). */
void lb_probe_system_store(char *buf, size_t size);

#endif
