#!/usr/bin/env bash
# Builds the lakebase-odbc packages into build/packages/ with CPack (packaging/install.cmake):
#   a .deb for Debian 12 / Ubuntu (driver in /usr/lib/<multiarch>/odbc, psqlODBC expected at
#   /usr/lib/<multiarch>/odbc/psqlodbcw.so) and an .rpm for RHEL-family systems (driver in
#   /usr/lib64, psqlODBC at /usr/lib64/psqlodbcw.so, as postgresql-odbc installs it).
# Each is its own Release build without tests (build/pkg-deb, build/pkg-rpm), hardened with
# the distribution's build flags (dpkg-buildflags) where available.
#   scripts/package.sh          both
#   scripts/package.sh deb      only the .deb (or: rpm)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/build/packages
what=${1:-all}
case "$what" in all | deb | rpm) ;; *) echo "usage: scripts/package.sh [all|deb|rpm]" >&2; exit 2 ;; esac
# Debian's build dependencies (on an RPM system, install them with dnf: see README.md).
if command -v dpkg-query >/dev/null 2>&1; then "$root/scripts/deps.sh"; fi
mkdir -p "$out"

if command -v dpkg-buildflags >/dev/null 2>&1; then
    export CFLAGS="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
    export LDFLAGS=$(dpkg-buildflags --get LDFLAGS)
fi
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)

build() { # layout, psqlODBC path, cpack generator
    local layout=$1 psqlodbc=$2 gen=$3 dir=$root/build/pkg-$1
    echo "== $gen package ($layout layout, psqlODBC at $psqlodbc)"
    rm -rf "$dir/_CPack_Packages"
    cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DLB_BUILD_TESTS=OFF -DLB_WERROR=ON \
        -DLB_PACKAGE_LAYOUT="$layout" -DLB_PSQLODBC="$psqlodbc" -DLB_PACKAGE_DIR="$out" >/dev/null
    cmake --build "$dir" -j"$(nproc)" >/dev/null
    (cd "$dir" && cpack -G "$gen" >/dev/null)
}
[ "$what" = rpm ] || build deb "/usr/lib/$multiarch/odbc/psqlodbcw.so" DEB
[ "$what" = deb ] || build rpm /usr/lib64/psqlodbcw.so RPM
ls -1 "$out"
