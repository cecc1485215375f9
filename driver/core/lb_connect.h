/* The connect flow up to psqlODBC: settings -> workspace OAuth token -> for a Lakebase
 * Provisioned instance, its look-up (host and state, lb_provisioned.h) -> database
 * credential (through the cache) -> the connection string for psqlODBC, plus the
 * output connection string for the caller, and the endpoint's state (cached briefly) for
 * telling a waking compute from a wrong address. ODBC-free, so the tests and the setup
 * tool can drive it; the driver adds the psqlODBC call and its retries. */
#ifndef LB_CONNECT_H
#define LB_CONNECT_H

#include "lb_cache.h"
#include "lb_connstr.h"
#include "lb_error.h"
#include "lb_lakebase.h"
#include "lb_log.h"
#include "lb_retry.h"
#include "lb_settings.h"

typedef struct {
    lb_settings settings;
    lb_logger log;
    const lb_kvlist *input;     /* the caller's, borrowed */
    long long start_ms;         /* monotonic */
    lb_deadline deadline;       /* the login timeout, else ConnectTimeout: bounds all of the connect */
    char *psql_connstr;         /* holds the credential: wiped by lb_plan_free */
    char *out_connstr;          /* the caller's input without secrets: safe to return and log */
    char *credential;           /* the credential in use (to forget it if the server refuses it) */
    lb_cache_origin token_origin, credential_origin;
    long long settings_ms, token_ms, credential_ms; /* time spent in each step */
    int instance_resolved;      /* a Provisioned instance was looked up (and Servername set) */
} lb_plan;

/* Step 1: resolves settings from input and sources; login_timeout_s (0: none, then
 * ConnectTimeout) bounds everything after. input must outlive the plan. */
lb_result lb_plan_settings(lb_plan *plan, const lb_kvlist *input, const lb_sources *sources, long login_timeout_s,
                           lb_error *err);
/* Step 2: for an Instance, looks it up once (its state may refuse the connect, or make
 * it wait within the deadline; its read_write_dns becomes Servername unless one was
 * given); then obtains a credential (from the cache when one is usable) and builds both
 * connection strings. May be called again after lb_plan_forget_credential. */
lb_result lb_plan_credential(lb_plan *plan, lb_error *err);
/* The cache key of the plan's "token", "credential" or "instance host" (kind): everything
 * that changes what the value grants: workspace host, client id, the SHA-256 of the
 * secret, whether a proxy is used, the target (credentials, instance hosts: "endpoint"
 * or "instance" and its name, so an endpoint and an instance never share a value) or
 * TokenEndpoint (tokens), and WorkspaceID. */
void lb_plan_cache_key(const lb_plan *plan, const char *kind, lb_buf *key);
/* Drops the plan's credential from the cache (the server refused it). */
void lb_plan_forget_credential(lb_plan *plan);
void lb_plan_free(lb_plan *plan);

/* "endpoint" or "instance", and its name: where the plan connects. */
const char *lb_plan_target_kind(const lb_plan *plan);
const char *lb_plan_target(const lb_plan *plan);
/* 1 when state is the target's awake state: ACTIVE for an endpoint, AVAILABLE for an instance. */
int lb_plan_state_awake(const lb_plan *plan, const char *state);
/* LB_ERR_UNAVAILABLE (recorded in err) when state takes no connections and waiting will not
 * change that (a Provisioned instance STOPPED or DELETING); LB_OK otherwise. */
lb_result lb_plan_state_refused(const lb_plan *plan, const char *state, lb_error *err);

/* How long a Provisioned instance's looked-up host is reused (per process, per
 * workspace, identity and instance); a state other than AVAILABLE is never kept. */
#define LB_INSTANCE_HOST_CACHE_S 60
/* Seconds a discovered OAuth token endpoint is reused (in memory, and with TokenCache=file in
 * the file cache): public metadata that changes only if the workspace moves. */
#define LB_DISCOVERY_CACHE_S 3600

/* How long an endpoint's state read from the workspace is reused (per process, per
 * workspace and endpoint): long enough that the wake-up retries of many connects ask
 * once, short enough that a compute suspended meanwhile is seen. */
#define LB_ENDPOINT_STATE_CACHE_MS 3000

/* The endpoint's status.current_state ("ACTIVE", "IDLE", ...), or the Provisioned
 * instance's state ("AVAILABLE", "STARTING", ...), with the plan's workspace
 * token, from the cache above or the workspace; bounded by the connect's deadline. 0 and
 * state, or -1 and why (for the log: the state could not be read). */
int lb_plan_endpoint_state(lb_plan *plan, char *state, size_t size, char *why, size_t why_size);

/* The psqlODBC connection string: DSN (so psqlODBC applies the user's options from
 * odbc.ini), every occurrence of every key the driver does not own, unchanged and in
 * order, psqlODBC's own logging off
 * (Debug=0, CommLog=0: it would log the password), then host, port, database, user,
 * sslmode, pqopt (the user's, plus sslrootcert when SSLRootCert is set) and the
 * credential as a braced PWD. The string lives in pages kept out of core dumps
 * (lb_secmem_dup): free it with lb_secret_free. */
char *lb_build_psql_connstr(const lb_settings *s, const lb_kvlist *input, const char *credential);

/* The caller's input with every secret key left out. */
char *lb_build_output_connstr(const lb_kvlist *input);

#endif
