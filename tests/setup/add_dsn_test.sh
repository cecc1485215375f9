#!/usr/bin/env bash
# lakebase-odbc endpoints and add-dsn against the local Lakebase, through the real driver
# manager: endpoints lists what the emulator serves (every page, with more than one auth
# source; --json parses); add-dsn with the secret on standard input writes a DSN that names a
# 0600 secret file and holds no secret, then its test connects; an interactive add-dsn on a
# pseudo-terminal (tests/setup/pty_drive.py) picks an endpoint from the numbered list; missing
# input without a terminal is an error at once, not a prompt; a secret as an argument is
# impossible; a --system DSN never names a user's secret file; no secret in any output.
# Needs the ctest fixture's environment; $1 is the tool, $2 the man page.
set -u
tool=$1
man_page=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$(dirname "$0")/../checks.sh"
: "${LAKEBASE_DRIVER:?run through ctest (the fixture sets it)}" "${LAKEBASE_LOCAL_STATE:?run through ctest}"
secret=$(cat "$LAKEBASE_LOCAL_STATE/client-secret")
ca=$LAKEBASE_LOCAL_STATE/ca.pem
primary=projects/demo/branches/main/endpoints/primary
instance=${LAKEBASE_LOCAL_INSTANCE:-demo-instance}
work=$(mktemp -d)
# The emulator's configuration, restored on the way out (this test adds endpoints and pages).
emu_config() { python3 - "$@" <<'EOF'
import json, os, sys
sys.path.insert(0, os.path.join(os.environ["LB_HERE"], "..", "emulator"))
from emulator_client import EmulatorClient
emu = EmulatorClient(os.environ["LAKEBASE_EMULATOR_URL"], os.path.join(os.environ["LAKEBASE_LOCAL_STATE"], "ca.pem"))
if sys.argv[1] == "save":
    print(json.dumps({k: v for k, v in emu.ctl("GET", "config").items() if k in ("endpoints", "max_page_size")}))
else:
    emu.ctl("POST", "config", json.loads(sys.argv[2]))
EOF
}
export LB_HERE=$here
saved=$(emu_config save) || { echo "FAIL cannot read the emulator's configuration"; exit 1; }
trap 'python3 "$here/../integration/emuctl.py" delete /_emulator/faults; emu_config restore "$saved"; rm -rf "$work"' EXIT
# A private user odbc.ini (a copy of the fixture's, so its DSNs stay usable), secret store and home.
cp "$ODBCINI" "$work/odbc.ini"
chmod 0600 "$work/odbc.ini"
export ODBCINI=$work/odbc.ini HOME=$work/home XDG_CONFIG_HOME=$work/home/.config
mkdir -p "$HOME"
local_keys=(--set "CAFile=$ca" --set "SSLRootCert=$ca" --set "Port=$LAKEBASE_PG_PORT")

# --- endpoints: what the emulator serves, every page, with the DSN's auth source and another.
emu_config restore '{"max_page_size": 1, "endpoints": '"$(/usr/bin/python3 -c 'import json,sys; e=json.loads(sys.argv[1])["endpoints"]; print(json.dumps(e + [
    {"name": "projects/demo/branches/dev/endpoints/ep-dev", "host": "localhost", "state": "IDLE"},
    {"name": "projects/demo/branches/dev/endpoints/ep-ro", "host": "localhost", "state": "ACTIVE", "endpoint_type": "ENDPOINT_TYPE_READ_ONLY"},
    {"name": "projects/other/branches/trunk/endpoints/rw", "host": "localhost", "state": "ACTIVE"}]))' "$saved")"'}'
python3 "$here/../integration/emuctl.py" reset
out=$("$tool" endpoints --dsn lakebase-local 2>&1)
status "endpoints --dsn lakebase-local" 0 $?
check "endpoints lists projects, branches, endpoints and instances with state, type and host" "$out" \
    "projects/demo " "projects/demo/branches/main " "READY" "branch, default" "$primary" "ACTIVE" "read-write" \
    "projects/demo/branches/dev/endpoints/ep-dev" "IDLE" "read-only" "projects/other/branches/trunk/endpoints/rw" \
    "Lakebase Provisioned instances" "$instance" "AVAILABLE"
