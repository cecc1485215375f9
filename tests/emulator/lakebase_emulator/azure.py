"""Azure: class Azure (an Entra ID tenant with its applications and the machine's managed
identities), the Entra ID token endpoint (v1 and v2, on the emulator's TLS port, as the login
host), the instance metadata service (plain HTTP on its own loopback port, --imds-port) and the
workspace's view of Entra tokens (a bearer of the Azure Databricks resource; the Databricks SDKs'
X-Databricks-Azure-SP-Management-Token is noted in the stats, not required).

Wire formats as Entra ID and the metadata service send them: v1 token answers carry expires_in,
ext_expires_in, expires_on and not_before as strings, with resource; v2 as numbers. Error bodies
carry error, error_description ("AADSTS<code>: ...\\r\\nTrace ID: ...\\r\\nCorrelation ID: ...
\\r\\nTimestamp: ..."), error_codes, timestamp, trace_id, correlation_id and error_uri; the metadata
service's are {error, error_description}."""

import base64
import hashlib
import hmac
import http.server
import json
import secrets
import socket
import time
import urllib.parse
import uuid

from .common import ApiError, b64url, log

DATABRICKS_RESOURCE = "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d"
# The clouds' service management resources (the management token's audience).
MANAGEMENT_RESOURCES = ("https://management.core.windows.net/", "https://management.core.usgovcloudapi.net/",
                        "https://management.core.chinacloudapi.cn/")


def _resource_key(resource):
    return resource.rstrip("/") + "/" if resource.startswith("https://") else resource


class Azure:
    """The tenant ("tenant_id"), its applications ("apps": [{"client_id", "client_secret"}]) and
    the managed identities of the machine the metadata service runs on ("managed_identities":
    [{"client_id", "system_assigned": bool}]: at most one system-assigned). Every application
    and identity is a service principal of the workspace (State registers them). Tokens are
    JWT-shaped (HS256 with a key of the emulator's) with Entra v1 claims: aud, iss, iat, nbf,
    exp, appid, appidacr, idtyp, oid, sub, tid, ver."""

    def __init__(self, spec):
        spec = spec or {}
        self.tenant = spec.get("tenant_id")
        self.apps = {a["client_id"]: dict(a, object_id=a.get("object_id") or str(uuid.uuid4()))
                     for a in spec.get("apps", [])}
        self.identities = {m["client_id"]: dict(m, object_id=m.get("object_id") or str(uuid.uuid4()))
                           for m in spec.get("managed_identities", [])}
        self.key = secrets.token_bytes(32)
        self.tokens = {}        # token -> (appid, resource, expiry)

    def principals(self):
        return list(self.apps) + list(self.identities)

    def system_assigned(self):
        return next((m for m in self.identities.values() if m.get("system_assigned")), None)

    def issue(self, state, appid, object_id, resource, acr, lifetime):
        now = int(time.time())
        claims = {"aud": resource, "iss": f"https://sts.windows.net/{self.tenant}/", "iat": now, "nbf": now,
                  "exp": now + lifetime, "appid": appid, "appidacr": acr, "idtyp": "app", "oid": object_id,
                  "sub": object_id, "tid": self.tenant, "ver": "1.0"}
        head = b64url(json.dumps({"typ": "JWT", "alg": "HS256", "kid": "emulator"}).encode())
        body = b64url(json.dumps(claims, separators=(",", ":")).encode())
        sig = b64url(hmac.new(self.key, f"{head}.{body}".encode(), hashlib.sha256).digest())
        token = f"{head}.{body}.{sig}"
        with state.lock:
            self.tokens[token] = (appid, _resource_key(resource), now + lifetime)
            if resource == DATABRICKS_RESOURCE:     # a bearer the workspace accepts
                state.access_tokens[token] = (appid, now + lifetime)
            state._record(token)
        return token, now

    def valid(self, state, token, resource):
        """The application id of a live token for resource, or None."""
        with state.lock:
            entry = self.tokens.get(token)
        if entry and entry[1] == _resource_key(resource) and entry[2] > time.time():
            return entry[0]
        return None


