#!/usr/bin/env bash
# The lakebase-odbc tool (setup/) against the local Lakebase: install-driver (twice, into a
# private ODBCSYSINI), test on the ready DSN and on one with a wrong secret, token with and
# without --show-token (checked against the emulator's record of issued credentials), list
# (secrets masked), --json output (parsed by Python), --help, --version, exit statuses and
# the man page. Needs the ctest fixture's environment; $1 is the tool.
set -u
tool=$1
man_page=$2
. "$(dirname "$0")/../checks.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
: "${LAKEBASE_DRIVER:?run through ctest (the fixture sets it)}" "${LAKEBASE_LOCAL_STATE:?run through ctest}"
secret=$(cat "$LAKEBASE_LOCAL_STATE/client-secret")
LAKEBASE_ISSUED_SECRETS=${LAKEBASE_ISSUED_SECRETS:-$LAKEBASE_LOCAL_STATE/issued-secrets} # the emulator's record

# --- install-driver, twice, in a private ODBCSYSINI: one entry, Driver and Setup set.
mkdir "$work/sys"
out=$(ODBCSYSINI=$work/sys ODBCINI=$work/sys/odbc.ini "$tool" install-driver 2>&1)
status "install-driver" 0 $?
check "install-driver registers" "$out" "registered driver [Lakebase]" "liblakebase-odbcS.so"
out=$(ODBCSYSINI=$work/sys ODBCINI=$work/sys/odbc.ini "$tool" install-driver --json 2>&1)
status "install-driver again" 0 $?
json_ok "install-driver again updates (JSON)" "$out" 'd["ok"] and d["updated"] and d["setup"].endswith("liblakebase-odbcS.so")'
n=$(grep -c '^\[Lakebase\]' "$work/sys/odbcinst.ini")
[ "$n" = 1 ] && ok "odbcinst.ini holds one [Lakebase] after two runs" || bad "odbcinst.ini holds $n [Lakebase] sections" "$(cat "$work/sys/odbcinst.ini")"
check "odbcinst.ini names the driver and the setup library" "$(cat "$work/sys/odbcinst.ini")" \
    "Driver=$(realpath "$LAKEBASE_DRIVER")" "Setup=" "liblakebase-odbcS.so" "UsageCount=1"
out=$(ODBCSYSINI=$work/sys odbcinst -q -d)
check "odbcinst -q -d lists it" "$out" "[Lakebase]"
out=$(ODBCSYSINI=$work/sys "$tool" install-driver --driver /nonexistent/lib.so 2>&1)
status "install-driver with a missing --driver" 1 $?
check "and says so" "$out" "/nonexistent/lib.so is not a readable file"

# --- uninstall-driver: the whole [Lakebase] entry goes (even counted twice by odbcinst -i),
# the DSNs of odbc.ini and the other drivers stay; a second run succeeds; another driver
# registered as [Lakebase] is left alone.
printf '[keep-me]\nDriver=Lakebase\nEndpoint=projects/p/branches/b/endpoints/e\n' >"$work/sys/odbc.ini"
printf '[Other]\nDriver=/usr/lib/other.so\n' >>"$work/sys/odbcinst.ini"
sed -i 's/^UsageCount=1$/UsageCount=2/' "$work/sys/odbcinst.ini"
dsns_before=$(cat "$work/sys/odbc.ini")
out=$(ODBCSYSINI=$work/sys ODBCINI=$work/sys/odbc.ini "$tool" uninstall-driver 2>&1)
status "uninstall-driver" 0 $?
check "uninstall-driver says so" "$out" "removed driver [Lakebase]"
ini=$(cat "$work/sys/odbcinst.ini")
lacks "odbcinst.ini has no [Lakebase] left (UsageCount was 2)" "$ini" "[Lakebase]"
check "the other driver stays" "$ini" "[Other]" "Driver=/usr/lib/other.so"
[ "$(cat "$work/sys/odbc.ini")" = "$dsns_before" ] && ok "odbc.ini untouched" || bad "odbc.ini changed" "$(cat "$work/sys/odbc.ini")"
out=$(ODBCSYSINI=$work/sys ODBCINI=$work/sys/odbc.ini "$tool" uninstall-driver --json 2>&1)
status "uninstall-driver again" 0 $?
json_ok "uninstall-driver again removes nothing (JSON)" "$out" 'd["ok"] and not d["removed"]'
[ "$(cat "$work/sys/odbcinst.ini")" = "$ini" ] && ok "the second run changes nothing" || bad "odbcinst.ini changed" "$(cat "$work/sys/odbcinst.ini")"
out=$(ODBCSYSINI=$work/sys "$tool" uninstall-driver --name Other 2>&1)
status "uninstall-driver of another driver" 1 $?
check "and says it is left alone" "$out" "is another driver (Driver=/usr/lib/other.so): left alone"
check "which stays" "$(cat "$work/sys/odbcinst.ini")" "[Other]"

