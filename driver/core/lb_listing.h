/* What a workspace holds for Lakebase, listed: the Autoscaling projects (GET
 * /api/2.0/postgres/projects), their branches (.../projects/<p>/branches) and the
 * branches' endpoints (.../branches/<b>/endpoints), each list followed through
 * next_page_token / page_token, and the Provisioned instances (GET
 * /api/2.0/database/instances, paged the same way), with their state, type and host.
 * For lakebase-odbc endpoints and add-dsn (setup/): the token comes from the plan's
 * authentication source (lb_connect.h), so every source the driver supports lists too.
 * Names and host names are no secret; the parsers are exposed for the tests. */
#ifndef LB_LISTING_H
#define LB_LISTING_H

#include <stddef.h>

#include "lb_connect.h"
#include "lb_error.h"
#include "lb_http.h"

typedef enum {
    LB_LISTING_PROJECT,  /* projects/<p>: display name, owner, PostgreSQL version */
    LB_LISTING_BRANCH,   /* projects/<p>/branches/<b>: state, default */
    LB_LISTING_ENDPOINT, /* .../endpoints/<e>: state, type, host */
    LB_LISTING_INSTANCE  /* a Provisioned instance: state, read_write_dns */
} lb_listing_kind;

typedef struct {
    lb_listing_kind kind;
    char name[LB_DISCOVERY_NAME_MAX]; /* the resource name (an instance: its name) */
    char state[32];                   /* status.current_state (instance: state); "" when absent */
    char type[40];                    /* endpoint: status.endpoint_type; "" otherwise */
    char host[LB_DISCOVERY_HOST_MAX]; /* endpoint: status.hosts.host; instance: read_write_dns */
    char display[256];                /* project: status.display_name (else spec's); instance: capacity */
    int is_default;                   /* branch: status.default */
    int disabled;                     /* endpoint: status.disabled */
} lb_listing_item;

typedef struct {
    lb_listing_item *items; /* projects, then each project's branches and endpoints, in the API's order */
    size_t count, cap;
    /* A service that could not be listed while the other could (e.g. no Provisioned
     * instances in this workspace, or no permission): its message, "" when it answered. */
    char autoscaling_error[LB_ERROR_MESSAGE_MAX];
    char provisioned_error[LB_ERROR_MESSAGE_MAX];
    int no_instances; /* the instances were not asked for (a project was named) */
} lb_listing;

void lb_listing_init(lb_listing *l);
void lb_listing_free(lb_listing *l);

/* The list's path below /api/2.0/ for kind under parent ("" for projects and instances,
 * projects/<p> for branches, projects/<p>/branches/<b> for endpoints), and the answer's
 * array field ("projects", "branches", "endpoints", "database_instances"). */
const char *lb_listing_field(lb_listing_kind kind);

/* Adds one page of a list answer ({"<field>": [...], "next_page_token": "..."}) to l;
 * next gets the next page's token ("" on the last page). A name outside parent, or one that
 * is not a plain resource name, is refused (LB_ERR_PROTOCOL). */
lb_result lb_listing_parse_page(lb_listing_kind kind, const char *body, size_t len, const char *parent, lb_listing *l,
                                char *next, size_t next_size, lb_error *err);

/* Every item of one list, page after page (page_size items a page, at most 100 pages). */
lb_result lb_listing_fetch(const lb_http_opts *http, const char *host, const char *access_token, lb_listing_kind kind,
                           const char *parent, int page_size, lb_listing *l, long *status, lb_error *err);

/* What the plan's workspace holds, with the plan's workspace token (resolved with
 * lb_sources.no_target: no Endpoint or Instance needed): project (NULL: every project; else
 * its id or projects/<id>) and its branches (branch NULL: all; else its id) with their
 * endpoints; the Provisioned instances only when project is NULL. A service that fails while
 * the other answers leaves its message in l (autoscaling_error, provisioned_error); LB_OK
 * then. An error when both fail, or when the project or branch asked for cannot be listed. */
lb_result lb_listing_workspace(lb_plan *plan, const char *project, const char *branch, lb_listing *l, lb_error *err);

#endif