def entra_error(status, error, code, description):
    """An Entra ID error answer, as login.microsoftonline.com words it."""
    trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
    return ApiError(status, {
        "error": error,
        "error_description": f"AADSTS{code}: {description}\r\nTrace ID: {trace}\r\nCorrelation ID: {corr}\r\n"
                             f"Timestamp: {stamp}",
        "error_codes": [code], "timestamp": stamp, "trace_id": trace, "correlation_id": corr,
        "error_uri": f"https://login.microsoftonline.com/error?code={code}"})


class AzureRoutes:
    """The Entra ID token endpoint on the TLS port (mixed into server.Handler)."""

    def api_entra_token(self, body, tenant):
        return self._entra_token(body, tenant, v2=False)

    def api_entra_token_v2(self, body, tenant):
        return self._entra_token(body, tenant, v2=True)

    def _entra_token(self, body, tenant, v2):
        azure = self.state.azure
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        one = lambda k: form.get(k, [None])[0]   # noqa: E731
        if azure.tenant is None or tenant.lower() != azure.tenant.lower():
            raise entra_error(400, "invalid_request", 90002,
                              f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID "
                              "and are signing into the correct cloud.")
        grant = one("grant_type")
        if grant is None:
            raise entra_error(400, "invalid_request", 900144,
                              "The request body must contain the following parameter: 'grant_type'.")
        if grant != "client_credentials":
            raise entra_error(400, "unsupported_grant_type", 70003,
                              "The app requested an unsupported grant type.")
        client_id, secret = one("client_id"), one("client_secret")
        basic = self.headers.get("Authorization", "")
        if basic.lower().startswith("basic "):     # client_secret_basic is accepted too
            try:
                raw_id, _, raw_secret = base64.b64decode(basic[6:].strip()).decode().partition(":")
                client_id, secret = urllib.parse.unquote_plus(raw_id), urllib.parse.unquote_plus(raw_secret)
            except (ValueError, UnicodeDecodeError):
                pass
        if not client_id:
            raise entra_error(400, "invalid_request", 900144,
                              "The request body must contain the following parameter: 'client_id'.")
        app = azure.apps.get(client_id)
        if app is None:
            raise entra_error(400, "unauthorized_client", 700016,
                              f"Application with identifier '{client_id}' was not found in the directory "
                              f"'{tenant}'. This can happen if the application has not been installed by the "
                              "administrator of the tenant or consented to by any user in the tenant. You may "
                              "have sent your authentication request to the wrong tenant.")
        if not secret:
            raise entra_error(401, "invalid_client", 7000218,
                              "The request body must contain the following parameter: 'client_assertion' or "
                              "'client_secret'.")
        if not hmac.compare_digest(secret.encode(), app["client_secret"].encode()):
            raise entra_error(401, "invalid_client", 7000215,
                              "Invalid client secret provided. Ensure the secret being sent in the request is the "
                              f"client secret value, not the client secret ID, for a secret added to app "
                              f"'{client_id}'.")
        if v2:
            scope = one("scope") or ""
            resource = scope[:-len("/.default")] if scope.endswith("/.default") else None
            if resource is None:
                raise entra_error(400, "invalid_scope", 1002012,
                                  f"The provided value for scope {scope} is not valid. Client credential flows "
                                  "must have a scope value with /.default suffixed to the resource identifier "
                                  "(application ID URI).")
        else:
            resource = one("resource")
            if not resource:
                raise entra_error(400, "invalid_request", 900144,
                                  "The request body must contain the following parameter: 'resource'.")
        if resource != DATABRICKS_RESOURCE and _resource_key(resource) not in MANAGEMENT_RESOURCES:
            raise entra_error(400, "invalid_resource", 500011,
                              f"The resource principal named {resource} was not found in the tenant named "
                              f"{tenant}. This can happen if the application has not been installed by the "
                              "administrator of the tenant or consented to by any user in the tenant. You might "
                              "have sent your authentication request to the wrong tenant.")
        lifetime = self.state.settings["token_lifetime"]
        token, now = azure.issue(self.state, client_id, app["object_id"], resource, "1", lifetime)
        if v2:
            return 200, {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime,
                         "access_token": token}, None
        return 200, {"token_type": "Bearer", "expires_in": str(lifetime), "ext_expires_in": str(lifetime),
                     "expires_on": str(now + lifetime), "not_before": str(now), "resource": resource,
                     "access_token": token}, None

    def azure_note_headers(self, client_id, token):
        """For an Entra bearer: note whether the SDKs' management token came, and whether it is a
        live management token of the same application (stats "AZURE management-token ok" / "bad" /
        "missing"), and the workspace resource id header ("AZURE resource-id")."""
        azure = self.state.azure
        if token not in azure.tokens:
            return
        mgmt = self.headers.get("X-Databricks-Azure-SP-Management-Token")
        if mgmt is None:
            self.state.count("AZURE", "management-token missing")
        elif any(azure.valid(self.state, mgmt.strip(), r) == client_id for r in MANAGEMENT_RESOURCES):
            self.state.count("AZURE", "management-token ok")
        else:
            self.state.count("AZURE", "management-token bad")
        if self.headers.get("X-Databricks-Azure-Workspace-Resource-Id"):
            self.state.count("AZURE", "resource-id")


