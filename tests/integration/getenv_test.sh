#!/usr/bin/env bash
# Every environment setting is read with secure_getenv, which returns nothing in a
# setuid or setgid process: neither the sources under driver/ nor the built driver
# and core library may call plain getenv. Arguments: the driver/ folder, the driver
# .so, the lbcore static library.
set -u
src=$1 so=$2 core=$3
failed=0
calls=$(grep -rnE '(^|[^_[:alnum:]])getenv[[:space:]]*\(' "$src" --include='*.c' --include='*.h')
if [ -n "$calls" ]; then
    echo "FAIL plain getenv in the sources (use secure_getenv):"
    echo "$calls" | sed 's/^/    /'
    failed=$((failed + 1))
else
    echo "ok   no plain getenv under driver/ ($(grep -rc 'secure_getenv' "$src" --include='*.c' | awk -F: '{n += $2} END {print n}') secure_getenv calls)"
fi
for bin in "$so" "$core"; do
    if nm -u "$bin" 2>/dev/null | awk '{print $NF}' | grep -qxE 'getenv(@.*)?'; then
        echo "FAIL $(basename "$bin") imports getenv"
        failed=$((failed + 1))
    else
        echo "ok   $(basename "$bin") does not import getenv"
    fi
done
echo "$((3 - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
