/* The connect flow up to psqlODBC: settings -> workspace OAuth token -> the target
 * (which Autoscaling endpoint or Provisioned instance, and its host: given, or looked up
 * through lb_discovery.h / lb_provisioned.h, cached) -> database credential (through the
 * cache) -> the connection string for psqlODBC, plus the output connection string for the
 * caller, and the target's state (cached briefly) for telling a waking compute from a
 * wrong address. ODBC-free, so the tests and the setup
 * tool can drive it; the driver adds the psqlODBC call and its retries. */
#ifndef LB_CONNECT_H
#define LB_CONNECT_H

#include "lb_cache.h"
#include "lb_connstr.h"
#include "lb_discovery.h"
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
    lb_cache_flight token_flight; /* TokenCache=off: the shared workspace token this connect holds */
    lb_deadline deadline;       /* the login timeout, else ConnectTimeout: bounds all of the connect */
    char *psql_connstr;         /* holds the credential: wiped by lb_plan_free */
    char *out_connstr;          /* the caller's input without secrets: safe to return and log */
    char *credential;           /* the credential in use (to forget it if the server refuses it) */
    lb_cache_origin token_origin, credential_origin;
    long long settings_ms, token_ms, credential_ms; /* time spent in each step */
    char *branch;               /* the branch Endpoint named, when it stopped there (the setting then
                                   holds the read-write endpoint chosen) */
    lb_cache_origin host_origin; /* where a discovered host came from */
    long long target_ms;        /* time spent choosing the endpoint and host (token excluded) */
    int user_logged;            /* the log said which PostgreSQL role and why */
} lb_plan;

/* Step 1: resolves settings from input and sources; login_timeout_s (0: none, then
 * ConnectTimeout) bounds everything after. input must outlive the plan. */
lb_result lb_plan_settings(lb_plan *plan, const lb_kvlist *input, const lb_sources *sources, long login_timeout_s,
                           lb_error *err);
/* Step 2, the target: which endpoint or instance and which host to connect to. An
 * Endpoint that stops at a branch becomes the branch's read-write endpoint (listed,
 * paged). A Servername the user gives wins and costs no look-up; without one, the
 * endpoint's status.hosts.host (or, with ReadReplica=yes, read_only_host) is looked up,
 * or the instance's read_write_dns (read_only_dns), waiting through an instance's
 * transient states (STARTING, UPDATING, FAILING_OVER) within the deadline. Both are
 * cached (lb_cache, the file cache too), so a cached host costs no look-up either. An
 * endpoint found INIT, DEGRADED or disabled, or an instance STOPPED or DELETING, by that
 * look-up is refused (LB_ERR_UNAVAILABLE); its state is not read again on connects that
 * use a cached host (the wake-up logic reads it when PostgreSQL refuses the connection). */
lb_result lb_plan_target(lb_plan *plan, lb_error *err);
/* Drops a discovered host from the cache (nothing answered there). */
void lb_plan_forget_host(lb_plan *plan);
/* 1 when the user's Servername is one of the endpoint's pooled hosts (PgBouncer, which
 * takes native passwords, not OAuth credentials), with the direct host in direct; 0
 * otherwise, for an instance, or when the endpoint cannot be read (a quick look-up). */
int lb_plan_pooled_host(lb_plan *plan, char *direct, size_t size);
/* UID when it was not given (a person's user name, from SCIM Me, once per identity); part
 * of lb_plan_credential, for callers that want it alone. */
lb_result lb_plan_resolve_user(lb_plan *plan, lb_error *err);
/* Step 3: obtains a credential (from the cache when one is usable) and builds both
 * connection strings. May be called again after lb_plan_forget_credential. */
lb_result lb_plan_credential(lb_plan *plan, lb_error *err);
/* A fresh database credential for the plan's target (no credential cache: for
 * lakebase-odbc token, which shows the server's expiry), with the workspace token from
 * the cache (a refused cached one is replaced once). Clear it with lb_credential_clear. */
lb_result lb_plan_fetch_credential(lb_plan *plan, lb_credential *out, lb_error *err);
/* The cache key of the plan's "token", "credential", "host", "replica host", "branch
 * endpoint" or "user" (kind): everything that changes what the value grants: workspace
 * host, the identity of the authentication source (oauth-m2m: client id and the SHA-256
 * of the secret; pat: the SHA-256 of the token; databricks-cli: the profile or host asked
 * for, and the CLI's path), whether a proxy is used, the target (all but tokens and users:
 * "endpoint" or "instance" and its name, so an endpoint and an instance never share a
 * value; for credentials also CredentialLifetime) or TokenEndpoint (tokens), and WorkspaceID. */
