#!/usr/bin/env bash
# Proxies: the workspace calls go through libcurl's https_proxy when it is set, and
# through the Proxy key (which wins) when given; proxy credentials work and never
# show up in the driver's log or output; a dead or refusing proxy is a clear 08001.
# Needs the ctest fixture's environment.
set -u
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT
passed=0
failed=0
check() { if eval "$2"; then echo "ok   $1"; passed=$((passed + 1)); else echo "FAIL $1"; failed=$((failed + 1)); fi; }
start_proxy() { # name, extra args...; the port ends up in $work/<name>.port
    local name=$1
    shift
    python3 "$here/connect_proxy.py" --port-file "$work/$name.port" --log "$work/$name.log" "$@" \
        >"$work/$name.stderr" 2>&1 &
    pids+=($!)
    for _ in $(seq 50); do [ -s "$work/$name.port" ] && break; sleep 0.1; done
}
pw="pr0xy-pa55-$RANDOM$RANDOM"
start_proxy open
start_proxy auth --auth "tester:$pw"
open_port=$(cat "$work/open.port")
auth_port=$(cat "$work/auth.port")
emu=${LAKEBASE_EMULATOR_URL#https://}
query='SELECT current_user, current_database()'
connect() { # extra connection-string keys; prints isql's output
    echo "$query" | LAKEBASE_ODBC_LOG_LEVEL=debug LAKEBASE_ODBC_LOG_FILE=$work/driver.log \
        isql -v -b -3 -k "DSN=lakebase-local;TokenCache=off;$1" 2>&1 | tee -a "$work/outputs.txt"
}

out=$(https_proxy=http://127.0.0.1:$open_port connect "")
check "https_proxy from the environment is used" \
    'grep -q "$LAKEBASE_CLIENT_ID" <<<"$out" && grep -q "^$emu 200" "$work/open.log"'

: >"$work/open.log"
out=$(https_proxy=http://127.0.0.1:1 connect "Proxy=http://127.0.0.1:$open_port")
check "the Proxy key wins over https_proxy" 'grep -q "$LAKEBASE_CLIENT_ID" <<<"$out" && grep -q "^$emu 200" "$work/open.log"'

out=$(connect "Proxy=http://tester:$pw@127.0.0.1:$auth_port")
check "proxy credentials in the Proxy URL" 'grep -q "$LAKEBASE_CLIENT_ID" <<<"$out" && grep -q "^$emu 200" "$work/auth.log"'

: >"$work/auth.log"
out=$(connect "Proxy=http://tester:wrong@127.0.0.1:$auth_port")
check "wrong proxy credentials: 08001 that says so, not retried" \
    'grep -q "08001" <<<"$out" && grep -q "Proxy Authentication Required" <<<"$out" && [ "$(grep -c " 407" "$work/auth.log")" -eq 1 ]'

out=$(connect "Proxy=http://127.0.0.1:1")
check "a dead proxy: 08001 naming the workspace" 'grep -q "08001" <<<"$out" && grep -q "Could not reach" <<<"$out"'

check "the proxy password is in no log or output" '[ -s "$work/outputs.txt" ] && ! grep -qF "$pw" "$work/driver.log" "$work/outputs.txt"'
check "the driver logged at debug level, with each request's origin" 'grep -q "HTTP POST https://$emu/oidc/v1/token" "$work/driver.log"'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
