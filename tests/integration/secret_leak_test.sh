#!/usr/bin/env bash
# Secret hygiene: with LogLevel=debug and the driver manager's trace on, run the
# integration suite's connects again (successes, every kind of failure, retries,
# revocation, wake-up, the file cache), then search every log, trace, output
# connection string (the tests print or check them) and captured stdout/stderr for
# every client secret, personal access token and every token and credential the emulator issued.
# The one exception: a client secret the test itself put into an application's input
# string, which the driver manager traces before the driver sees it.
# Usage: secret_leak_test.sh <directory of the integration test binaries>
set -u
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
state=$LAKEBASE_LOCAL_STATE

# The driver manager's trace, through a copy of the generated odbcinst.ini.
mkdir -p "$work/sysini"
cp "$state/odbcinst.ini" "$work/sysini/odbcinst.ini"
printf '\n[ODBC]\nTrace = Yes\nTraceFile = %s/trace.log\n' "$work" >>"$work/sysini/odbcinst.ini"
export ODBCSYSINI=$work/sysini
export LAKEBASE_ODBC_LOG_LEVEL=debug LAKEBASE_ODBC_LOG_FILE=$work/driver.log

before=$(wc -l <"$state/issued-secrets" 2>/dev/null || echo 0)
run() { # name, command...
    local name=$1
    shift
    "$@" >"$work/$name.out" 2>"$work/$name.err" || echo "note: $name exited $? (its own result is checked by its own test)"
}
run odbc_connect "$bin/odbc_connect_test"
run hostile "$bin/hostile_test"
for c in sequential revoked wake wake_timeout no_retry retry_after; do run "lifecycle_$c" "$bin/lifecycle_test" "$c"; done
run isql "$here/isql_test.sh"
# The other authentication sources: a PAT (accepted, refused, from the environment and a
# profile), the stand-in Databricks CLI (its tokens are issued, so they are needles too).
export LAKEBASE_FAKE_CLI=$here/../emulator/databricks LAKEBASE_PAT_USER=lakebase-pat-user@example.com \
    LAKEBASE_CLI_USER=lakebase-cli-user@example.com
for c in pat pat_refused precedence two_sources cli cli_failures profile oidc dbodbc dbodbc_errors dbodbc_secrets; do run "auth_$c" "$bin/auth_test" "$c"; done
# The Azure sources: an Entra application's secret (right and wrong) and managed identities;
# Entra's and the metadata service's tokens are issued, so they are needles too.
for c in client_secret msi auto half wrong_secret; do run "azure_$c" "$bin/azure_test" "$c"; done
run file_cache "$here/file_cache_test.sh"

passed=0
failed=0
check() { if eval "$2"; then echo "ok   $1"; passed=$((passed + 1)); else echo "FAIL $1"; failed=$((failed + 1)); fi; }

# The needles: every secret the emulator's service principals hold, and every token
# and credential it issued during this run.
tail -n +"$((before + 1))" "$state/issued-secrets" >"$work/issued.txt"
cat "$state/client-secret" "$state/noaccess-client-secret" "$state/pat" "$state/oidc-token" \
    "$state/oidc-token-expired" "$state/azure-client-secret" >"$work/client-secrets.txt"
issued=$(wc -l <"$work/issued.txt")
check "the run issued tokens and credentials to look for ($issued)" '[ "$issued" -ge 10 ]'
check "the driver logged at debug level" 'grep -q "HTTP POST https://[^ ]*/oidc/v1/token -> 200" "$work/driver.log"'
check "the PAT, CLI and federation sources were used" 'grep -q "auth: pat" "$work/driver.log" && grep -q "auth: databricks-cli" "$work/driver.log" && grep -q "auth: file-oidc" "$work/driver.log"'
check "the Azure sources were used" 'grep -q "auth: azure-client-secret" "$work/driver.log" && grep -q "auth: azure-msi" "$work/driver.log"'
check "the driver logged the connect timings" 'grep -q "connect: ok in .*workspace token .*credential .*PostgreSQL" "$work/driver.log"'
check "the driver manager traced the calls" 'grep -q "SQLDriverConnect" "$work/trace.log"'

files=("$work"/*.log "$work"/*.out "$work"/*.err)
hits=$(grep -F -l -f "$work/issued.txt" "${files[@]}" 2>/dev/null)
check "no issued token or credential anywhere${hits:+ (found in: $hits)}" '[ -z "$hits" ]'
nontrace=("$work/driver.log" "$work"/*.out "$work"/*.err)
hits=$(grep -F -l -f "$work/client-secrets.txt" "${nontrace[@]}" 2>/dev/null)
check "no client secret or personal access token in the driver's log or any output${hits:+ (found in: $hits)}" '[ -z "$hits" ]'
hits=$(grep -E -l -i "authorization:|bearer [a-z0-9._-]{8}|basic [a-z0-9+/=]{8}" "$work/driver.log" 2>/dev/null)
check "no Authorization header in the driver's log" '[ -z "$hits" ]'
# In the trace, a client secret may appear only where an application passed it in.
leaked=$(grep -F -f "$work/client-secrets.txt" "$work/trace.log" 2>/dev/null | grep -v -E "In(Connection)?String|szConnStrIn|Str In|\[.*(ClientSecret|Client_Secret|PWD|Token)" | head -3)
check "client secrets and PATs in the trace only in the applications' own input${leaked:+ (other: $leaked)}" '[ -z "$leaked" ]'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
