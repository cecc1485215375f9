"""What the Python client tests share: the local Lakebase's settings from the ctest
fixture's environment (LAKEBASE_*), a DSN-less connection string, and the values every
client writes and reads back."""
import os

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
