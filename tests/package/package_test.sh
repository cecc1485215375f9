#!/usr/bin/env bash
# The packages (scripts/package.sh) on this machine's real package manager: builds the .deb
# and the .rpm; lintian on the .deb (no errors); the .deb's files equal what `cmake --install`
# puts under a prefix; apt-get install, then odbcinst -q -d -n Lakebase and isql through a
# user DSN naming the registered driver against the local Lakebase; the maintainer scripts
# run twice change nothing; install again (the upgrade path) keeps one entry, the user's own
# key in it and the user's DSNs; removal leaves no [Lakebase] in odbcinst.ini and the DSNs
# untouched. The .rpm: its files, dependencies, scripts and compiled psqlODBC path (rpm -qp).
# One version everywhere: project()'s, the packages', lakebase-odbc --version, SQL_DRIVER_VER.
#
# It changes the machine (/etc/odbcinst.ini, /usr): it runs only with LB_PACKAGE_TEST=1, as
# root, without lakebase-odbc already installed (else exit 77: skipped), backs up and
# restores /etc/odbcinst.ini and removes the package afterwards, whatever happens.
# Arguments: the source tree, the main build tree (its `cmake --install`), project()'s version.
set -u
src=$1 build=$2 version=$3
if [ "${LB_PACKAGE_TEST:-0}" != 1 ]; then
    echo "skipped: set LB_PACKAGE_TEST=1 to install the package on this machine (scripts/test.sh does)"
    exit 77
fi
[ "$(id -u)" -eq 0 ] || { echo "skipped: installing a package needs root"; exit 77; }
if dpkg-query -W -f='${Status}' lakebase-odbc 2>/dev/null | grep -q installed; then
    echo "FAIL lakebase-odbc is already installed on this machine: remove it first (apt-get remove lakebase-odbc)"
    exit 1
fi
: "${LAKEBASE_LOCAL_STATE:?run through ctest (the fixture sets it)}" "${LAKEBASE_CLIENT_ID:?run through ctest}"
. "$(dirname "$0")/../checks.sh"
same() { # name, expected, actual
    if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "$(diff <(echo "$2") <(echo "$3"))"; fi
}

# The system's ODBC files, not the fixture's: what a user of the package gets.
unset ODBCSYSINI ODBCINI
work=$(mktemp -d)
sysini=/etc/odbcinst.ini
had_sysini=0
[ -e "$sysini" ] && { cp -p "$sysini" "$work/odbcinst.ini.orig"; had_sysini=1; }
restore() {
    if dpkg-query -W -f='${Status}' lakebase-odbc 2>/dev/null | grep -q installed; then
        dpkg --purge lakebase-odbc >/dev/null 2>&1 || echo "could not remove lakebase-odbc: remove it by hand" >&2
    fi
    if [ "$had_sysini" = 1 ]; then cp -p "$work/odbcinst.ini.orig" "$sysini"; else rm -f "$sysini"; fi
    rm -rf "$work"
}
trap restore EXIT
drivers_before=$(odbcinst -q -d 2>/dev/null)
export DEBIAN_FRONTEND=noninteractive

# --- build both packages.
t0=$(date +%s)
out=$(bash "$src/scripts/package.sh" 2>&1)
[ $? -eq 0 ] && ok "scripts/package.sh builds the packages ($(($(date +%s) - t0)) s)" || { bad "scripts/package.sh" "$out"; exit 1; }
deb=$(ls "$src"/build/packages/lakebase-odbc_"$version"_*.deb 2>/dev/null | head -1)
rpmf=$(ls "$src"/build/packages/lakebase-odbc-"$version"-*.rpm 2>/dev/null | head -1)
[ -n "$deb" ] && ok "the .deb is $(basename "$deb")" || { bad "no .deb of version $version in build/packages" "$(ls "$src/build/packages")"; exit 1; }
[ -n "$rpmf" ] && ok "the .rpm is $(basename "$rpmf")" || bad "no .rpm of version $version in build/packages" "$(ls "$src/build/packages")"

# --- the .deb on its own: lintian, fields, files, the compiled psqlODBC path.
out=$(lintian --fail-on error "$deb" 2>&1)
[ $? -eq 0 ] && ok "lintian: no errors ($(grep -c '^W:' <<<"$out") warnings)" || bad "lintian reports errors" "$out"
echo "$out" | grep -E '^[EW]:' | sed 's/^/    /'
info=$(dpkg-deb -f "$deb" Package Version Depends)
check "the .deb's dependencies: unixODBC, psqlODBC, libcurl, json-c, OpenSSL" "$info" "Version: $version" \
    "odbc-postgresql" "odbcinst" "libodbc2" "libodbcinst2" "libcurl4" "libjson-c5" "libssl3"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
