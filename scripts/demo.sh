#!/usr/bin/env bash
# Builds the driver, brings up the local Lakebase (a Databricks workspace emulator
# and a real PostgreSQL that accepts only the credentials the emulator issued) and
# runs the Lakebase docs' verification query through isql and the DSN lakebase-local.
# Leaves the local Lakebase running; stop it with scripts/local-lakebase.sh down.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh"
"$root/scripts/build.sh" >/dev/null
exports=$("$root/scripts/local-lakebase.sh" up)
eval "$exports"

query='SELECT current_user, current_database()'
echo
echo "== isql -v lakebase-local   ($query)"
echo "$query" | isql -v -b lakebase-local
echo
echo "The driver looked the endpoint's host up and fetched a fresh database credential from the"
echo "emulator for that connection:"
python3 "$root/tests/emulator/emulator_client.py" stats
echo
echo "To use it yourself:"
echo "$exports" | sed 's/^/  /'
echo "  isql -v lakebase-local"
echo "Stop it with: $root/scripts/local-lakebase.sh down"
