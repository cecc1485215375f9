#!/usr/bin/env bash
# Builds lakebase-odbc and runs the whole test suite: unit tests, and integration
# tests through unixODBC, psqlODBC and a local Lakebase (workspace emulator +
# PostgreSQL 15) that the suite starts and stops itself; then the concurrency tests
# again in a ThreadSanitizer build. Run as root on Debian 12.
#   scripts/test.sh            everything
#   scripts/test.sh --quick    the main build only
#   scripts/test.sh -R regex   (and other ctest options) the main build only, those tests
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh"

quick=0
if [ "${1:-}" = "--quick" ]; then quick=1; shift; fi
[ $# -gt 0 ] && quick=1

status=0
summary=()
run_suite() { # name, build dir, cmake options, ctest options...
    local name=$1 dir=$2 opts=$3
    shift 3
    echo "== $name"
    # shellcheck disable=SC2086
    cmake -S "$root" -B "$dir" -DLB_WERROR=ON $opts >/dev/null
    cmake --build "$dir" -j"$(nproc)" >/dev/null
    if (cd "$dir" && ctest --output-on-failure --timeout 600 "$@"); then
        summary+=("$name: passed")
    else
        summary+=("$name: FAILED")
        status=1
    fi
}

run_suite "main build" "$root/build" "" "$@"
if [ "$quick" -eq 0 ]; then
    # ThreadSanitizer: the cache's single flight in-process, and 64 threads connecting
    # through the driver manager (unixODBC and psqlODBC are not instrumented).
    run_suite "ThreadSanitizer build" "$root/build-tsan" "-DLB_SANITIZE=thread -DCMAKE_BUILD_TYPE=Debug" \
        -R 'unit_cache|local_lakebase|lifecycle_threads|lifecycle_sequential|lifecycle_revoked'
fi

echo
printf '%s\n' "${summary[@]}"
exit $status
