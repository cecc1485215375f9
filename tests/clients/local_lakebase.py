"""What the Python client tests share: the local Lakebase's settings from the ctest
fixture's environment (LAKEBASE_*), a DSN-less connection string, the values every
client writes and reads back, and the ok/FAIL report with its closing line."""
import os
import sys

STATE = os.environ["LAKEBASE_LOCAL_STATE"]
CLIENT_ID = os.environ["LAKEBASE_CLIENT_ID"]
with open(os.path.join(STATE, "client-secret")) as f:
    SECRET = f.readline().strip()
DSNLESS = ("Driver={%s};DatabricksHost=%s;ClientID=%s;ClientSecret={%s};"
           "Endpoint=projects/demo/branches/main/endpoints/primary;Servername=localhost;Port=%s;CAFile={%s}"
           % (os.environ["LAKEBASE_DRIVER"], os.environ["LAKEBASE_EMULATOR_URL"], CLIENT_ID, SECRET,
              os.environ["LAKEBASE_PG_PORT"], os.path.join(STATE, "ca.pem")))

TEXT = "Zoë 日本 🚀"
NUMERIC_TEXT = "123456789012345678901234567890.12345"
BLOB = bytes(range(256)) * 4


_counts = {"passed": 0, "failed": 0}


def check(name, ok, detail=""):
    """Prints "ok   name" or "FAIL name detail" and counts it."""
    if ok:
        print("ok   " + name)
        _counts["passed"] += 1
    else:
        print("FAIL %s %s" % (name, str(detail)[:400]))
        _counts["failed"] += 1


def finish():
    """Prints the closing "N passed, M failed" line and exits non-zero unless all passed."""
    print("%d passed, %d failed" % (_counts["passed"], _counts["failed"]))
    sys.exit(1 if _counts["failed"] or not _counts["passed"] else 0)
