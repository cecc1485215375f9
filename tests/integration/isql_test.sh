#!/usr/bin/env bash
# isql and iusql (the real unixODBC tools) against the local Lakebase's DSN: the seed's
# verification query must print the service principal's client id and
# databricks_postgres, and errors must reach isql -v as readable diagnostics.
# Needs the ctest fixture's environment (ODBCSYSINI, ODBCINI, LAKEBASE_CLIENT_ID).
set -u
passed=0
failed=0
check() { # name, command output, expected phrase...
    local name=$1 out=$2
    shift 2
    for phrase in "$@"; do
        if ! grep -qF -- "$phrase" <<<"$out"; then
            echo "FAIL $name: output lacks \"$phrase\":"
            sed 's/^/    /' <<<"$out"
            failed=$((failed + 1))
            return
        fi
    done
    echo "ok   $name"
    passed=$((passed + 1))
}
query='SELECT current_user, current_database()'

out=$(echo "$query" | isql -v -b lakebase-local 2>&1)
check "isql DSN" "$out" "$LAKEBASE_CLIENT_ID" "databricks_postgres"

out=$(echo "$query" | iusql -v -b lakebase-local 2>&1)
check "iusql DSN" "$out" "$LAKEBASE_CLIENT_ID" "databricks_postgres"

# The read replica DSN: the endpoint's read-only host (127.0.0.1 here), looked up.
out=$(echo "SELECT current_user, inet_server_addr()" | isql -v -b lakebase-local-replica 2>&1)
check "isql replica DSN" "$out" "$LAKEBASE_CLIENT_ID" "127.0.0.1"

out=$(echo "$query" | isql -v -b lakebase-local "$LAKEBASE_CLIENT_ID" 2>&1)
check "isql DSN with user" "$out" "$LAKEBASE_CLIENT_ID" "databricks_postgres"

out=$(echo "$query" | isql -v -b lakebase-local "$LAKEBASE_CLIENT_ID" wrong-secret 2>&1)
check "isql wrong secret (password = client secret)" "$out" "[28000]" "Check ClientID and ClientSecret"
if grep -q "wrong-secret" <<<"$out"; then echo "FAIL secret echoed"; failed=$((failed + 1)); fi

out=$(echo "$query" | iusql -v -b lakebase-local "$LAKEBASE_CLIENT_ID" wrong-secret 2>&1)
check "iusql wrong secret (W diagnostics)" "$out" "Check ClientID and ClientSecret"

out=$(echo "$query" | isql -v -b -k "DSN=lakebase-local;UseDeclareFetch=1" 2>&1)
check "isql -k connection string" "$out" "$LAKEBASE_CLIENT_ID" "databricks_postgres"

out=$(echo "$query" | isql -v -b -k "DSN=lakebase-local;Endpoint=projects/demo/branches/main" 2>&1)
check "isql Endpoint naming the branch" "$out" "$LAKEBASE_CLIENT_ID" "databricks_postgres"

out=$(echo "$query" | isql -v -b -3 -k "DSN=lakebase-local;Endpoint=projects/demo/main" 2>&1)
check "isql malformed endpoint" "$out" "[HY000]" "Endpoint" "is not of the form"

out=$(echo "$query" | LAKEBASE_PSQLODBC=/nonexistent/psqlodbcw.so isql -v -b lakebase-local 2>&1)
check "missing psqlODBC is named" "$out" "/nonexistent/psqlodbcw.so" "odbc-postgresql"

# A client secret read from an odbc.ini that other users can read is worth a warning.
work=$(mktemp -d)
cp "$ODBCINI" "$work/odbc.ini"
chmod 0644 "$work/odbc.ini"
out=$(echo "$query" | ODBCINI=$work/odbc.ini LAKEBASE_ODBC_LOG_LEVEL=error LAKEBASE_ODBC_LOG_FILE=$work/log \
    isql -v -b lakebase-local 2>&1)
check "connects with a world-readable odbc.ini" "$out" "$LAKEBASE_CLIENT_ID"
check "and warns that the secret sits there" "$(cat "$work/log" 2>/dev/null)" "holds ClientSecret in" \
    "other users can read (mode 644)" "chmod 600"
# Only the DSN's own section counts, and a ClientSecretFile there is no secret in the file:
# the same world-readable odbc.ini with the secret moved to a private file (and another
# DSN holding a PWD) warns about nothing.
grep -v '^ClientSecret' "$ODBCINI" >"$work/odbc.ini"
printf '%s\n' "$(cat "$LAKEBASE_LOCAL_STATE/client-secret")" >"$work/secret"
chmod 0600 "$work/secret"
sed -i "/^\[lakebase-local\]/a ClientSecretFile=$work/secret" "$work/odbc.ini"
printf '\n[someone-else]\nDriver=Lakebase\nPWD=not-ours\n' >>"$work/odbc.ini"
chmod 0644 "$work/odbc.ini"
: >"$work/log"
out=$(echo "$query" | ODBCINI=$work/odbc.ini LAKEBASE_ODBC_LOG_LEVEL=error LAKEBASE_ODBC_LOG_FILE=$work/log \
    isql -v -b lakebase-local 2>&1)
check "connects with ClientSecretFile named in a world-readable odbc.ini" "$out" "$LAKEBASE_CLIENT_ID"
if grep -qE "other users can read|readable by other users" "$work/log"; then
    echo "FAIL a ClientSecretFile (or another DSN's PWD) was taken for an exposed secret:"
    sed 's/^/    /' "$work/log"
    failed=$((failed + 1))
else
    echo "ok   no warning for ClientSecretFile or another DSN's PWD"
    passed=$((passed + 1))
fi
rm -rf "$work"

# A DSN value longer than unixODBC reads whole (it cuts odbc.ini lines at 999 characters)
# is an error that names the key and the DSN, not a cut secret sent to the workspace.
work=$(mktemp -d)
long=$(head -c 1200 /dev/zero | tr '\0' 'q')
{ cat "$ODBCINI"; echo; sed -n '/^\[lakebase-local\]/,/^$/p' "$ODBCINI" | sed -e 's/^\[lakebase-local\]/[long-value]/' \
    -e "s/^ClientSecret=.*/ClientSecret=$long/"; } >"$work/odbc.ini"
chmod 0600 "$work/odbc.ini"
out=$(echo "$query" | ODBCINI=$work/odbc.ini isql -v -b -3 long-value 2>&1)
check "a 1,200-byte ClientSecret in odbc.ini is named, not cut" "$out" "[HY000]" "ClientSecret" '"long-value"' "too long"
if grep -q "qqqq" <<<"$out"; then echo "FAIL the long value is echoed"; failed=$((failed + 1)); fi
rm -rf "$work"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
