#!/usr/bin/env bash
# LogFile (LAKEBASE_ODBC_LOG_FILE): a new log file is created 0600; a symbolic link is
# not written through; a file owned by another user is refused with one line on
# standard error; /dev/stderr (a link to /proc/self/fd/2) and /dev/null still work.
# The connection succeeds in every case. Needs the ctest fixture's environment; run as
# root for the other-owner case (chown nobody).
set -u
umask 022
passed=0
failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1"; failed=$((failed + 1)); }
query='SELECT current_user, current_database()'
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

run() { # log file; stdout to $work/out, stderr to $work/err
    echo "$query" | LAKEBASE_ODBC_LOG_LEVEL=info LAKEBASE_ODBC_LOG_FILE=$1 timeout 60 isql -b lakebase-local \
        >"$work/out" 2>"$work/err"
    grep -q "$LAKEBASE_CLIENT_ID" "$work/out"
}

if run "$work/new.log" && [ "$(stat -c %a "$work/new.log")" = 600 ] && grep -q "INFO connect" "$work/new.log"; then
    ok "a new log file is created 0600"
else
    bad "new log file: mode $(stat -c %a "$work/new.log" 2>/dev/null), out: $(cat "$work/out"), err: $(cat "$work/err")"
fi

# A link planted where the log goes, to a file the user must not append to.
echo untouched >"$work/victim"
chmod 0600 "$work/victim"
ln -s "$work/victim" "$work/link.log"
if run "$work/link.log" && [ "$(cat "$work/victim")" = untouched ] &&
    [ "$(grep -c "link.log.*symbolic link" "$work/err")" -eq 1 ]; then
    ok "a symbolic link is refused, nothing written through it: $(grep -m1 "link.log" "$work/err")"
else
    bad "symbolic link: victim now: $(head -c 300 "$work/victim"); err: $(cat "$work/err")"
fi
# A dangling link is not created through either.
ln -s "$work/created-through-link" "$work/dangling.log"
if run "$work/dangling.log" && [ ! -e "$work/created-through-link" ]; then
    ok "a dangling symbolic link creates nothing"
else
    bad "dangling link: $(ls "$work"); err: $(cat "$work/err")"
fi

if [ "$(id -u)" -eq 0 ]; then
    touch "$work/other.log"
    chmod 0600 "$work/other.log"
    chown nobody "$work/other.log"
    n=0
    if run "$work/other.log"; then n=$(grep -c "other.log.*owned by uid" "$work/err"); fi
    if [ "$n" -eq 1 ] && [ ! -s "$work/other.log" ]; then
        ok "a log file owned by another user is refused, said once: $(grep -m1 "other.log" "$work/err")"
    else
        bad "other user's file: $n messages; file: $(head -c 300 "$work/other.log"); err: $(cat "$work/err")"
    fi
else
    echo "skip a log file owned by another user (not root)"
fi

if run /dev/stderr && grep -q "INFO connect" "$work/err" && ! grep -q "refused" "$work/err"; then
    ok "/dev/stderr still works"
else
    bad "/dev/stderr: err: $(cat "$work/err")"
fi
if run /dev/null && ! grep -q "lakebase-odbc" "$work/err"; then # (sanitizer builds add their own lines)
    ok "/dev/null still works"
else
    bad "/dev/null: err: $(cat "$work/err")"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
