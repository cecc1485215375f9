#!/usr/bin/env python3
"""Talks to the workspace emulator's control interface for the shell tests.
Usage: emuctl.py reset | count "METHOD /path" | post /_emulator/... [JSON] | delete /_emulator/...
Needs LAKEBASE_EMULATOR_URL and LAKEBASE_LOCAL_STATE (for ca.pem)."""
import json
import os
import ssl
import sys
import urllib.request


def call(method, path, body=None):
    ctx = ssl.create_default_context(cafile=os.path.join(os.environ["LAKEBASE_LOCAL_STATE"], "ca.pem"))
    data = body.encode() if body is not None else None
    req = urllib.request.Request(os.environ["LAKEBASE_EMULATOR_URL"] + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, context=ctx, timeout=30) as resp:
        return json.loads(resp.read() or b"{}")


def main(argv):
    if argv[:1] == ["reset"]:
        call("POST", "/_emulator/stats/reset", "{}")
    elif argv[:1] == ["count"] and len(argv) == 2:
        print(call("GET", "/_emulator/stats").get(argv[1], 0))
    elif argv[:1] == ["post"] and len(argv) in (2, 3):
        call("POST", argv[1], argv[2] if len(argv) == 3 else "{}")
    elif argv[:1] == ["delete"] and len(argv) == 2:
        call("DELETE", argv[1])
    else:
        sys.exit(__doc__)


main(sys.argv[1:])
