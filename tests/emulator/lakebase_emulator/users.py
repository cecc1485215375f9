"""People: class Users (user names, SCIM ids, personal access tokens) and its routes: SCIM Me
and the CLI login stand-in (/_emulator/u2m-token)."""

import hashlib
import hmac


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


class UsersRoutes:
    """Handler routes for people (mixed into server.Handler)."""

    def api_scim_me(self, body):
        return 200, self.state.users.me(self.require_bearer()), None

    def ctl_u2m_token(self, payload):
        """{"userName"} -> {"access_token", "expires_in"}: what a CLI login holds for a person."""
        name = (payload or {}).get("userName")
        if self.state.users.get(name) is None:
            raise ValueError(f"no such user: {name!r}")
        token, lifetime = self.state.issue_access_token(name)
        return 200, {"access_token": token, "expires_in": lifetime}
