"""Lakebase Provisioned routes (the `database` service): database credentials by instance name,
instance look-up and list, and their control routes (/_emulator/instance-state,
/_emulator/database/credential-requests)."""

import threading
import urllib.parse
import uuid

from .common import INSTANCE_STATES, UUID4_RE, json_object_body, rest_error, rfc3339


class DatabaseRoutes:
    """The `database` service routes (mixed into server.Handler)."""

    def api_database_credentials(self, body):
        client_id = self.require_bearer()
        request = json_object_body(body)
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
