"""Workload identity federation: class Federation (the HS256 test identity provider, its
policies) and the token-exchange grant of the workspace token endpoint."""

import base64
import hashlib
import hmac
import json
import time
import urllib.parse

from .common import oauth_error


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


class FederationRoutes:
    """The token-exchange grant (mixed into server.Handler; oauth.api_token calls it)."""

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
