"""Lakebase Autoscaling routes (the `postgres` service): database credentials (with ttl and
the wake of a suspended compute), endpoint look-up and the paged endpoint list."""

import re
import uuid

from .common import ENDPOINT_RE, json_object_body, rest_error, rfc3339
from .state import State


class PostgresRoutes:
    """The `postgres` service routes (mixed into server.Handler)."""

    def api_credentials(self, body):
        client_id = self.require_bearer()
        request = json_object_body(body)
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
