#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang-14, ASan+UBSan) in build-fuzz/ and
# fuzzes each one for N seconds (default 20) over a copy of its seed corpus. Exits
# non-zero when a target crashes or breaks an invariant; crash inputs are kept in
# build-fuzz/fuzz/<target>/artifacts/, full logs in build-fuzz/fuzz/<target>.log.
#
#   scripts/fuzz.sh [seconds-per-target]
#
# Environment: LB_FUZZ_TARGETS="fuzz_json fuzz_utf16" to run only some targets,
# LB_FUZZ_BUILD=dir for another build directory, and any libFuzzer-independent
# switches of the targets themselves (LB_FUZZ_STRICT_UTF8=1, see tests/fuzz/README.md).
set -euo pipefail

secs=${1:-20}
if ! [[ $secs =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: $0 [seconds-per-target]   (a positive integer, default 20)" >&2
    exit 2
fi

root=$(cd "$(dirname "$0")/.." && pwd)
build=${LB_FUZZ_BUILD:-$root/build-fuzz}
fuzzdir=$root/tests/fuzz
read -r -a targets <<< "${LB_FUZZ_TARGETS:-fuzz_connstr fuzz_settings fuzz_json fuzz_utf16}"
cc=clang-14
start=$SECONDS

# --- Toolchain: clang-14 and its libFuzzer runtime ----------------------------------
have_libfuzzer() {
    command -v "$cc" >/dev/null 2>&1 || return 1
    local rt
    rt=$("$cc" -print-resource-dir 2>/dev/null)/lib/linux/libclang_rt.fuzzer-$(uname -m).a
    [[ -f $rt ]]
}
if ! have_libfuzzer; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "clang-14 or its libFuzzer runtime is missing: run as root, or apt-get install clang-14 libclang-rt-14-dev" >&2
        exit 1
    fi
    echo "installing clang-14 libclang-rt-14-dev"
    export DEBIAN_FRONTEND=noninteractive
    # Refresh the package lists only when the packages cannot be found as they are.
    if ! apt-get install -y -qq clang-14 libclang-rt-14-dev >/dev/null 2>&1; then
        apt-get update -qq
        apt-get install -y -qq clang-14 libclang-rt-14-dev >/dev/null
    fi
    have_libfuzzer || { echo "libFuzzer runtime still missing after installing libclang-rt-14-dev" >&2; exit 1; }
fi

# --- Build --------------------------------------------------------------------------
mkdir -p "$build"
log=$build/fuzz-build.log
if [[ -f $build/CMakeCache.txt ]] && ! grep -q '^LB_FUZZ:BOOL=ON' "$build/CMakeCache.txt"; then
    echo "$build exists but was not configured with -DLB_FUZZ=ON: remove it or set LB_FUZZ_BUILD" >&2
    exit 1
fi
if ! CC=$cc cmake -S "$root" -B "$build" -DLB_FUZZ=ON -DLB_BUILD_TESTS=OFF >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "configure failed (full log: $log)" >&2
    exit 1
fi
if ! cmake --build "$build" --parallel "$(nproc)" --target "${targets[@]}" >>"$log" 2>&1; then
    grep -E 'error|Error' "$log" | tail -n 30 >&2 || tail -n 30 "$log" >&2
    echo "build failed (full log: $log)" >&2
    exit 1
fi
echo "built ${#targets[@]} targets in $((SECONDS - start)) s; fuzzing each for ${secs} s"

# --- Fuzz ---------------------------------------------------------------------------
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
passed=0
failed=0
for t in "${targets[@]}"; do
    bin=$build/tests/fuzz/$t
    seeds=$fuzzdir/corpus/$t
    work=$build/fuzz/$t
    if [[ ! -x $bin || ! -d $seeds ]]; then
        echo "$t: FAILED (no binary or no seed corpus at $seeds)"
        failed=$((failed + 1))
        continue
    fi
    # A fresh copy of the seeds, so new inputs never land in the repository.
    rm -rf "$work"
    mkdir -p "$work/corpus" "$work/artifacts"
    cp -R "$seeds/." "$work/corpus/"
    args=(-max_total_time="$secs" -rss_limit_mb=1024 -timeout=10 -print_final_stats=1
          -artifact_prefix="$work/artifacts/")
    [[ -f $fuzzdir/$t.dict ]] && args+=(-dict="$fuzzdir/$t.dict")
    tlog=$build/fuzz/$t.log
    rc=0
    "$bin" "${args[@]}" "$work/corpus" >"$tlog" 2>&1 || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tlog" | tail -n 1)
    [[ -n $execs ]] || execs=$(grep -oE '^#[0-9]+' "$tlog" | tail -n 1 | tr -d '#')
    cov=$(grep -oE 'cov: [0-9]+' "$tlog" | tail -n 1 | cut -d' ' -f2)
    corpus=$(find "$work/corpus" -type f | wc -l)
    if [[ $rc -eq 0 ]]; then
        printf '%s: ok, %s executions, coverage %s, corpus %s\n' "$t" "${execs:-?}" "${cov:-?}" "$corpus"
        passed=$((passed + 1))
    else
        printf '%s: FAILED (exit %s) after %s executions\n' "$t" "$rc" "${execs:-?}"
        echo "----- $tlog (progress lines left out) -----"
        grep -avE '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse|RELOAD)' "$tlog" | tail -n 60
        echo "-----"
        for a in "$work"/artifacts/*; do
            [[ -e $a ]] && echo "reproduce: $bin $a"
        done
        failed=$((failed + 1))
    fi
done
echo "total time $((SECONDS - start)) s"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
