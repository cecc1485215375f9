#!/usr/bin/env bash
# The driver must export exactly the SQL* entry points psqlODBC's Unicode driver
# exports: unixODBC chooses its call paths (ANSI or W, ODBC 2 or 3) from that set.
set -eu
ours=$1 theirs=$2
diff <(nm -D --defined-only "$theirs" | awk '{print $3}' | sort) \
     <(nm -D --defined-only "$ours" | awk '{print $3}' | sort) && {
    echo "exports match psqlODBC's ($(nm -D --defined-only "$ours" | wc -l) symbols)"
    echo "1 passed, 0 failed"
}
