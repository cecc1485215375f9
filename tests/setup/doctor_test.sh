#!/usr/bin/env bash
# lakebase-odbc doctor against the local Lakebase, through the real parts (the emulator, the
# driver manager, the driver, psqlODBC, PostgreSQL): every check OK or WARN on a good DSN (and
# its --json parses); the failing check named (FAIL, exit 1) for a wrong secret, a missing role,
# a disabled endpoint, a stopped instance, a closed port and a server that never answers
# (within its bound); WARN for a world-readable odbc.ini holding a secret and for a cache
# directory others can write; a TLS-inspecting proxy named when the workspace's chain is not a
# public CA's; no secret anywhere in the output. Needs the ctest fixture's environment; $1 is
# the tool, $2 the emulator's client (tests/emulator/emulator_client.py), $3 the man page.
set -u
tool=$1
emulator_client=$2
man_page=${3:-}
. "$(dirname "$0")/../checks.sh"
# The one status line of a check: "FAIL tcp ...".
line_of() { grep -E "^(OK|WARN|FAIL|SKIP) +$2 " <<<"$1"; }
emu() { /usr/bin/python3 "$emulator_client" "$@"; }
: "${LAKEBASE_LOCAL_STATE:?run through ctest (the fixture sets it)}" "${ODBCINI:?run through ctest}"
work=$(mktemp -d)
all="$work/all-output" # everything the tool printed, searched for secrets at the end
listener=
proxy=
endpoints=$(emu get config | /usr/bin/python3 -c 'import json,sys; print(json.dumps({"endpoints": json.load(sys.stdin)["endpoints"]}))')
dsn_key() { sed -n "/^\[$1\]/,/^\$/s/^$2=//p" "$ODBCINI"; }
instance=$(sed -n '/^\[lakebase-local-provisioned\]/,/^$/s/^Instance=//p' "$ODBCINI")
restore() {
    emu post config "$endpoints" >/dev/null
    [ -n "$instance" ] && emu post instance-state "{\"name\": \"$instance\", \"state\": \"AVAILABLE\"}" >/dev/null
    [ -n "$listener" ] && kill "$listener" 2>/dev/null
    [ -n "$proxy" ] && kill "$proxy" 2>/dev/null
    rm -rf "$work"
}
trap restore EXIT
secret=$(cat "$LAKEBASE_LOCAL_STATE/client-secret")
issued_file=${LAKEBASE_ISSUED_SECRETS:-$LAKEBASE_LOCAL_STATE/issued-secrets}
issued_before=$(wc -l <"$issued_file" 2>/dev/null || echo 0)
run() { # runs the tool; its standard output and error in $out, status in $rc, time in $secs
    local t0 t1
    t0=$(date +%s.%N)
    out=$("$tool" "$@" 2>&1)
    rc=$?
    t1=$(date +%s.%N)
    secs=$(/usr/bin/python3 -c "print(f'{$t1 - $t0:.2f}')")
    printf '%s\n' "$out" >>"$all"
}
checks=(settings workspace-tls auth endpoint dns tcp tls login cache-dir odbc.ini psqlodbc)

# --- a good DSN: every check OK (or WARN), exit 0.
run doctor lakebase-local
status "doctor on the good DSN" 0 $rc
for c in "${checks[@]}"; do
    l=$(line_of "$out" "$c")
    if [[ $l =~ ^(OK|WARN)\  ]]; then ok "good DSN: $c ${l%% *}"; else bad "good DSN: $c is \"${l:-missing}\"" "$out"; fi
done
check "good DSN: names the CA, the identity, the state, psqlODBC's path and where settings came from" "$out" \
    "verified through /CN=lakebase-local test CA from CAFile" "the workspace knows it as $LAKEBASE_CLIENT_ID" \
    "state ACTIVE" "psqlODBC " "psqlodbcw.so" "(the DSN)" "logged in through the driver manager as role $LAKEBASE_CLIENT_ID"
echo "    measured: all checks in ${secs} s; $(grep -oE '^OK +(login|tls) +[0-9]+ ms' <<<"$out" | tr -s ' ' | paste -sd ';')"
run doctor --json lakebase-local
json_ok "good DSN --json parses: ok, every check ok or warn, in order" "$out" \
    'd["ok"] and d["failed"]==0 and all(c["status"] in ("ok","warn") for c in d["checks"]) and [c["check"] for c in d["checks"]]==["settings","workspace-tls","auth","endpoint","dns","tcp","tls","login","cache-dir","odbc.ini","psqlodbc"] and d["settings"]["ClientSecret"]["value"]=="********"'

