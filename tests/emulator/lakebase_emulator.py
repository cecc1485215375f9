#!/usr/bin/env python3
"""Databricks workspace emulator for the lakebase-odbc tests (Python 3.11, stdlib only).
Owns: the OAuth M2M token endpoint, the Lakebase `postgres` credential and endpoint APIs,
the Lakebase Provisioned `database` credential and instance APIs,
the live-credentials file that the local PostgreSQL's PAM check reads, scale-to-zero of the
local PostgreSQL (suspend / wake on first use), and a control API (/_emulator/...) for stats,
fault injection and run-time settings.

Usage:
    python3 lakebase_emulator.py --config CONFIG.json --port N --cert CERT.pem --key KEY.pem
                                 --live-file FILE [--pidfile FILE] [--log FILE]
                                 [--record-issued FILE]
                                 [--wrong-host-port N --wrong-host-cert PEM --wrong-host-key KEY]

  --config     JSON: {"service_principals": [{"client_id", "client_secret", "workspace_access"}],
               "endpoints": [{"name", "host", "port", "state"}], "credential_lifetime": s,
               "token_lifetime": s}  (optional per endpoint: "endpoint_type", "read_only_host",
               "read_write_pooled_host", "read_only_pooled_host", "disabled"; top level "max_page_size";
               optional top level: "instances": [{"name", "read_write_dns", "read_only_dns",
               "state"}] for Lakebase Provisioned;
               optional top level: "fractional_seconds": 0, 3, 6 or 9 (digits of expire_time's
               fraction; true = 6, false = 0; default 9), "error_details": bool (default true),
               "retry_after": s (default 1; 0: none), and "compute": {"port": N,
               "start": [argv], "stop": [argv], "ready": [argv], "endpoint": name (default the
               first), "log": file for the commands' output, "hosts": [addresses to hold while
               suspended, default 127.0.0.1 and ::1], "ready_timeout": s}, and "unified_host":
               {"workspace_ids": ["<digits>", ...], "account_id": "<id>"}: see Unified below;
               "users": [{"userName": "<e-mail>", "id": "<digits>", "pats": ["<token>", ...]}]:
               people, who authenticate with a personal access token or a CLI login (see Users);
               "federation": {"issuer", "audience", "key": "<hex HS256 key>", "policies":
               [{"client_id", "subject"}]}: workload identity federation (see Federation))
  --port       HTTPS port; the emulator listens on 127.0.0.1 and, when available, ::1
  --cert/--key PEM server certificate (chain) and key
  --live-file  rewritten atomically on every change: "<role> <sha256 hex of token> <expiry>"
               per live database credential (never the token itself)
  --pidfile    written once the sockets are bound, removed on exit
  --log        append request log lines here instead of stderr (method, path, status only)
  --record-issued  append every database credential and OAuth access token issued, one per
               line (file mode 0600), so that a test can look for leaks of each of them
  --wrong-host-port/--wrong-host-cert/--wrong-host-key
               a second HTTPS listener (same routes and state) with a certificate for another
               host name, for hostname-verification tests

See README.md beside this file for the routes, the control API and the suspend design.
"""

import argparse
import base64
import errno
import hashlib
import hmac
import http.server
import ipaddress
import itertools
import json
import os
import re
import secrets
import selectors
import signal
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse
import uuid

ENDPOINT_RE = re.compile(r"^projects/([^/]+)/branches/([^/]+)/endpoints/([^/]+)$")
ENDPOINT_PATH_RE = re.compile(r"^/api/2\.0/postgres/(projects/[^/]+/branches/[^/]+/endpoints/[^/]+)$")
ENDPOINT_LIST_RE = re.compile(r"^/api/2\.0/postgres/(projects/[^/]+/branches/[^/]+)/endpoints$")
# Lakebase Provisioned (the `database` service): instances by name.
INSTANCE_PATH_RE = re.compile(r"^/api/2\.0/database/instances/([^/]+)$")
INSTANCE_LIST_RE = re.compile(r"^/api/2\.0/database/instances$")
INSTANCE_STATES = ("AVAILABLE", "STARTING", "STOPPED", "UPDATING", "FAILING_OVER", "DELETING")
UUID4_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
MAX_BODY = 1 << 20          # largest request body accepted
MAX_TOKEN_BYTES = 400       # pam_exec passes at most 512 bytes of password; stay well under
HANDSHAKE_TIMEOUT = 10      # seconds for the TLS handshake of a new connection
IDLE_TIMEOUT = 60           # seconds a keep-alive connection may sit idle

_log_lock = threading.Lock()
_log_file = sys.stderr


