#!/usr/bin/env python3
"""The one Python client of the workspace emulator (stdlib only): HTTPS requests to it (one fresh
connection each, verified against the local Lakebase's test CA), its control API (/_emulator/...:
stats, faults, config, revoke, compute with suspend/resume, unified host, Provisioned instance
state, CLI logins) and the record of issued secrets. test_emulator.py, tests/integration/emuctl.py,
tests/clients/local_lakebase.py, scripts/local-lakebase.sh and scripts/demo.sh use it; the C tests
speak HTTP themselves (tests/integration/testenv.c).

As a module:
    from emulator_client import EmulatorClient
    emu = EmulatorClient.from_env()          # LAKEBASE_EMULATOR_URL, LAKEBASE_CA_FILE or
    emu.reset_stats(); emu.count("POST /api/2.0/postgres/credentials")   # LAKEBASE_LOCAL_STATE/ca.pem

As a command (exit 1, with the reason on standard error, unless the answer is a 200):
    emulator_client.py [--url URL] [--ca FILE] [--timeout S] COMMAND
      get|post|delete PATH [JSON]   a control call (PATH: "stats" or "/_emulator/stats"); prints the
                                    answer (JSON); a POST without JSON has an empty body
      reset                         zero the stats
      count "METHOD /path"          one figure of the stats (0 when absent)
      stats                         every figure of the stats, one "  N  route" line each
      compute-state                 ACTIVE, IDLE or WAKING
      ping                          exit 0 when the emulator answers its control API
"""

import argparse
import http.client
import json
import os
import ssl
import sys
import time
import urllib.parse

CONTROL = "/_emulator/"


class EmulatorError(Exception):
    """A control call answered with another status than 200."""

    def __init__(self, method, path, status, answer):
        super().__init__(f"control {method} {path} -> {status} {answer}")
        self.status, self.answer = status, answer


def control_path(path):
    """"stats" or "/_emulator/stats" -> "/_emulator/stats"."""
    return path if path.startswith(CONTROL) else CONTROL + path.lstrip("/")


def default_cafile(env=None):
    env = os.environ if env is None else env
    if env.get("LAKEBASE_CA_FILE"):
        return env["LAKEBASE_CA_FILE"]
    return os.path.join(env["LAKEBASE_LOCAL_STATE"], "ca.pem")


def issued_secrets(path=None):
    """The lines of the record of issued secrets (path, else LAKEBASE_ISSUED_SECRETS, else
    issued-secrets in LAKEBASE_LOCAL_STATE): every access token and database credential the
    emulator issued, oldest first; [] when there is no record."""
    path = path or os.environ.get("LAKEBASE_ISSUED_SECRETS") or \
        os.path.join(os.environ["LAKEBASE_LOCAL_STATE"], "issued-secrets")
    try:
        with open(path) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


