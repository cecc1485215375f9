"""The control API (/_emulator/...: no auth, loopback only, not counted in stats): its route
table, dispatch, and the stats, faults, config, revoke and compute (suspend/resume) calls. The
control routes of one service (unified, database, users) are in that service's module."""

import ipaddress
import json

from .common import rest_error
from .faults import Fault


class ControlRoutes:
    """Control API dispatch and calls (mixed into server.Handler)."""

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
