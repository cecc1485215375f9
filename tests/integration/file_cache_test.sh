#!/usr/bin/env bash
# TokenCache=file: separate isql processes share one database credential through the
# user's cache directory, whose files are 0600; a directory that is writable by others
# or owned by another user is refused with a log line, and the driver falls back to
# its in-memory cache. Needs the ctest fixture's environment.
set -u
here=$(cd "$(dirname "$0")" && pwd)
emu() { python3 "$here/emuctl.py" "$@"; }
passed=0
failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1"; failed=$((failed + 1)); }
query='SELECT current_user, current_database()'
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_CACHE_HOME=$work/cache LAKEBASE_ODBC_TOKEN_CACHE=file
dir=$XDG_CACHE_HOME/lakebase-odbc

emu reset
good=0
for i in $(seq 1 20); do
    out=$(echo "$query" | isql -b lakebase-local 2>&1)
    grep -q "$LAKEBASE_CLIENT_ID" <<<"$out" && good=$((good + 1))
done
n=$(emu count "POST /api/2.0/postgres/credentials")
[ "$good" -eq 20 ] && [ "$n" -eq 1 ] && ok "20 isql processes, $good connected, $n credential request" ||
    bad "20 isql processes: $good connected, $n credential requests (want 20 and 1)"

modes=$(stat -c '%a' "$dir" "$dir"/*.cred | sort -u | tr '\n' ' ')
[ "$modes" = "600 700 " ] && ok "cache directory 0700, files 0600" || bad "modes: $modes"
if grep -rqF "$(cat "$LAKEBASE_LOCAL_STATE/client-secret")" "$dir"; then bad "client secret in the cache"; else ok "no client secret in the cache"; fi

# A cache file that is a FIFO (say, planted while the driver was away) is refused at once
# instead of blocking the connect; the driver fetches and connects. (A 20 s timeout turns
# a hang into a failure.)
for f in "$dir"/*.cred; do rm -f "$f" && mkfifo -m 0600 "$f"; done
emu reset
log=$work/fifo.log
t0=$(date +%s%N)
out=$(echo "$query" | LAKEBASE_ODBC_LOG_LEVEL=info LAKEBASE_ODBC_LOG_FILE=$log timeout 20 isql -b lakebase-local 2>&1)
rc=$?
took=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
if [ "$rc" -eq 0 ] && grep -q "$LAKEBASE_CLIENT_ID" <<<"$out" && grep -q "FIFO" "$log"; then
    ok "a FIFO as the cache file: refused and connected in $took s"
else
    bad "a FIFO as the cache file: rc $rc after $took s; output: $out; log: $(cat "$log" 2>/dev/null)"
fi

refused() { # name, expected log phrase
    local log=$work/$1.log
    emu reset
    out=$(echo "$query" | LAKEBASE_ODBC_LOG_LEVEL=info LAKEBASE_ODBC_LOG_FILE=$log isql -b lakebase-local 2>&1)
    if grep -q "$LAKEBASE_CLIENT_ID" <<<"$out" && grep -q "$2" "$log" && grep -q "using the in-memory cache" "$log" &&
        [ "$(emu count "POST /api/2.0/postgres/credentials")" -eq 1 ]; then
        ok "$1: refused with a log line, connected through the memory cache"
    else
        bad "$1: output: $out; log: $(cat "$log" 2>/dev/null)"
    fi
}
chmod 0770 "$dir"
refused "group-writable directory" "writable by group or others"
chmod 0700 "$dir"
chown nobody "$dir"
refused "directory owned by another user" "owned by uid"
chown "$(id -u)" "$dir"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
