/* The tool's view of what a workspace holds (lb_listing.h): resolving the settings for a
 * listing (no Endpoint or Instance needed) and listing; the table for people (numbered
 * choices for add-dsn) and the --json form; a numbered choice back to its item. Shared by
 * cmd_endpoints.c and cmd_add_dsn.c. */
#ifndef LB_TOOL_LISTING_H
#define LB_TOOL_LISTING_H

#include "lb_listing.h"
#include "tool.h"

/* Resolves the settings of connstr/kv with the driver's sources and lb_sources.no_target
 * into plan and lists project/branch (NULL: all) into l; 0, or -1 after reporting the failing
 * step (settings or listing) through out. The plan is freed by the caller (lb_plan_free). */
int lb_tool_listing_fetch(lb_tool_out *out, const lb_kvlist *kv, const char *project, const char *branch,
                          lb_plan *plan, lb_listing *l);

/* The listing as a table for people: projects, their branches and endpoints indented under
 * them, then the Provisioned instances. numbered: endpoints and instances get the numbers
 * 1..n that lb_tool_listing_choice takes. Returns n (the endpoints and instances shown). */
int lb_tool_listing_print(const lb_tool_out *out, const lb_listing *l, int numbered);

/* The listing as "projects" (each with "branches", each with "endpoints") and "instances"
 * of the --json document. */
void lb_tool_listing_json(lb_tool_out *out, const lb_listing *l);

/* The endpoint or instance numbered n by lb_tool_listing_print, or NULL. */
const lb_listing_item *lb_tool_listing_choice(const lb_listing *l, int n);

#endif
