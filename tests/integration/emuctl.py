#!/usr/bin/env python3
"""Talks to the workspace emulator's control interface for the shell tests, through the emulator
client (tests/emulator/emulator_client.py).
Usage: emuctl.py reset | count "METHOD /path" | post /_emulator/... [JSON] | delete /_emulator/...
Needs LAKEBASE_EMULATOR_URL and LAKEBASE_LOCAL_STATE (for ca.pem)."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "emulator"))
from emulator_client import EmulatorClient  # noqa: E402


def main(argv):
    emu = EmulatorClient(os.environ["LAKEBASE_EMULATOR_URL"],
                         os.path.join(os.environ["LAKEBASE_LOCAL_STATE"], "ca.pem"), timeout=30)
    if argv[:1] == ["reset"]:
        emu.reset_stats()
    elif argv[:1] == ["count"] and len(argv) == 2:
        print(emu.count(argv[1]))
    elif argv[:1] == ["post"] and len(argv) in (2, 3):
        emu.ctl("POST", argv[1], json.loads(argv[2]) if len(argv) == 3 else {})
    elif argv[:1] == ["delete"] and len(argv) == 2:
        emu.ctl("DELETE", argv[1])
    else:
        sys.exit(__doc__)


main(sys.argv[1:])
