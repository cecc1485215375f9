#!/usr/bin/env bash
# Local Lakebase for lakebase-odbc tests: the Databricks workspace emulator
# (tests/emulator/lakebase_emulator.py) plus a real PostgreSQL 15 that accepts the emulator's
# database credentials through PAM (pam_exec + a live-credentials file). Root only.
#
# Usage: scripts/local-lakebase.sh up|down|status|env|purge
#   up      start (or keep) both, resuming a suspended compute; print `export` lines on stdout:
#           eval "$(scripts/local-lakebase.sh up)"
#   down    stop what `up` started and remove the PAM service file (the cluster data is kept);
#           works in every compute state (active, suspended, waking)
#   status  say what runs (exit 0 only when both run, or PostgreSQL is suspended by the emulator)
#   env     print the export lines again
#   purge   down, then delete the cluster (runtime dir) and the state folder's files
# Environment: LAKEBASE_LOCAL_STATE (default <repo>/.local-lakebase), LAKEBASE_EMULATOR_PORT
# (18443; the wrong-host listener uses this port + 1), LAKEBASE_PG_PORT (15432), LAKEBASE_DRIVER
# (<repo>/build/driver/liblakebase-odbc.so), LAKEBASE_PSQLODBC (psqlODBC's psqlodbcw.so, for the
# odbcinst.ini entry "PostgreSQL Unicode" that the differential test uses directly).
# The emulator stops and starts PostgreSQL itself for scale-to-zero (POST /_emulator/suspend):
# `up` writes the commands into emulator-config.json ("compute").
set -euo pipefail
umask 077

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
EMULATOR=$REPO/tests/emulator/lakebase_emulator.py
EMU_CLIENT=$REPO/tests/emulator/emulator_client.py
PGBIN=/usr/lib/postgresql/15/bin
CLIENT_ID=c00f575e-d706-4f6b-b62c-e7a14850571b      # the example id from the Databricks docs
ENDPOINT=projects/demo/branches/main/endpoints/primary
# Lakebase Provisioned: an instance whose read_write_dns is the local PostgreSQL.
INSTANCE=demo-instance
DATABASE=databricks_postgres
OAUTH_GROUP=lakebase_oauth
DIRECT_ROLE=lakebase_direct    # password role with the SP role's grants (psqlODBC used directly)
# People (issue 10): one who has a personal access token, one who logged in with the CLI.
PAT_USER=lakebase-pat-user@example.com
CLI_USER=lakebase-cli-user@example.com
FAKE_CLI=$REPO/tests/emulator/databricks   # stand-in for the Databricks CLI's `auth token`
# Workload identity federation: a test identity provider (HS256 key in the state folder) whose
# workload (OIDC_SUBJECT) the main service principal's federation policy admits.
OIDC_ISSUER=https://idp.lakebase.local
OIDC_AUDIENCE=databricks
OIDC_SUBJECT=system:serviceaccount:lakebase:app
# Azure (issue 10): an Entra ID tenant with one application (azure-client-secret) and the
# machine's managed identities (azure-msi): a system-assigned one and a user-assigned one. The
# emulator is the login host; its metadata service listens on 127.0.0.1:<emulator port + 2>.
AZURE_TENANT_ID=9c3b1a52-7f0e-4d2a-9b51-0e8c6f4d2a10
AZURE_CLIENT_ID=3f6d2b0c-5a8e-4c1f-9d27-6b4e8a1c0f53
MSI_SYSTEM_ID=5d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a     # the system-assigned identity's application id
MSI_USER_ID=b1e0c7a4-2d3f-4e58-8a69-7c0d1e2f3a4b       # a user-assigned identity's client id
AZURE_RESOURCE_ID=/subscriptions/00000000-0000-4000-8000-000000000000/resourceGroups/lakebase/providers/Microsoft.Databricks/workspaces/lakebase-local

