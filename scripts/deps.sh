#!/usr/bin/env bash
# Installs the Debian 12 packages lakebase-odbc needs to build, test and demo
# (as root; does nothing when they are all there already).
set -euo pipefail

packages=(
  build-essential cmake pkg-config                 # toolchain
  unixodbc unixodbc-dev                             # the driver manager, isql/iusql
  odbc-postgresql                                   # psqlODBC, which the driver forwards to
  libcurl4-openssl-dev libjson-c-dev libssl-dev     # HTTPS, JSON, secret wiping
  libcmocka-dev                                     # unit tests
  postgresql-15 postgresql-client-15 libpam-modules # the local Lakebase's server and pam_exec
  openssl python3 ca-certificates                   # its CA and workspace emulator
  valgrind clang-14 libclang-rt-14-dev              # memcheck, libFuzzer and sanitizers
  python3-pyodbc python3-pandas php-cli php-odbc libdbd-odbc-perl # client tests
  python3-pyqt5.qtsql libqt5sql5-odbc               # Qt's QODBC client test
  nodejs                                            # the npm odbc package's client test
  r-cran-rodbc                                      # R's RODBC client test (pulls in r-base-core)
  libreoffice-core-nogui libreoffice-base-core     # LibreOffice Base's client test: headless
  libreoffice-base-drivers python3-uno              # office, Base's data sources, sdbc:odbc:, UNO
  dpkg-dev lintian rpm cpio                         # scripts/package.sh: .deb, its check, .rpm
  gnuplot-nox                                       # scripts/bench.sh: the chart of docs/benchmarks.md
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm comes with some nodejs builds and is Debian's own package for Debian's nodejs.
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "Missing Debian packages: ${missing[*]}" >&2
  echo "Install them as root: apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "Installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
