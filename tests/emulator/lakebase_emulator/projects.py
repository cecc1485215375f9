"""Lakebase Autoscaling's project and branch lists (the `postgres` service): GET
/api/2.0/postgres/projects and .../projects/<p>/branches, paged like the endpoint list. The
projects and branches are those the configured endpoints name (projects/<p>/branches/<b>/...),
in the order they first appear; a branch named "main" (else a project's first) is its default."""

import uuid

from .common import rfc3339


class ProjectRoutes:
    """The project and branch list routes (mixed into server.Handler)."""

    def _projects(self):
        """{project id: [branch ids]} from the endpoint names, in order."""
        found = {}
        for e in self.state.settings["endpoints"]:
            parts = e["name"].split("/")
            branches = found.setdefault(parts[1], [])
            if parts[3] not in branches:
                branches.append(parts[3])
        return found

    def _times(self):
        started = rfc3339(self.server.started)
        return {"create_time": started, "update_time": started}

    def api_list_projects(self, body):
        self.require_bearer()
        views = []
        for p in self._projects():
            name = "projects/" + p
            views.append(dict({"name": name, "uid": "prj-" + uuid.uuid5(uuid.NAMESPACE_URL, name).hex[:20],
                               "spec": {"display_name": p, "pg_version": 15},
                               "status": {"display_name": p, "pg_version": 15, "owner": "emulator@example.com"}},
                              **self._times()))
        return 200, self.list_page(views, "projects"), None

    def api_list_branches(self, body, parent):
        self.require_bearer()
        branches = self._projects().get(parent[len("projects/"):])
        if branches is None:
            raise self.not_found("project id")
        default = "main" if "main" in branches else branches[0]
        views = []
        for b in branches:
            name = f"{parent}/branches/{b}"
            views.append(dict({"name": name, "parent": parent,
                               "uid": "br-" + uuid.uuid5(uuid.NAMESPACE_URL, name).hex[:20],
                               "spec": {"no_expiry": True},
                               "status": {"current_state": "READY", "default": b == default,
                                          "is_protected": False, "logical_size_bytes": 0}},
                              **self._times()))
        return 200, self.list_page(views, "branches"), None