# --- a wrong secret: auth FAILs, what needs its token is skipped.
{ cat "$ODBCINI"; echo; sed -n '/^\[lakebase-local\]/,/^$/p' "$ODBCINI" | sed -e 's/^\[lakebase-local\]/[wrong-secret]/' \
    -e 's/^ClientSecret=.*/ClientSecret=not-the-secret-4711/'; } >"$work/odbc.ini"
chmod 0600 "$work/odbc.ini"
ODBCINI=$work/odbc.ini run doctor wrong-secret
status "doctor with a wrong secret" 1 $rc
check "wrong secret: FAIL auth with the fix, endpoint and login skipped" "$out" "FAIL auth" \
    "Check ClientID and ClientSecret" "SKIP endpoint" "SKIP login"
lacks "wrong secret: the wrong secret is not echoed" "$out" "not-the-secret-4711"
ODBCINI=$work/odbc.ini run doctor wrong-secret --json
json_ok "wrong secret --json parses and names auth" "$out" \
    'not d["ok"] and [c["check"] for c in d["checks"] if c["status"]=="fail"]==["auth"] and "fix" in [c for c in d["checks"] if c["check"]=="auth"][0]'

# --- a missing role: the login FAILs, mapped to its cause.
run doctor lakebase-local --set UID=no_such_role
status "doctor with a role that does not exist" 1 $rc
check "missing role: FAIL login, the cause and the fix" "$(line_of "$out" login; grep 'fix:' <<<"$out")" "FAIL login" \
    "as role no_such_role" "UID names another role, or one that does not exist" "Leave UID out, or set it to $LAKEBASE_CLIENT_ID"

# --- a disabled endpoint (stopped: a connection cannot wake it): endpoint FAILs.
emu post config "$(/usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); [e.update(disabled=True, state="IDLE") for e in d["endpoints"]]; print(json.dumps(d))' "$endpoints")" >/dev/null
run doctor lakebase-local
status "doctor on a disabled endpoint" 1 $rc
check "disabled endpoint: FAIL endpoint naming the state, login skipped" "$out" "FAIL endpoint" "is disabled" "SKIP login"
emu post config "$endpoints" >/dev/null
if [ -n "$instance" ]; then
    emu post instance-state "{\"name\": \"$instance\", \"state\": \"STOPPED\"}" >/dev/null
    run doctor lakebase-local-provisioned
    status "doctor on a stopped instance" 1 $rc
    check "stopped instance: FAIL endpoint naming the state" "$(line_of "$out" endpoint)" "FAIL endpoint" "instance $instance" "STOPPED"
    emu post instance-state "{\"name\": \"$instance\", \"state\": \"AVAILABLE\"}" >/dev/null
fi

# --- an unreachable host: a closed loopback port, and a server that never answers.
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run doctor lakebase-local --set Servername=127.0.0.1 --set Port="$port"
status "doctor on a closed port" 1 $rc
check "closed port: FAIL tcp, tls and login skipped" "$out" "FAIL tcp" "Connection refused" "SKIP tls" "SKIP login"
echo "    measured: closed port, doctor done in ${secs} s"
/usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
held = []
while True:
    held.append(s.accept()[0])   # accepts and never answers
' >"$work/silent-port" &
listener=$!
for _ in $(seq 50); do [ -s "$work/silent-port" ] && break; sleep 0.1; done
run doctor lakebase-local --set Servername=127.0.0.1 --set Port="$(cat "$work/silent-port")"
status "doctor on a server that never answers" 1 $rc
check "silent server: FAIL tls at its bound, login skipped" "$out" "FAIL tls" "(bound 5 s)" "no answer to PostgreSQL's SSLRequest" "SKIP login"
if /usr/bin/python3 -c "import sys; sys.exit(0 if $secs < 30 else 1)"; then
    ok "silent server: doctor finished in ${secs} s (bound: 5 s for the probe, under 30 s in all)"
else
    bad "silent server: doctor took ${secs} s"
fi

# --- SSLmode=verify-full and a Servername the certificate is not for: tls FAILs, naming it.
run doctor lakebase-local --set SSLmode=verify-full --set Servername=127.0.0.1
status "doctor with verify-full and another host name" 1 $rc
check "verify-full, wrong name: FAIL tls naming the certificate's name and the fix" "$out" "FAIL tls" \
    "certificate (/CN=localhost) is not for 127.0.0.1" "fix: Set Servername to the name the certificate is for" "SKIP login"

# --- an odbc.ini holding a secret that others can read: WARN with the chmod fix, exit 0.
cp "$ODBCINI" "$work/readable.ini"
chmod 0644 "$work/readable.ini"
ODBCINI=$work/readable.ini run doctor lakebase-local
status "doctor with the secret in a world-readable odbc.ini" 0 $rc
check "readable odbc.ini: WARN with the fix" "$out" "WARN odbc.ini" "holds ClientSecret in $work/readable.ini" \
    "which other users can read (mode 644)" "fix: chmod 600 $work/readable.ini"