void lb_plan_cache_key(const lb_plan *plan, const char *kind, lb_buf *key);
/* The identity's stable secret, which seals its file cache entries (TokenCache=auto,
 * file), or NULL when it has none (auto then keeps its values in memory): the client
 * secret (oauth-m2m) or the personal access token (pat); none for CLI logins and federation. */
const char *lb_plan_stable_secret(const lb_plan *plan);
/* Who the plan's authentication source stands for (lakebase-odbc doctor): a workspace
 * token (from the cache when usable), then SCIM Me's userName (for a service principal its
 * application id) into user. The token's error (LB_ERR_AUTH when the workspace refuses the
 * identity) or SCIM Me's. */
lb_result lb_plan_whoami(lb_plan *plan, char *user, size_t size, lb_error *err);
/* The first secret key (ClientSecret, PWD, Token, ...) in DSN dsn's own section of an
 * odbc.ini that other users can read (the user's: ODBCINI, else ~/.odbc.ini; the system's:
 * ODBCSYSINI/odbc.ini, else /etc/odbc.ini): 1 with the key, the file and its mode; 0 when
 * none. What to move the secret to instead: lb_plan_exposed_secret_fix(key). */
int lb_plan_exposed_secret(const char *dsn, char *key, size_t key_size, char *file, size_t file_size,
                           unsigned *mode);
const char *lb_plan_exposed_secret_fix(const char *key);
/* Drops the plan's credential from the cache (the server refused it). */
void lb_plan_forget_credential(lb_plan *plan);
void lb_plan_free(lb_plan *plan);

/* A workspace token for the plan's identity, from the cache or fetched (a secret: free it
 * with lb_secret_free), for other workspace calls (lb_listing.h); a refusal names the
 * settings of the source in use. */
lb_result lb_plan_workspace_token(lb_plan *plan, char **token, lb_error *err);
/* The HTTP options of the plan's workspace calls (CAFile, Proxy, WorkspaceID, the deadline). */
lb_http_opts lb_plan_http_opts(const lb_plan *plan);

/* "endpoint" or "instance", and its name: where the plan connects ("(none: listing)" for
 * settings resolved with lb_sources.no_target and neither set). */
const char *lb_plan_target_kind(const lb_plan *plan);
const char *lb_plan_target_name(const lb_plan *plan);
/* 1 when state is the target's awake state: ACTIVE for an endpoint, AVAILABLE for an instance. */
int lb_plan_state_awake(const lb_plan *plan, const char *state);
/* LB_ERR_UNAVAILABLE (recorded in err, naming the state and what to do) when what the
 * workspace said takes no connections and waiting will not change that: an endpoint INIT,
 * DEGRADED or disabled (lb_discovery_check_state), an instance STOPPED or DELETING
 * (lb_provisioned_refused); LB_OK otherwise. */
lb_result lb_plan_check_state(const lb_plan *plan, const lb_endpoint_info *info, lb_error *err);

/* How long a person's user name from SCIM Me is reused (per workspace and identity). */
#define LB_USER_CACHE_S 3600
/* Seconds a discovered OAuth token endpoint is reused (in memory, and with the file cache on
 * disk): public metadata that changes only if the workspace moves. */
#define LB_DISCOVERY_CACHE_S 3600

/* How long what the workspace said about an endpoint or instance (its state) is reused (per process, per
 * workspace and endpoint): long enough that the wake-up retries of many connects ask
 * once, short enough that a compute suspended meanwhile is seen. */
#define LB_ENDPOINT_STATE_CACHE_MS 3000

/* What the workspace says about the plan's endpoint (state, hosts, disabled) or instance
 * (its state, read_write_dns as host, read_only_dns as read_only_host), with the plan's
 * workspace token, from the cache above or the workspace; bounded by the connect's
 * deadline. quick: one short look-up (for the wake-up logic); otherwise the usual
 * retries, and a refused cached token is replaced once. */
lb_result lb_plan_endpoint_info(lb_plan *plan, int quick, lb_endpoint_info *info, lb_error *err);

/* The psqlODBC connection string: DSN (so psqlODBC applies the user's options from
 * odbc.ini), every occurrence of every key the driver does not own, unchanged and in
 * order, psqlODBC's own logging off
 * (Debug=0, CommLog=0: it would log the password), then host, port, database, user,
 * sslmode, pqopt (the user's, plus sslrootcert when SSLRootCert is set) and the
 * credential as a braced PWD. The string lives in pages kept out of core dumps
 * (lb_secmem_dup): free it with lb_secret_free. NULL when out of memory, or when
 * Servername is not set yet (lb_plan_target sets it). */
char *lb_build_psql_connstr(const lb_settings *s, const lb_kvlist *input, const char *credential);

/* The caller's input with every secret key left out. */
char *lb_build_output_connstr(const lb_kvlist *input);

#endif
