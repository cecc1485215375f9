/* The Lakebase Autoscaling credential call: a database credential for an endpoint
 * (POST /api/2.0/postgres/credentials; what the workspace says about the endpoint is
 * lb_discovery.h). The credential's token is the PostgreSQL
 * password: a secret that lb_credential_clear wipes. */
#ifndef LB_LAKEBASE_H
#define LB_LAKEBASE_H

#include <time.h>

#include "lb_error.h"
#include "lb_http.h"

typedef struct {
    char *token;
    time_t expire_time; /* UTC seconds; 0 when the server did not say */
} lb_credential;

/* ttl_s > 0 asks for that lifetime ("ttl": "<n>s", 300 to 3600); 0 leaves it to the
 * server. *status gets the HTTP status when an answer came (0 otherwise). */
lb_result lb_lakebase_credential(const lb_http_opts *http, const char *host, const char *access_token,
                                 const char *endpoint, int ttl_s, lb_credential *out, long *status, lb_error *err);
void lb_credential_clear(lb_credential *c);

/* Parses a credential answer {token, <expiry_field>} (RFC 3339): the Autoscaling API says
 * expire_time, the Provisioned one expiration_time. */
lb_result lb_credential_parse(const char *body, size_t len, const char *expiry_field, lb_credential *out,
                              lb_error *err);
/* A failed workspace call about one endpoint or instance, for its message: the request
 * ("credential request", "request"), "endpoint" or "instance", its name, the key that
 * names it, what access is granted on, and the advice for a name the workspace does not
 * know. */
typedef struct {
    const char *request;
    const char *kind;
    const char *name;
    const char *key;
    const char *grant_on;
    const char *check_name;
} lb_api_target;

/* The one message per HTTP status of a failed call about an endpoint or instance (the
 * credential requests of both services, the instance look-up). */
lb_result lb_target_failure(const lb_api_target *t, long status, const char *why, lb_error *err);
/* Parses an Autoscaling credential answer body (exposed for tests). */
lb_result lb_lakebase_parse_credential(const char *body, size_t len, lb_credential *out, lb_error *err);

/* RFC 3339 ("2026-11-24T18:00:00Z", fractions and offsets allowed) to UTC seconds;
 * -1 when malformed. */
int lb_parse_rfc3339(const char *s, time_t *out);

#endif
