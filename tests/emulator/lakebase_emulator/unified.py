"""Unified host: one URL serving several workspaces. Class Unified (the mode, its workspace ids
and counts) and the routes that only a unified host serves (databricks-config, account OIDC,
the login page for /api/ requests without a served workspace id, /_emulator/unified)."""

import re
import urllib.parse

from .common import rest_error


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


class UnifiedRoutes:
    """Handler routes of the unified-host mode (mixed into server.Handler)."""

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
