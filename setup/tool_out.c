/* The tool's output: lines for people on standard output (colours only on a terminal,
 * never with NO_COLOR), problems on standard error, or with --json one JSON document on
 * standard output that scripts can parse (steps, results and the error, if any). */
#include "tool.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void lb_tool_out_init(lb_tool_out *out, int json)
{
    memset(out, 0, sizeof(*out));
    out->json = json;
    const char *no_color = secure_getenv("NO_COLOR");
    out->color = !json && isatty(STDOUT_FILENO) && (no_color == NULL || no_color[0] == '\0');
    if (json)
        out->doc = json_object_new_object();
}

int lb_tool_out_finish(lb_tool_out *out, int status)
{
    if (out->json && out->doc) {
        json_object_object_add(out->doc, "ok", json_object_new_boolean(status == TOOL_EXIT_OK));
        printf("%s\n", json_object_to_json_string_ext(out->doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(out->doc);
        out->doc = NULL;
    }
    fflush(stdout);
    return status;
}

const char *lb_tool_green(const lb_tool_out *out) { return out->color ? "\033[32m" : ""; }
const char *lb_tool_red(const lb_tool_out *out) { return out->color ? "\033[31m" : ""; }
const char *lb_tool_bold(const lb_tool_out *out) { return out->color ? "\033[1m" : ""; }
const char *lb_tool_reset(const lb_tool_out *out) { return out->color ? "\033[0m" : ""; }

void lb_tool_say(const lb_tool_out *out, const char *fmt, ...)
{
    if (out->json)
        return;
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

void lb_tool_fail(lb_tool_out *out, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    lb_text_redact_userinfo(msg);
    if (out->json && out->doc) {
        if (json_object_object_get_ex(out->doc, "error", NULL))
            return; /* the first problem is the one to fix */
        json_object_object_add(out->doc, "error", json_object_new_string(msg));
    } else {
        fprintf(stderr, "%slakebase-odbc: %s%s\n", isatty(STDERR_FILENO) && out->color ? "\033[31m" : "", msg,
                isatty(STDERR_FILENO) && out->color ? "\033[0m" : "");
    }
}

void lb_tool_warn(const lb_tool_out *out, const char *fmt, ...)
{
    (void)out;
    va_list ap;
    va_start(ap, fmt);
    fputs("lakebase-odbc: warning: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void lb_tool_step(lb_tool_out *out, int ok, const char *name, long long ms, const char *fmt, ...)
{
    char detail[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    lb_text_redact_userinfo(detail);
    if (out->json) {
        json_object *steps = NULL;
        if (!json_object_object_get_ex(out->doc, "steps", &steps)) {
            steps = json_object_new_array();
            json_object_object_add(out->doc, "steps", steps);
        }
        json_object *st = json_object_new_object();
        json_object_object_add(st, "step", json_object_new_string(name));
        json_object_object_add(st, "ok", json_object_new_boolean(ok));
        if (ms >= 0)
            json_object_object_add(st, "ms", json_object_new_int64(ms));
        json_object_object_add(st, "detail", json_object_new_string(detail));
        json_object_array_add(steps, st);
        return;
    }
    char took[32] = "";
    if (ms >= 0)
        snprintf(took, sizeof(took), "%lld ms", ms);
    printf("%s%-4s%s %-11s %8s  %s\n", ok ? lb_tool_green(out) : lb_tool_red(out), ok ? "ok" : "FAIL", lb_tool_reset(out), name,
           took, detail);
}
