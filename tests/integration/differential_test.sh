#!/usr/bin/env bash
# The differential test: after connect, the driver must be indistinguishable from psqlODBC.
# Runs differential_test (the C client) through the driver (DSN-less, the service principal)
# and through psqlODBC directly ("PostgreSQL Unicode" in the state folder's odbcinst.ini, the
# password role lakebase_direct with the same grants), ANSI and W, for each psqlODBC option set
# below, and diffs the outputs. Fails on any difference that is not declared expected:
#   - "info 6: " / "info 7: " / "info 7 after: "  SQL_DRIVER_NAME and SQL_DRIVER_VER (the driver says
#     what it is; the version must still name the psqlODBC version psqlODBC reports);
#   - "info 47: "  SQL_USER_NAME (printed as <user>, but its length differs);
#   - "ident current_user: " / "ident SQL_USER_NAME: "  the user (client id vs lakebase_direct);
#   - "connect out: ", "connect out <path>: "  the output connection strings' keys (the driver's
#     input keys vs psqlODBC's full list).
# The client also connects by DSN (SQLConnect with and without UID/PWD arguments, and
# SQLDriverConnect "DSN="): for each side this script writes an odbc.ini in a private folder
# (0700, removed at the end) with two DSNs holding the side's settings and the option set,
# "lbdiff" with the secret (or password) and "lbdiff-nopwd" without it, and hands the user and
# secret to the client in LBDIFF_UID and LBDIFF_PWD.
# Prints the number of lines compared and each declared difference. The connection strings
# hold secrets: they go to the client in LBDIFF_CONNSTR (not argv) and are never printed.
# Usage: differential_test.sh <differential_test binary> <output dir>
# Environment: the ctest fixture's (LAKEBASE_LOCAL_STATE, ODBCSYSINI, LAKEBASE_EMULATOR_URL,
# LAKEBASE_CLIENT_ID, LAKEBASE_PG_PORT); LBDIFF_DRIVER_EXTRA is appended to the driver side's
# connection string only (to show that the test fails on a real difference, e.g. BoolsAsChar=0:
# ctest differential_catches_a_difference); LBDIFF_SETS restricts the option sets (indices).
set -u
prog=$1
outdir=$2
state=${LAKEBASE_LOCAL_STATE:?run through ctest}
mkdir -p "$outdir"
chmod 0700 "$outdir"

secret=$(<"$state/client-secret")
password=$(<"$state/direct-password")
ca=$state/ca.pem
common="Servername=localhost;Port=$LAKEBASE_PG_PORT;Database=databricks_postgres;SSLmode=require"
driver_cs="Driver={Lakebase};DatabricksHost=$LAKEBASE_EMULATOR_URL;ClientID=$LAKEBASE_CLIENT_ID;ClientSecret={$secret};Endpoint=projects/demo/branches/main/endpoints/primary;CAFile={$ca};SSLRootCert={$ca};$common"
psql_cs="Driver={PostgreSQL Unicode};UID=lakebase_direct;PWD={$password};pqopt={sslrootcert='$ca'};$common"

expected='^(info 6|info 7|info 7 after|info 47|ident current_user|ident SQL_USER_NAME|connect out( [a-z =]+)?): '

# psqlODBC's option sets that change behaviour (each run on both sides).
option_sets=(
    ""
    "UseDeclareFetch=1;Fetch=3"
    "UseServerSidePrepare=0"
    "Protocol=7.4-1"
    "Protocol=7.4-2"
    "BoolsAsChar=0"
)

# Each side creates and drops its own lbdiff_* objects (same names, one run at a time). A run
# that died midway leaves objects the other role may not drop: remove them as the admin.
cleanup() {
    (cd / && env -u LD_PRELOAD runuser -u postgres -- psql -X -q -h "$(<"$state/runtime-dir")" -p "$LAKEBASE_PG_PORT" \
        -d databricks_postgres -c 'DROP VIEW IF EXISTS lbdiff_view' \
        -c 'DROP TABLE IF EXISTS lbdiff_child, lbdiff_parent' \
        -c 'DROP FUNCTION IF EXISTS lbdiff_add(integer, integer)') >/dev/null 2>&1 ||
        echo "note: could not clean up leftover lbdiff_* objects as postgres"
}
cleanup

inidir=$(mktemp -d)
chmod 0700 "$inidir"
trap 'rm -rf "$inidir"' EXIT
# write_ini <file> <side> <options>: the two DSNs of one side, the option set's keys included.
write_ini() {
    local file=$1 side=$2 opts=$3 name
    : >"$file"
    chmod 0600 "$file"
    for name in lbdiff lbdiff-nopwd; do
        {
            echo "[$name]"
            if [[ $side == driver ]]; then
                printf '%s\n' "Driver=Lakebase" "DatabricksHost=$LAKEBASE_EMULATOR_URL" "ClientID=$LAKEBASE_CLIENT_ID" \
                    "Endpoint=projects/demo/branches/main/endpoints/primary" "CAFile=$ca" "SSLRootCert=$ca"
                [[ $name == lbdiff ]] && echo "ClientSecret=$secret"
            else
                printf '%s\n' "Driver=PostgreSQL Unicode" "pqopt=sslrootcert=$ca"
                [[ $name == lbdiff ]] && printf '%s\n' "Username=lakebase_direct" "Password=$password"
            fi
            printf '%s\n' "Servername=localhost" "Port=$LAKEBASE_PG_PORT" "Database=databricks_postgres" "SSLmode=require"
            tr ';' '\n' <<<"$opts" | grep -v '^$'
            echo
        } >>"$file"
    done
}

