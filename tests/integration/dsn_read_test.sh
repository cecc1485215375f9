#!/bin/sh
# The driver reads its DSN's odbc.ini section once per connect: one listing of the section's
# keys, then one read per driver key present in it (not one look-up per key and alias of the
# driver's key table). Counts the driver's SQLGetPrivateProfileString calls during one isql
# connect with an LD_PRELOAD counter (profile_count.c) and prints them.
# Usage: dsn_read_test.sh <profile_count.so>
set -eu
counter=$1
: "${LAKEBASE_DRIVER:?run through ctest}" "${ODBCINI:?run through ctest}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Lines of the DSN's section that set a key.
keys=$(awk '/^\[/{on=($0=="[lakebase-local]")} on && /^[A-Za-z][^=]*=/{n++} END{print n+0}' "$ODBCINI")
driver=$(readlink -f "$LAKEBASE_DRIVER")
echo "SELECT 1" | LD_PRELOAD="${LD_PRELOAD:+$LD_PRELOAD }$counter" LB_COUNT_OBJECT="$driver" \
    LB_COUNT_FILE="$work/count" isql -v -b lakebase-local >"$work/out" 2>&1 || { cat "$work/out"; exit 1; }
calls=$(tail -n 1 "$work/count")
echo "dsn_read: one connect of DSN lakebase-local ($keys keys in its section): $calls SQLGetPrivateProfileString calls on odbc.ini by the driver"
[ "$calls" -ge 1 ] || { echo "FAIL: the counter saw no call (is LB_COUNT_OBJECT the driver?)"; exit 1; }
[ "$calls" -le $((keys + 1)) ] || { echo "FAIL: more look-ups than one listing plus one per key present"; exit 1; }
echo "PASS"
