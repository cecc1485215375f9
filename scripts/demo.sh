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
python3 - <<'PY'
import json, os, ssl, urllib.request
ctx = ssl.create_default_context(cafile=os.environ["LAKEBASE_CA_FILE"])
url = os.environ["LAKEBASE_EMULATOR_URL"] + "/_emulator/stats"
for route, n in json.load(urllib.request.urlopen(url, context=ctx)).items():
    print(f"  {n:3d}  {route}")
PY
echo
echo "To use it yourself:"
echo "$exports" | sed 's/^/  /'
echo "  isql -v lakebase-local"
echo "Stop it with: $root/scripts/local-lakebase.sh down"