# --- test on the local DSN: each step, then current_user.
out=$("$tool" test lakebase-local 2>&1)
status "test lakebase-local" 0 $?
check "test prints the steps and the identity" "$out" "settings" "auth" "token" "credential" "host" "connect" \
    "query" "current_user       $LAKEBASE_CLIENT_ID" "databricks_postgres" "ClientID             $LAKEBASE_CLIENT_ID"
check "test says where settings came from" "$out" "(the DSN)" "(the default)"
check "test times each step, PostgreSQL's part of the connect too" "$out" " ms  " "the driver: settings" "PostgreSQL "
lacks "test never prints the client secret" "$out" "$secret"
echo "    measured: $(grep -E '^ok +(token|credential|connect|query)' <<<"$out" | awk '{printf "%s %s ms; ", $2, $3}')within the connect, $(grep -o 'PostgreSQL [0-9]* ms' <<<"$out")"
out=$("$tool" test --json --dsn lakebase-local 2>/dev/null)
json_ok "test --json parses and has the steps" "$out" \
    'd["ok"] and d["current_user"]=="'"$LAKEBASE_CLIENT_ID"'" and [s["step"] for s in d["steps"]][:4]==["settings","auth","target","token"] and d["settings"]["ClientSecret"]["value"]=="********"'
# --- test on a DSN of another source: the step names that source, and the person's role.
out=$("$tool" test lakebase-local-pat 2>&1)
status "test lakebase-local-pat" 0 $?
check "test names the DSN's source and why it was chosen" "$out" "AuthType pat (" \
    "current_user       lakebase-pat-user@example.com"
lacks "and not the service principal's flow" "$out" "machine-to-machine"
out=$("$tool" test --connection-string "DSN=lakebase-local;UseDeclareFetch=1" --set WakeTimeout=30 2>&1)
status "test --connection-string with --set" 0 $?
check "a --set value wins and is shown as from the command line" "$out" "WakeTimeout          30 " "(the command line)"

# --- test with a wrong secret: non-zero, the failing step and the fix, never the secret.
{ cat "$ODBCINI"; echo; sed -n '/^\[lakebase-local\]/,/^$/p' "$ODBCINI" | sed -e 's/^\[lakebase-local\]/[wrong-secret]/' \
    -e 's/^ClientSecret=.*/ClientSecret=not-the-secret-4711/'; } >"$work/odbc.ini"
chmod 0600 "$work/odbc.ini"
out=$(ODBCINI=$work/odbc.ini "$tool" test wrong-secret 2>&1)
status "test on a DSN with a wrong secret" 1 $?
# (lakebase-local names no Servername: the first step that needs the workspace token is the target's look-up)
check "names the failing step, the fix and the application's diagnostic" "$out" "FAIL target" \
    "The workspace rejected the service principal's credentials" "Check ClientID and ClientSecret" "[28000] (native 20001)"
lacks "and never echoes the wrong secret" "$out" "not-the-secret-4711"
out=$(ODBCINI=$work/odbc.ini "$tool" test wrong-secret --json 2>/dev/null)
json_ok "its --json says why" "$out" 'not d["ok"] and "Check ClientID and ClientSecret" in d["error"] and d["diagnostics"][0]["sqlstate"]=="28000"'
cp "$ODBCINI" "$work/readable.ini"
chmod 0644 "$work/readable.ini"
out=$(ODBCINI=$work/readable.ini "$tool" test lakebase-local 2>&1)
status "test with the secret in an odbc.ini others can read" 0 $?
check "passes on the driver's warning" "$out" "the driver says: DSN lakebase-local holds ClientSecret" "chmod 600"
out=$("$tool" test no-such-dsn 2>&1)
status "test on a DSN that does not exist" 1 $?
check "says so" "$out" 'DSN "no-such-dsn" is in neither'
out=$("$tool" test lakebase-local --set Port=notaport 2>&1)
status "test with --set Port=notaport" 1 $?
check "refuses it as the driver does" "$out" "FAIL settings" "Port"

# --- token: identity, endpoint, host, expiry; the credential only with --show-token.
before=$(wc -l <"$LAKEBASE_ISSUED_SECRETS")
out=$("$tool" token lakebase-local 2>&1)
status "token" 0 $?
check "token prints identity, endpoint, host and expiry" "$out" "identity   $LAKEBASE_CLIENT_ID" \
    "endpoint   projects/demo/branches/main/endpoints/primary" "host       localhost:$LAKEBASE_PG_PORT" "expires    20" \
    "add --show-token"
issued=$(tail -n +"$((before + 1))" "$LAKEBASE_ISSUED_SECRETS")
if [ -z "$issued" ]; then
    bad "the emulator recorded no credential for token"
elif grep -qF -f <(printf '%s\n' "$issued") <<<"$out"; then
    bad "token printed an issued credential or workspace token without --show-token"
else
    ok "token printed none of the $(wc -l <<<"$issued") secrets the emulator issued for it"