check "as a table, endpoints under their branch" "$out" "NAME" "STATE" "TYPE" "HOST" "    $primary  "
pages=$(python3 "$here/../integration/emuctl.py" count "GET /api/2.0/postgres/projects")
[ "$pages" -ge 2 ] && ok "endpoints followed next_page_token ($pages pages of projects, one per page)" ||
    bad "endpoints asked for $pages page(s) of projects, expected 2"
lacks "endpoints never prints the client secret" "$out" "$secret"
out=$("$tool" endpoints --dsn lakebase-local --json 2>/dev/null)
json_ok "endpoints --json parses and holds what the emulator serves" "$out" \
    'd["ok"] and [p["name"] for p in d["projects"]]==["projects/demo","projects/other"] and [b["name"] for b in d["projects"][0]["branches"]]==["projects/demo/branches/main","projects/demo/branches/dev"] and d["projects"][0]["branches"][0]["default"] and d["projects"][0]["branches"][0]["endpoints"][0]=={"name":"'"$primary"'","state":"ACTIVE","type":"ENDPOINT_TYPE_READ_WRITE","host":"localhost","disabled":False} and len(d["projects"][0]["branches"][1]["endpoints"])==2 and d["instances"][0]["name"]=="'"$instance"'" and d["instances"][0]["read_write_dns"]=="localhost"'
out=$("$tool" endpoints --host "$LAKEBASE_EMULATOR_URL" --set "CAFile=$ca" --set "Token=$(cat "$LAKEBASE_LOCAL_STATE/pat")" --json 2>/dev/null)
json_ok "endpoints with --host and a personal access token (another auth source)" "$out" \
    'd["ok"] and len(d["projects"])==2 and d["instances"]'
out=$("$tool" endpoints --dsn lakebase-local --project demo --branch dev 2>&1)
status "endpoints --project demo --branch dev" 0 $?
check "lists that branch alone" "$out" "projects/demo/branches/dev/endpoints/ep-ro"
lacks "and not the others" "$out" "$primary"
out=$("$tool" endpoints --dsn lakebase-local --project nope 2>&1)
status "endpoints --project nope" 1 $?
check "says the project was not found" "$out" "projects/nope" "not found"
"$tool" endpoints --dsn lakebase-local --branch dev >/dev/null 2>&1
status "endpoints --branch without --project" 2 $?
# A service the workspace refuses while the other answers: named on a line of its own; both: a failure.
emu() { python3 "$here/../integration/emuctl.py" "$@"; }
refuse='"status": 403, "count": -1, "body": "{\"error_code\": \"PERMISSION_DENIED\", \"message\": \"no access to Lakebase Provisioned\"}"'
emu post /_emulator/faults "{\"method\": \"GET\", \"path\": \"/api/2.0/database/instances\", $refuse}"
out=$("$tool" endpoints --dsn lakebase-local 2>&1)
status "endpoints with the instance list refused (HTTP 403)" 0 $?
check "lists the endpoints and names the refusal" "$out" "$primary" "Lakebase Provisioned: The workspace refused to list the instances" "HTTP 403" "PERMISSION_DENIED"
out=$("$tool" endpoints --dsn lakebase-local --json 2>/dev/null)
json_ok "its --json says so too" "$out" 'd["ok"] and d["projects"] and d["instances"]==[] and "HTTP 403" in d["provisioned_error"] and d["autoscaling_error"] is None'
emu post /_emulator/faults "{\"method\": \"GET\", \"path\": \"/api/2.0/postgres/projects\", $refuse}"
out=$("$tool" endpoints --dsn lakebase-local 2>&1)
status "endpoints with both lists refused" 1 $?
check "names both" "$out" "FAIL list" "The workspace refused to list the projects" "Provisioned: The workspace refused to list the instances"
emu delete /_emulator/faults
emu_config restore "$saved"

# --- add-dsn, the secret on standard input: the DSN names a 0600 file, holds no secret, and works.
out=$(printf '%s\n' "$secret" | "$tool" add-dsn piped --host "$LAKEBASE_EMULATOR_URL" --client-id "$LAKEBASE_CLIENT_ID" \
    --endpoint "$primary" "${local_keys[@]}" 2>&1)
status "add-dsn with the secret on standard input, then test" 0 $?
check "writes the secret file, the DSN, and the test connects" "$out" \
    "wrote the client secret to $XDG_CONFIG_HOME/lakebase-odbc/piped.secret (mode 0600)" "wrote user DSN [piped]" \
    "ok   query" "current_user       $LAKEBASE_CLIENT_ID"
