#!/usr/bin/env bash
# isql and iusql (the real unixODBC tools) against the local Lakebase: by DSN and DSN-less
# (isql -k, with ClientSecretFile), the seed's verification query must print the service
# principal's client id and databricks_postgres; a table of every type written and read back
# exactly; 100,000 rows; a SQL error's SQLSTATE; and errors (a wrong secret: 28000 and the fix)
# must reach isql -v as readable diagnostics.
# isql and iusql on their own (the same with psqlODBC alone, shown below with a psqlODBC DSN):
# - neither binds parameters: values go in the SQL text;
# - iusql prints an error's message without its SQLSTATE (isql prints "[42P01]...");
# - iusql has no -k (DSN-less): use isql -k, or a DSN;
# - a timestamp with time zone reads as SQL_TYPE_TIMESTAMP in the session's time zone, without
#   its offset (psqlODBC's mapping): SET TIME ZONE first, or select CAST(ts AS text).
# Needs the ctest fixture's environment (ODBCSYSINI, ODBCINI, LAKEBASE_*).
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

# DSN-less (isql -k), the secret in a ClientSecretFile (never on the command line).
work=$(mktemp -d)
head -n 1 "$LAKEBASE_LOCAL_STATE/client-secret" >"$work/secret"
chmod 0600 "$work/secret"
dsnless="Driver=Lakebase;DatabricksHost=$LAKEBASE_EMULATOR_URL;ClientID=$LAKEBASE_CLIENT_ID;ClientSecretFile=$work/secret;\
Endpoint=projects/demo/branches/main/endpoints/primary;Servername=localhost;Port=$LAKEBASE_PG_PORT;\
CAFile=$LAKEBASE_LOCAL_STATE/ca.pem"
out=$(echo "$query" | isql -v -b -k "$dsnless" 2>&1)
check "isql -k DSN-less" "$out" "$LAKEBASE_CLIENT_ID" "databricks_postgres"

# A table of every type, written (values in the SQL: isql binds no parameters) and read back.
text='Zoë 日本 🚀'
numeric='123456789012345678901234567890.12345'
for tool in isql iusql; do
    out=$(printf '%s\n' "DROP TABLE IF EXISTS isql_types" \
        "CREATE TABLE isql_types (i integer, n numeric(40,5), t text, ts timestamp with time zone, bin bytea, z text)" \
        "INSERT INTO isql_types VALUES (-2147483648, $numeric, '$text', '2026-11-26 14:37:51.123456+00', '\\x00ff10', NULL)" \
        "SET TIME ZONE 'UTC'" \
        "SELECT i, n, t, ts, CAST(ts AS text), bin, z FROM isql_types" \
        "DROP TABLE isql_types" | $tool -b -d'|' lakebase-local 2>&1)
    check "$tool: every type read back exactly" "$out" \
        "-2147483648|$numeric|$text|2026-11-26 14:37:51.123456|2026-11-26 14:37:51.123456+00|00ff10|"
done

# Standard output only: a sanitizer build's runtime warnings (stderr, no newline) would glue
# themselves to the first row.
out=$(echo "SELECT g FROM generate_series(1, 100000) g" | isql -b -d'|' lakebase-local 2>/dev/null)
rows=$(grep -cE '^[0-9]+$' <<<"$out")
sum=$(grep -E '^[0-9]+$' <<<"$out" | awk '{ s += $1 } END { printf "%.0f", s }')
check "isql: 100,000 rows" "rows=$rows sum=$sum" "rows=100000 sum=5000050000"

out=$(echo "SELECT * FROM no_such_table" | isql -v -b lakebase-local 2>&1)
check "isql: a SQL error shows its SQLSTATE" "$out" "[42P01]" 'relation "no_such_table" does not exist'
out=$(echo "SELECT * FROM no_such_table" | iusql -v -b lakebase-local 2>&1)
check "iusql: a SQL error shows its message" "$out" 'relation "no_such_table" does not exist'

# iusql leaves out the SQLSTATE with psqlODBC alone too: a psqlODBC DSN for the password role.
cp "$ODBCINI" "$work/odbc.ini"
printf '\n[psqlodbc-direct]\nDriver=PostgreSQL Unicode\nServername=localhost\nPort=%s\nDatabase=databricks_postgres\nSSLmode=require\nUsername=lakebase_direct\nPassword=%s\n' \
    "$LAKEBASE_PG_PORT" "$(cat "$LAKEBASE_LOCAL_STATE/direct-password")" >>"$work/odbc.ini"
chmod 0600 "$work/odbc.ini"
out=$(echo "SELECT * FROM no_such_table" | ODBCINI=$work/odbc.ini iusql -v -b psqlodbc-direct 2>&1)
check "iusql with psqlODBC alone: the same message" "$out" 'relation "no_such_table" does not exist'
if grep -qF "[42P01]" <<<"$out"; then
    echo "FAIL iusql with psqlODBC alone shows the SQLSTATE now: update the README and this test"
    failed=$((failed + 1))
fi
rm -rf "$work"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
