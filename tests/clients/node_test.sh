#!/usr/bin/env bash
# Builds the npm odbc package from source (pinned in tests/clients/node/package.json; node-gyp
# compiles it against Debian's unixODBC headers, nothing prebuilt is fetched) into a folder
# of the build tree, once, then runs tests/clients/node/node_test.js.
# Usage: node_test.sh <work folder>   (with the ctest fixture's environment)
set -euo pipefail
src=$(cd "$(dirname "$0")/node" && pwd)
work=$1
mkdir -p "$work"
cp "$src/package.json" "$work/package.json"
cd "$work"
if [ ! -f node_modules/odbc/lib/bindings/napi-v8/odbc.node ] || [ package.json -nt node_modules/.built ]; then
    npm install --no-audit --no-fund --ignore-scripts >npm.log 2>&1 || { cat npm.log; exit 1; }
    npm rebuild odbc --build-from-source --foreground-scripts >>npm.log 2>&1 || { cat npm.log; exit 1; }
    touch node_modules/.built
fi
export NODE_PATH="$work/node_modules"
exec node "$src/node_test.js"
