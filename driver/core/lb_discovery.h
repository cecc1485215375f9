/* What the workspace says about a Lakebase Autoscaling endpoint: its host names
 * (read-write, read-only, the pooled ones), its state, its type and whether it is
 * disabled (GET /api/2.0/postgres/<endpoint>), which endpoint of a branch is its
 * read-write one (GET .../branches/<b>/endpoints, paged), and whether a state takes
 * connections. The parsers are exposed for the tests. Host names are no secret. */
#ifndef LB_DISCOVERY_H
#define LB_DISCOVERY_H

#include <stddef.h>

#include "lb_error.h"
#include "lb_http.h"

#define LB_DISCOVERY_HOST_MAX 256
#define LB_DISCOVERY_NAME_MAX 512

typedef struct {
    char host[LB_DISCOVERY_HOST_MAX];           /* status.hosts.host: the read-write host */
    char read_only_host[LB_DISCOVERY_HOST_MAX]; /* status.hosts.read_only_host ("" without readable secondaries) */
    char rw_pooled_host[LB_DISCOVERY_HOST_MAX]; /* status.hosts.read_write_pooled_host (PgBouncer) */
    char ro_pooled_host[LB_DISCOVERY_HOST_MAX]; /* status.hosts.read_only_pooled_host */
    char state[32];                             /* status.current_state ("" when absent) */
    char type[40];                              /* status.endpoint_type */
    int disabled;                               /* status.disabled: a connection cannot wake it */
} lb_endpoint_info;

/* One page of a branch's endpoint list, accumulated over pages. */
typedef struct {
    char read_write[2][LB_DISCOVERY_NAME_MAX]; /* the first two read-write endpoints' names */
    int read_write_count;                      /* how many read-write endpoints were listed */
    int total;                                 /* how many endpoints were listed */
} lb_branch_scan;

/* True when name is a branch (projects/<p>/branches/<b>), not a full endpoint name. */
int lb_discovery_is_branch(const char *name);

/* Parses an endpoint answer (the fields above; absent ones stay empty, a host name that
 * is not a plain DNS name or address is refused). endpoint is for messages. */
lb_result lb_discovery_parse_endpoint(const char *body, size_t len, const char *endpoint, lb_endpoint_info *out,
                                      lb_error *err);

/* GET /api/2.0/postgres/<endpoint>. quick: one attempt and a retry, of a few seconds each
 * (for a caller deciding how to treat a refused connection, which must not wait long);
 * otherwise the usual retries. *status gets the HTTP status when an answer came. */
lb_result lb_discovery_endpoint(const lb_http_opts *http, const char *host, const char *access_token,
                                const char *endpoint, int quick, lb_endpoint_info *out, long *status, lb_error *err);

/* Adds one page of a branch listing ({"endpoints": [...], "next_page_token"}) to scan;
 * next gets the next page's token ("" on the last page). Names outside branch are refused. */
lb_result lb_discovery_parse_page(const char *body, size_t len, const char *branch, lb_branch_scan *scan,
                                  char *next, size_t next_size, lb_error *err);

/* The read-write endpoint of branch (following next_page_token, page_size at a time, at
 * most 100 pages) into name: an error when there is none or more than one. */
lb_result lb_discovery_branch_endpoint(const lb_http_opts *http, const char *host, const char *access_token,
                                       const char *branch, int page_size, char *name, size_t size, long *status,
                                       lb_error *err);

/* LB_OK when the endpoint may take a connection (ACTIVE; IDLE wakes on connect; a state
 * this driver does not know is tried too); LB_ERR_UNAVAILABLE, naming the state and
 * what to do, for INIT, DEGRADED or disabled. */
lb_result lb_discovery_check_state(const lb_endpoint_info *info, const char *endpoint, lb_error *err);

#endif