lacks "add-dsn never prints the secret" "$out" "$secret"
dsn=$(sed -n '/^\[piped\]/,/^\[/p' "$ODBCINI")
check "the DSN names the secret file and the endpoint" "$dsn" "Driver=Lakebase" "ClientSecretFile=$XDG_CONFIG_HOME/lakebase-odbc/piped.secret" \
    "Endpoint=$primary" "ClientID=$LAKEBASE_CLIENT_ID"
lacks "the DSN holds no secret" "$dsn" "$secret"
lacks "the DSN has no ClientSecret key" "$dsn" "ClientSecret="
mode=$(stat -c '%a %U' "$XDG_CONFIG_HOME/lakebase-odbc/piped.secret")
[ "$mode" = "600 $(id -un)" ] && ok "the secret file is 0600 and the user's ($mode)" || bad "the secret file is $mode"
[ "$(head -n1 "$XDG_CONFIG_HOME/lakebase-odbc/piped.secret")" = "$secret" ] && ok "the secret file holds the secret" ||
    bad "the secret file does not hold the secret"
[ "$(stat -c '%a' "$XDG_CONFIG_HOME/lakebase-odbc")" = 700 ] && ok "its directory is 0700" || bad "its directory is $(stat -c '%a' "$XDG_CONFIG_HOME/lakebase-odbc")"
out=$(odbcinst -q -s)
check "odbcinst -q -s lists the new DSN" "$out" "[piped]"
# shellcheck disable=SC2086 # LB_ISQL_ENV: VAR=value words (the ASan build's runtime preload)
out=$(env ${LB_ISQL_ENV:-} isql -b piped <<<"SELECT current_user" 2>&1)
check "an application (isql) connects with the DSN" "$out" "$LAKEBASE_CLIENT_ID"
out=$("$tool" test piped 2>&1)
status "lakebase-odbc test piped" 0 $?
out=$(printf '%s\n' "$secret" | "$tool" add-dsn piped-json --host "$LAKEBASE_EMULATOR_URL" --client-id "$LAKEBASE_CLIENT_ID" \
    --instance "$instance" "${local_keys[@]}" --json 2>/dev/null)
json_ok "add-dsn --json (an instance) parses and says what it wrote" "$out" \
    'd["ok"] and d["dsn"]=="piped-json" and d["instance"]=="'"$instance"'" and d["secret_file"].endswith("/piped-json.secret") and d["current_user"]=="'"$LAKEBASE_CLIENT_ID"'"'
lacks "add-dsn --json never prints the secret" "$out" "$secret"
out=$(printf 'not-the-secret-5150\n' | "$tool" add-dsn wrong --host "$LAKEBASE_EMULATOR_URL" --client-id "$LAKEBASE_CLIENT_ID" \
    --endpoint "$primary" "${local_keys[@]}" 2>&1)
status "add-dsn with a wrong secret: written, the test fails" 1 $?
check "and says what to fix" "$out" "wrote user DSN [wrong]" "Check ClientID and ClientSecret" "lakebase-odbc test wrong"
lacks "never echoing the wrong secret" "$out" "not-the-secret-5150"

# --- missing input without a terminal: an error at once, nothing written, no prompt.
t0=$(date +%s%N)
out=$(printf '%s\n' "$secret" | timeout 20 "$tool" add-dsn noterm --host "$LAKEBASE_EMULATOR_URL" \
    --client-id "$LAKEBASE_CLIENT_ID" "${local_keys[@]}" 2>&1)
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
status "add-dsn without --endpoint, standard input not a terminal" 2 $rc
check "says to give --endpoint or --instance" "$out" "standard input is not a terminal" "--endpoint" "lakebase-odbc endpoints"
[ "$ms" -lt 5000 ] && ok "and returns at once ($ms ms, bound 5000)" || bad "took $ms ms"
out=$("$tool" add-dsn nosecret --host "$LAKEBASE_EMULATOR_URL" --client-id "$LAKEBASE_CLIENT_ID" --endpoint "$primary" \
    "${local_keys[@]}" </dev/null 2>&1)