failed=0
total=0
sets_run=0
for i in "${!option_sets[@]}"; do
    # LBDIFF_SETS (indices, e.g. "0 3") runs only those option sets.
    [[ -z ${LBDIFF_SETS:-} || " $LBDIFF_SETS " == *" $i "* ]] || continue
    sets_run=$((sets_run + 1))
    opts=${option_sets[$i]}
    for mode in A W; do
        name="set$i-$mode"
        label="${opts:-defaults} $mode"
        write_ini "$inidir/driver.ini" driver "$opts"
        write_ini "$inidir/psqlodbc.ini" psqlodbc "$opts"
        LBDIFF_CONNSTR="$driver_cs;$opts;${LBDIFF_DRIVER_EXTRA:-}" ODBCINI=$inidir/driver.ini LBDIFF_DSN=lbdiff \
            LBDIFF_DSN_NOPWD=lbdiff-nopwd LBDIFF_UID=$LAKEBASE_CLIENT_ID LBDIFF_PWD=$secret \
            "$prog" "$mode" >"$outdir/$name.driver" 2>"$outdir/$name.driver.err"
        rc1=$?
        [[ $rc1 -eq 0 ]] || cleanup
        LBDIFF_CONNSTR="$psql_cs;$opts" ODBCINI=$inidir/psqlodbc.ini LBDIFF_DSN=lbdiff LBDIFF_DSN_NOPWD=lbdiff-nopwd \
            LBDIFF_UID=lakebase_direct LBDIFF_PWD=$password \
            "$prog" "$mode" >"$outdir/$name.psqlodbc" 2>"$outdir/$name.psqlodbc.err"
        rc2=$?
        [[ $rc2 -eq 0 ]] || cleanup
        if [[ $rc1 -ne 0 || $rc2 -ne 0 ]]; then
            echo "FAIL $label: the client did not run to the end (driver exit $rc1, psqlODBC exit $rc2)"
            sed 's/^/    driver: /' "$outdir/$name.driver.err"
            sed 's/^/    psqlODBC: /' "$outdir/$name.psqlodbc.err"
            failed=$((failed + 1))
            continue
        fi
        n1=$(wc -l <"$outdir/$name.driver")
        n2=$(wc -l <"$outdir/$name.psqlodbc")
        diff -u <(grep -Ev "$expected" "$outdir/$name.driver") <(grep -Ev "$expected" "$outdir/$name.psqlodbc") \
            >"$outdir/$name.diff"
        if [[ -s $outdir/$name.diff ]]; then
            echo "FAIL $label: undeclared differences (- driver, + psqlODBC; $outdir/$name.diff):"
            head -n 60 "$outdir/$name.diff" | sed 's/^/    /'
            failed=$((failed + 1))
        else
            echo "ok   $label: $n1 lines compared ($n2 from psqlODBC), identical apart from:"
            diff <(grep -E "$expected" "$outdir/$name.driver") <(grep -E "$expected" "$outdir/$name.psqlodbc") |
                grep -E '^[<>]' | sed 's/^</    driver:  /; s/^>/    psqlODBC:/'
        fi
        # A declared difference still has a fixed shape: the driver's version names the
        # psqlODBC version it wraps, exactly as psqlODBC gives it.
        pver=$(sed -n 's/^info 7: rc=0 len=[0-9]* text="\(.*\)"$/\1/p' "$outdir/$name.psqlodbc")
        # "info 7 after" is an ANSI call made after a W call.
        for key in "info 7" "info 7 after"; do
            if ! grep -qE "^$key: rc=0 len=[0-9]+ text=\"[0-9]{2}\.[0-9]{2}\.[0-9]{4} Lakebase \(psqlODBC ${pver//./\\.}\)\"$" \
                "$outdir/$name.driver"; then
                echo "FAIL $label: the driver's SQL_DRIVER_VER ($key) does not name psqlODBC $pver:"
                grep "^$key: " "$outdir/$name.driver" | sed 's/^/    /'
                failed=$((failed + 1))
            fi
        done
        total=$((total + n1))
    done
done
# The outputs must not hold a secret (they are kept for reading).
if grep -rqF -e "$secret" -e "$password" "$outdir"; then
    echo "FAIL a secret appears in $outdir"
    failed=$((failed + 1))
fi
echo "differential: $total lines compared in $sets_run option sets x ANSI/W, $failed failing"
[[ $failed -eq 0 ]]