odbcdir=/usr/lib/$multiarch/odbc
files=$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print substr($6, 2)}' | sort)
check "the .deb's files" "$files" "/usr/bin/lakebase-odbc" "$odbcdir/liblakebase-odbc.so" \
    "$odbcdir/liblakebase-odbcS.so" "/usr/share/man/man1/lakebase-odbc.1.gz" "/usr/share/doc/lakebase-odbc/README.md" \
    "/usr/share/doc/lakebase-odbc/changelog.gz" "/usr/share/doc/lakebase-odbc/copyright" \
    "/usr/share/doc/lakebase-odbc/examples/odbc.ini"
mkdir "$work/deb" && dpkg-deb -x "$deb" "$work/deb"
check "the .deb's driver loads psqlODBC from Debian's place" "$(strings "$work/deb$odbcdir/liblakebase-odbc.so")" \
    "$odbcdir/psqlodbcw.so"
# cmake --install of the main build: the same layout under a prefix.
cmake --install "$build" --prefix "$work/prefix/usr" >/dev/null 2>&1
same "cmake --install --prefix gives the .deb's layout" "$files" "$(cd "$work/prefix" && find . ! -type d | cut -c2- | sort)"

# --- install: the driver is registered, with its setup library.
out=$(apt-get install -y -q "$deb" 2>&1)
[ $? -eq 0 ] && ok "apt-get install ./$(basename "$deb")" || { bad "apt-get install" "$out"; exit 1; }
check "postinst says it registered the driver" "$out" "registered driver [Lakebase] in /etc/odbcinst.ini"
out=$(odbcinst -q -d -n Lakebase 2>&1)
check "odbcinst -q -d -n Lakebase: the driver and its setup library" "$out" "[Lakebase]" \
    "Driver=$odbcdir/liblakebase-odbc.so" "Setup=$odbcdir/liblakebase-odbcS.so"
check "odbcinst -q -d lists it" "$(odbcinst -q -d)" "[Lakebase]"
ver=$(lakebase-odbc --version 2>&1)
odbcver=$(IFS=. read -r a b c <<<"$version"; printf '%02d.%02d.%04d' "$a" "$b" "$c")
check "lakebase-odbc --version: project()'s version, and the installed driver's SQL_DRIVER_VER" "$ver" \
    "lakebase-odbc $version ($odbcver)" "driver        $odbcver ($odbcdir/liblakebase-odbc.so)"
check "man finds the man page" "$(MANWIDTH=100 man lakebase-odbc 2>&1)" "LAKEBASE-ODBC(1)" "uninstall-driver"

# --- a user DSN naming the registered driver: isql connects to the local Lakebase. The
# user's odbc.ini is a private one (ODBCINI), not root's ~/.odbc.ini.
mkdir -p "$work/home"
export HOME=$work/home ODBCINI=$work/home/.odbc.ini
sed -n '/^\[lakebase-local\]/,/^$/p' "$LAKEBASE_LOCAL_STATE/odbc.ini" | sed 's/^\[lakebase-local\]/[lakebase-pkg]/' >"$HOME/.odbc.ini"
chmod 0600 "$HOME/.odbc.ini"
grep -q '^Driver=Lakebase$' "$HOME/.odbc.ini" && ok "the user DSN names the driver Lakebase" || bad "the user DSN" "$(grep -v Secret "$HOME/.odbc.ini")"
dsn_sum=$(sha256sum <"$HOME/.odbc.ini")
query='SELECT current_user, current_database()'
connect() { # name
    local t0 out
    t0=$(date +%s%N)
    out=$(echo "$query" | isql -v -b lakebase-pkg 2>&1)
    check "$1 ($(( ($(date +%s%N) - t0) / 1000000 )) ms)" "$out" "$LAKEBASE_CLIENT_ID" "databricks_postgres"
}
connect "isql through the user DSN and the packaged driver"

# --- the maintainer scripts, run twice, change nothing.
sed -i '/^\[Lakebase\]/a PsqlODBC=/usr/lib/'"$multiarch"'/odbc/psqlodbcw.so' "$sysini" # the user's own key
before=$(cat "$sysini")
/var/lib/dpkg/info/lakebase-odbc.postinst configure "$version" >/dev/null 2>&1
same "postinst configure run again changes nothing in odbcinst.ini" "$before" "$(cat "$sysini")"
/var/lib/dpkg/info/lakebase-odbc.prerm remove >/dev/null 2>&1
removed=$(cat "$sysini")
/var/lib/dpkg/info/lakebase-odbc.prerm remove >/dev/null 2>&1
same "prerm remove run twice: the second changes nothing" "$removed" "$(cat "$sysini")"
lacks "prerm remove took [Lakebase] out" "$removed" "[Lakebase]"
/var/lib/dpkg/info/lakebase-odbc.postinst configure "$version" >/dev/null 2>&1
sed -i '/^\[Lakebase\]/a PsqlODBC=/usr/lib/'"$multiarch"'/odbc/psqlodbcw.so' "$sysini"