fi
out=$("$tool" token lakebase-local-pat --json 2>/dev/null)
json_ok "token names a person's identity and source" "$out" \
    'd["ok"] and d["auth_type"]=="pat" and d["identity"]=="lakebase-pat-user@example.com"'
before=$(wc -l <"$LAKEBASE_ISSUED_SECRETS")
out=$("$tool" token lakebase-local --json 2>"$work/err")
json_ok "token --json parses, without the credential" "$out" \
    'd["ok"] and d["identity"]=="'"$LAKEBASE_CLIENT_ID"'" and d["expires_in"]>0 and "token" not in d'
issued=$(tail -n +"$((before + 1))" "$LAKEBASE_ISSUED_SECRETS")
if grep -qF -f <(printf '%s\n' "$issued") <<<"$out$(cat "$work/err")"; then bad "token --json printed a secret"; else ok "token --json printed no issued secret"; fi
before=$(wc -l <"$LAKEBASE_ISSUED_SECRETS")
out=$("$tool" token lakebase-local --show-token 2>"$work/err")
status "token --show-token" 0 $?
cred=$(sed -n 's/^token      //p' <<<"$out")
issued=$(tail -n +"$((before + 1))" "$LAKEBASE_ISSUED_SECRETS")
if [ -n "$cred" ] && grep -qxF -- "$cred" <<<"$issued"; then ok "--show-token prints the credential just issued"; else bad "--show-token did not print the issued credential"; fi
check "--show-token warns on standard error" "$(cat "$work/err")" "warning: printing the database credential"
out=$(ODBCINI=$work/odbc.ini "$tool" token wrong-secret 2>&1)
status "token with a wrong secret" 1 $?
check "says why" "$out" "Check ClientID and ClientSecret"

# --- list: DSNs of this driver, secrets masked.
printf '\n[other-driver]\nDriver=PostgreSQL Unicode\nServername=x\n\n[proxied]\nDriver=Lakebase\nProxy=http://u:proxy-pw-99@proxy:3128\nPWD=pwd-secret-77\n' >>"$work/odbc.ini"
out=$(ODBCINI=$work/odbc.ini "$tool" list 2>&1)
status "list" 0 $?
check "list shows this driver's DSNs and masks secrets" "$out" "lakebase-local" "wrong-secret" "proxied" \
    "ClientSecret         = ********" "Proxy                = ********" "PWD                  = ********"
lacks "list leaves out other drivers' DSNs" "$out" "other-driver"
for s in "$secret" not-the-secret-4711 proxy-pw-99 pwd-secret-77; do
    lacks "list never prints a secret (${#s} characters)" "$out" "$s"
done
out=$(ODBCINI=$work/odbc.ini "$tool" list --json 2>&1)
json_ok "list --json parses" "$out" \
    'd["ok"] and {e["name"] for e in d["dsns"]} >= {"lakebase-local","wrong-secret","proxied"} and all(e["settings"].get("ClientSecret","********")=="********" for e in d["dsns"])'

# --- colours: on a terminal (script gives the tool a pseudo-terminal), never in a pipe or with NO_COLOR.
esc=$'\033['
out=$(script -qec "'$tool' list" /dev/null 2>&1)
check "colours on a terminal" "$out" "${esc}1mlakebase-local"
out=$(NO_COLOR=1 script -qec "'$tool' list" /dev/null 2>&1)
lacks "no colours with NO_COLOR" "$out" "$esc"
lacks "no colours in a pipe" "$("$tool" test lakebase-local 2>&1)" "$esc"

# --- version, help, usage errors, the man page.
out=$("$tool" --version 2>&1)
status "--version" 0 $?
check "--version names the tool, the driver and psqlODBC" "$out" "lakebase-odbc 0." "driver" "psqlODBC      "
json_ok "--version --json parses" "$("$tool" --version --json)" 'd["ok"] and d["tool"] and d["driver"] and d["psqlodbc"]'
for c in install-driver uninstall-driver list test token; do
    out=$("$tool" "$c" --help 2>&1)
    status "$c --help" 0 $?
    check "$c --help shows its usage" "$out" "Usage: lakebase-odbc $c"
done
"$tool" no-such-command >/dev/null 2>&1
status "an unknown command" 2 $?
"$tool" test lakebase-local --bogus >/dev/null 2>&1
status "an unknown option" 2 $?
"$tool" test lakebase-local --set novalue >/dev/null 2>&1
status "--set without =" 2 $?
out=$("$tool" test --connection-string "DSN=lakebase-local" --set "ClientSecret=$secret" 2>&1 >/dev/null)
check "a secret on the command line gets a warning" "$out" "can be read by other users"
out=$(MANWIDTH=100 man -l "$man_page" 2>&1)
check "man -l renders the man page" "$out" "LAKEBASE-ODBC(1)" "install-driver" "--show-token" "EXIT STATUS"

summary
