#!/usr/bin/env python3
"""Launcher of the workspace emulator, which is the package lakebase_emulator/ beside this file:
keeps `python3 tests/emulator/lakebase_emulator.py --config ... --port ...` (the command line that
scripts/local-lakebase.sh runs and finds in /proc/<pid>/cmdline) working. Same as
`python3 -m lakebase_emulator` run from this folder. See lakebase_emulator/__init__.py for the
options and README.md for the routes."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# A package beats a module of the same name on the same path entry, so this is the package.
from lakebase_emulator.__main__ import main  # noqa: E402

if __name__ == "__main__":
    main()