# --- install again: the upgrade path (prerm upgrade, postinst configure).
out=$(apt-get install -y -q --reinstall "$deb" 2>&1)
[ $? -eq 0 ] && ok "apt-get install --reinstall (the upgrade path)" || bad "apt-get install --reinstall" "$out"
ini=$(cat "$sysini")
n=$(grep -c '^\[Lakebase\]' <<<"$ini")
same "one [Lakebase] after the upgrade" 1 "$n"
check "the entry keeps UsageCount=1 and the user's PsqlODBC=" "$ini" "UsageCount=1" "PsqlODBC=/usr/lib/$multiarch/odbc/psqlodbcw.so"
same "the user's DSNs are untouched by the upgrade" "$dsn_sum" "$(sha256sum <"$HOME/.odbc.ini")"
connect "isql after the upgrade"

# --- removal: only the driver's entry goes.
out=$(apt-get remove -y -q lakebase-odbc 2>&1)
[ $? -eq 0 ] && ok "apt-get remove lakebase-odbc" || bad "apt-get remove" "$out"
check "prerm says it removed the driver" "$out" "removed driver [Lakebase]"
odbcinst -q -d -n Lakebase >/dev/null 2>&1
out=$(odbcinst -q -d -n Lakebase 2>&1)
lacks "odbcinst -q -d -n Lakebase finds nothing after removal" "$out" "Driver="
lacks "odbcinst.ini holds no stale [Lakebase]" "$(cat "$sysini" 2>/dev/null)" "Lakebase"
same "the other drivers are as before" "$drivers_before" "$(odbcinst -q -d 2>/dev/null)"
same "the user's DSNs are untouched by the removal" "$dsn_sum" "$(sha256sum <"$HOME/.odbc.ini")"
check "and the DSN is still listed" "$(odbcinst -q -s)" "[lakebase-pkg]"
[ ! -e /usr/bin/lakebase-odbc ] && [ ! -e "$odbcdir/liblakebase-odbc.so" ] && ok "the files are gone" || bad "files left after removal"

# --- the .rpm: files, dependencies, scripts, version and compiled psqlODBC path.
if [ -n "$rpmf" ]; then
    same "the .rpm's version" "$version" "$(rpm -qp --qf '%{VERSION}' "$rpmf" 2>/dev/null)"
    out=$(rpm -qpl "$rpmf" 2>/dev/null)
    check "rpm -qpl: the files in RHEL's places" "$out" "/usr/bin/lakebase-odbc" "/usr/lib64/liblakebase-odbc.so" \
        "/usr/lib64/liblakebase-odbcS.so" "/usr/share/man/man1/lakebase-odbc.1.gz" \
        "/usr/share/doc/lakebase-odbc/README.md" "/usr/share/doc/lakebase-odbc/changelog.gz" \
        "/usr/share/doc/lakebase-odbc/examples/odbc.ini" "/usr/share/licenses/lakebase-odbc/LICENSE"
    grep -qxE '/usr/lib64|/usr/share/man/man1|/usr/bin' <<<"$out" && bad "rpm -qpl: owns a distribution directory" "$out" ||
        ok "rpm -qpl: owns no distribution directory (/usr/lib64, /usr/bin, man1)"
    out=$(rpm -qpR "$rpmf" 2>/dev/null)
    check "rpm -qpR: unixODBC, psqlODBC, libcurl, json-c, OpenSSL" "$out" "unixODBC" "postgresql-odbc" "libcurl" \
        "json-c" "openssl-libs" "libodbcinst.so.2()(64bit)" "libjson-c.so.5()(64bit)" "libssl.so.3()(64bit)"
    echo "    needs glibc up to $(grep -o 'GLIBC_[0-9.]*' <<<"$out" | sort -t. -k2,2n -k3,3n | tail -1)"
    out=$(rpm -qp --scripts "$rpmf" 2>/dev/null)
    check "rpm -qp --scripts: %post registers, %preun unregisters on erase only" "$out" "postinstall scriptlet" \
        "lakebase-odbc install-driver --name Lakebase" "--driver /usr/lib64/liblakebase-odbc.so" \
        "--setup /usr/lib64/liblakebase-odbcS.so" "preuninstall scriptlet" 'if [ "$1" = 0 ]' \
        "lakebase-odbc uninstall-driver --name Lakebase"
    mkdir "$work/rpm" && (cd "$work/rpm" && rpm2cpio "$rpmf" | cpio -idm --quiet)
    check "the .rpm's driver loads psqlODBC from RHEL's place" "$(strings "$work/rpm/usr/lib64/liblakebase-odbc.so")" \
        "/usr/lib64/psqlodbcw.so"
fi

summary