status "add-dsn with nothing on standard input" 1 $?
check "says there is no secret" "$out" "no client secret on standard input"
grep -q '^\[noterm\]\|^\[nosecret\]' "$ODBCINI" && bad "a DSN was written without its input" || ok "nothing written without the input"
[ ! -e "$XDG_CONFIG_HOME/lakebase-odbc/noterm.secret" ] && ok "no secret file left behind" || bad "noterm.secret left behind"

# --- a secret as an argument is impossible: no such option, and --set refuses secret keys.
for arg in "--client-secret=argv-secret-4242" "--secret=argv-secret-4242" "--token=argv-secret-4242"; do
    out=$("$tool" add-dsn argv --client-id x --endpoint "$primary" "$arg" </dev/null 2>&1)
    status "add-dsn ${arg%%=*}" 2 $?
    check "says a secret is never an argument" "$out" "takes no secret as an argument"
    lacks "without echoing it" "$out" "argv-secret-4242"
done
for key in ClientSecret PWD Token; do
    out=$("$tool" add-dsn argv --client-id x --endpoint "$primary" --set "$key=argv-secret-4242" </dev/null 2>&1)
    status "add-dsn --set $key=..." 2 $?
    lacks "without echoing it ($key)" "$out" "argv-secret-4242"
done
check "add-dsn --help offers no secret option" "$("$tool" add-dsn --help)" "--secret-file F" "standard input"
lacks "add-dsn --help has no --client-secret" "$("$tool" add-dsn --help)" "--client-secret"

# --- --system: never a user's secret file; a root-owned private file outside the homes is named.
mkdir -p "$work/sys"
cp "$ODBCSYSINI/odbcinst.ini" "$work/sys/"
sysenv=(env ODBCSYSINI="$work/sys")
out=$(printf '%s\n' "$secret" | "${sysenv[@]}" "$tool" add-dsn sysdsn --system --host "$LAKEBASE_EMULATOR_URL" \
    --client-id "$LAKEBASE_CLIENT_ID" --endpoint "$primary" "${local_keys[@]}" 2>&1)
status "add-dsn --system with the secret on standard input" 2 $?
check "is refused: a system DSN never names a user's secret file" "$out" "must not name a user's secret file" "/etc/lakebase-odbc/sysdsn.secret"
printf '%s\n' "$secret" >"$HOME/my.secret"
chmod 600 "$HOME/my.secret"
out=$("${sysenv[@]}" "$tool" add-dsn sysdsn --system --host "$LAKEBASE_EMULATOR_URL" --client-id "$LAKEBASE_CLIENT_ID" \
    --endpoint "$primary" --secret-file "$HOME/my.secret" "${local_keys[@]}" 2>&1)
status "add-dsn --system with a secret file in the home directory" 2 $?
check "is refused as a user's secret file" "$out" "is a user's secret file" "in a home directory" "root-owned"
mkdir -p "$work/etc"
printf '%s\n' "$secret" >"$work/etc/nobody.secret"
chmod 600 "$work/etc/nobody.secret"
chown nobody "$work/etc/nobody.secret" 2>/dev/null
out=$("${sysenv[@]}" "$tool" add-dsn sysdsn --system --host "$LAKEBASE_EMULATOR_URL" --client-id "$LAKEBASE_CLIENT_ID" \
    --endpoint "$primary" --secret-file "$work/etc/nobody.secret" "${local_keys[@]}" 2>&1)
status "add-dsn --system with a secret file another user owns" 2 $?
check "is refused" "$out" "not owned by root"
lacks "no refusal prints the secret" "$out" "$secret"
[ ! -e "$work/sys/odbc.ini" ] || ! grep -q '^\[sysdsn\]' "$work/sys/odbc.ini" && ok "no system DSN written by the refusals" || bad "a system DSN was written"
if [ "$(id -u)" = 0 ]; then
    printf '%s\n' "$secret" >"$work/etc/root.secret"
    chmod 600 "$work/etc/root.secret"
    out=$("${sysenv[@]}" "$tool" add-dsn sysdsn --system --host "$LAKEBASE_EMULATOR_URL" --client-id "$LAKEBASE_CLIENT_ID" \
        --endpoint "$primary" --secret-file "$work/etc/root.secret" "${local_keys[@]}" 2>&1)
    status "add-dsn --system with a root-owned private secret file" 0 $?
    check "names that file and the test connects" "$(cat "$work/sys/odbc.ini")" "[sysdsn]" "ClientSecretFile=$work/etc/root.secret"
    lacks "the system DSN holds no secret" "$(cat "$work/sys/odbc.ini")" "$secret"
    lacks "and names no file of the user's" "$(cat "$work/sys/odbc.ini")" "$HOME"
