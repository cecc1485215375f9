# The shell tests' checks (sourced by tests/setup/*.sh and tests/package/package_test.sh): each
# prints "ok   NAME" or "FAIL NAME" (with the output that failed, indented) and counts it in
# passed / failed; summary prints the counts and fails when any check did.
passed=0
failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1"; [ -n "${2:-}" ] && sed 's/^/    /' <<<"$2"; failed=$((failed + 1)); }
check() { # name, output, expected phrase...
    local name=$1 out=$2
    shift 2
    for phrase in "$@"; do
        if ! grep -qF -- "$phrase" <<<"$out"; then
            bad "$name: output lacks \"$phrase\":" "$out"
            return
        fi
    done
    ok "$name"
}
lacks() { # name, output, phrase that must not appear (not echoed: it may be a secret)
    if grep -qF -- "$3" <<<"$2"; then bad "$1"; else ok "$1"; fi
}
status() { # name, expected exit status, actual
    if [ "$3" -eq "$2" ]; then ok "$1 (exit $3)"; else bad "$1: exit $3, expected $2"; fi
}
json_ok() { # name, json text, python expression on d that must be true
    if /usr/bin/python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); sys.exit(0 if eval(sys.argv[1]) else 1)' "$3" <<<"$2"; then
        ok "$1"
    else
        bad "$1: JSON check failed: $3" "$2"
    fi
}
summary() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
