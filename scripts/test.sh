#!/usr/bin/env bash
# Builds lakebase-odbc and runs the whole test suite: unit tests, and integration
# tests through unixODBC, psqlODBC and a local Lakebase (workspace emulator +
# PostgreSQL 15) that the suite starts and stops itself. Run as root on Debian 12.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh"
"$root/scripts/build.sh"
cd "$root/build"
ctest --output-on-failure --timeout 600 "$@"