class ImdsHandler(http.server.BaseHTTPRequestHandler):
    """The instance metadata service's token route, plain HTTP (as at 169.254.169.254)."""

    protocol_version = "HTTP/1.1"
    server_version = "IMDS"

    def log_request(self, code="-", size="-"):
        log(f"{self.client_address[0]} IMDS {self.command} {urllib.parse.urlsplit(self.path).path} {code}")

    def log_message(self, format, *args):  # noqa: A002
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.log_request(status)
        self.wfile.write((f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}\r\n"
                          f"Content-Type: application/json; charset=utf-8\r\nServer: IMDS/150.870.65.1325\r\n"
                          f"Content-Length: {len(data)}\r\n\r\n").encode() + data)

    def do_GET(self):
        state = self.server.state
        url = urllib.parse.urlsplit(self.path)
        state.count("GET", url.path)
        fault = state.take_fault("GET", url.path)
        if fault is not None:
            if fault.latency_ms:
                time.sleep(fault.latency_ms / 1000.0)
            if fault.status is not None:
                return self.answer(fault.status, fault.body if fault.body is not None else
                                   {"error": "temporarily_unavailable", "error_description": "injected fault"})
        if url.path != "/metadata/identity/oauth2/token":
            return self.answer(404, {"error": "not_found", "error_description": "Not found"})
        if self.headers.get("Metadata", "").lower() != "true":
            return self.answer(400, {"error": "invalid_request",
                                     "error_description": "Required metadata header not specified"})
        if self.headers.get("X-Forwarded-For"):
            return self.answer(400, {"error": "invalid_request",
                                     "error_description": "Request was forwarded through a proxy"})
        query = urllib.parse.parse_qs(url.query)
        if "api-version" not in query:
            return self.answer(400, {"error": "invalid_request",
                                     "error_description": "Required query variable 'api-version' is missing"})
        resource = query.get("resource", [None])[0]
        if not resource:
            return self.answer(400, {"error": "invalid_request",
                                     "error_description": "Required query variable 'resource' is missing"})
        azure = state.azure
        client_id = query.get("client_id", [None])[0]
        identity = azure.identities.get(client_id) if client_id else azure.system_assigned()
        if identity is None:
            return self.answer(400, {"error": "invalid_request", "error_description": "Identity not found"})
        if resource != DATABRICKS_RESOURCE and _resource_key(resource) not in MANAGEMENT_RESOURCES:
            return self.answer(400, {"error": "invalid_resource",
                                     "error_description": f"AADSTS500011: The resource principal named {resource} "
                                                          "was not found in the tenant."})
        lifetime = state.settings["token_lifetime"]
        token, now = azure.issue(state, identity["client_id"], identity["object_id"], resource, "2", lifetime)
        self.answer(200, {"access_token": token, "client_id": identity["client_id"], "expires_in": str(lifetime),
                          "expires_on": str(now + lifetime), "ext_expires_in": str(lifetime),
                          "not_before": str(now), "resource": resource, "token_type": "Bearer"})


class ImdsServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, state):
        self.state = state
        super().__init__(address, ImdsHandler)

    def server_bind(self):
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        super().server_bind()