def log(msg):
    """One line per event. Callers pass only method, path, status and the like: no secrets."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with _log_lock:
        _log_file.write(f"{stamp} {msg}\n")
        _log_file.flush()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def rfc3339(ts, digits=0):
    """RFC 3339 UTC with `digits` (0, 3, 6 or 9) fraction digits, as protobuf's JSON writes a
    Timestamp (True means 6, for older callers)."""
    digits = 6 if digits is True else int(digits or 0)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(ts)))
    if digits:
        scale = 10 ** digits
        return f"{base}.{min(int((ts % 1) * scale), scale - 1):0{digits}d}Z"
    return base + "Z"


class ApiError(Exception):
    """An error answer: HTTP status, JSON body and optional extra headers."""

    def __init__(self, status, body, headers=None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def rest_error(status, code, message):
    return ApiError(status, {"error_code": code, "message": message})


# --------------------------------------------------------------------------------------------
# Wire-format realism (issue 9): google.rpc details in REST errors, Retry-After when throttling
# --------------------------------------------------------------------------------------------

ERROR_DOMAIN = "databricks.com"


def with_error_details(body, request_id):
    """A REST error body (one with error_code) as the real service sends it: with a `details`
    array holding a google.rpc.ErrorInfo (reason = the code) and a google.rpc.RequestInfo
    (request_id = the answer's x-request-id). Other bodies, and bodies that already have
    details, are returned unchanged."""
    if not isinstance(body, dict) or "error_code" not in body or "details" in body:
        return body
    return dict(body, details=[
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": str(body["error_code"]),
         "domain": ERROR_DOMAIN, "metadata": {}},
        {"@type": "type.googleapis.com/google.rpc.RequestInfo", "request_id": request_id, "serving_data": ""}])


def throttle_headers(status, headers, retry_after):
    """A 429 or 503 carries Retry-After (retry_after seconds; 0: none) unless the headers
    already have one."""
    headers = dict(headers or {})
    if status in (429, 503) and retry_after and not any(k.lower() == "retry-after" for k in headers):
        headers["Retry-After"] = str(retry_after)
    return headers


def oauth_error(status, code, description, headers=None):
    return ApiError(status, {"error": code, "error_description": description}, headers)


# --------------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------------

class Fault:
    """One injected fault for the next `count` requests to METHOD path (count < 0: until cleared).

    Kinds (combinable, applied in this order): latency_ms delays; reset closes the TCP
    connection without answering; raw sends its text as the whole answer (no status line,
    no headers) and closes; status and/or body replace the normal answer (body alone
    means 200 with that raw body); then body_repeat, truncate_at and trickle_bytes_per_s shape
    whichever answer is sent (the replacement or the normal one). To add a kind: a field here
    plus a branch in Handler._apply_fault (or in Handler.send for a way of sending).
    """

    FIELDS = ("method", "path", "count", "status", "headers", "body", "body_hex", "latency_ms", "reset",
              "trickle_bytes_per_s", "body_repeat", "truncate_at", "raw")
    MAX_REPEAT = 100_000_000

    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise ValueError("a fault is a JSON object")
        unknown = set(spec) - set(self.FIELDS)
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        self.method = str(spec.get("method", "*")).upper()
        self.path = spec.get("path")
        if not isinstance(self.path, str) or not self.path.startswith("/"):
            raise ValueError("fault 'path' must be an absolute path (a trailing * matches a prefix)")
        self.count = int(spec.get("count", 1))
        self.status = spec.get("status")
        if self.status is not None and not (isinstance(self.status, int) and 100 <= self.status <= 599):
            raise ValueError("fault 'status' must be an integer HTTP status")
        self.headers = spec.get("headers") or {}
        if not isinstance(self.headers, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in self.headers.items()):
            raise ValueError("fault 'headers' must map strings to strings")
        self.body = spec.get("body")
        if self.body is not None and not isinstance(self.body, str):
            raise ValueError("fault 'body' must be a string (sent as is)")
        # The same, as hex: for bodies that are not UTF-8 (a server sending raw bytes).
        body_hex = self.body_hex = spec.get("body_hex")
        if body_hex is not None:
            if self.body is not None:
                raise ValueError("fault 'body' and 'body_hex' exclude each other")
            try:
                self.body = bytes.fromhex(body_hex)
            except (TypeError, ValueError):
                raise ValueError("fault 'body_hex' must be a string of hex digits") from None
        self.latency_ms = float(spec.get("latency_ms", 0))
        if self.latency_ms < 0:
            raise ValueError("fault 'latency_ms' must be >= 0")
        self.reset = bool(spec.get("reset", False))
        self.raw = spec.get("raw")
        if self.raw is not None and not isinstance(self.raw, str):
            raise ValueError("fault 'raw' must be a string (the whole answer, sent as is)")
        self.trickle_bytes_per_s = self._int(spec, "trickle_bytes_per_s", 1, 1 << 30)
        self.body_repeat = self._int(spec, "body_repeat", 1, self.MAX_REPEAT)
        self.truncate_at = self._int(spec, "truncate_at", 0, 1 << 40)

    @staticmethod
    def _int(spec, name, low, high):
        value = spec.get(name)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ValueError(f"fault '{name}' must be an integer in {low}..{high}")
        return value

    @property
    def shapes(self):
        """True when the fault changes how an answer is sent (not only which answer)."""
        return any(v is not None for v in (self.trickle_bytes_per_s, self.body_repeat, self.truncate_at))

    def matches(self, method, path):
        if self.method not in ("*", method):
            return False
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path

    def view(self):
        view = {f: getattr(self, f) for f in self.FIELDS}
        if self.body_hex is not None:
            view["body"] = None   # raw bytes: shown as body_hex
        return view


# --------------------------------------------------------------------------------------------
# Unified host: one URL serving several workspaces
# --------------------------------------------------------------------------------------------

class Unified:
    """Unified-host mode (off unless configured). Such a URL serves several workspaces and
    learns which one a request is for from the X-Databricks-Workspace-Id header (the
    workspace id that browsers carry as ?o=<id>). In this mode the emulator serves
    GET /.well-known/databricks-config (oidc_endpoint on the account's /oidc/accounts/<id>),
    the account's OIDC discovery and token routes, and answers every /api/ request without a
    header naming one of its workspaces with the HTML login page (200, text/html), as the
    real service does. Counts what it saw, for the tests. Guarded by State.lock."""

    HEADER = "X-Databricks-Workspace-Id"
    LOGIN_PAGE = ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                  "<title>Databricks - Sign in</title></head>\n<body><div id=\"login-page\">"
                  "Sign in to Databricks</div><script src=\"/login/login.js\"></script></body></html>\n")

    def __init__(self, spec=None):
        self.set(spec)

    def set(self, spec):
        """spec: None or {} (off), or {"workspace_ids": [digits...], "account_id": str}."""
        if spec is None or spec == {}:
            self.workspace_ids, self.account_id = [], None
        else:
            if not isinstance(spec, dict) or set(spec) - {"workspace_ids", "account_id"}:
                raise ValueError("unified_host is {\"workspace_ids\": [\"<digits>\", ...], \"account_id\": \"<id>\"}")
            ids = spec.get("workspace_ids")
            if not isinstance(ids, list) or not ids or not all(
                    isinstance(i, str) and i.isdigit() and i.isascii() for i in ids):
                raise ValueError("unified_host.workspace_ids must be a non-empty list of digit strings")
            account = spec.get("account_id", "7a99b43c-b46c-432b-b0a7-814217701909")
            if not isinstance(account, str) or not re.fullmatch(r"[A-Za-z0-9-]{1,64}", account):
                raise ValueError("unified_host.account_id must be letters, digits and '-'")
            self.workspace_ids, self.account_id = list(ids), account
        self.reset_counts()

    def reset_counts(self):
        # per workspace id: /api/ requests that named it; without: /api/ requests with no
        # header; unknown: /api/ requests naming another id; elsewhere: requests outside /api/
        # that carried the header anyway (the driver should not send it there)
        self.counts = {"with": {}, "without": 0, "unknown": 0, "elsewhere": 0}

    @property
    def on(self):
        return bool(self.workspace_ids)

    def report(self):
        return {"enabled": self.on, "workspace_ids": self.workspace_ids, "account_id": self.account_id,
                "header": self.HEADER, "counts": {k: (dict(v) if isinstance(v, dict) else v)
                                                  for k, v in self.counts.items()}}

    def admit(self, path, header):
        """Count the request; False when it must get the login page instead of the API."""
        header = (header or "").strip()
        if not path.startswith("/api/"):
            if header:
                self.counts["elsewhere"] += 1
            return True
        if header and (header in self.workspace_ids or not self.on):
            self.counts["with"][header] = self.counts["with"].get(header, 0) + 1
            return True
        if not self.on:
            return True
        self.counts["unknown" if header else "without"] += 1
        return False


# --------------------------------------------------------------------------------------------
# Shared state
# --------------------------------------------------------------------------------------------

class Users:
    """People of the workspace: a user name (an e-mail, also their PostgreSQL role), a SCIM id
    and their personal access tokens. A CLI login (U2M) is stood in for by the control route
    /_emulator/u2m-token, which the stand-in `databricks` executable calls: it issues an
    OAuth access token for the person, as `databricks auth login` would have."""

    def __init__(self, spec):
        self.people = {}
        self.pats = {}
        for u in spec or []:
            name = u["userName"]
            self.people[name] = {"userName": name, "id": str(u.get("id") or int(hashlib.sha256(name.encode()).hexdigest()[:13], 16))}
            for pat in u.get("pats", []):
                self.pats[pat] = name

    def get(self, name):
        return self.people.get(name)

    def by_pat(self, token):
        for pat, name in self.pats.items():
            if hmac.compare_digest(pat.encode(), token.encode()):
                return name
        return None

    def me(self, name):
        """SCIM Me as the real API shapes it (for a service principal: its application id)."""
        person = self.people.get(name)
        if person is None:
            return {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": str(int(hashlib.sha256(name.encode()).hexdigest()[:13], 16)),
                    "userName": name, "displayName": name, "active": True,
                    "groups": [], "entitlements": [{"value": "workspace-access"}]}
        return {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": person["id"],
                "userName": name, "displayName": name.split("@")[0], "active": True,
                "name": {"givenName": name.split("@")[0]},
                "emails": [{"value": name, "type": "work", "primary": True}],
                "groups": [{"display": "users", "type": "direct", "value": "1"}]}


class Federation:
    """Workload identity federation: the token-exchange grant at the workspace token endpoint.
    The test identity provider signs its JWTs with HS256 and a shared key (a stand-in for the
    provider's published RS256 keys); a policy maps the JWT's subject to a service principal.
    The error answers (400 invalid_request / invalid_grant) follow RFC 6749 and RFC 8693; the
    real service's wording is not verified."""

    GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
    JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt"

    def __init__(self, spec):
        spec = spec or {}
        self.issuer = spec.get("issuer")
        self.audience = spec.get("audience")
        self.key = bytes.fromhex(spec["key"]) if spec.get("key") else None
        self.policies = spec.get("policies", [])

    def verify(self, jwt):
        """The JWT's claims, or raise ApiError (invalid_grant) saying what is wrong."""
        def bad(why):
            return oauth_error(400, "invalid_grant", why)
        if self.key is None:
            raise bad("Workload identity federation is not configured for this workspace")
        parts = jwt.split(".")
        if len(parts) != 3:
            raise bad("subject_token is not a JWT")
        try:
            header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
            claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
            signature = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
        except (ValueError, UnicodeDecodeError):
            raise bad("subject_token is not a JWT")
        expected = hmac.new(self.key, (parts[0] + "." + parts[1]).encode(), hashlib.sha256).digest()
        if header.get("alg") != "HS256" or not hmac.compare_digest(signature, expected):
            raise bad("subject_token signature verification failed")
        if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] <= time.time():
            raise bad("subject_token is expired")
        if claims.get("iss") != self.issuer:
            raise bad(f"subject_token issuer '{claims.get('iss')}' matches no federation policy")
        if self.audience and claims.get("aud") != self.audience:
            raise bad("subject_token audience matches no federation policy")
        return claims

    def principal(self, claims, client_id):
        """The service principal a policy grants the JWT's subject (client_id: the one asked for,
        None for account-wide federation)."""
        for policy in self.policies:
            if policy.get("subject") == claims.get("sub") and client_id in (None, policy.get("client_id")):
                return policy["client_id"]
        raise oauth_error(400, "invalid_grant", "subject_token matches no federation policy of the service principal")


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


# --------------------------------------------------------------------------------------------
# Scale to zero: the compute behind one endpoint
# --------------------------------------------------------------------------------------------

class PortHolder:
    """Listens on PostgreSQL's port while the compute is suspended. The first connection is
    closed at once (EOF before any PostgreSQL message), the port is released, and on_connect
    is called (from the holder's own thread) to start the wake."""

    def __init__(self, hosts, port, on_connect):
        self.hosts, self.port, self.on_connect = hosts, port, on_connect
        self.socks = []
        self.thread = None
        self._wake_r, self._wake_w = socket.socketpair()

    def open(self):
        """Bind every host (raises OSError if 127.0.0.1 or a bindable ::1 is still taken)."""
        try:
            for host in self.hosts:
                family = socket.AF_INET6 if ":" in host else socket.AF_INET
                try:
                    sock = socket.socket(family, socket.SOCK_STREAM)
                except OSError:
                    if family == socket.AF_INET6:
                        continue                     # no IPv6 at all
                    raise
                self.socks.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                try:
                    sock.bind((host, self.port))
                except OSError as e:
                    if family == socket.AF_INET6 and e.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
                        self.socks.remove(sock)
                        sock.close()
                        continue
                    raise
                sock.listen(16)
        except OSError:
            self._close_sockets()
            raise

    def start(self):
        """Start accepting (connections that arrived since open() wait in the backlog)."""
        self.thread = threading.Thread(target=self._run, name=f"hold-{self.port}", daemon=True)
        self.thread.start()

    def _run(self):
        sel = selectors.DefaultSelector()
        for sock in self.socks:
            sel.register(sock, selectors.EVENT_READ)
        sel.register(self._wake_r, selectors.EVENT_READ)
        peer = None
        try:
            while peer is None:
                events = sel.select()
                if any(key.fileobj is self._wake_r for key, _ in events):
                    return                            # released by close()
                for key, _ in events:
                    try:
                        conn, addr = key.fileobj.accept()
                    except OSError:
                        continue
                    self._refuse(conn)
                    peer = addr[0]
                    break
        finally:
            sel.close()
            self._close_sockets()                     # the port is free from here on
        self.on_connect(peer)

    @staticmethod
    def _refuse(conn):
        """Close without a byte of answer. The client's first message (SSLRequest, ...) is read
        first, so the close is a clean FIN (EOF) rather than a RST for unread data."""
        try:
            conn.settimeout(0.1)
            conn.recv(65536)
        except OSError:
            pass
        finally:
            conn.close()

    def _close_sockets(self):
        for sock in self.socks:
            try:
                sock.close()
            except OSError:
                pass
        self.socks = []

    def close(self):
        """Release the port (returns once the sockets are closed)."""
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(5)
        if self.thread is None:
            self._close_sockets()
        for s in (self._wake_r, self._wake_w):
            s.close()


class Compute:
    """Suspend / wake of the PostgreSQL behind one endpoint, with the commands from the config.

    ACTIVE: PostgreSQL runs. suspend(): run `stop`, hold the port (PortHolder), state IDLE.
    trigger() (a connection on the held port, a credential request, resume): release the port,
    wait wake_delay_ms (nothing listens: connection refused), run `start`, poll `ready`, state
    ACTIVE. Commands run in the caller's handler thread (suspend) or in a wake thread, never
    in the accepting threads of the HTTP servers."""

    def __init__(self, spec, state):
        if not isinstance(spec, dict):
            raise ValueError("'compute' must be a JSON object")
        self.state = state
        endpoints = state.settings["endpoints"]
        self.endpoint = spec.get("endpoint") or (endpoints[0]["name"] if endpoints else None)
        if self.endpoint is None or state.endpoint(self.endpoint) is None:
            raise ValueError("'compute.endpoint' must name a configured endpoint")
        self.port = int(spec.get("port") or state.endpoint(self.endpoint)["port"])
        self.cmds = {}
        for key in ("start", "stop", "ready"):
            argv = spec.get(key)
            if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
                raise ValueError(f"'compute.{key}' must be a non-empty argv list of strings")
            self.cmds[key] = argv
        self.hosts = spec.get("hosts") or ["127.0.0.1", "::1"]
        self.log_path = spec.get("log")
        self.ready_timeout = float(spec.get("ready_timeout", 30))
        self.cond = threading.Condition()      # guards everything below
        self.current = "ACTIVE"                # ACTIVE or IDLE (IDLE until PostgreSQL is ready again)
        self.busy = False                      # a suspend is running its stop command
        self.waking = False
        self.wakes = 0
        self.wake_delay_ms = 0
        self.last_error = None
        self.holder = None
        self.wake_thread = None
        self.hurry = threading.Event()         # cut the wake delay short (resume, shutdown)
        self.closing = False

    def report(self):
        with self.cond:
            return {"configured": True, "endpoint": self.endpoint, "port": self.port,
                    "state": self.current, "wakes": self.wakes, "waking": self.waking,
                    "holding_port": self.holder is not None, "wake_delay_ms": self.wake_delay_ms,
                    "last_error": self.last_error}

    def _run(self, what, timeout):
        """Run one configured command; (ok, description)."""
        out = subprocess.DEVNULL
        try:
            if self.log_path and what != "ready":
                out = open(self.log_path, "ab")      # PostgreSQL keeps logging here (pg_ctl's stdout)
            proc = subprocess.run(self.cmds[what], stdin=subprocess.DEVNULL, stdout=out,
                                  stderr=subprocess.STDOUT, cwd="/", start_new_session=True,
                                  timeout=timeout)
            return proc.returncode == 0, f"{what} command exited with {proc.returncode}"
        except (OSError, subprocess.SubprocessError) as e:
            return False, f"{what} command failed: {type(e).__name__}: {e}"
        finally:
            if out is not subprocess.DEVNULL:
                out.close()

    def suspend(self, wake_delay_ms):
        with self.cond:
            if self.closing:
                raise rest_error(409, "INVALID_STATE", "the emulator is stopping")
            if self.waking or self.busy:
                raise rest_error(409, "INVALID_STATE", "the compute is waking or suspending; try again")
            self.wake_delay_ms = wake_delay_ms
            if self.current == "IDLE" and self.holder is not None:
                return                                 # already suspended: new delay only
            self.busy = True
        holder = None
        try:
            ok, why = self._run("stop", 60)
            if not ok:
                log(f"compute {self.endpoint}: {why} (holding the port anyway if it is free)")
            holder = PortHolder(self.hosts, self.port, self._on_connect)
            try:
                holder.open()
            except OSError as e:
                self.last_error = f"cannot hold port {self.port}: {e.strerror}"
                raise rest_error(409, "INVALID_STATE",
                                 f"port {self.port} is still taken ({why}); not suspended")
            self.state.set_endpoint_state(self.endpoint, "IDLE")
            with self.cond:
                self.current = "IDLE"
                self.last_error = None if ok else why
                self.holder, holder = holder, None
                self.busy = False
                self.holder.start()                    # from here a connection starts the wake
            log(f"compute {self.endpoint}: suspended (IDLE), holding port {self.port}, "
                f"wake delay {wake_delay_ms} ms")
        finally:
            if holder is not None:
                holder.close()
            with self.cond:
                self.busy = False
                self.cond.notify_all()

    def _on_connect(self, peer):
        log(f"compute {self.endpoint}: connection from {peer} while suspended: closed it, waking")
        self.trigger("connection")

    def trigger(self, reason, delay_ms=None):
        """Start a wake if suspended and not already waking; never waits for it."""
        with self.cond:
            if self.current != "IDLE" or self.waking or self.busy or self.closing:
                return False
            self.waking = True
            self.wakes += 1
            self.hurry.clear()
            delay = self.wake_delay_ms if delay_ms is None else delay_ms
            self.wake_thread = threading.Thread(target=self._wake, args=(reason, delay),
                                                name="wake", daemon=True)
            self.wake_thread.start()
            return True

    def _wake(self, reason, delay):
        with self.cond:
            holder, self.holder = self.holder, None
        if holder is not None:
            holder.close()                             # port free: connections are refused now
        log(f"compute {self.endpoint}: wake #{self.wakes} ({reason}), starting PostgreSQL in {delay} ms")
        self.hurry.wait(delay / 1000.0)
        ok, why = False, "the emulator is stopping"
        if not self.closing:
            ok, why = self._run("start", 60)
            deadline = time.monotonic() + self.ready_timeout
            while ok and not self.closing:
                ready, _ = self._run("ready", 10)
                if ready:
                    break
                if time.monotonic() > deadline:
                    ok, why = False, f"PostgreSQL not ready after {self.ready_timeout:g} s"
                    break
                time.sleep(0.1)
        with self.cond:
            self.waking = False
            if ok:                                     # PostgreSQL runs (even if we are stopping)
                self.current = "ACTIVE"
                self.last_error = None
            else:
                self.last_error = why
            self.cond.notify_all()
        if ok:
            self.state.set_endpoint_state(self.endpoint, "ACTIVE")
            log(f"compute {self.endpoint}: ACTIVE again")
        else:
            log(f"compute {self.endpoint}: wake failed: {why}")

    def resume(self, timeout=90):
        """Wake now (no delay) and wait until PostgreSQL is ready."""
        with self.cond:
            if not self.cond.wait_for(lambda: not self.busy, timeout):
                raise rest_error(504, "DEADLINE_EXCEEDED", "a suspend is still running")
            if self.current == "ACTIVE" and not self.waking:
                return
            if not self.trigger("resume", 0):
                log(f"compute {self.endpoint}: resume: wake delay cut short")
            self.hurry.set()
            if not self.cond.wait_for(lambda: not self.waking, timeout):
                raise rest_error(504, "DEADLINE_EXCEEDED", "the compute did not wake in time")
            if self.current != "ACTIVE":
                raise rest_error(500, "INTERNAL_ERROR", f"wake failed: {self.last_error}")

    def shutdown(self):
        """On exit: cancel a pending wake, release the port, let a running start finish."""
        with self.cond:
            self.closing = True
            self.hurry.set()
            holder, self.holder = self.holder, None
            thread = self.wake_thread
        if holder is not None:
            holder.close()
        if thread is not None:
            thread.join(30)


# --------------------------------------------------------------------------------------------
# HTTP handling
# --------------------------------------------------------------------------------------------

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"      # keep-alive, as the real service
    server_version = "lakebase-emulator"
    timeout = IDLE_TIMEOUT

    # Route table: (method, regex on the path, handler method name). API routes only.
    ROUTES = [
        ("GET", re.compile(r"^/oidc/\.well-known/oauth-authorization-server$"), "api_discovery"),
        ("POST", re.compile(r"^/oidc/v1/token$"), "api_token"),
        ("POST", re.compile(r"^/api/2\.0/postgres/credentials$"), "api_credentials"),
        ("GET", ENDPOINT_PATH_RE, "api_get_endpoint"),
        ("GET", ENDPOINT_LIST_RE, "api_list_endpoints"),
        # unified-host mode (class Unified); 404 otherwise
        ("GET", re.compile(r"^/\.well-known/databricks-config$"), "api_databricks_config"),
        ("GET", re.compile(r"^/oidc/accounts/([^/]+)/\.well-known/oauth-authorization-server$"),
         "api_account_discovery"),
        ("POST", re.compile(r"^/oidc/accounts/([^/]+)/v1/token$"), "api_account_token"),
        # Lakebase Provisioned (the `database` service)
        ("POST", re.compile(r"^/api/2\.0/database/credentials$"), "api_database_credentials"),
        ("GET", INSTANCE_PATH_RE, "api_get_instance"),
        ("GET", INSTANCE_LIST_RE, "api_list_instances"),
        # people (class Users): SCIM Me
        ("GET", re.compile(r"^/api/2\.0/preview/scim/v2/Me$"), "api_scim_me"),
    ]
    CONTROL = {
        ("GET", "/_emulator/stats"): "ctl_stats",
        ("POST", "/_emulator/stats/reset"): "ctl_stats_reset",
        ("GET", "/_emulator/faults"): "ctl_faults_list",
        ("POST", "/_emulator/faults"): "ctl_faults_add",
        ("DELETE", "/_emulator/faults"): "ctl_faults_clear",
        ("GET", "/_emulator/config"): "ctl_config_get",
        ("POST", "/_emulator/config"): "ctl_config_set",
        ("POST", "/_emulator/revoke"): "ctl_revoke",
        ("GET", "/_emulator/compute"): "ctl_compute",
        ("POST", "/_emulator/suspend"): "ctl_suspend",
        ("POST", "/_emulator/resume"): "ctl_resume",
        ("GET", "/_emulator/unified"): "ctl_unified_get",
        ("POST", "/_emulator/unified"): "ctl_unified_set",
        ("POST", "/_emulator/instance-state"): "ctl_instance_state",
        ("GET", "/_emulator/database/credential-requests"): "ctl_database_requests",
        ("POST", "/_emulator/u2m-token"): "ctl_u2m_token",
    }

    def version_string(self):
        return self.server_version

    @property
    def state(self):
        return self.server.state

    # Every method goes through dispatch().
    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    # -- logging: method, path (no query), status; never headers or bodies ---------------
    def log_request(self, code="-", size="-"):
        method = getattr(self, "command", None) or "-"
        path = urllib.parse.urlsplit(getattr(self, "path", "") or "-").path
        log(f"{self.client_address[0]} {method} {path} {code}")

    def log_message(self, format, *args):  # noqa: A002  (base-class signature)
        pass  # base-class messages may echo raw request text; log_request covers responses

    # -- plumbing ------------------------------------------------------------------------
    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks, total = [], 0
            while True:
                size = int(self.rfile.readline(100).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1000) not in (b"\r\n", b"\n", b""):
                        pass   # trailers
                    break
                total += size
                if total > MAX_BODY:
                    raise rest_error(413, "INVALID_PARAMETER_VALUE", "request body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(10)
            return b"".join(chunks)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise rest_error(400, "INVALID_PARAMETER_VALUE", "bad Content-Length")
        if length < 0 or length > MAX_BODY:
            raise rest_error(413, "INVALID_PARAMETER_VALUE", "request body too large")
        return self.rfile.read(length) if length else b""

    def send(self, status, body, headers=None):
        """Send one answer. body: dict/list (JSON), str or bytes (raw). A shaping fault of this
        request (self.shape) repeats, truncates and/or trickles it."""
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = body or b""
        out = {"Content-Type": "application/json", "x-request-id": str(uuid.uuid4())}
        for name, value in (headers or {}).items():
            for existing in [k for k in out if k.lower() == name.lower()]:
                del out[existing]
            out[name] = value
            if name.lower() == "connection" and value.lower() == "close":
                self.close_connection = True
        shape = getattr(self, "shape", None)
        repeat = shape.body_repeat if shape and shape.body_repeat else 1
        truncate = shape.truncate_at if shape else None
        rate = shape.trickle_bytes_per_s if shape else None

        self.log_request(status)
        reason = self.responses.get(status, ("",))[0]
        head = [f"{self.protocol_version} {status} {reason}", f"Server: {self.version_string()}",
                f"Date: {self.date_time_string()}"]
        head += [f"{name}: {value}" for name, value in out.items()]
        head.append(f"Content-Length: {len(data) * repeat}")   # always the full length
        pieces = [("\r\n".join(head) + "\r\n\r\n").encode("latin-1")]
        if self.command != "HEAD":
            pieces = itertools.chain(pieces, self._body_pieces(data, repeat, truncate))
        if rate:
            self._trickle(pieces, rate)
        else:
            # One write per answer, headers and body together: with TCP_NODELAY (finish_request)
            # the answer leaves at once, not held back by the client's delayed ACK.
            self.wfile.write(b"".join(pieces))
        if truncate is not None:
            log(f"{self.client_address[0]} {self.command} {self.path.split('?')[0]} "
                f"TRUNCATED at {truncate} of {len(data) * repeat} body bytes (fault)")
            self.close_gracefully()

    def send_error_answer(self, status, body, headers=None):
        """send() for an error answer, as the real service words it (issue 9): a REST error
        body gets its google.rpc details (config error_details), and a 429 or 503 gets
        Retry-After (config retry_after) unless it has one. A body given as text is sent as
        it is. The RequestInfo's request_id is the answer's x-request-id."""
        headers = throttle_headers(status, headers, self.state.settings["retry_after"])
        if isinstance(body, dict) and self.state.settings["error_details"]:
            request_id = next((v for k, v in headers.items() if k.lower() == "x-request-id"), None)
            request_id = request_id or str(uuid.uuid4())
            body = with_error_details(body, request_id)
            headers["x-request-id"] = request_id
        self.send(status, body, headers)

    @staticmethod
    def _body_pieces(data, repeat, limit=None):
        """data * repeat in blocks of about 64 KiB, cut after `limit` bytes."""
        if not data:
            return
        per_block = max(1, 65536 // len(data))
        block = data * min(per_block, repeat)
        left = len(data) * repeat if limit is None else min(limit, len(data) * repeat)
        while left > 0:
            piece = block[:left]
            yield piece
            left -= len(piece)

    def _trickle(self, pieces, rate):
        """Write at about `rate` bytes per second, in small slices, starting at once."""
        step = max(1, rate // 20)
        start, sent = time.monotonic(), 0
        for piece in pieces:
            for i in range(0, len(piece), step):
                pause = start + sent / rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                chunk = piece[i:i + step]
                self.wfile.write(chunk)
                sent += len(chunk)

    def close_gracefully(self):
        """Close after the answer: TLS close_notify, then FIN (a clean EOF for the client)."""
        self.close_connection = True
        try:
            self.connection.settimeout(0.5)    # unwrap() also waits for the peer's close_notify
            self.connection.unwrap()
        except (OSError, ValueError):
            pass
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def reset_connection(self):
        """Close the TCP connection without an answer (RST where the stack allows)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            self.connection.close()   # no TLS close_notify: the socket just goes away
        except OSError:
            pass

    # -- TLS handshake count (stats key "tls_handshakes") -----------------------------------
    def first_request_on_connection(self):
        """True for the first request read on this TLS connection (one handshake each). A
        connection whose first request is a control call is not counted, so that a test's own
        stats read or reset does not change the figure."""
        first = not getattr(self, "_seen_request", False)
        self._seen_request = True
        return first

    def base_url(self):
        host = self.headers.get("Host") or f"localhost:{self.server.server_address[1]}"
        return f"https://{host}"

    def dispatch(self):
        path = urllib.parse.urlsplit(self.path).path
        method = self.command
        self.shape = None
        try:
            self._dispatch(method, path)
        except (ConnectionError, ssl.SSLError, socket.timeout):
            self.close_connection = True    # the client went away (also while trickling)

    def _dispatch(self, method, path):
        try:
            body = self.read_body()
            first_on_connection = self.first_request_on_connection()
            if path.startswith("/_emulator/"):
                return self.dispatch_control(method, path, body)
            if first_on_connection:
                self.state.count_handshake()
            self.state.count(method, path)
            fault = self.state.take_fault(method, path)
            if fault is not None and self._apply_fault(fault, method, path):
                return
            if not self.unified_admit(path):
                return
            for route_method, pattern, name in self.ROUTES:
                match = pattern.match(path)
                if match and route_method == method:
                    status, answer, headers = getattr(self, name)(body, *match.groups())
                    return self.send(status, answer, headers)
            raise rest_error(404, "ENDPOINT_NOT_FOUND", f"No API found for '{method} {path}'")
        except ApiError as e:
            self.send_error_answer(e.status, e.body, e.headers)
        except (ConnectionError, ssl.SSLError, socket.timeout):
            raise
        except Exception:
            log("internal error: " + traceback.format_exc().replace("\n", " | "))
            self.send(500, {"error_code": "INTERNAL_ERROR", "message": "emulator internal error"})

    def _apply_fault(self, fault, method, path):
        """Apply a fault; True when the request has been dealt with (answered or reset)."""
        if fault.latency_ms:
            time.sleep(fault.latency_ms / 1000.0)
        if fault.reset:
            log(f"{self.client_address[0]} {method} {path} RESET (fault)")
            self.reset_connection()
            return True
        if fault.raw is not None:
            # Not HTTP at all (an HTTP/0.9 answer, another service on the port): the bytes,
            # then a clean close.
            log(f"{self.client_address[0]} {method} {path} RAW answer (fault)")
            self.wfile.write(fault.raw.encode("latin-1", "replace"))
            self.close_gracefully()
            return True
        if fault.shapes:
            self.shape = fault   # send() repeats / truncates / trickles whichever answer goes out
        if fault.status is not None or fault.body is not None:
            status = fault.status if fault.status is not None else 200
            body = fault.body if fault.body is not None else {
                "error_code": "TEMPORARILY_UNAVAILABLE" if status >= 500 else
                "REQUEST_LIMIT_EXCEEDED" if status == 429 else "INVALID_STATE",
                "message": f"injected fault (HTTP {status})"}
            self.send_error_answer(status, body, fault.headers)
            return True
        return False   # latency and/or shaping only: carry on with the normal answer

    # -- API routes ------------------------------------------------------------------------
    def api_discovery(self, body):
        base = self.base_url()
        return 200, {
            "issuer": f"{base}/oidc",
            "authorization_endpoint": f"{base}/oidc/v1/authorize",
            "token_endpoint": f"{base}/oidc/v1/token",
            "jwks_uri": f"{base}/oidc/jwks.json",
            "scopes_supported": ["all-apis", "offline_access", "openid", "profile", "email"],
            "response_types_supported": ["code", "id_token"],
            "grant_types_supported": ["client_credentials", "authorization_code", "refresh_token"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "none"],
            "code_challenge_methods_supported": ["S256"],
        }, None

    def api_token(self, body):
        exchange = self.token_exchange(body)      # workload identity federation (class Federation)
        if exchange is not None:
            return exchange
        # Client authentication: HTTP Basic, id and secret form-urlencoded (RFC 6749 2.3.1).
        bad_client = oauth_error(401, "invalid_client", "Client authentication failed",
                                 {"WWW-Authenticate": 'Basic realm="oidc"'})
        scheme, _, blob = self.headers.get("Authorization", "").strip().partition(" ")
        if scheme.lower() != "basic":
            raise bad_client
        try:
            decoded = base64.b64decode(blob.strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            raise bad_client
        raw_id, sep, raw_secret = decoded.partition(":")
        client_id = urllib.parse.unquote_plus(raw_id)
        secret = urllib.parse.unquote_plus(raw_secret)
        sp = self.state.sps.get(client_id)
        if not sep or sp is None or not hmac.compare_digest(
                secret.encode(), sp["client_secret"].encode()):
            raise bad_client
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        grant = form.get("grant_type", [None])[0]
        if grant is None:
            raise oauth_error(400, "invalid_request", "Missing grant_type")
        if grant != "client_credentials":
            raise oauth_error(400, "unsupported_grant_type", f"Unsupported grant_type: {grant}")
        scope = form.get("scope", [""])[0]
        if scope.split() != ["all-apis"]:
            raise oauth_error(400, "invalid_scope", f"Invalid scope: '{scope}' (expected all-apis)")
        token, lifetime = self.state.issue_access_token(client_id)
        return 200, {"access_token": token, "token_type": "Bearer",
                     "expires_in": lifetime, "scope": "all-apis"}, None

    def require_bearer(self):
        """The service principal behind the bearer token; 401 / 403 otherwise."""
        scheme, _, token = self.headers.get("Authorization", "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise rest_error(401, "UNAUTHENTICATED", "Credential was not sent or was of an unsupported type for this API.")
        client_id = self.state.bearer_client(token.strip())
        if client_id is None:
            client_id = self.state.users.by_pat(token.strip())   # a personal access token
        if client_id is None:
            raise rest_error(401, "UNAUTHENTICATED", "Invalid access token.")
        if self.state.users.get(client_id) is not None:
            return client_id                                     # a person (PAT or CLI login)
        sp = self.state.sps.get(client_id)
        if sp is None or not sp["workspace_access"]:
            raise rest_error(403, "PERMISSION_DENIED",
                             "API is disabled for users without workspace-access entitlement")
        return client_id

    @staticmethod
    def not_found(what):
        return rest_error(404, "NOT_FOUND", f"{what} not found [TraceId: {secrets.token_hex(16)}]")

    def api_credentials(self, body):
        client_id = self.require_bearer()
        try:
            request = json.loads(body.decode("utf-8")) if body.strip() else None
        except (ValueError, UnicodeDecodeError):
            request = None
        if not isinstance(request, dict):
            raise rest_error(400, "INVALID_PARAMETER_VALUE", "Request body must be a JSON object")
        name = request.get("endpoint")   # other fields (claims, group_name...) are ignored; ttl below
        if not name:
            raise rest_error(400, "INVALID_PARAMETER_VALUE", "Field 'endpoint' is required")
        if not isinstance(name, str) or not ENDPOINT_RE.match(name):
            raise rest_error(400, "INVALID_PARAMETER_VALUE",
                             f"Invalid endpoint name '{name}': expected "
                             "projects/<project_id>/branches/<branch_id>/endpoints/<endpoint_id>")
        if self.state.endpoint(name) is None:
            raise self.not_found("endpoint id")
        lifetime = self.credential_ttl(request)
        token, expire_time = self.state.issue_credential(client_id, self.base_url() + "/oidc", lifetime)
        compute = self.state.compute
        if compute is not None and compute.endpoint == name:
            compute.trigger("credential request")   # scale-to-zero: wake, but do not wait
        return 200, {"token": token, "expire_time": expire_time}, None

    @staticmethod
    def credential_ttl(request):
        """The request's "ttl" (a protobuf duration, "600s" or "600.5s", 300 s to 1 h) in
        seconds, or None when absent: the credential then lives credential_lifetime."""
        ttl = request.get("ttl")
        if ttl is None:
            return None
        match = re.fullmatch(r"(\d{1,9})(?:\.\d{1,9})?s", ttl) if isinstance(ttl, str) else None
        if match is None:
            raise rest_error(400, "INVALID_PARAMETER_VALUE",
                             f"Invalid duration for field 'ttl': '{ttl}' (expected seconds, e.g. \"3600s\")")
        seconds = int(match.group(1))
        if not 300 <= seconds <= 3600:
            raise rest_error(400, "INVALID_PARAMETER_VALUE",
                             f"ttl must be between 300s and 3600s, got {ttl}")
        return seconds

    @staticmethod
    def endpoint_view_discovery(e, status, hosts):
        """Adds the discovery fields (pooled hosts, disabled) of an endpoint to its view."""
        for f in State.DISCOVERY_FIELDS:
            if f in e:
                hosts[f] = e[f]
        if "disabled" in e:
            status["disabled"] = e["disabled"]

    def list_page(self, items, key):
        """One page of a list answer: page_size (1..100; default and cap max_page_size) and
        page_token (opaque: the offset) from the query; next_page_token when more follow."""
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        cap = self.state.settings["max_page_size"]
        try:
            size = int(query.get("page_size", ["0"])[0])
        except ValueError:
            size = -1
        if not 0 <= size <= 100:
            raise rest_error(400, "INVALID_PARAMETER_VALUE", "page_size must be between 0 and 100")
        size = min(size or cap, cap)
        token = query.get("page_token", [""])[0]
        try:
            start = int(base64.urlsafe_b64decode(token.encode()).decode()[len("offset:"):]) if token else 0
        except ValueError:
            start = -1
        if not 0 <= start <= len(items):
            raise rest_error(400, "INVALID_PARAMETER_VALUE", "Invalid page_token")
        answer = {key: items[start:start + size]}
        if start + size < len(items):
            answer["next_page_token"] = base64.urlsafe_b64encode(f"offset:{start + size}".encode()).decode()
        return answer

    def endpoint_view(self, e):
        parent = e["name"].rsplit("/endpoints/", 1)[0]
        hosts = {"host": e["host"]}
        if "read_only_host" in e:
            hosts["read_only_host"] = e["read_only_host"]
        started = rfc3339(self.server.started)
        status = {"current_state": e["state"], "endpoint_type": e["endpoint_type"], "hosts": hosts}
        self.endpoint_view_discovery(e, status, hosts)
        return {"name": e["name"], "parent": parent,
                "uid": "ep-" + uuid.uuid5(uuid.NAMESPACE_URL, e["name"]).hex[:20],
                "create_time": started, "update_time": started,
                "spec": {"endpoint_type": e["endpoint_type"]},
                "status": status}

    def api_get_endpoint(self, body, name):
        self.require_bearer()
        e = self.state.endpoint(name)
        if e is None:
            raise self.not_found("endpoint id")
        return 200, self.endpoint_view(e), None

    def api_list_endpoints(self, body, parent):
        self.require_bearer()
        found = [self.endpoint_view(e) for e in self.state.settings["endpoints"]
                 if e["name"].startswith(parent + "/endpoints/")]
        if not found:
            raise self.not_found("branch id")
        return 200, self.list_page(found, "endpoints"), None

    # -- unified host (class Unified) ------------------------------------------------------
    def unified_admit(self, path):
        """Counts the workspace header; False once the login page has been sent instead."""
        with self.state.lock:
            ok = self.state.unified.admit(path, self.headers.get(Unified.HEADER))
        if not ok:
            self.send(200, Unified.LOGIN_PAGE, {"Content-Type": "text/html; charset=utf-8"})
        return ok

    def unified_account(self, account=None):
        unified = self.state.unified
        if not unified.on or (account is not None and account != unified.account_id):
            raise rest_error(404, "ENDPOINT_NOT_FOUND", f"No API found for '{self.command} "
                             f"{urllib.parse.urlsplit(self.path).path}'")
        return unified.account_id

    def api_databricks_config(self, body):
        account = self.unified_account()
        return 200, {"oidc_endpoint": f"{self.base_url()}/oidc/accounts/{{account_id}}",
                     "account_id": account, "cloud": "AWS", "host_type": "UNIFIED_HOST"}, None

    def api_account_discovery(self, body, account):
        self.unified_account(account)
        status, doc, headers = self.api_discovery(body)
        base = f"{self.base_url()}/oidc/accounts/{account}"
        doc.update(issuer=base, authorization_endpoint=f"{base}/v1/authorize",
                   token_endpoint=f"{base}/v1/token", jwks_uri=f"{base}/jwks.json")
        return status, doc, headers

    def api_account_token(self, body, account):
        self.unified_account(account)
        return self.api_token(body)

    def ctl_unified_get(self, payload):
        with self.state.lock:
            return 200, self.state.unified.report()

    def ctl_unified_set(self, payload):
        with self.state.lock:
            self.state.unified.set(payload)
            return 200, self.state.unified.report()

    # -- Lakebase Provisioned (the `database` service) --------------------------------------
    def api_database_credentials(self, body):
        client_id = self.require_bearer()
        try:
            request = json.loads(body.decode("utf-8")) if body.strip() else None
        except (ValueError, UnicodeDecodeError):
            request = None
        if not isinstance(request, dict):
            raise rest_error(400, "INVALID_PARAMETER_VALUE", "Request body must be a JSON object")
        names, request_id = request.get("instance_names"), request.get("request_id")
        with self.state.lock:
            self.state.database_requests = (self.state.database_requests +
                                            [{"instance_names": names, "request_id": request_id}])[-100:]
        if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
            raise rest_error(400, "INVALID_PARAMETER_VALUE",
                             "Field 'instance_names' must be a non-empty list of instance names")
        if not isinstance(request_id, str) or not UUID4_RE.match(request_id):
            raise rest_error(400, "INVALID_PARAMETER_VALUE",
                             f"Field 'request_id' must be a UUID (version 4), got {str(request_id)[:60]!r}")
        for name in names:
            if self.state.instance(name) is None:
                raise self.not_found(f"Database instance '{name}'")
        token, expire_time = self.state.issue_credential(client_id, self.base_url() + "/oidc")
        return 200, {"token": token, "expiration_time": expire_time}, None

    def instance_view(self, i):
        started = rfc3339(self.server.started)
        out = {"name": i["name"], "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, "instance/" + i["name"])),
               "state": i["state"], "capacity": "CU_1", "pg_version": "PG_VERSION_15",
               "creation_time": started, "creator": "emulator@example.com",
               "read_write_dns": i["read_write_dns"]}
        if "read_only_dns" in i:
            out["read_only_dns"] = i["read_only_dns"]
        return out

    def api_get_instance(self, body, name):
        self.require_bearer()
        i = self.state.instance(urllib.parse.unquote(name))
        if i is None:
            raise self.not_found(f"Database instance '{urllib.parse.unquote(name)}'")
        return 200, self.instance_view(i), None

    def api_list_instances(self, body):
        self.require_bearer()
        every = [self.instance_view(i) for i in self.state.settings["instances"]]
        return 200, self.list_page(every, "database_instances"), None

    def ctl_instance_state(self, payload):
        """{"name", "state", "then": state, "after_ms": N}: set the state now and, with "then",
        to that state after after_ms (a timer), as a starting instance becomes AVAILABLE."""
        if not isinstance(payload, dict) or not isinstance(payload.get("name"), str):
            raise ValueError("body must be {\"name\", \"state\", \"then\", \"after_ms\"}")
        unknown = set(payload) - {"name", "state", "then", "after_ms"}
        if unknown:
            raise ValueError(f"unknown fields: {sorted(unknown)}")
        for key in ("state", "then"):
            if key in payload and payload[key] not in INSTANCE_STATES:
                raise ValueError(f"{key} must be one of {', '.join(INSTANCE_STATES)}")
        after = payload.get("after_ms", 0)
        if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after <= 600_000:
            raise ValueError("after_ms must be an integer in 0..600000")
        name = payload["name"]
        if "state" in payload and not self.state.set_instance_state(name, payload["state"]):
            raise ValueError(f"no instance named '{name}'")
        if "then" in payload:
            timer = threading.Timer(after / 1000.0, self.state.set_instance_state, (name, payload["then"]))
            timer.daemon = True
            timer.start()
        return 200, self.state.instance(name) or {}

    def ctl_database_requests(self, payload):
        with self.state.lock:
            return 200, {"requests": list(self.state.database_requests)}

    # -- control API (no auth, loopback only, not counted) --------------------------------
    # -- workload identity federation (class Federation) ------------------------------------
    def token_exchange(self, body):
        """The token-exchange grant's answer, or None for another grant (api_token goes on)."""
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        if form.get("grant_type", [None])[0] != Federation.GRANT:
            return None
        fed = self.state.federation
        subject = form.get("subject_token", [""])[0]
        if not subject or form.get("subject_token_type", [None])[0] != Federation.JWT_TYPE:
            raise oauth_error(400, "invalid_request",
                              f"subject_token and subject_token_type={Federation.JWT_TYPE} are required")
        scope = form.get("scope", [""])[0]
        if scope.split() != ["all-apis"]:
            raise oauth_error(400, "invalid_scope", f"Invalid scope: '{scope}' (expected all-apis)")
        claims = fed.verify(subject)
        client_id = fed.principal(claims, form.get("client_id", [None])[0])
        token, lifetime = self.state.issue_access_token(client_id)
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": lifetime, "scope": "all-apis"}, None

    # -- people: SCIM Me and CLI logins (class Users) -------------------------------------
    def api_scim_me(self, body):
        return 200, self.state.users.me(self.require_bearer()), None

    def ctl_u2m_token(self, payload):
        """{"userName"} -> {"access_token", "expires_in"}: what a CLI login holds for a person."""
        name = (payload or {}).get("userName")
        if self.state.users.get(name) is None:
            raise ValueError(f"no such user: {name!r}")
        token, lifetime = self.state.issue_access_token(name)
        return 200, {"access_token": token, "expires_in": lifetime}

    def dispatch_control(self, method, path, body):
        if not ipaddress.ip_address(self.client_address[0]).is_loopback:
            raise rest_error(403, "PERMISSION_DENIED", "control API is loopback only")
        name = self.CONTROL.get((method, path))
        if name is None:
            raise rest_error(404, "ENDPOINT_NOT_FOUND", f"No API found for '{method} {path}'")
        try:
            payload = json.loads(body.decode("utf-8")) if body.strip() else None
        except (ValueError, UnicodeDecodeError):
            raise rest_error(400, "INVALID_PARAMETER_VALUE", "body must be JSON")
        try:
            status, answer = getattr(self, name)(payload)
        except ValueError as e:
            raise rest_error(400, "INVALID_PARAMETER_VALUE", str(e))
        self.send(status, answer)

    def ctl_stats(self, payload):
        with self.state.lock:
            return 200, dict(self.state.stats)

    def ctl_stats_reset(self, payload):
        with self.state.lock:
            self.state.stats.clear()
        return 200, {}

    def ctl_faults_list(self, payload):
        with self.state.lock:
            return 200, {"faults": [f.view() for f in self.state.faults]}

    def ctl_faults_add(self, payload):
        specs = payload if isinstance(payload, list) else [payload]
        faults = [Fault(s) for s in specs]          # validate all before adding any
        with self.state.lock:
            self.state.faults.extend(f for f in faults if f.count != 0)
            return 200, {"faults": [f.view() for f in self.state.faults]}

    def ctl_faults_clear(self, payload):
        with self.state.lock:
            self.state.faults.clear()
        return 200, {"faults": []}

    def ctl_config_get(self, payload):
        with self.state.lock:
            return 200, dict(self.state.settings)

    def ctl_config_set(self, payload):
        with self.state.lock:
            self.state.update_settings(payload)
            return 200, dict(self.state.settings)

    def ctl_revoke(self, payload):
        client_id = (payload or {}).get("client_id") if isinstance(payload, dict) else None
        return 200, {"revoked": self.state.revoke(client_id)}

    def _compute_for(self, payload, allowed):
        if payload is not None and not isinstance(payload, dict):
            raise ValueError("body must be a JSON object")
        payload = payload or {}
        unknown = set(payload) - set(allowed)
        if unknown:
            raise ValueError(f"unknown fields: {sorted(unknown)}")
        compute = self.state.compute
        if compute is None:
            raise ValueError("no compute configured (config 'compute': port, start, stop, ready)")
        name = payload.get("endpoint")
        if name is not None and name != compute.endpoint:
            raise ValueError(f"endpoint '{name}' has no compute (only {compute.endpoint})")
        return compute, payload

    def ctl_compute(self, payload):
        compute = self.state.compute
        if compute is None:
            eps = self.state.settings["endpoints"]
            return 200, {"configured": False, "state": eps[0]["state"] if eps else None, "wakes": 0}
        return 200, compute.report()

    def ctl_suspend(self, payload):
        compute, payload = self._compute_for(payload, ("endpoint", "wake_delay_ms"))
        delay = payload.get("wake_delay_ms", 500)
        if not isinstance(delay, int) or isinstance(delay, bool) or not 0 <= delay <= 600_000:
            raise ValueError("wake_delay_ms must be an integer in 0..600000")
        compute.suspend(delay)
        return 200, compute.report()

    def ctl_resume(self, payload):
        compute, _ = self._compute_for(payload, ("endpoint",))
        compute.resume()
        return 200, compute.report()


class TLSServer(http.server.ThreadingHTTPServer):
    """Accepts plain TCP and does the TLS handshake in the connection's own thread."""

    daemon_threads = True

    def __init__(self, address, state, ssl_context, started):
        self.state, self.ssl_context, self.started = state, ssl_context, started
        super().__init__(address, Handler)

    def finish_request(self, request, client_address):
        request.settimeout(HANDSHAKE_TIMEOUT)
        try:
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # answers leave at once
        except OSError:
            pass
        try:
            conn = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            log(f"{client_address[0]} TLS handshake failed: {getattr(e, 'reason', None) or type(e).__name__}")
            return
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            try:
                conn.close()
            except OSError:
                pass


class TLSServer6(TLSServer):
    address_family = socket.AF_INET6


def listen(address_port, state, cert, key, started, what):
    """TLS servers on 127.0.0.1 (required) and ::1 (when available) for one port."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    try:
        servers = [TLSServer(("127.0.0.1", address_port), state, ctx, started)]
    except OSError as e:
        log(f"cannot listen on 127.0.0.1:{address_port} ({what}): {e.strerror}")
        sys.exit(1)
    try:
        servers.append(TLSServer6(("::1", address_port), state, ctx, started))
    except OSError as e:
        log(f"not listening on [::1]:{address_port} ({what}): {e.strerror}")
    return servers


def main():
    global _log_file
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--live-file", required=True)
    ap.add_argument("--pidfile")
    ap.add_argument("--log")
    ap.add_argument("--record-issued", metavar="FILE",
                    help="append every issued database credential and access token (mode 0600)")
    ap.add_argument("--wrong-host-port", type=int,
                    help="second HTTPS port, serving --wrong-host-cert (another host name)")
    ap.add_argument("--wrong-host-cert")
    ap.add_argument("--wrong-host-key")
    args = ap.parse_args()
    if (args.wrong_host_port is None) != (args.wrong_host_cert is None) or \
            (args.wrong_host_cert is None) != (args.wrong_host_key is None):
        ap.error("--wrong-host-port, --wrong-host-cert and --wrong-host-key go together")
    if args.log:
        _log_file = open(args.log, "a", buffering=1)

    with open(args.config) as f:
        config = json.load(f)
    state = State(config, args.live_file, args.record_issued)
    if config.get("compute"):
        state.compute = Compute(config["compute"], state)

    started = time.time()
    servers = listen(args.port, state, args.cert, args.key, started, "emulator")
    if args.wrong_host_port is not None:
        servers += listen(args.wrong_host_port, state, args.wrong_host_cert, args.wrong_host_key,
                          started, "wrong-host listener")

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    for srv in servers:
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    if args.pidfile:
        with open(args.pidfile + ".tmp", "w") as f:
            f.write(f"{os.getpid()}\n")
        os.replace(args.pidfile + ".tmp", args.pidfile)
    extra = f", wrong-host listener on port {args.wrong_host_port}" if args.wrong_host_port else ""
    compute = f", compute on port {state.compute.port}" if state.compute else ""
    log(f"listening on https://localhost:{args.port} (pid {os.getpid()}){extra}{compute}, "
        f"live file {args.live_file}")

    while not stop.wait(1.0):
        state.prune_expired()

    for srv in servers:
        srv.shutdown()
        srv.server_close()
    if state.compute is not None:   # release PostgreSQL's port; a running start may finish
        state.compute.shutdown()
    with state.lock:            # nothing stays valid once the emulator is gone
        state.live = []
        state.write_live_file()
    if args.pidfile:
        try:
            os.unlink(args.pidfile)
        except FileNotFoundError:
            pass
    log("stopped")


if __name__ == "__main__":
    main()