# --- a cache directory others can write: WARN with the chmod fix.
mkdir -p "$work/cache/lakebase-odbc"
chmod 0777 "$work/cache/lakebase-odbc"
XDG_CACHE_HOME=$work/cache run doctor lakebase-local --set TokenCache=file
status "doctor with a cache directory others can write" 0 $rc
check "open cache directory: WARN with the fix" "$out" "WARN cache-dir" "writable by group or others" \
    "fix: chmod 700 $work/cache/lakebase-odbc"

# --- the workspace's chain from a CA the system store does not trust (no CAFile): the
# local CA stands for a TLS-inspecting proxy's.
DATABRICKS_CONFIG_FILE=$LAKEBASE_LOCAL_STATE/databrickscfg run doctor --profile lakebase-local --set Endpoint="$(dsn_key lakebase-local Endpoint)" --set Servername=localhost \
    --set Port="$(dsn_key lakebase-local Port)" --set SSLRootCert="$LAKEBASE_LOCAL_STATE/ca.pem"
status "doctor without CAFile" 1 $rc
check "no CAFile: FAIL workspace-tls naming the issuer and a TLS-inspecting proxy, auth skipped" "$out" \
    "FAIL workspace-tls" "issued by /CN=lakebase-local test CA, which is not a public CA" "TLS-inspecting proxy" \
    "set CAFile to its CA bundle" "SKIP auth"

# --- through an http:// proxy that wants credentials (tests/integration/connect_proxy.py): the
# workspace's chain is inspected through its tunnel; a wrong proxy password FAILs; the proxy
# password is never printed.
pw="pr0xy-pa55-$RANDOM$RANDOM"
/usr/bin/python3 "$(dirname "$0")/../integration/connect_proxy.py" --port-file "$work/proxy.port" \
    --log "$work/proxy.log" --auth "tester:$pw" >"$work/proxy.stderr" 2>&1 &
proxy=$!
for _ in $(seq 50); do [ -s "$work/proxy.port" ] && break; sleep 0.1; done
run doctor lakebase-local --set Proxy="http://tester:$pw@127.0.0.1:$(cat "$work/proxy.port")"
status "doctor through an http:// proxy" 0 $rc
check "proxy: workspace-tls OK through its tunnel, the auth check through it too" \
    "$(line_of "$out" workspace-tls; line_of "$out" auth)" "OK   workspace-tls" "through the proxy http://127.0.0.1:" \
    "verified through /CN=lakebase-local test CA" "OK   auth"
check "proxy: the doctor's CONNECT reached the proxy" "$(cat "$work/proxy.log")" "localhost:${LAKEBASE_EMULATOR_URL##*:} 200"
lacks "proxy: its password is not printed" "$out" "$pw"
run doctor lakebase-local --set Proxy="http://tester:wrong-$pw@127.0.0.1:$(cat "$work/proxy.port")"
status "doctor through the proxy with a wrong password" 1 $rc
check "wrong proxy password: FAIL workspace-tls with the proxy's answer" "$(line_of "$out" workspace-tls)" \
    "FAIL workspace-tls" "the proxy refused CONNECT" "407"
lacks "wrong proxy password: not printed" "$out" "$pw"

# --- settings that do not resolve: FAIL settings, the rest that needs them skipped.
run doctor lakebase-local --set Port=notaport
status "doctor with a bad Port" 1 $rc
check "bad setting: FAIL settings naming the key, the network checks skipped" "$out" "FAIL settings" "Port" \
    "SKIP workspace-tls" "SKIP login" "odbc.ini" "psqlodbc"

# --- help and the man page.
out=$("$tool" doctor --help)
check "doctor --help lists the checks" "$out" "workspace-tls" "TLS-inspecting proxy" "cache-dir" "psqlodbc" "Exit status 0"
check "the overview lists doctor" "$("$tool" --help)" "doctor "
if [ -n "$man_page" ]; then
    out=$(MANWIDTH=100 man -l "$man_page" 2>&1)
    check "the man page describes doctor" "$out" "lakebase-odbc doctor" "workspace-tls" "SSLRequest" "pg_hba" "SKIP"
fi

# --- no secret in any output: the client secret, nor any secret the emulator issued meanwhile.
lacks "no output holds the client secret" "$(cat "$all")" "$secret"
issued=$(tail -n +"$((issued_before + 1))" "$issued_file" 2>/dev/null)
if [ -z "$issued" ]; then
    bad "the emulator recorded no secret issued during the doctor runs"
elif grep -qF -f <(printf '%s\n' "$issued") "$all"; then
    bad "an output holds a token or credential the emulator issued"
else
    ok "no output holds any of the $(wc -l <<<"$issued") tokens and credentials issued meanwhile"
fi

summary
