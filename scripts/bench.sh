#!/usr/bin/env bash
# The benchmark (issue 13): brings up the local Lakebase (scripts/local-lakebase.sh: the
# workspace emulator and a real PostgreSQL 15), builds the driver and the benchmark's client,
# and runs every case through the driver and straight through psqlODBC on the same server,
# alternating the variants over the rounds (tests/bench/bench_run.py says how). Prints the
# medians, minimums and ratios per case and the issue's targets met or missed.
#   scripts/bench.sh           the full run (7 rounds, 1M rows, ...: about 15 minutes):
#                              build/bench/full/bench.json, docs/benchmarks.md, docs/benchmarks.png
#   scripts/bench.sh --quick   fewer rounds, smaller sizes (CI, under 2 minutes):
#                              build/bench/quick/bench.json only
#   extra options go to bench_run.py (--set connects=100, --cases after_connect,connects,cold,...)
# Environment as for local-lakebase.sh (LAKEBASE_LOCAL_STATE, LAKEBASE_EMULATOR_PORT,
# LAKEBASE_PG_PORT); BUILD_DIR (default <repo>/build). The local Lakebase is stopped again
# when this script started it. Exit 1 when a case errored (never because of a time).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
mode=full
args=()
for a in "$@"; do
    case $a in
        --quick) mode=quick; args+=(--quick) ;;
        *) args+=("$a") ;;
    esac
done

"$root/scripts/deps.sh"
if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$build" -DLB_WERROR=ON \
        ${LAKEBASE_EMULATOR_PORT:+-DLB_EMU_PORT=$LAKEBASE_EMULATOR_PORT} \
        ${LAKEBASE_PG_PORT:+-DLB_PG_PORT=$LAKEBASE_PG_PORT} >/dev/null
fi
cmake --build "$build" -j"$(nproc)" --target lakebase-odbc bench_client >/dev/null

export LAKEBASE_DRIVER=${LAKEBASE_DRIVER:-$build/driver/liblakebase-odbc.so}
started=0
if ! "$root/scripts/local-lakebase.sh" status >/dev/null 2>&1; then started=1; fi
eval "$("$root/scripts/local-lakebase.sh" up)"
stop() { [ "$started" = 1 ] && "$root/scripts/local-lakebase.sh" down >/dev/null 2>&1 || true; }
trap stop EXIT
if [ -z "${LAKEBASE_PSQLODBC:-}" ]; then
    LAKEBASE_PSQLODBC=$(sed -n '/^\[PostgreSQL Unicode\]/,/^\[/s/^Driver *= *//p' "$ODBCSYSINI/odbcinst.ini" | head -n 1)
    export LAKEBASE_PSQLODBC
fi
export DATABRICKS_CONFIG_FILE=$LAKEBASE_LOCAL_STATE/no-databrickscfg # a developer's own profile stays out

doc=()
[ "$mode" = full ] && doc=(--doc "$root/docs/benchmarks.md")
python3 "$root/tests/bench/bench_run.py" --client "$build/tests/bench/bench_client" \
    --out "$build/bench/$mode" "${doc[@]}" "${args[@]}"
