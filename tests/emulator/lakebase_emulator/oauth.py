"""OAuth routes: OIDC discovery, the client-credentials token grant (the token-exchange grant
is in federation.py), and the bearer check every API route uses (require_bearer)."""

import base64
import hmac
import urllib.parse

from .common import oauth_error, rest_error


class OAuthRoutes:
    """OIDC discovery, token and bearer check (mixed into server.Handler)."""

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
        self.azure_note_headers(client_id, token.strip())         # an Entra token (class Azure)
        sp = self.state.sps.get(client_id)
        if sp is None or not sp["workspace_access"]:
            raise rest_error(403, "PERMISSION_DENIED",
                             "API is disabled for users without workspace-access entitlement")
        return client_id
