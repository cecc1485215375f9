/* Lakebase Provisioned: the `database` service's calls and their parsing. A database
 * credential for an instance (POST /api/2.0/database/credentials with instance_names
 * and a fresh UUID v4 request_id; answer {token, expiration_time}), the instance's
 * look-up (GET /api/2.0/database/instances/<name>: read_write_dns, read_only_dns,
 * state) and the policy on its states: AVAILABLE connects, STOPPED and DELETING are
 * refused (LB_ERR_UNAVAILABLE), STARTING, UPDATING and FAILING_OVER are waited for
 * (lb_retry_instance) within the connect's deadline. The Autoscaling endpoints'
 * counterpart is lb_lakebase.h. */
#ifndef LB_PROVISIONED_H
#define LB_PROVISIONED_H

#include "lb_error.h"
#include "lb_http.h"
#include "lb_lakebase.h"
#include "lb_log.h"
#include "lb_retry.h"

/* A random (version 4, RFC 9562 variant) UUID from OpenSSL's RAND_bytes, lower-case
 * "xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx"; 0, or -1 when RAND_bytes fails. */
int lb_provisioned_uuid4(char out[37]);

/* Parses a credential answer {token, expiration_time} (RFC 3339) into out (exposed for tests). */
lb_result lb_provisioned_parse_credential(const char *body, size_t len, lb_credential *out, lb_error *err);

/* The database credential for instance, asked with a fresh request_id (which the HTTP
 * retries of this one request resend). *status gets the HTTP status when an answer came
 * (0 otherwise). */
lb_result lb_provisioned_credential(const lb_http_opts *http, const char *host, const char *access_token,
                                    const char *instance, lb_credential *out, long *status, lb_error *err);

typedef struct {
    char state[32];           /* "AVAILABLE", "STARTING", ... (printable) */
    char read_write_dns[256]; /* "" when the answer has none (yet) */
    char read_only_dns[256];  /* "" unless readable secondaries are on */
} lb_instance;

/* Parses an instance answer (exposed for tests); LB_ERR_PROTOCOL without a state. */
lb_result lb_provisioned_parse_instance(const char *body, size_t len, const char *name, lb_instance *out,
                                        lb_error *err);

/* Looks instance up; 404 is LB_ERR_NOT_FOUND naming the instance. One attempt and a
 * retry at most when quick is set (the wake-up logic asking for the state), else the
 * usual HTTP retries. *status as for the credential. */
lb_result lb_provisioned_instance(const lb_http_opts *http, const char *host, const char *access_token,
                                  const char *instance, int quick, lb_instance *out, long *status, lb_error *err);

typedef enum {
    LB_INSTANCE_READY,     /* AVAILABLE, or a state this driver does not know: try to connect */
    LB_INSTANCE_TRANSIENT, /* STARTING, UPDATING, FAILING_OVER: wait and ask again */
    LB_INSTANCE_REFUSED    /* STOPPED, DELETING: takes no connections until someone acts */
} lb_instance_class;

lb_instance_class lb_provisioned_classify(const char *state);

/* For a refused state (STOPPED, DELETING): records LB_ERR_UNAVAILABLE naming the instance,
 * the state and what to do, and returns it; LB_OK for any other state. */
lb_result lb_provisioned_refused(const char *instance, const char *state, lb_error *err);

/* The state policy: looks instance up until it is ready (then 0 and *out), waiting
 * between looks by lb_retry_instance while it is in a transient state, and failing with
 * LB_ERR_UNAVAILABLE for a refused state (naming it and what to do) or LB_ERR_TIMEOUT
 * when the deadline passes first (naming the state). *status as above (of the last look). */
lb_result lb_provisioned_await(const lb_http_opts *http, const char *host, const char *access_token,
                               const char *instance, const lb_logger *log, lb_instance *out, long *status,
                               lb_error *err);

#endif
