#!/usr/bin/env bash
# Configures and builds lakebase-odbc into build/ (warnings are errors).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cmake -S "$root" -B "$root/build" -DLB_WERROR=ON >/dev/null
cmake --build "$root/build" -j"$(nproc)"
