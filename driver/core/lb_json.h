/* JSON answers from the workspace: parsed with json-c under a depth limit, the whole
 * input consumed, the top level an object. Field getters return NULL when a field is
 * missing or of another type, so callers check shapes, never crash on them. Answers may
 * hold tokens: lb_json_put_wiped frees an object after wiping its strings, and the
 * parser wipes json-c's own copy of the text. */
#ifndef LB_JSON_H
#define LB_JSON_H

#include <stddef.h>

#include "lb_error.h"

struct json_object;

#define LB_JSON_MAX_DEPTH 16

/* Returns the object, or NULL when the text is not a JSON object (no error recorded:
 * the caller knows what it expected and says so). Free with lb_json_put_wiped. */
struct json_object *lb_json_parse_object(const char *text, size_t len);
/* Wipes every string value of obj (nested too), then json_object_put; NULL is a no-op. */
void lb_json_put_wiped(struct json_object *obj);

/* The string field key of obj, or NULL. */
const char *lb_json_string(struct json_object *obj, const char *key);
/* The integer field key of obj into *out; 0 on success, -1 when missing or not an integer. */
int lb_json_int64(struct json_object *obj, const char *key, long long *out);

/* A duration in whole seconds (the fraction dropped) from a JSON number (3599, 3599.5,
 * 3.6e3) or a string of digits with an optional fraction ("3599", "3599.5"), as OAuth
 * servers write expires_in. 0 on success (*out > 0, huge values capped at 10^15),
 * -1 when missing, -2 when of another shape or not positive. */
int lb_json_seconds(struct json_object *obj, const char *key, long long *out);

/* Describes an error body for a message: "CODE: message" from the REST shape
 * {"error_code" (a string or an integer), "message"}, the OAuth shapes {"error",
 * "error_description"} and {"errorCode", "errorSummary"}, or the older {"error":
 * "message"}; a google.rpc ErrorInfo reason in "details" that says more than the code
 * follows as " (reason: R)". Otherwise a printable prefix of the raw text. */
void lb_json_describe_error(const char *body, size_t len, char *buf, size_t size);

/* The error code of an error body (error_code, a string or an integer; else errorCode;
 * else an OAuth error), printable, into buf; "" when there is none. */
void lb_json_error_code(const char *body, size_t len, char *buf, size_t size);

#endif
