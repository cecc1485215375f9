/* lakebase-odbc: the command-line tool's entry point. Global options (--help,
 * --version, --json), the command table and the dispatch to cmd_<name>.c. A command
 * slots in by adding its line to the table below and its file to setup/CMakeLists.txt. */
#include "tool.h"

#include <stdio.h>
#include <string.h>

int lb_tool_cmd_version(lb_tool_out *out, int argc, char **argv);
int lb_tool_cmd_install_driver(lb_tool_out *out, int argc, char **argv);
int lb_tool_cmd_uninstall_driver(lb_tool_out *out, int argc, char **argv);
int lb_tool_cmd_list(lb_tool_out *out, int argc, char **argv);
int lb_tool_cmd_test(lb_tool_out *out, int argc, char **argv);
int lb_tool_cmd_token(lb_tool_out *out, int argc, char **argv);
int lb_tool_cmd_doctor(lb_tool_out *out, int argc, char **argv);
int lb_tool_cmd_endpoints(lb_tool_out *out, int argc, char **argv);
int lb_tool_cmd_add_dsn(lb_tool_out *out, int argc, char **argv);

#define WORKSPACE_OPTIONS                                                                                           \
    "Settings are read as the driver reads them: the connection string (from --set, --profile,\n"                   \
    "--connection-string), then the DSN's odbc.ini section, the environment, a ~/.databrickscfg\n"                  \
    "profile and the defaults; the first one found wins.\n"                                                         \
    "  --dsn NAME                start from the DSN NAME of odbc.ini\n"                                             \
    "  --profile P               the ~/.databrickscfg profile (Profile=)\n"                                         \
    "  --connection-string S     a connection string (Driver=Lakebase;DatabricksHost=...;...)\n"                    \
    "  --set KEY=VALUE           any driver key (CAFile, Proxy, Endpoint, ...); repeatable, wins over the DSN\n"   \
    "  --json                    one JSON document on standard output, for scripts\n"