fi

# --- interactive, on a pseudo-terminal: the secret typed (not echoed), an endpoint picked by number.
out=$(/usr/bin/python3 "$here/pty_drive.py" "not shown as you type=$secret" "a number 1-2=1" -- \
    "$tool" add-dsn picked --host "$LAKEBASE_EMULATOR_URL" --client-id "$LAKEBASE_CLIENT_ID" "${local_keys[@]}" 2>&1)
status "interactive add-dsn on a pseudo-terminal" 0 $?
check "offers the projects, branches and endpoints, numbered, and takes the choice" "$out" "projects/demo" \
    "projects/demo/branches/main" "1)     $primary" "2) $instance" "endpoint $primary" "wrote user DSN [picked]" \
    "current_user       "
lacks "the typed secret is not echoed" "$out" "$secret"
check "the DSN names the endpoint picked" "$(sed -n '/^\[picked\]/,/^\[/p' "$ODBCINI")" "Endpoint=$primary" \
    "ClientSecretFile=$XDG_CONFIG_HOME/lakebase-odbc/picked.secret"
before=$(stat -c '%i %Y' "$XDG_CONFIG_HOME/lakebase-odbc/picked.secret")
out=$(/usr/bin/python3 "$here/pty_drive.py" "not shown as you type=$secret" "a number 1-2=q" -- \
    "$tool" add-dsn picked --host "$LAKEBASE_EMULATOR_URL" --client-id "$LAKEBASE_CLIENT_ID" "${local_keys[@]}" 2>&1)
status "add-dsn for the same DSN again, abandoned" 1 $?
[ "$(stat -c '%i %Y' "$XDG_CONFIG_HOME/lakebase-odbc/picked.secret" 2>&1)" = "$before" ] &&
    ok "leaves the DSN's secret file as it was (the same file)" || bad "the abandoned run replaced or removed picked.secret"
[ -z "$(find "$XDG_CONFIG_HOME/lakebase-odbc" -name 'picked.secret.*')" ] && ok "and no temporary secret file" ||
    bad "a temporary secret file was left: $(ls "$XDG_CONFIG_HOME/lakebase-odbc")"
out=$("$tool" test picked 2>&1)
status "the DSN still works" 0 $?
out=$(/usr/bin/python3 "$here/pty_drive.py" "not shown as you type=$secret" "a number 1-2=7" "a number 1-2=q" -- \
    "$tool" add-dsn quitter --host "$LAKEBASE_EMULATOR_URL" --client-id "$LAKEBASE_CLIENT_ID" "${local_keys[@]}" 2>&1)
status "interactive add-dsn: a wrong number, then q" 1 $?
check "asks again, then writes nothing" "$out" "\"7\" is not one of 1-2" "no endpoint or instance chosen: nothing written"
grep -q '^\[quitter\]' "$ODBCINI" && bad "[quitter] written" || ok "no DSN written after q"
[ ! -e "$XDG_CONFIG_HOME/lakebase-odbc/quitter.secret" ] && ok "and its secret file removed" || bad "quitter.secret left behind"

# --- usage errors, help, the man page.
"$tool" add-dsn </dev/null >/dev/null 2>&1
status "add-dsn without a name" 2 $?
"$tool" add-dsn 'bad[name]' --endpoint "$primary" </dev/null >/dev/null 2>&1
status "add-dsn with a bad DSN name" 2 $?
"$tool" add-dsn x --endpoint "$primary" --instance "$instance" </dev/null >/dev/null 2>&1
status "add-dsn with --endpoint and --instance" 2 $?
for c in endpoints add-dsn; do
    out=$("$tool" "$c" --help 2>&1)
    status "$c --help" 0 $?
    check "$c --help shows its usage" "$out" "Usage: lakebase-odbc $c"
done
check "the overview lists both" "$("$tool" --help)" "endpoints" "add-dsn"
out=$(MANWIDTH=100 man -l "$man_page" 2>&1)
check "the man page documents both" "$out" "endpoints [--host" "add-dsn NAME" "ClientSecretFile" "--secret-file"

summary