say() { echo "local-lakebase: $*" >&2; }
die() { echo "local-lakebase: error: $*" >&2; exit 1; }
sq() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }   # single-quote for sh
sql_quote() { local s=${1//\'/\'\'}; printf "'%s'" "$s"; }   # SQL string literal

# Run a command as the postgres user from a directory it can enter; never on our stdout.
as_pg() { (cd / && runuser -u postgres -- "$@"); }

show_log_tail() {   # $1 = log file
    echo "---- last lines of $1 ----" >&2
    tail -n 25 "$1" >&2 2>/dev/null || true
    echo "----" >&2
}

resolve_settings() {
    STATE=${LAKEBASE_LOCAL_STATE:-$REPO/.local-lakebase}
    [[ $STATE == /* ]] || STATE=$PWD/$STATE
    # Values recorded by the last `up` (used when the environment does not say otherwise).
    local rec_emu="" rec_pg="" rec_drv=""
    if [[ -f $STATE/instance.env ]]; then
        rec_emu=$(sed -n 's/^EMU_PORT=//p' "$STATE/instance.env")
        rec_pg=$(sed -n 's/^PG_PORT=//p' "$STATE/instance.env")
        rec_drv=$(sed -n 's/^DRIVER=//p' "$STATE/instance.env")
    fi
    EMU_PORT=${LAKEBASE_EMULATOR_PORT:-${rec_emu:-18443}}
    PG_PORT=${LAKEBASE_PG_PORT:-${rec_pg:-15432}}
    DRIVER=${LAKEBASE_DRIVER:-${rec_drv:-$REPO/build/driver/liblakebase-odbc.so}}
    local found_psqlodbc
    found_psqlodbc=$(compgen -G '/usr/lib/*/odbc/psqlodbcw.so' | head -n 1 || true)
    PSQLODBC=${LAKEBASE_PSQLODBC:-${found_psqlodbc:-/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so}}
    [[ $EMU_PORT =~ ^[0-9]+$ && $PG_PORT =~ ^[0-9]+$ ]] || die "ports must be numbers"
    [[ $EMU_PORT != "$PG_PORT" ]] || die "emulator and PostgreSQL ports must differ"
    WRONG_PORT=$((EMU_PORT + 1))     # second HTTPS listener: certificate for another host name
    [[ $WRONG_PORT != "$PG_PORT" ]] ||
        die "PostgreSQL port $PG_PORT is the emulator's wrong-host port (emulator port + 1); pick others"
    IMDS_PORT=$((EMU_PORT + 2))      # the Azure instance metadata service (plain HTTP)
    [[ $IMDS_PORT != "$PG_PORT" ]] ||
        die "PostgreSQL port $PG_PORT is the emulator's metadata-service port (emulator port + 2); pick others"
    MSI_URL=http://127.0.0.1:$IMDS_PORT/metadata/identity/oauth2/token
    # The postgres user may not be able to traverse the repo (e.g. under /root), so the
    # cluster, its socket, TLS key copy, PAM check and live-credentials file live here.
    RUNTIME=/var/tmp/lakebase-local-$PG_PORT
    DATA=$RUNTIME/data
    LIVE=$RUNTIME/live-credentials
    PAM_SVC=lakebase-local-$PG_PORT
    PAM_FILE=/etc/pam.d/$PAM_SVC
    EMU_PIDFILE=$STATE/emulator.pid
    EMU_URL=https://localhost:$EMU_PORT
    WRONG_URL=https://localhost:$WRONG_PORT
    ISSUED=$STATE/issued-secrets     # every credential / access token the emulator issues
}

need_root() {
    [[ $(id -u) -eq 0 ]] || die "must run as root: it runs PostgreSQL as the 'postgres' user and writes /etc/pam.d/. Try: sudo $0 ${1:-up}"
}

check_prereqs() {
    local missing=()
    [[ -x $PGBIN/initdb && -x $PGBIN/pg_ctl ]] || missing+=(postgresql-15)
    command -v psql >/dev/null && command -v pg_isready >/dev/null || missing+=(postgresql-client-15)
    command -v openssl >/dev/null || missing+=(openssl)
    command -v python3 >/dev/null || missing+=(python3)
    compgen -G '/lib/*/security/pam_exec.so' >/dev/null ||
        compgen -G '/usr/lib/*/security/pam_exec.so' >/dev/null || missing+=(libpam-modules)
    id postgres >/dev/null 2>&1 || missing+=("(user postgres: postgresql-15)")
    command -v runuser >/dev/null || missing+=(util-linux)
    [[ ${#missing[@]} -eq 0 ]] || die "missing: ${missing[*]} (apt-get install ${missing[*]})"
    [[ -f $EMULATOR ]] || die "emulator not found at $EMULATOR"
}

# ---------------------------------------------------------------------------- generation --

gen_certs() {
    if [[ -s $STATE/ca.pem && -s $STATE/server.pem && -s $STATE/server.key ]] &&
        openssl x509 -in "$STATE/server.pem" -noout -checkend 86400 >/dev/null 2>&1; then
        return
    fi
    say "generating a test CA and a server certificate (localhost, 127.0.0.1, ::1)"
    local t; t=$(mktemp -d)
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
        -keyout "$t/ca.key" -out "$t/ca.pem" -subj "/CN=lakebase-local test CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>"$t/err" || { cat "$t/err" >&2; die "openssl (CA) failed"; }
    openssl req -newkey rsa:2048 -nodes -sha256 -keyout "$t/server.key" -out "$t/server.csr" \
        -subj "/CN=localhost" 2>"$t/err" || { cat "$t/err" >&2; die "openssl (CSR) failed"; }
    printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" "basicConstraints=CA:FALSE" \
        "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >"$t/ext"
    openssl x509 -req -in "$t/server.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" -CAcreateserial \
        -sha256 -days 825 -extfile "$t/ext" -out "$t/server.pem" 2>"$t/err" || { cat "$t/err" >&2; die "openssl (sign) failed"; }
    install -m 0600 "$t/ca.key" "$t/server.key" "$STATE/"
    install -m 0644 "$t/ca.pem" "$t/server.pem" "$STATE/"
    rm -rf "$t"
}

# A certificate from the same CA for another host name only (SAN DNS:wrong-host.invalid), for
# the emulator's second listener: a client that checks the host name must refuse it.
gen_wrong_host_cert() {
    if [[ -s $STATE/wrong-host.pem && -s $STATE/wrong-host.key ]] &&
        openssl verify -CAfile "$STATE/ca.pem" "$STATE/wrong-host.pem" >/dev/null 2>&1 &&
        openssl x509 -in "$STATE/wrong-host.pem" -noout -checkend 86400 >/dev/null 2>&1; then
        return
    fi
    [[ -s $STATE/ca.key ]] || die "no $STATE/ca.key to sign the wrong-host certificate ('purge' and 'up' again)"
    say "generating the wrong-host certificate (DNS:wrong-host.invalid only)"
    local t; t=$(mktemp -d)
    openssl req -newkey rsa:2048 -nodes -sha256 -keyout "$t/wrong-host.key" -out "$t/wrong-host.csr" \
        -subj "/CN=wrong-host.invalid" 2>"$t/err" || { cat "$t/err" >&2; die "openssl (wrong-host CSR) failed"; }
    printf '%s\n' "subjectAltName=DNS:wrong-host.invalid" "basicConstraints=CA:FALSE" \
        "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >"$t/ext"
    openssl x509 -req -in "$t/wrong-host.csr" -CA "$STATE/ca.pem" -CAkey "$STATE/ca.key" \
        -set_serial "0x$(openssl rand -hex 8)" -sha256 -days 825 -extfile "$t/ext" \
        -out "$t/wrong-host.pem" 2>"$t/err" || { cat "$t/err" >&2; die "openssl (wrong-host sign) failed"; }
    install -m 0600 "$t/wrong-host.key" "$STATE/"
    install -m 0644 "$t/wrong-host.pem" "$STATE/"
    rm -rf "$t"
}

random_secret() { python3 -c 'import secrets,string; a=string.ascii_letters+string.digits; print("".join(secrets.choice(a) for _ in range(40)))'; }

gen_service_principals() {
    # Main SP: fixed id, random secret. Second SP without workspace access (negative tests).
    [[ -s $STATE/client-secret ]] || { random_secret >"$STATE/client-secret"; say "new client secret for $CLIENT_ID"; }
    [[ -s $STATE/noaccess-client-id ]] || python3 -c 'import uuid; print(uuid.uuid4())' >"$STATE/noaccess-client-id"
    [[ -s $STATE/noaccess-client-secret ]] || random_secret >"$STATE/noaccess-client-secret"
    # A third SP whose role is a password role: its credentials are long (1400 bytes, as real
    # JWTs can be), past what pam_exec passes, so the emulator sets them as the role's password.
    [[ -s $STATE/longtoken-client-id ]] || python3 -c 'import uuid; print(uuid.uuid4())' >"$STATE/longtoken-client-id"
    [[ -s $STATE/longtoken-client-secret ]] || random_secret >"$STATE/longtoken-client-secret"
    chmod 0600 "$STATE/client-secret" "$STATE/noaccess-client-id" "$STATE/noaccess-client-secret" \
        "$STATE/longtoken-client-id" "$STATE/longtoken-client-secret"
    # The direct role's password (SCRAM): the differential test logs in with it through
    # psqlODBC itself, to compare psqlODBC's answers with the driver's.
    [[ -s $STATE/direct-password ]] || random_secret >"$STATE/direct-password"
    chmod 0600 "$STATE/direct-password"
    [[ -s $STATE/azure-client-secret ]] || random_secret >"$STATE/azure-client-secret"
    chmod 0600 "$STATE/azure-client-secret"
    CLIENT_SECRET=$(<"$STATE/client-secret")
    NOACCESS_ID=$(<"$STATE/noaccess-client-id")
    LONGTOKEN_ID=$(<"$STATE/longtoken-client-id")
}

# A personal access token for PAT_USER (dapi + 32 hex digits, as real ones look).
gen_people() {
    [[ -s $STATE/pat ]] || python3 -c 'import secrets; print("dapi" + secrets.token_hex(16))' >"$STATE/pat"
    [[ -s $STATE/oidc-key ]] || python3 -c 'import secrets; print(secrets.token_hex(32))' >"$STATE/oidc-key"
    chmod 0600 "$STATE/pat" "$STATE/oidc-key"
    # The identity provider's tokens, minted at every `up`: one valid for a day, one expired.
    local name exp
    for name in oidc-token oidc-token-expired; do
        exp=86400; [[ $name == oidc-token ]] || exp=-3600
        CFG_KEY=$STATE/oidc-key CFG_ISS=$OIDC_ISSUER CFG_AUD=$OIDC_AUDIENCE CFG_SUB=$OIDC_SUBJECT CFG_EXP=$exp \
            python3 -c '
import base64, hashlib, hmac, json, os, time
e = os.environ
b64 = lambda d: base64.urlsafe_b64encode(d).rstrip(b"=").decode()
now = int(time.time())
head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
body = b64(json.dumps({"iss": e["CFG_ISS"], "aud": e["CFG_AUD"], "sub": e["CFG_SUB"], "iat": now,
                       "exp": now + int(e["CFG_EXP"])}).encode())
key = bytes.fromhex(open(e["CFG_KEY"]).read().strip())
sig = b64(hmac.new(key, (head + "." + body).encode(), hashlib.sha256).digest())
print(head + "." + body + "." + sig)' >"$STATE/$name.tmp"
        chmod 0600 "$STATE/$name.tmp"
        mv -f "$STATE/$name.tmp" "$STATE/$name"
    done
}

write_emulator_config() {
    local runuser_bin pg_isready_bin
    runuser_bin=$(command -v runuser)
    pg_isready_bin=$(command -v pg_isready)
    CFG_PAT_USER=$PAT_USER CFG_CLI_USER=$CLI_USER CFG_OIDC_ISS=$OIDC_ISSUER CFG_OIDC_AUD=$OIDC_AUDIENCE \
    CFG_OIDC_SUB=$OIDC_SUBJECT CFG_AZ_TENANT=$AZURE_TENANT_ID CFG_AZ_ID=$AZURE_CLIENT_ID \
    CFG_MSI_SYSTEM=$MSI_SYSTEM_ID CFG_MSI_USER=$MSI_USER_ID \
    CFG_OUT=$STATE/emulator-config.json CFG_ID=$CLIENT_ID CFG_NOACCESS_ID=$NOACCESS_ID CFG_LONG_ID=$LONGTOKEN_ID \
    CFG_RUNTIME=$RUNTIME CFG_PSQL=$(command -v psql) \
    CFG_ENDPOINT=$ENDPOINT CFG_INSTANCE=$INSTANCE CFG_PG_PORT=$PG_PORT CFG_STATE=$STATE CFG_DATA=$DATA \
    CFG_PG_CTL=$PGBIN/pg_ctl CFG_RUNUSER=$runuser_bin CFG_PG_ISREADY=$pg_isready_bin python3 - <<'EOF'
import json, os
e = os.environ
# Scale to zero: how the emulator stops, starts and checks this PostgreSQL (as `up`/`down` do).
as_pg = [e["CFG_RUNUSER"], "-u", "postgres", "--", e["CFG_PG_CTL"], "-D", e["CFG_DATA"]]
read = lambda name: open(os.path.join(e["CFG_STATE"], name)).read().strip()
cfg = {
    "service_principals": [
        {"client_id": e["CFG_ID"], "client_secret": read("client-secret"), "workspace_access": True},
        {"client_id": e["CFG_NOACCESS_ID"], "client_secret": read("noaccess-client-secret"),
         "workspace_access": False},
        {"client_id": e["CFG_LONG_ID"], "client_secret": read("longtoken-client-secret"),
         "workspace_access": True, "password_role": True, "token_bytes": 1400},
    ],
    # How the emulator sets a password role's credential (SQL on stdin).
    "admin_psql": [e["CFG_RUNUSER"], "-u", "postgres", "--", e["CFG_PSQL"], "-X", "-q", "-v", "ON_ERROR_STOP=1",
                   "-h", e["CFG_RUNTIME"], "-p", e["CFG_PG_PORT"], "-d", "postgres"],
    # The same PostgreSQL serves as the endpoint's read-only host under another loopback
    # name (127.0.0.1), so a client can tell which host the driver looked up.
    "endpoints": [{"name": e["CFG_ENDPOINT"], "host": "localhost",
                   "port": int(e["CFG_PG_PORT"]), "state": "ACTIVE", "read_only_host": "127.0.0.1"}],
    # Lakebase Provisioned: the same PostgreSQL, found through the instance look-up.
    "instances": [{"name": e["CFG_INSTANCE"], "read_write_dns": "localhost", "state": "AVAILABLE"}],
    "credential_lifetime": 3600,
    "token_lifetime": 3600,
    # People: a PAT holder and a CLI login (their PostgreSQL roles are their user names).
    "users": [{"userName": e["CFG_PAT_USER"], "pats": [read("pat")]}, {"userName": e["CFG_CLI_USER"]}],
    # Workload identity federation: the test identity provider's workload may act as the main SP.
    "federation": {"issuer": e["CFG_OIDC_ISS"], "audience": e["CFG_OIDC_AUD"], "key": read("oidc-key"),
                   "policies": [{"client_id": e["CFG_ID"], "subject": e["CFG_OIDC_SUB"]}]},
    # Azure: the Entra tenant's application and the machine's managed identities.
    "azure": {"tenant_id": e["CFG_AZ_TENANT"],
              "apps": [{"client_id": e["CFG_AZ_ID"], "client_secret": read("azure-client-secret")}],
              "managed_identities": [{"client_id": e["CFG_MSI_SYSTEM"], "system_assigned": True},
                                     {"client_id": e["CFG_MSI_USER"]}]},
    "compute": {
        "endpoint": e["CFG_ENDPOINT"],
        "port": int(e["CFG_PG_PORT"]),
        "start": as_pg + ["-w", "-t", "30", "start"],
        "stop": as_pg + ["-m", "fast", "-w", "-t", "30", "stop"],
        "ready": [e["CFG_PG_ISREADY"], "-q", "-h", "127.0.0.1", "-p", e["CFG_PG_PORT"], "-t", "1"],
        "log": os.path.join(e["CFG_STATE"], "postgres.log"),
    },
}
fd = os.open(e["CFG_OUT"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as f:
    json.dump(cfg, f, indent=2)
    f.write("\n")
EOF
}

# The endpoint, host and TLS lines of a DSN for the local PostgreSQL (named Servername: no look-up).
dsn_target_lines() {
    printf '%s\n' "Endpoint=$ENDPOINT" "Servername=localhost" "Port=$PG_PORT" "Database=$DATABASE" \
        "CAFile=$STATE/ca.pem" "SSLRootCert=$STATE/ca.pem"
}

write_client_files() {
    local sp=$STATE
    { echo "; unixODBC driver list for the local Lakebase (written by scripts/local-lakebase.sh)."
      echo "[Lakebase]"
      echo "Description=Lakebase ODBC driver (Databricks OAuth database credentials)"
      echo "Driver=$DRIVER"
      echo
      echo "; psqlODBC itself, for the differential test (tests/integration/differential_test.sh)"
      echo "[PostgreSQL Unicode]"
      echo "Description=psqlODBC (Unicode)"
      echo "Driver=$PSQLODBC"
    } >"$sp/odbcinst.ini"
    chmod 0644 "$sp/odbcinst.ini"

    { echo "; Worked example: a DSN for the local Lakebase (written by scripts/local-lakebase.sh)."
      echo "; Holds the client secret: keep this file mode 0600."
      echo "[ODBC Data Sources]"
      echo "lakebase-local=Lakebase"
      echo "lakebase-local-provisioned=Lakebase"
      echo "lakebase-local-replica=Lakebase"
      echo "lakebase-local-pat=Lakebase"
      echo "lakebase-local-cli=Lakebase"
      echo "lakebase-local-profile=Lakebase"
      echo "lakebase-local-oidc=Lakebase"
      echo "lakebase-local-azure=Lakebase"
      echo "lakebase-local-msi=Lakebase"
      echo
      echo "[lakebase-local]"
      echo "; driver name from odbcinst.ini"
      echo "Driver=Lakebase"
      echo "Description=Local Lakebase: workspace emulator + PostgreSQL 15"
      echo "; Databricks workspace URL (real: https://<workspace>.cloud.databricks.com)"
      echo "DatabricksHost=$EMU_URL"
      echo "; OAuth M2M service principal (client id = PostgreSQL user name)"
      echo "ClientID=$CLIENT_ID"
      echo "ClientSecret=$CLIENT_SECRET"
      echo "; Lakebase endpoint resource name"
      echo "Endpoint=$ENDPOINT"
      echo "; No Servername: the driver looks the endpoint's host up (status.hosts.host) and caches it."
      echo "; PostgreSQL port (real: 5432, the default)"
      echo "Port=$PG_PORT"
      echo "Database=$DATABASE"
      echo "; CA that signed the emulator's certificate (real: leave out, the system CAs apply)"
      echo "CAFile=$STATE/ca.pem"
      echo "; CA that signed PostgreSQL's certificate: libpq checks the chain with it (and, with"
      echo "; SSLmode=verify-full, the host name). Real: leave out and set SSLmode=verify-full,"
      echo "; the driver then uses the system CA bundle"
      echo "SSLRootCert=$STATE/ca.pem"
      echo
      echo "[lakebase-local-provisioned]"
      echo "; a Lakebase Provisioned instance: no Servername, the driver asks the instance look-up"
      echo "; (GET /api/2.0/database/instances/<name>) and connects to its read_write_dns"
      echo "Driver=Lakebase"
      echo "Description=Local Lakebase Provisioned instance: workspace emulator + PostgreSQL 15"
      echo "DatabricksHost=$EMU_URL"
      echo "ClientID=$CLIENT_ID"
      echo "ClientSecret=$CLIENT_SECRET"
      echo "; Lakebase Provisioned instance name (instead of Endpoint)"
      echo "Instance=$INSTANCE"
      echo "; real: leave Port out (5432)"
      echo "Port=$PG_PORT"
      echo "Database=$DATABASE"
      echo "CAFile=$STATE/ca.pem"
      echo "SSLRootCert=$STATE/ca.pem"
      echo
      echo "[lakebase-local-replica]"
      echo "; The same endpoint's read-only host (status.hosts.read_only_host; here 127.0.0.1)."
      echo "; Add ReadOnly=1 (psqlODBC's own key, passed on) to refuse writes in the driver too."
      echo "Driver=Lakebase"
      echo "Description=Local Lakebase, read replica"
      echo "DatabricksHost=$EMU_URL"
      echo "ClientID=$CLIENT_ID"
      echo "ClientSecret=$CLIENT_SECRET"
      echo "Endpoint=$ENDPOINT"
      echo "ReadReplica=yes"
      echo "Port=$PG_PORT"
      echo "Database=$DATABASE"
      echo "CAFile=$STATE/ca.pem"
      echo "SSLRootCert=$STATE/ca.pem"
      echo
      echo "[lakebase-local-pat]"
      echo "; a person's personal access token (AuthType pat); the PostgreSQL user is their user name,"
      echo "; looked up with SCIM Me ($PAT_USER)"
      echo "Driver=Lakebase"
      echo "DatabricksHost=$EMU_URL"
      echo "Token=$(<"$STATE/pat")"
      echo "Endpoint=$ENDPOINT"
      echo "Servername=localhost"
      echo "Port=$PG_PORT"
      echo "Database=$DATABASE"
      echo "CAFile=$STATE/ca.pem"
      echo "SSLRootCert=$STATE/ca.pem"
      echo
      echo "[lakebase-local-cli]"
      echo "; a \`databricks auth login\` session (AuthType databricks-cli): the driver runs"
      echo "; \`databricks auth token --host ...\`; real: leave DatabricksCliPath out (databricks on PATH)"
      echo "Driver=Lakebase"
      echo "DatabricksHost=$EMU_URL"
      echo "AuthType=databricks-cli"
      echo "DatabricksCliPath=$FAKE_CLI"
      echo "Endpoint=$ENDPOINT"
      echo "Servername=localhost"
      echo "Port=$PG_PORT"
      echo "Database=$DATABASE"
      echo "CAFile=$STATE/ca.pem"
      echo "SSLRootCert=$STATE/ca.pem"
      echo
      echo "[lakebase-local-profile]"
      echo "; the workspace and the service principal from a ~/.databrickscfg-style profile"
      echo "; (DATABRICKS_CONFIG_FILE=$STATE/databrickscfg, profile lakebase-local)"
      echo "Driver=Lakebase"
      echo "Profile=lakebase-local"
      echo "Endpoint=$ENDPOINT"
      echo "Servername=localhost"
      echo "Port=$PG_PORT"
      echo "Database=$DATABASE"
      echo "CAFile=$STATE/ca.pem"
      echo "SSLRootCert=$STATE/ca.pem"
      echo
      echo "[lakebase-local-oidc]"
      echo "; workload identity federation (AuthType file-oidc): the identity provider's token in a file,"
      echo "; exchanged for the service principal's workspace token; no secret in the DSN"
      echo "Driver=Lakebase"
      echo "DatabricksHost=$EMU_URL"
      echo "ClientID=$CLIENT_ID"
      echo "OIDCTokenFile=$STATE/oidc-token"
      echo "Endpoint=$ENDPOINT"
      echo "Servername=localhost"
      echo "Port=$PG_PORT"
      echo "Database=$DATABASE"
      echo "CAFile=$STATE/ca.pem"
      echo "SSLRootCert=$STATE/ca.pem"
      echo
      echo "[lakebase-local-azure]"
      echo "; an Entra ID application's client secret (AuthType azure-client-secret); the PostgreSQL"
      echo "; user is the application (client) id. Real: leave AzureLoginHost out (the Azure cloud's)"
      echo "Driver=Lakebase"
      echo "DatabricksHost=$EMU_URL"
      echo "AzureClientID=$AZURE_CLIENT_ID"
      echo "AzureClientSecret=$(<"$STATE/azure-client-secret")"
      echo "AzureTenantID=$AZURE_TENANT_ID"
      echo "AzureLoginHost=$EMU_URL"
      echo "AzureResourceID=$AZURE_RESOURCE_ID"
      dsn_target_lines
      echo
      echo "[lakebase-local-msi]"
      echo "; the machine's system-assigned managed identity (AuthType azure-msi), from the metadata"
      echo "; service; the PostgreSQL user is its application id (the token's appid). Add"
      echo "; AzureClientID=<client id> for a user-assigned identity. Real: leave AzureMsiEndpoint out"
      echo "Driver=Lakebase"
      echo "DatabricksHost=$EMU_URL"
      echo "AuthType=azure-msi"
      echo "AzureMsiEndpoint=$MSI_URL"
      dsn_target_lines
    } >"$sp/odbc.ini"
    chmod 0600 "$sp/odbc.ini"

    # A ~/.databrickscfg-style file: one profile per source.
    { echo "; Databricks config profiles for the local Lakebase (written by scripts/local-lakebase.sh)"
      echo "[lakebase-local]"
      echo "host = $EMU_URL"
      echo "client_id = $CLIENT_ID"
      echo "client_secret = $CLIENT_SECRET"
      echo
      echo "[lakebase-local-pat]"
      echo "host = $EMU_URL"
      echo "token = $(<"$STATE/pat")"
      echo
      echo "[lakebase-local-cli]"
      echo "host = $EMU_URL"
      echo "auth_type = databricks-cli"
      echo "databricks_cli_path = $FAKE_CLI"
    } >"$sp/databrickscfg"
    chmod 0600 "$sp/databrickscfg"
    # The stand-in CLI's logins: CLI_USER has run `databricks auth login --host $EMU_URL`.
    CFG_CA=$STATE/ca.pem CFG_URL=$EMU_URL CFG_USER=$CLI_USER python3 -c '
import json, os
e = os.environ
print(json.dumps({"cafile": e["CFG_CA"], "logins": {e["CFG_URL"]: e["CFG_USER"]}}))' >"$sp/databricks-cli-logins.json"
    chmod 0644 "$sp/databricks-cli-logins.json"
    chmod 0600 "$sp/odbc.ini"

    { echo "export LAKEBASE_LOCAL_STATE=$(sq "$STATE")"
      echo "export ODBCSYSINI=$(sq "$STATE")"
      echo "export ODBCINI=$(sq "$STATE/odbc.ini")"
      echo "export LAKEBASE_EMULATOR_URL=$(sq "$EMU_URL")"
      echo "export LAKEBASE_CA_FILE=$(sq "$STATE/ca.pem")"
      echo "export LAKEBASE_CLIENT_ID=$(sq "$CLIENT_ID")"
      echo "export LAKEBASE_ENDPOINT=$(sq "$ENDPOINT")"
      echo "export LAKEBASE_LOCAL_INSTANCE=$(sq "$INSTANCE")"
      echo "export LAKEBASE_PG_PORT=$(sq "$PG_PORT")"
      echo "export LAKEBASE_WRONG_HOST_URL=$(sq "$WRONG_URL")"
      echo "export LAKEBASE_ISSUED_SECRETS=$(sq "$ISSUED")"
      echo "export DATABRICKS_CONFIG_FILE=$(sq "$STATE/databrickscfg")"
      echo "export LAKEBASE_FAKE_CLI=$(sq "$FAKE_CLI")"
      echo "export LAKEBASE_FAKE_CLI_LOGINS=$(sq "$STATE/databricks-cli-logins.json")"
      echo "export LAKEBASE_PAT_USER=$(sq "$PAT_USER")"
      echo "export LAKEBASE_CLI_USER=$(sq "$CLI_USER")"
      echo "export LAKEBASE_AZURE_CLIENT_ID=$(sq "$AZURE_CLIENT_ID")"
      echo "export LAKEBASE_AZURE_TENANT_ID=$(sq "$AZURE_TENANT_ID")"
      echo "export LAKEBASE_MSI_ENDPOINT=$(sq "$MSI_URL")"
      echo "export LAKEBASE_MSI_SYSTEM_ID=$(sq "$MSI_SYSTEM_ID")"
      echo "export LAKEBASE_MSI_USER_ID=$(sq "$MSI_USER_ID")"
    } >"$sp/env.sh"
    chmod 0644 "$sp/env.sh"

    printf '%s\n' "EMU_PORT=$EMU_PORT" "PG_PORT=$PG_PORT" "DRIVER=$DRIVER" "RUNTIME=$RUNTIME" >"$sp/instance.env"
    echo "$RUNTIME" >"$sp/runtime-dir"
    chmod 0644 "$sp/instance.env" "$sp/runtime-dir"
}

# ------------------------------------------------------------------- runtime dir and PAM --

setup_runtime() {
    [[ ! -L $RUNTIME ]] || die "$RUNTIME is a symlink; refusing to use it"
    mkdir -p "$RUNTIME"
    local owner; owner=$(stat -c %U "$RUNTIME")
    [[ $owner == root || $owner == postgres ]] || die "$RUNTIME belongs to '$owner'; remove it first"
    chown postgres:postgres "$RUNTIME"
    chmod 0755 "$RUNTIME"
    # TLS key and certificate copies PostgreSQL can read (key must be 0600, owned by postgres).
    install -o postgres -g postgres -m 0600 "$STATE/server.key" "$RUNTIME/server.key"
    install -o postgres -g postgres -m 0644 "$STATE/server.pem" "$RUNTIME/server.pem"
    [[ -f $LIVE ]] || install -m 0644 /dev/null "$LIVE"

    # The PAM check: runs as postgres under pam_exec, with only PAM_* in its environment.
    cat >"$RUNTIME/pam-check.sh.tmp" <<'EOF'
#!/bin/sh
# Local Lakebase PAM check (written by scripts/local-lakebase.sh, run by pam_exec as postgres):
# succeed only if the password is a live credential of PAM_USER in the file named by $1.
# stdin: the password followed by a NUL (pam_exec expose_authtok; at most 512 bytes).
# Live file lines: "<role> <sha256 hex of the credential> <expiry, unix seconds>".
PATH=/usr/bin:/bin
export PATH
live=$1
[ -n "${PAM_USER:-}" ] && [ -r "$live" ] || exit 1
# A C string cannot hold a NUL, so deleting NULs keeps exactly the bytes before the terminator.
hash=$(head -c 1024 | tr -d '\000' | sha256sum | cut -d' ' -f1)
now=$(date +%s)
awk -v u="$PAM_USER" -v h="$hash" -v now="$now" \
    '$1 == u && $2 == h && $3 + 0 > now + 0 { ok = 1 } END { exit ok ? 0 : 1 }' "$live"
EOF
    chmod 0755 "$RUNTIME/pam-check.sh.tmp"
    mv -f "$RUNTIME/pam-check.sh.tmp" "$RUNTIME/pam-check.sh"

    cat >"$PAM_FILE.tmp" <<EOF
# Local Lakebase (scripts/local-lakebase.sh; removed by 'down'): PostgreSQL on port $PG_PORT
# accepts a password only while it is a live emulator-issued database credential.
auth    required pam_exec.so expose_authtok quiet $RUNTIME/pam-check.sh $LIVE
account required pam_permit.so
EOF
    chmod 0644 "$PAM_FILE.tmp"
    mv -f "$PAM_FILE.tmp" "$PAM_FILE"
}

# ------------------------------------------------------------------------------ emulator --

emulator_pid() {   # prints the pid if our emulator runs
    local pid
    [[ -s $EMU_PIDFILE ]] || return 1
    pid=$(<"$EMU_PIDFILE")
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q lakebase_emulator.py || return 1
    echo "$pid"
}

# The emulator's control API through its client (tests/emulator/emulator_client.py).
emulator_client() { python3 "$EMU_CLIENT" --url "$EMU_URL" --ca "$STATE/ca.pem" "$@"; }

emulator_answers() { emulator_client --timeout 2 ping >/dev/null 2>&1; }

# Call the emulator's control API: emulator_ctl METHOD PATH [timeout]. Prints the JSON answer;
# fails (with the answer on stderr) unless the status is 200.
emulator_ctl() { emulator_client --timeout "${3:-5}" "${1,,}" "$2"; }

compute_state() {   # ACTIVE / IDLE / WAKING from the running emulator, or nothing
    emulator_client --timeout 2 compute-state 2>/dev/null || true
}

# `up` on a suspended (or waking) instance: wake PostgreSQL now, through the emulator that holds
# its port, and wait until it accepts connections.
resume_compute() {
    local state
    state=$(compute_state)
    [[ $state == IDLE || $state == WAKING ]] || return 0
    say "the compute is suspended ($state): resuming it"
    emulator_ctl POST resume 120 >/dev/null || die "the emulator could not resume PostgreSQL (see $STATE/emulator.log)"
}

start_emulator() {
    if emulator_pid >/dev/null && emulator_answers; then
        say "emulator already running on $EMU_URL (pid $(emulator_pid))"
        resume_compute
        return
    fi
    if pid=$(emulator_pid); then   # alive but not answering: restart it
        kill "$pid" 2>/dev/null || true; sleep 1
    fi
    rm -f "$EMU_PIDFILE"
    say "starting the emulator on $EMU_URL (log: $STATE/emulator.log)"
    # Detached, no tie to our stdout (so `eval "$(... up)"` returns).
    setsid python3 "$EMULATOR" --config "$STATE/emulator-config.json" --port "$EMU_PORT" \
        --cert "$STATE/server.pem" --key "$STATE/server.key" --live-file "$LIVE" \
        --pidfile "$EMU_PIDFILE" --record-issued "$ISSUED" \
        --wrong-host-port "$WRONG_PORT" --wrong-host-cert "$STATE/wrong-host.pem" \
        --wrong-host-key "$STATE/wrong-host.key" --imds-port "$IMDS_PORT" </dev/null >>"$STATE/emulator.log" 2>&1 &
    local launched=$! _
    for _ in $(seq 1 60); do          # up to ~15 s
        if emulator_pid >/dev/null && emulator_answers; then return; fi
        if ! kill -0 "$launched" 2>/dev/null && ! emulator_pid >/dev/null; then break; fi
        sleep 0.25
    done
    show_log_tail "$STATE/emulator.log"
    die "the emulator did not come up on $EMU_URL"
}

stop_emulator() {
    local pid _
    if pid=$(emulator_pid); then
        say "stopping the emulator (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        # Up to 40 s: on exit the emulator lets a PostgreSQL start that it began (a wake) finish,
        # so that stop_postgres sees the server and stops it.
        for _ in $(seq 1 160); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
        if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    fi
    rm -f "$EMU_PIDFILE"
}

# ---------------------------------------------------------------------------- PostgreSQL --

pg_running() { [[ -f $DATA/PG_VERSION ]] && as_pg "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

write_pg_config() {
    local listen="127.0.0.1"
    grep -qi '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null && listen="127.0.0.1,::1"
    cat >"$DATA/lakebase-local.conf" <<EOF
# Written by scripts/local-lakebase.sh on every 'up'.
listen_addresses = '$listen'
port = $PG_PORT
unix_socket_directories = '$RUNTIME'
ssl = on
ssl_cert_file = '$RUNTIME/server.pem'
ssl_key_file = '$RUNTIME/server.key'
ssl_min_protocol_version = 'TLSv1.2'
password_encryption = 'scram-sha-256'
max_connections = 200
shared_buffers = 32MB
log_connections = on
log_line_prefix = '%m [%p] %q%u@%d '
EOF
    grep -q "^include_if_exists = 'lakebase-local.conf'" "$DATA/postgresql.conf" ||
        echo "include_if_exists = 'lakebase-local.conf'" >>"$DATA/postgresql.conf"

    # TLS is required (like Lakebase): the members of lakebase_oauth log in with a live OAuth
    # credential through PAM; other roles need a SCRAM password; plain TCP is rejected.
    # Administration only over the unix socket, as the postgres OS user (peer).
    cat >"$DATA/pg_hba.conf" <<EOF
# Written by scripts/local-lakebase.sh on every 'up'.
# TYPE  DATABASE  USER             ADDRESS        METHOD
local   all       postgres                        peer
local   all       all                             reject
hostssl all       +$OAUTH_GROUP    127.0.0.1/32   pam pamservice=$PAM_SVC
hostssl all       +$OAUTH_GROUP    ::1/128        pam pamservice=$PAM_SVC
hostssl all       all              127.0.0.1/32   scram-sha-256
hostssl all       all              ::1/128        scram-sha-256
host    all       all              0.0.0.0/0      reject
host    all       all              ::/0           reject
EOF
    chown postgres:postgres "$DATA/lakebase-local.conf" "$DATA/pg_hba.conf"
    chmod 0600 "$DATA/lakebase-local.conf" "$DATA/pg_hba.conf"
}

start_postgres() {
    if [[ ! -f $DATA/PG_VERSION ]]; then
        say "creating a PostgreSQL 15 cluster in $DATA"
        as_pg "$PGBIN/initdb" -D "$DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
            --auth-local=peer --auth-host=reject </dev/null >>"$STATE/postgres.log" 2>&1 ||
            { show_log_tail "$STATE/postgres.log"; die "initdb failed"; }
    fi
    write_pg_config
    if pg_running; then
        say "PostgreSQL already running on 127.0.0.1:$PG_PORT (reloading its configuration)"
        as_pg "$PGBIN/pg_ctl" -D "$DATA" reload </dev/null >>"$STATE/postgres.log" 2>&1 || true
    else
        say "starting PostgreSQL on 127.0.0.1:$PG_PORT (log: $STATE/postgres.log)"
        # Without -l the server logs to pg_ctl's stdout: this root-opened file, which the
        # postgres user could not open itself when the state folder is under /root.
        as_pg "$PGBIN/pg_ctl" -D "$DATA" -w -t 30 start </dev/null >>"$STATE/postgres.log" 2>&1 ||
            { show_log_tail "$STATE/postgres.log"; die "PostgreSQL did not start"; }
    fi
    local _
    for _ in $(seq 1 30); do
        pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -t 1 && return
        sleep 1
    done
    show_log_tail "$STATE/postgres.log"
    die "PostgreSQL is not ready on 127.0.0.1:$PG_PORT"
}

# Roles as databricks_create_role makes them: LOGIN, member of the OAuth group, no password.
setup_roles() {
    local role
    as_pg psql -X -q -v ON_ERROR_STOP=1 -h "$RUNTIME" -p "$PG_PORT" -d postgres \
        -v grp="$OAUTH_GROUP" -v db="$DATABASE" >>"$STATE/postgres.log" 2>&1 <<'SQL' ||
SELECT format('CREATE ROLE %I NOLOGIN', :'grp')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'grp') \gexec
SELECT format('CREATE DATABASE %I', :'db')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SQL
        { show_log_tail "$STATE/postgres.log"; die "creating the group role / database failed"; }
    for role in "$CLIENT_ID" "$NOACCESS_ID" "$PAT_USER" "$CLI_USER" "$AZURE_CLIENT_ID" "$MSI_SYSTEM_ID" "$MSI_USER_ID"; do
        as_pg psql -X -q -v ON_ERROR_STOP=1 -h "$RUNTIME" -p "$PG_PORT" -d "$DATABASE" \
            -v grp="$OAUTH_GROUP" -v db="$DATABASE" -v role="$role" >>"$STATE/postgres.log" 2>&1 <<'SQL' ||
SELECT format('CREATE ROLE %I LOGIN IN ROLE %I', :'role', :'grp')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
GRANT CONNECT ON DATABASE :"db" TO :"role";
GRANT USAGE, CREATE ON SCHEMA public TO :"role";
SQL
            { show_log_tail "$STATE/postgres.log"; die "creating role $role failed"; }
    done
    # The long-credential SP: a password role (SCRAM), outside the OAuth group.
    as_pg psql -X -q -v ON_ERROR_STOP=1 -h "$RUNTIME" -p "$PG_PORT" -d "$DATABASE" \
        -v db="$DATABASE" -v role="$LONGTOKEN_ID" >>"$STATE/postgres.log" 2>&1 <<'SQL' ||
SELECT format('CREATE ROLE %I LOGIN', :'role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
GRANT CONNECT ON DATABASE :"db" TO :"role";
GRANT USAGE ON SCHEMA public TO :"role";
SQL
        { show_log_tail "$STATE/postgres.log"; die "creating role $LONGTOKEN_ID failed"; }
    # The direct role: a SCRAM password role with exactly the SP role's grants (CONNECT on the
    # database, USAGE/CREATE on public), not in the OAuth group and not a member of the SP role:
    # each role creates and drops its own test objects (same names, one run at a time), so
    # psqlODBC used directly and the driver see the same kind of objects with the same rights.
    # The password goes to psql on stdin, never on a command line; the server stores a verifier.
    as_pg psql -X -q -v ON_ERROR_STOP=1 -h "$RUNTIME" -p "$PG_PORT" -d "$DATABASE" \
        -v db="$DATABASE" -v role="$DIRECT_ROLE" >>"$STATE/postgres.log" 2>&1 <<SQL ||
SELECT format('CREATE ROLE %I LOGIN', :'role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
SET password_encryption = 'scram-sha-256';
ALTER ROLE :"role" PASSWORD $(sql_quote "$(<"$STATE/direct-password")");
GRANT CONNECT ON DATABASE :"db" TO :"role";
GRANT USAGE, CREATE ON SCHEMA public TO :"role";
SQL
        { show_log_tail "$STATE/postgres.log"; die "creating role $DIRECT_ROLE failed"; }
}

stop_postgres() {
    if pg_running; then
        say "stopping PostgreSQL ($DATA)"
        as_pg "$PGBIN/pg_ctl" -D "$DATA" -m fast -w -t 30 stop </dev/null >>"$STATE/postgres.log" 2>&1 ||
            { show_log_tail "$STATE/postgres.log"; die "PostgreSQL did not stop"; }
    fi
}

# ------------------------------------------------------------------------------ commands --

cmd_up() {
    check_prereqs
    mkdir -p "$STATE"
    chmod 0700 "$STATE"
    [[ -f $STATE/.gitignore ]] || echo '*' >"$STATE/.gitignore"   # secrets: never commit
    STATE=$(cd "$STATE" && pwd)
    # Refuse to switch ports under a running instance of this state folder.
    if [[ -f $STATE/instance.env ]]; then
        local old_emu old_pg
        old_emu=$(sed -n 's/^EMU_PORT=//p' "$STATE/instance.env")
        old_pg=$(sed -n 's/^PG_PORT=//p' "$STATE/instance.env")
        if [[ $old_emu != "$EMU_PORT" || $old_pg != "$PG_PORT" ]]; then
            if emulator_pid >/dev/null || { [[ -f /var/tmp/lakebase-local-$old_pg/data/PG_VERSION ]] &&
                as_pg "$PGBIN/pg_ctl" -D "/var/tmp/lakebase-local-$old_pg/data" status >/dev/null 2>&1; }; then
                die "this state folder runs on ports $old_emu/$old_pg; run 'down' first"
            fi
        fi
    fi
    gen_certs
    gen_wrong_host_cert
    gen_service_principals
    gen_people
    write_emulator_config
    write_client_files
    setup_runtime
    start_emulator
    start_postgres
    setup_roles
    say "ready: emulator $EMU_URL, PostgreSQL 127.0.0.1:$PG_PORT (user $CLIENT_ID, db $DATABASE)"
    cat "$STATE/env.sh"
}

cmd_down() {
    if [[ ! -d $STATE ]]; then
        say "nothing to stop (no state folder $STATE)"
    else
        stop_emulator
    fi
    stop_postgres
    rm -f "$PAM_FILE"
    [[ ! -f $LIVE ]] || : >"$LIVE"    # no credential stays valid
    if [[ -f $DATA/PG_VERSION ]]; then say "down (cluster data kept in $DATA; 'purge' deletes it)"; else say "down"; fi
}

cmd_status() {
    local ok=0 pid
    if pid=$(emulator_pid) && emulator_answers; then
        echo "emulator:   running (pid $pid) at $EMU_URL"
    else
        echo "emulator:   not running"; ok=1
    fi
    local compute=""
    [[ $ok -ne 0 ]] || compute=$(compute_state)
    if pg_running && pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -t 2; then
        echo "postgresql: running on 127.0.0.1:$PG_PORT (data $DATA)"
    elif [[ $compute == IDLE || $compute == WAKING ]]; then
        # Not probed with pg_isready: a connection to the held port would wake it.
        echo "postgresql: suspended by the emulator ($compute; wakes on first use or 'up')"
    else
        echo "postgresql: not running"; ok=1
    fi
    if [[ -f $PAM_FILE ]]; then echo "pam:        $PAM_FILE"; else echo "pam:        no service file"; ok=1; fi
    echo "state:      $STATE"
    [[ ! -s $STATE/wrong-host.pem ]] || echo "wrong host: $WRONG_URL (certificate for wrong-host.invalid)"
    return $ok
}

cmd_env() {
    [[ -f $STATE/env.sh ]] || die "no $STATE/env.sh: run '$0 up' first"
    cat "$STATE/env.sh"
}

cmd_purge() {
    cmd_down
    [[ $RUNTIME =~ ^/var/tmp/lakebase-local-[0-9]+$ ]] && rm -rf "$RUNTIME"
    if [[ -d $STATE ]]; then
        (cd "$STATE" && rm -f ca.pem ca.key ca.srl server.pem server.key client-secret \
            noaccess-client-id noaccess-client-secret longtoken-client-id longtoken-client-secret direct-password emulator-config.json odbc.ini odbcinst.ini \
            env.sh instance.env runtime-dir emulator.pid emulator.log postgres.log .gitignore \
            issued-secrets wrong-host.pem wrong-host.key pat databrickscfg databricks-cli-logins.json \
            oidc-key oidc-token oidc-token-expired azure-client-secret)
        rmdir "$STATE" 2>/dev/null || true
    fi
    say "purged"
}

main() {
    local cmd=${1:-}
    case $cmd in
        up|down|status|env|purge) ;;
        *) echo "usage: $0 up|down|status|env|purge" >&2; exit 2 ;;
    esac
    need_root "$cmd"
    resolve_settings
    "cmd_$cmd"
}

main "$@"