const lb_tool_command lb_tool_commands[] = {
    {"install-driver", "register the driver and its setup library in odbcinst.ini",
     "install-driver [--name NAME] [--driver PATH] [--setup PATH] [--json]",
     "Registers the driver as [NAME] (default Lakebase) in odbcinst.ini (ODBCSYSINI, else /etc)\n"
     "through the ODBC installer API, with Driver= and Setup= (the setup library,\n"
     "liblakebase-odbcS.so). Without --driver/--setup, the libraries of this build or\n"
     "installation are used. Running it again updates the entry: there is always one.\n",
     lb_tool_cmd_install_driver},
    {"uninstall-driver", "remove the driver's entry from odbcinst.ini (DSNs stay)",
     "uninstall-driver [--name NAME] [--json]",
     "Removes [NAME] (default Lakebase) from odbcinst.ini (ODBCSYSINI, else /etc) through the\n"
     "ODBC installer API, whatever its UsageCount, when its Driver= is this driver; another\n"
     "driver of that name is left alone (exit 1). The DSNs of odbc.ini are not touched.\n"
     "Nothing to remove is not an error: running it again succeeds.\n",
     lb_tool_cmd_uninstall_driver},
    {"list", "the DSNs that use this driver, secrets masked", "list [--json]",
     "Lists the user (ODBCINI, else ~/.odbc.ini) and system (ODBCSYSINI/odbc.ini) DSNs whose\n"
     "driver is this driver, with every key; the values of secret keys (ClientSecret, PWD,\n"
     "Password, Proxy) are shown as ********.\n",
     lb_tool_cmd_list},
    {"test", "connect through the driver manager and run the verification query",
     "test [DSN] [--dsn NAME] [--connection-string S] [--profile P] [--set KEY=VALUE]... [--json]",
     "Resolves the settings (printing where each came from), gets a workspace token and a\n"
     "database credential as the driver does, timing each step, then connects through the\n"
     "driver manager and the driver exactly as an application does (the driver obtains its own\n"
     "credential) and runs SELECT current_user, current_database(). On failure it prints the\n"
     "failing step, the driver's diagnostics (SQLSTATE, native code) and the fix.\n"
     "Exit status 0 only when the query ran.\n" WORKSPACE_OPTIONS,
     lb_tool_cmd_test},
    {"token", "obtain a database credential and show what it is for",
     "token [DSN] [--dsn NAME] [--connection-string S] [--profile P] [--set KEY=VALUE]... [--show-token] [--json]",
     "Obtains a workspace token and a fresh database credential and prints the identity, the\n"
     "endpoint, the PostgreSQL host and the credential's expiry. The credential itself only with\n"
     "--show-token (then a warning on standard error): it is a password for the next hour.\n"
     "  --show-token              print the credential too\n" WORKSPACE_OPTIONS,
     lb_tool_cmd_token},
    {"doctor", "check the setup piece by piece: OK, WARN or FAIL with the fix",
     "doctor [DSN] [--dsn NAME] [--connection-string S] [--profile P] [--set KEY=VALUE]... [--json]",
     "Checks, one line each with OK, WARN or FAIL and the fix (SKIP: a check it needs failed):\n"
     "  settings       the settings resolve (each with where it came from)\n"
     "  workspace-tls  DatabricksHost answers over TLS (through an http:// Proxy too): the CA in use,\n"
     "                 and a TLS-inspecting proxy named when the chain is not a public CA's\n"
     "  auth           the authentication source gets a workspace token; its identity (SCIM Me)\n"
     "  endpoint       the endpoint or instance exists, its state takes connections, its host\n"
     "  dns, tcp, tls  the PostgreSQL host resolves, accepts TCP, and TLS after SSLRequest\n"
     "  login          the role logs in through the driver manager; a refusal mapped to its cause\n"
     "                 (role missing, credential refused, pg_hba)\n"
     "  cache-dir      the file cache's directory is this user's and private\n"
     "  odbc.ini       the DSN's secret is not in an odbc.ini others can read (WARN, chmod fix)\n"
     "  psqlodbc       the driver loads psqlODBC (path, version)\n"
     "Each network probe is bounded (5 s), the workspace calls by 30 s in all, the login by the\n"
     "driver's ConnectTimeout. No secret is printed. Exit status 0 when nothing FAILs.\n" WORKSPACE_OPTIONS,
     lb_tool_cmd_doctor},
    {"endpoints", "list the workspace's Lakebase projects, branches, endpoints and instances",
     "endpoints [--host H] [--profile P] [--project P [--branch B]] [--dsn NAME] [--set KEY=VALUE]... [--json]",
     "Lists what the workspace holds for Lakebase, with any authentication source the driver\n"
     "supports: the Autoscaling projects, their branches (state, default) and endpoints (state,\n"
     "type, host; GET /api/2.0/postgres/projects, .../branches, .../endpoints, every page), and\n"
     "the Provisioned instances (state, read_write_dns; GET /api/2.0/database/instances). No\n"
     "Endpoint or Instance is needed. A service the workspace refuses while the other answers is\n"
     "named in a line of its own. Without any option: the environment and ~/.databrickscfg.\n"
     "  --host H                  the workspace URL (DatabricksHost)\n"
     "  --project P               only project P (its id or projects/<id>), no instances\n"
     "  --branch B                only branch B of that project\n" WORKSPACE_OPTIONS,
     lb_tool_cmd_endpoints},
    {"add-dsn", "write a DSN (asking for the endpoint on a terminal), then test it",
     "add-dsn NAME [--host H] [--profile P] [--endpoint E | --instance I] [--auth-type T] [--client-id C]\n"
     "       [--secret-file F] [--user | --system] [--driver NAME] [--set KEY=VALUE]... [--json]",
     "Writes the DSN NAME through the ODBC installer API, to the user's odbc.ini (--user, the\n"
     "default: ODBCINI, else ~/.odbc.ini) or the system's (--system: ODBCSYSINI/odbc.ini), then\n"
     "runs `lakebase-odbc test NAME`. Without --endpoint or --instance it lists the workspace (as\n"
     "`endpoints` does) and asks for one by number; that needs a terminal on standard input,\n"
     "otherwise it stops with an error.\n"
     "With --client-id (oauth-m2m) the client secret is read from standard input (without echo on\n"
     "a terminal) or from --secret-file F, never from an argument, and stored in a file of yours,\n"
     "mode 0600 ($XDG_CONFIG_HOME/lakebase-odbc/NAME.secret, else ~/.config/...), that the DSN\n"
     "names with ClientSecretFile: the DSN never holds a secret. A --system DSN never names a\n"
     "user's secret file: give --secret-file with a root-owned file outside the home directories\n"
     "(the DSN then names it), or no secret (--profile, another AuthType).\n"
     "  --host H                  the workspace URL (DatabricksHost)\n"
     "  --profile P               take the workspace and credentials from ~/.databrickscfg [P]\n"
     "  --endpoint E              the Autoscaling endpoint, projects/<p>/branches/<b>[/endpoints/<e>]\n"
     "  --instance I              the Provisioned instance\n"
     "  --auth-type T             AuthType (pat, oauth-m2m, databricks-cli, env-oidc, file-oidc)\n"
     "  --client-id C             the service principal's client id (ClientID)\n"
     "  --secret-file F           read the client secret from F instead of standard input\n"
     "  --user | --system         the user's DSN (default) or a system DSN\n"
     "  --driver NAME             the driver's name in odbcinst.ini (default Lakebase)\n"
     "  --set KEY=VALUE           any other driver key for the DSN (not a secret); repeatable\n"
     "  --json                    one JSON document on standard output, for scripts\n",
     lb_tool_cmd_add_dsn},
    {NULL, NULL, NULL, NULL, NULL},
};

