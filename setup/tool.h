/* The lakebase-odbc tool's shared declarations: the command table's entry type, the
 * output context every command writes through (people or --json), and the workspace
 * options (--dsn, --profile, --set, --connection-string) that the commands which talk
 * to the workspace share. Each command lives in its own cmd_<name>.c. */
#ifndef LB_TOOL_H
#define LB_TOOL_H

#include <json-c/json.h>

#include "lb_connect.h"
#include "lb_connstr.h"
#include "lb_error.h"
#include "lb_settings.h"

/* Exit statuses: 0 only on success. */
#define TOOL_EXIT_OK 0
#define TOOL_EXIT_FAIL 1  /* the command ran and what it checked failed */
#define TOOL_EXIT_USAGE 2 /* bad arguments */

typedef struct {
    int json;          /* --json: one JSON document on standard output, nothing else there */
    int color;         /* colours: only when standard output is a terminal and NO_COLOR is unset */
    json_object *doc;  /* the --json document being built (an object) */
} lb_tool_out;

typedef struct lb_tool_command {
    const char *name;
    const char *summary;  /* one line for the overview */
    const char *usage;    /* the synopsis after "lakebase-odbc " */
    const char *help;     /* the rest of --help */
    int (*run)(lb_tool_out *out, int argc, char **argv); /* argv[0] is the command's name */
} lb_tool_command;

/* The commands, in the order of the overview (tool_main.c), NULL-name terminated. */
extern const lb_tool_command lb_tool_commands[];

/* --- output (tool_out.c) --- */
void lb_tool_out_init(lb_tool_out *out, int json);
/* Prints the --json document (when json) and frees it; returns status unchanged. */
int lb_tool_out_finish(lb_tool_out *out, int status);
/* A line for people (nothing in --json mode). */
void lb_tool_say(const lb_tool_out *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A problem: on standard error for people; in --json also "error" of the document. */
void lb_tool_fail(lb_tool_out *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A warning on standard error (both modes). */
void lb_tool_warn(const lb_tool_out *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One step of a check: "ok"/"FAIL" mark, name, duration (ms < 0: none) and detail; in --json
 * appended to the document's "steps" array. */
void lb_tool_step(lb_tool_out *out, int ok, const char *name, long long ms, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Colour helpers: the escape or "" (no colour). */
const char *lb_tool_green(const lb_tool_out *out);
const char *lb_tool_red(const lb_tool_out *out);
const char *lb_tool_bold(const lb_tool_out *out);
const char *lb_tool_reset(const lb_tool_out *out);

/* Prints the command's usage and help on standard output. */
void lb_tool_print_help(const lb_tool_command *cmd);
/* The command of that name, or NULL. */
const lb_tool_command *lb_tool_find_command(const char *name);

/* --- workspace options (tool_conn.c) --- */
typedef struct {
    const char *dsn;              /* --dsn NAME or the positional DSN */
    const char *profile;          /* --profile P */
    const char *connection_string; /* --connection-string S */
    const char *sets[64];         /* --set KEY=VALUE, in order */
    int nsets;
    int secret_in_args;           /* a --set or the connection string holds a secret key */
} lb_tool_conn_opts;

/* Consumes argv[*i] (and its value) when it is a workspace option: 1 when consumed, 0 when
 * not one, -1 on a malformed one (reported through out). */
int lb_tool_conn_option(lb_tool_out *out, lb_tool_conn_opts *o, int argc, char **argv, int *i);
/* The connection string the tool and the driver manager use: the --set pairs first (the
 * first occurrence of a key wins), then Profile, then the connection string or DSN=. */
lb_result lb_tool_conn_string(const lb_tool_conn_opts *o, lb_buf *out, lb_error *err);
/* The sources the driver reads besides the connection string: the DSN through the ODBC
 * installer API, the environment with secure_getenv. */
lb_sources lb_tool_conn_sources(void);
/* A secret given on the command line: other users can read process arguments. */
void lb_tool_conn_warn_args(const lb_tool_out *out, const lb_tool_conn_opts *o);
/* The value to show for a key: "********" for a secret, else the value. */
const char *lb_tool_shown_value(const char *key, const char *value);
/* Where a setting came from, for display: the core's names, with "the command line" for
 * the tool's connection string (--set, --profile, --connection-string). */
const char *lb_tool_source_name(lb_source src);
/* A resolved setting for display: "(not set)" rather than NULL (Endpoint and Servername may
 * become optional with Provisioned instances and host discovery). Not for secret keys. */
const char *lb_tool_setting(const lb_settings *s, lb_key key);
/* The resolved settings as a list for people and as "settings" {key: {value, source}}. */
void lb_tool_conn_print_settings(lb_tool_out *out, const lb_settings *s);
/* The tool's input as a connection string for the driver manager (connstr, with
 * Driver=Lakebase in front when it names neither a DSN nor a driver) and parsed (kv). */
lb_result lb_tool_conn_prepare(const lb_tool_conn_opts *o, lb_buf *connstr, lb_kvlist *kv, lb_error *err);
/* A command's connect plan from its workspace options: the connection string for the driver
 * manager and its pairs (lb_tool_conn_prepare), then the plan's settings (lb_plan_settings
 * with the tool's sources; login_timeout_s bounds the workspace calls after, 0: the
 * ConnectTimeout setting). */
typedef struct {
    lb_buf connstr; /* may hold a secret: wiped by lb_tool_session_free */
    lb_kvlist kv;
    lb_plan plan;
} lb_tool_session;
/* LB_OK when the settings resolve, else err says why. lb_tool_session_free it either way. */
lb_result lb_tool_session_open(lb_tool_session *ts, const lb_tool_conn_opts *o, long login_timeout_s, lb_error *err);
void lb_tool_session_free(lb_tool_session *ts);
/* Parses a command's arguments: the workspace options, --json, one positional DSN and
 * the command's own flag (or NULL). 0, or -1 after reporting the problem. */
int lb_tool_conn_args(lb_tool_out *out, lb_tool_conn_opts *o, int argc, char **argv, const char *flag, int *flag_set);

#endif
