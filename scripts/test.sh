#!/usr/bin/env bash
# Builds lakebase-odbc and runs the whole test suite:
#   1. the main build: unit tests, and integration tests through unixODBC, psqlODBC and
#      a local Lakebase (workspace emulator + PostgreSQL 15) that the suite starts and
#      stops itself, the secret-leak test and the connect path under valgrind;
#   2. everything again with AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. the concurrency tests with ThreadSanitizer;
#   4. each libFuzzer target for a bounded time (LB_FUZZ_SECONDS, default 20);
#   5. the packages (ctest package, tests/package/package_test.sh): the .deb and .rpm built,
#      the .deb installed with apt-get, upgraded and removed on this machine, with
#      /etc/odbcinst.ini backed up and restored.
# Run as root on Debian 12.
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
    if cmake -S "$root" -B "$dir" -DLB_WERROR=ON $opts >/dev/null && cmake --build "$dir" -j"$(nproc)" >/dev/null &&
        (cd "$dir" && ctest --output-on-failure --timeout 600 "$@"); then
        summary+=("$name: passed")
    else
        summary+=("$name: FAILED")
        status=1
    fi
}

run_suite "main build" "$root/build" "" "$@"
if [ "$quick" -eq 0 ]; then
    echo "== packages"
    # Installs and removes the package: only this test gets LB_PACKAGE_TEST=1.
    if (cd "$root/build" && LB_PACKAGE_TEST=1 ctest --output-on-failure --timeout 900 -R '^package$' |
        tee "$root/build/package-test.log") && ! grep -q '(Skipped)' "$root/build/package-test.log"; then
        summary+=("packages: passed")
    else
        summary+=("packages: FAILED (or skipped: it needs root)")
        status=1
    fi
    run_suite "AddressSanitizer + UndefinedBehaviorSanitizer build" "$root/build-asan" \
        "-DLB_SANITIZE=address -DCMAKE_BUILD_TYPE=Debug" -E 'emulator_selftest|secret_leak'
    # unixODBC and psqlODBC are not instrumented; tests/tsan.supp keeps their reports out.
    run_suite "ThreadSanitizer build" "$root/build-tsan" "-DLB_SANITIZE=thread -DCMAKE_BUILD_TYPE=Debug" \
        -R 'unit_cache|local_lakebase|lifecycle_threads|lifecycle_sequential|lifecycle_revoked|lifecycle_fork|lifecycle_no_inherited|lifecycle_wait_deadline|lifecycle_pool_stale|cache_refresh'
    echo "== fuzzing"
    if "$root/scripts/fuzz.sh" "${LB_FUZZ_SECONDS:-20}"; then
        summary+=("fuzzing: passed")
    else
        summary+=("fuzzing: FAILED")
        status=1
    fi
fi

echo
printf '%s\n' "${summary[@]}"
npass=$(printf '%s\n' "${summary[@]}" | grep -c ': passed$' || true)
echo "suites: $npass passed, $((${#summary[@]} - npass)) failed"
exit $status