const lb_tool_command *lb_tool_find_command(const char *name)
{
    for (const lb_tool_command *c = lb_tool_commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

void lb_tool_print_help(const lb_tool_command *cmd)
{
    printf("Usage: lakebase-odbc %s\n\n%s\n%s", cmd->usage, cmd->summary, cmd->help);
}

static void overview(FILE *f)
{
    fputs("Usage: lakebase-odbc [--version | --help] COMMAND [OPTIONS]\n\n"
          "Configure and check ODBC access to Databricks Lakebase with the lakebase-odbc driver.\n\n"
          "Commands:\n",
          f);
    for (const lb_tool_command *c = lb_tool_commands; c->name; c++)
        fprintf(f, "  %-16s %s\n", c->name, c->summary);
    fputs("\n  --version        the tool's, the driver's and psqlODBC's versions (--json too)\n"
          "  --help           this overview; COMMAND --help: the command's own\n\n"
          "Exit status: 0 on success, 1 when the command failed, 2 for bad arguments.\n"
          "See lakebase-odbc(1).\n",
          f);
}

int main(int argc, char **argv)
{
    int json = 0, i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            overview(stdout);
            return TOOL_EXIT_OK;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--version") == 0) {
            lb_tool_out out;
            lb_tool_out_init(&out, json);
            /* --version --json as well as --json --version */
            for (int j = i + 1; j < argc; j++)
                if (strcmp(argv[j], "--json") == 0 && !out.json)
                    lb_tool_out_init(&out, 1);
            return lb_tool_out_finish(&out, lb_tool_cmd_version(&out, argc - i, argv + i));
        } else {
            fprintf(stderr, "lakebase-odbc: unknown option %s\n\n", argv[i]);
            overview(stderr);
            return TOOL_EXIT_USAGE;
        }
    }
    if (i >= argc) {
        overview(stderr);
        return TOOL_EXIT_USAGE;
    }
    const lb_tool_command *cmd = lb_tool_find_command(argv[i]);
    if (cmd == NULL) {
        fprintf(stderr, "lakebase-odbc: unknown command \"%s\"\n\n", argv[i]);
        overview(stderr);
        return TOOL_EXIT_USAGE;
    }
    for (int j = i + 1; j < argc; j++) {
        if (strcmp(argv[j], "--help") == 0 || strcmp(argv[j], "-h") == 0) {
            lb_tool_print_help(cmd);
            return TOOL_EXIT_OK;
        }
        if (strcmp(argv[j], "--json") == 0)
            json = 1;
    }
    lb_tool_out out;
    lb_tool_out_init(&out, json);
    return lb_tool_out_finish(&out, cmd->run(&out, argc - i, argv + i));
}
