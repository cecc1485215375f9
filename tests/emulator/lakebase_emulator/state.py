"""Shared state: configuration and run-time settings, issued access tokens and database
credentials (the live-credentials file PostgreSQL's PAM check reads, the record of issued
secrets, the password-role SP), stats and queued faults; one lock guards all."""

import hashlib
import hmac
import json
import os
import re
import secrets
import subprocess
import threading
import time

from .common import ENDPOINT_RE, INSTANCE_STATES, MAX_TOKEN_BYTES, b64url, rfc3339
from .azure import Azure
from .federation import Federation
from .unified import Unified
from .users import Users


class State:
    """Configuration, issued tokens, live credentials, stats and faults; one lock guards all."""

    SETTABLE = ("credential_lifetime", "token_lifetime", "fractional_seconds", "endpoints", "token_suffix",
                "error_details", "retry_after", "instances", "max_page_size")

    def __init__(self, config, live_file, record_issued=None):
        self.lock = threading.Lock()
        self.live_file = live_file
        self.record_fd = None
        if record_issued:    # append-only, 0600 even when the file existed with other bits
            self.record_fd = os.open(record_issued, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.fchmod(self.record_fd, 0o600)
        self.compute = None                      # Compute, when the config has "compute"
        self.sps = {}
        for sp in config.get("service_principals", []):
            cid = sp["client_id"]
            self.sps[cid] = {"client_secret": sp["client_secret"],
                             "workspace_access": bool(sp.get("workspace_access", True)),
                             # A password role: its credential is set as the role's password
                             # (one live at a time), so it may be longer than pam_exec's limit.
                             "password_role": bool(sp.get("password_role", False)),
                             "token_bytes": int(sp.get("token_bytes", 0))}
        self.admin_psql = config.get("admin_psql")  # argv running SQL from stdin as a superuser
        self.settings = {"credential_lifetime": 3600, "token_lifetime": 3600,
                         "fractional_seconds": 9, "endpoints": [], "token_suffix": "",
                         "error_details": True, "retry_after": 1, "instances": [], "max_page_size": 100}
        self.database_requests = []              # Provisioned credential requests seen (last 100)
        self.update_settings({k: config[k] for k in self.SETTABLE if k in config})
        self.jwt_key = secrets.token_bytes(32)   # signs the JWT-shaped credentials
        self.access_tokens = {}                  # token -> (client_id, expiry)
        self.live = []                           # [role, sha256 hex, expiry, client_id]
        self.stats = {}
        self.faults = []
        self.unified = Unified(config.get("unified_host"))
        self.users = Users(config.get("users"))
        self.federation = Federation(config.get("federation"))
        self.azure = Azure(config.get("azure"))
        for cid in self.azure.principals():     # Entra applications and managed identities
            self.sps.setdefault(cid, {"client_secret": secrets.token_hex(32), "workspace_access": True,
                                      "password_role": False, "token_bytes": 0})
        self.write_live_file()

    # -- settings ------------------------------------------------------------------------
    def update_settings(self, changes):
        if not isinstance(changes, dict):
            raise ValueError("config changes must be a JSON object")
        new = dict(self.settings)
        for key, value in changes.items():
            if key in ("credential_lifetime", "token_lifetime"):
                if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 7 * 86400:
                    raise ValueError(f"{key} must be an integer number of seconds (1..604800)")
            elif key == "fractional_seconds":
                # Digits of expire_time's fraction, as protobuf's JSON writes them: 0, 3, 6
                # or 9 (true: 6, false: 0, for older callers).
                if isinstance(value, bool):
                    value = 6 if value else 0
                if not isinstance(value, int) or value not in (0, 3, 6, 9):
                    raise ValueError("fractional_seconds must be 0, 3, 6 or 9 (or true = 6, false = 0)")
            elif key == "error_details":
                if not isinstance(value, bool):
                    raise ValueError("error_details must be true or false")
            elif key == "retry_after":
                if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 3600:
                    raise ValueError("retry_after must be an integer number of seconds (0..3600; 0: none)")
            elif key == "endpoints":
                value = [self._check_endpoint(e) for e in value]
            elif key == "instances":
                value = [self._check_instance(i) for i in value]
            elif key == "max_page_size":
                value = self._check_max_page_size(value)
            elif key == "token_suffix":
                # Appended to every credential, so tests can issue passwords holding the
                # characters a connection string treats specially ("}", ";", "=", ...).
                if not isinstance(value, str) or len(value) > 32 or any(ord(c) < 0x20 or ord(c) > 0x7e for c in value):
                    raise ValueError("token_suffix must be at most 32 printable ASCII characters")
            else:
                raise ValueError(f"unknown setting '{key}' (settable: {', '.join(self.SETTABLE)})")
            new[key] = value
        self.settings = new

    @staticmethod
    def _check_endpoint(e):
        if not isinstance(e, dict) or not isinstance(e.get("name"), str) or not ENDPOINT_RE.match(e["name"]):
            raise ValueError("each endpoint needs a name projects/<p>/branches/<b>/endpoints/<e>")
        out = {"name": e["name"], "host": str(e.get("host", "localhost")),
               "port": int(e.get("port", 5432)), "state": str(e.get("state", "ACTIVE")),
               "endpoint_type": str(e.get("endpoint_type", "ENDPOINT_TYPE_READ_WRITE"))}
        if e.get("read_only_host"):
            out["read_only_host"] = str(e["read_only_host"])
        out.update(State._check_endpoint_discovery(e))
        return out

    # -- host discovery: pooled hosts, disabled endpoints, paging ------------------------
    DISCOVERY_FIELDS = ("read_write_pooled_host", "read_only_pooled_host")

    @staticmethod
    def _check_endpoint_discovery(e):
        """The optional endpoint fields for host discovery: the pooled (PgBouncer) host names
        and "disabled" (status.disabled: a connection cannot wake it)."""
        out = {f: str(e[f]) for f in State.DISCOVERY_FIELDS if e.get(f)}
        if "disabled" in e:
            if not isinstance(e["disabled"], bool):
                raise ValueError("endpoint 'disabled' must be true or false")
            out["disabled"] = e["disabled"]
        return out

    @staticmethod
    def _check_max_page_size(value):
        """The most endpoints one list page holds (the real API: at most 100), however many the
        client asks for: a small value makes clients follow next_page_token."""
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100:
            raise ValueError("max_page_size must be an integer in 1..100")
        return value

    def endpoint(self, name):
        return next((e for e in self.settings["endpoints"] if e["name"] == name), None)

    def set_endpoint_state(self, name, value):
        """Set status.current_state of one endpoint (copy on write: readers may hold the old)."""
        with self.lock:
            self.settings = dict(self.settings, endpoints=[
                dict(e, state=value) if e["name"] == name else e for e in self.settings["endpoints"]])

    # -- Lakebase Provisioned instances ------------------------------------------------------
    @staticmethod
    def _check_instance(i):
        if not isinstance(i, dict) or not isinstance(i.get("name"), str) or \
                not re.match(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$", i["name"]):
            raise ValueError("each instance needs a name of 1..63 letters, digits, '-' or '_'")
        state = i.get("state", "AVAILABLE")
        if state not in INSTANCE_STATES:
            raise ValueError(f"instance state must be one of {', '.join(INSTANCE_STATES)}")
        out = {"name": i["name"], "read_write_dns": str(i.get("read_write_dns", "localhost")), "state": state}
        if i.get("read_only_dns"):
            out["read_only_dns"] = str(i["read_only_dns"])
        return out

    def instance(self, name):
        return next((i for i in self.settings["instances"] if i["name"] == name), None)

    def set_instance_state(self, name, value):
        """Set the state of one instance (copy on write); False when there is no such instance."""
        with self.lock:
            if not any(i["name"] == name for i in self.settings["instances"]):
                return False
            self.settings = dict(self.settings, instances=[
                dict(i, state=value) if i["name"] == name else i for i in self.settings["instances"]])
            return True

    # -- stats and faults ----------------------------------------------------------------
    def count(self, method, path):
        with self.lock:
            key = f"{method} {path}"
            self.stats[key] = self.stats.get(key, 0) + 1

    def count_handshake(self):
        """One more TLS connection whose first request was an API call (see Handler)."""
        with self.lock:
            self.stats["tls_handshakes"] = self.stats.get("tls_handshakes", 0) + 1

    def take_fault(self, method, path):
        """The first pending fault for this request, used up by one."""
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    if fault.count > 0:
                        fault.count -= 1
                        if fault.count == 0:
                            self.faults.remove(fault)
                    return fault
        return None

    # -- OAuth access tokens -------------------------------------------------------------
    def issue_access_token(self, client_id):
        token = secrets.token_urlsafe(48)
        with self.lock:
            lifetime = self.settings["token_lifetime"]
            self.access_tokens[token] = (client_id, time.time() + lifetime)
            self._record(token)
        return token, lifetime

    def bearer_client(self, token):
        with self.lock:
            entry = self.access_tokens.get(token)
            if entry and entry[1] > time.time():
                return entry[0]
        return None

    # -- database credentials and the live file -----------------------------------------
    def issue_credential(self, client_id, issuer, lifetime=None):
        with self.lock:
            now = time.time()
            exp_precise = now + (lifetime or self.settings["credential_lifetime"])
            exp = int(exp_precise)
            fractional = self.settings["fractional_seconds"]
            sp = self.sps.get(client_id, {})
            if sp.get("password_role"):
                token = self._make_jwt(client_id, issuer, int(now), exp, sp["token_bytes"])
                self._set_role_password(client_id, token, exp)
                self._record(token)
                return token, rfc3339(exp_precise if fractional else exp, fractional)
            token = self._make_jwt(client_id, issuer, int(now), exp) + self.settings["token_suffix"]
            self.live.append([client_id, hashlib.sha256(token.encode()).hexdigest(), exp, client_id])
            self._prune(now)
            self.write_live_file()
            self._record(token)
        return token, rfc3339(exp_precise if fractional else exp, fractional)

    def _record(self, token):
        """Append an issued secret to the --record-issued file (caller holds the lock)."""
        if self.record_fd is not None:
            os.write(self.record_fd, token.encode() + b"\n")   # O_APPEND: one write, one line

    def _set_role_password(self, role, token, exp):
        """ALTER ROLE ... PASSWORD ... VALID UNTIL, through psql's stdin (never argv)."""
        if not self.admin_psql:
            raise RuntimeError("a password_role service principal needs admin_psql in the config")
        until = time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(exp))
        sql = (f"\\set role '{role}'\n\\set pw '{token}'\n\\set until '{until}'\n"
               "ALTER ROLE :\"role\" PASSWORD :'pw' VALID UNTIL :'until';\n")
        subprocess.run(self.admin_psql, input=sql.encode(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=True, timeout=30, cwd="/")

    def _make_jwt(self, sub, issuer, iat, exp, pad_to=0):
        if pad_to:
            # A long credential, as real JWTs often are: the signature part padded with
            # base64url characters up to pad_to bytes.
            token = self._make_jwt(sub, issuer, iat, exp)
            alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
            return token + "".join(secrets.choice(alphabet) for _ in range(max(0, pad_to - len(token))))
        header = b64url(b'{"alg":"HS256","typ":"JWT"}')
        claims = {"iss": issuer, "sub": sub, "iat": iat, "exp": exp, "jti": secrets.token_hex(12)}
        while True:
            payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
            signing_input = f"{header}.{payload}"
            sig = b64url(hmac.new(self.jwt_key, signing_input.encode(), hashlib.sha256).digest())
            token = f"{signing_input}.{sig}"
            if len(token) < MAX_TOKEN_BYTES or "iss" not in claims:
                break
            del claims["iss"]          # long issuer or role name: drop the optional claim
        if len(token) >= MAX_TOKEN_BYTES:
            raise RuntimeError("credential would exceed the pam_exec size limit")
        return token

    def revoke(self, client_id=None):
        with self.lock:
            before = len(self.live)
            self.live = [c for c in self.live if client_id is not None and c[3] != client_id]
            self.write_live_file()
            return before - len(self.live)

    def _prune(self, now):
        self.live = [c for c in self.live if c[2] > now]
        self.access_tokens = {t: e for t, e in self.access_tokens.items() if e[1] > now}

    def prune_expired(self):
        """Called periodically: drop expired entries and rewrite the file if any went."""
        with self.lock:
            now = time.time()
            if any(c[2] <= now for c in self.live):
                self._prune(now)
                self.write_live_file()

    def write_live_file(self):
        """Atomic rewrite (temp + rename), mode 0644. Caller holds the lock (or is __init__)."""
        data = "".join(f"{role} {digest} {exp}\n" for role, digest, exp, _ in self.live)
        tmp = f"{self.live_file}.tmp.{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.fchmod(fd, 0o644)
            os.write(fd, data.encode())
        finally:
            os.close(fd)
        os.replace(tmp, self.live_file)