class EmulatorClient:
    """HTTPS client of the emulator: one fresh connection per request."""

    def __init__(self, url, cafile, ctx=None, timeout=15):
        parts = urllib.parse.urlsplit(url)
        self.url = url
        self.host, self.port = parts.hostname, parts.port
        self.ctx = ctx or ssl.create_default_context(cafile=cafile)
        self.timeout = timeout

    @classmethod
    def from_env(cls, env=None, timeout=15):
        """The local Lakebase of the environment: LAKEBASE_EMULATOR_URL and the test CA."""
        env = os.environ if env is None else env
        return cls(env["LAKEBASE_EMULATOR_URL"], default_cafile(env), timeout=timeout)

    # -- any route ---------------------------------------------------------------------------
    def request(self, method, path, body=None, headers=None, timing=None, timeout=None):
        """(status, headers, raw body). dict bodies go as JSON, str/bytes as they are.
        timing: a dict that receives "headers" and "total" (seconds since the request)."""
        headers = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx,
                                           timeout=timeout or self.timeout)
        try:
            start = time.monotonic()
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            if timing is not None:
                timing["headers"] = time.monotonic() - start
            raw = resp.read()
            if timing is not None:
                timing["total"] = time.monotonic() - start
            return resp.status, resp.headers, raw
        finally:
            conn.close()

    def json(self, method, path, body=None, headers=None, timeout=None):
        """(status, parsed JSON body or None)."""
        status, _, raw = self.request(method, path, body, headers, timeout=timeout)
        return status, json.loads(raw) if raw else None

    # -- control API -------------------------------------------------------------------------
    def ctl(self, method, path, body=None, timeout=None):
        """A control call's answer; EmulatorError unless the status is 200."""
        path = control_path(path)
        status, answer = self.json(method, path, body, timeout=timeout)
        if status != 200:
            raise EmulatorError(method, path, status, answer)
        return answer

    def stats(self):
        return self.ctl("GET", "stats")

    def count(self, route):
        """One figure of the stats: "METHOD /path" or "tls_handshakes"."""
        return self.stats().get(route, 0)

    def reset_stats(self):
        return self.ctl("POST", "stats/reset")

    def faults(self):
        return self.ctl("GET", "faults")["faults"]

    def add_faults(self, *specs):
        """Queue one or more faults (dicts, see the README's fault fields)."""
        return self.ctl("POST", "faults", specs[0] if len(specs) == 1 else list(specs))["faults"]

    def clear_faults(self):
        return self.ctl("DELETE", "faults")

    def config(self):
        return self.ctl("GET", "config")

    def set_config(self, changes):
        return self.ctl("POST", "config", changes)

    def revoke(self, client_id=None):
        return self.ctl("POST", "revoke", {"client_id": client_id} if client_id else None)["revoked"]

    def compute(self, timeout=None):
        return self.ctl("GET", "compute", timeout=timeout)

    def compute_state(self, timeout=None):
        """ACTIVE, IDLE or WAKING (a wake under way)."""
        c = self.compute(timeout)
        return "WAKING" if c.get("waking") else c.get("state") or ""

    def suspend(self, wake_delay_ms=None, endpoint=None):
        body = {k: v for k, v in (("wake_delay_ms", wake_delay_ms), ("endpoint", endpoint)) if v is not None}
        return self.ctl("POST", "suspend", body or None, timeout=120)

    def resume(self, timeout=120):
        return self.ctl("POST", "resume", timeout=timeout)

    def unified(self):
        return self.ctl("GET", "unified")

    def set_unified(self, spec):
        return self.ctl("POST", "unified", spec)

    def instance_state(self, name, **fields):
        return self.ctl("POST", "instance-state", dict(fields, name=name))

    def database_requests(self):
        return self.ctl("GET", "database/credential-requests")["requests"]

    def u2m_token(self, user_name):
        return self.ctl("POST", "u2m-token", {"userName": user_name})


def main(argv=None):
    ap = argparse.ArgumentParser(prog="emulator_client.py", description=__doc__.split("\n")[0])
    ap.add_argument("--url", help="default: LAKEBASE_EMULATOR_URL")
    ap.add_argument("--ca", help="default: LAKEBASE_CA_FILE, else LAKEBASE_LOCAL_STATE/ca.pem")
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("command", choices=("get", "post", "delete", "reset", "count", "stats",
                                        "compute-state", "ping"))
    ap.add_argument("args", nargs="*")
    a = ap.parse_args(argv)
    arity = {"get": (1, 1), "post": (1, 2), "delete": (1, 1), "count": (1, 1)}.get(a.command, (0, 0))
    if not arity[0] <= len(a.args) <= arity[1]:
        ap.error(f"{a.command}: wrong number of arguments")
    try:
        emu = EmulatorClient(a.url or os.environ["LAKEBASE_EMULATOR_URL"], a.ca or default_cafile(),
                             timeout=a.timeout)
        if a.command in ("get", "post", "delete"):
            body = json.loads(a.args[1]) if len(a.args) == 2 else None
            print(json.dumps(emu.ctl(a.command.upper(), a.args[0], body)))
        elif a.command == "reset":
            emu.reset_stats()
        elif a.command == "count":
            print(emu.count(a.args[0]))
        elif a.command == "stats":
            for route, n in emu.stats().items():
                print(f"  {n:3d}  {route}")
        elif a.command == "compute-state":
            print(emu.compute_state())
        else:
            emu.stats()
    except KeyError as e:
        print(f"emulator_client: {e.args[0]} is not set (run scripts/local-lakebase.sh up)", file=sys.stderr)
        return 1
    except (EmulatorError, OSError, ValueError, http.client.HTTPException) as e:
        print(f"emulator_client: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
