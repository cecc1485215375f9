"""HTTP handling: the request handler (reading bodies, sending answers, shaping them for faults,
applying faults, the API route table and dispatch, shared route helpers) and the TLS servers
and listeners. The routes themselves are in the service modules, mixed into Handler."""

import base64
import http.server
import itertools
import json
import re
import secrets
import socket
import ssl
import struct
import sys
import time
import traceback
import urllib.parse
import uuid

from .common import (ApiError, BRANCH_LIST_RE, ENDPOINT_LIST_RE, ENDPOINT_PATH_RE, HANDSHAKE_TIMEOUT,
                     IDLE_TIMEOUT, INSTANCE_LIST_RE, INSTANCE_PATH_RE, MAX_BODY, PROJECT_LIST_RE, log, rest_error,
                     throttle_headers, with_error_details)
from .azure import AzureRoutes
from .control import ControlRoutes
from .database import DatabaseRoutes
from .federation import FederationRoutes
from .oauth import OAuthRoutes
from .postgres import PostgresRoutes
from .projects import ProjectRoutes
from .unified import UnifiedRoutes
from .users import UsersRoutes


class Handler(OAuthRoutes, PostgresRoutes, ProjectRoutes, DatabaseRoutes, UnifiedRoutes, UsersRoutes,
              FederationRoutes, AzureRoutes, ControlRoutes, http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"      # keep-alive, as the real service
    server_version = "lakebase-emulator"
    timeout = IDLE_TIMEOUT

    # Route table: (method, regex on the path, handler method name). API routes only.
    ROUTES = [
        ("GET", re.compile(r"^/oidc/\.well-known/oauth-authorization-server$"), "api_discovery"),
        ("POST", re.compile(r"^/oidc/v1/token$"), "api_token"),
        ("POST", re.compile(r"^/api/2\.0/postgres/credentials$"), "api_credentials"),
        ("GET", ENDPOINT_PATH_RE, "api_get_endpoint"),
        ("GET", ENDPOINT_LIST_RE, "api_list_endpoints"),
        ("GET", PROJECT_LIST_RE, "api_list_projects"),
        ("GET", BRANCH_LIST_RE, "api_list_branches"),
        # unified-host mode (class Unified); 404 otherwise
        ("GET", re.compile(r"^/\.well-known/databricks-config$"), "api_databricks_config"),
        ("GET", re.compile(r"^/oidc/accounts/([^/]+)/\.well-known/oauth-authorization-server$"),
         "api_account_discovery"),
        ("POST", re.compile(r"^/oidc/accounts/([^/]+)/v1/token$"), "api_account_token"),
        # Lakebase Provisioned (the `database` service)
        ("POST", re.compile(r"^/api/2\.0/database/credentials$"), "api_database_credentials"),
        ("GET", INSTANCE_PATH_RE, "api_get_instance"),
        ("GET", INSTANCE_LIST_RE, "api_list_instances"),
        # people (class Users): SCIM Me
        ("GET", re.compile(r"^/api/2\.0/preview/scim/v2/Me$"), "api_scim_me"),
        # Entra ID's token endpoint (class Azure): the emulator is also the login host
        ("POST", re.compile(r"^/([A-Za-z0-9.-]+)/oauth2/token$"), "api_entra_token"),
        ("POST", re.compile(r"^/([A-Za-z0-9.-]+)/oauth2/v2\.0/token$"), "api_entra_token_v2"),
    ]

    def version_string(self):
        return self.server_version

    @property
    def state(self):
        return self.server.state

    # Every method goes through dispatch().
    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    # -- logging: method, path (no query), status; never headers or bodies ---------------
    def log_request(self, code="-", size="-"):
        method = getattr(self, "command", None) or "-"
        path = urllib.parse.urlsplit(getattr(self, "path", "") or "-").path
        log(f"{self.client_address[0]} {method} {path} {code}")

    def log_message(self, format, *args):  # noqa: A002  (base-class signature)
        pass  # base-class messages may echo raw request text; log_request covers responses

    # -- plumbing ------------------------------------------------------------------------
    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks, total = [], 0
            while True:
                size = int(self.rfile.readline(100).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1000) not in (b"\r\n", b"\n", b""):
                        pass   # trailers
                    break
                total += size
                if total > MAX_BODY:
                    raise rest_error(413, "INVALID_PARAMETER_VALUE", "request body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(10)
            return b"".join(chunks)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise rest_error(400, "INVALID_PARAMETER_VALUE", "bad Content-Length")
        if length < 0 or length > MAX_BODY:
            raise rest_error(413, "INVALID_PARAMETER_VALUE", "request body too large")
        return self.rfile.read(length) if length else b""

    def send(self, status, body, headers=None):
        """Send one answer. body: dict/list (JSON), str or bytes (raw). A shaping fault of this
        request (self.shape) repeats, truncates and/or trickles it."""
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = body or b""
        out = {"Content-Type": "application/json", "x-request-id": str(uuid.uuid4())}
        for name, value in (headers or {}).items():
            for existing in [k for k in out if k.lower() == name.lower()]:
                del out[existing]
            out[name] = value
            if name.lower() == "connection" and value.lower() == "close":
                self.close_connection = True
        shape = getattr(self, "shape", None)
        repeat = shape.body_repeat if shape and shape.body_repeat else 1
        truncate = shape.truncate_at if shape else None
        rate = shape.trickle_bytes_per_s if shape else None

        self.log_request(status)
        reason = self.responses.get(status, ("",))[0]
        head = [f"{self.protocol_version} {status} {reason}", f"Server: {self.version_string()}",
                f"Date: {self.date_time_string()}"]
        head += [f"{name}: {value}" for name, value in out.items()]
        head.append(f"Content-Length: {len(data) * repeat}")   # always the full length
        pieces = [("\r\n".join(head) + "\r\n\r\n").encode("latin-1")]
        if self.command != "HEAD":
            pieces = itertools.chain(pieces, self._body_pieces(data, repeat, truncate))
        if rate:
            self._trickle(pieces, rate)
        else:
            # One write per answer, headers and body together: with TCP_NODELAY (finish_request)
            # the answer leaves at once, not held back by the client's delayed ACK.
            self.wfile.write(b"".join(pieces))
        if truncate is not None:
            log(f"{self.client_address[0]} {self.command} {self.path.split('?')[0]} "
                f"TRUNCATED at {truncate} of {len(data) * repeat} body bytes (fault)")
            self.close_gracefully()

    def send_error_answer(self, status, body, headers=None):
        """send() for an error answer, as the real service words it (issue 9): a REST error
        body gets its google.rpc details (config error_details), and a 429 or 503 gets
        Retry-After (config retry_after) unless it has one. A body given as text is sent as
        it is. The RequestInfo's request_id is the answer's x-request-id."""
        headers = throttle_headers(status, headers, self.state.settings["retry_after"])
        if isinstance(body, dict) and self.state.settings["error_details"]:
            request_id = next((v for k, v in headers.items() if k.lower() == "x-request-id"), None)
            request_id = request_id or str(uuid.uuid4())
            body = with_error_details(body, request_id)
            headers["x-request-id"] = request_id
        self.send(status, body, headers)

    @staticmethod
    def _body_pieces(data, repeat, limit=None):
        """data * repeat in blocks of about 64 KiB, cut after `limit` bytes."""
        if not data:
            return
        per_block = max(1, 65536 // len(data))
        block = data * min(per_block, repeat)
        left = len(data) * repeat if limit is None else min(limit, len(data) * repeat)
        while left > 0:
            piece = block[:left]
            yield piece
            left -= len(piece)

    def _trickle(self, pieces, rate):
        """Write at about `rate` bytes per second, in small slices, starting at once."""
        step = max(1, rate // 20)
        start, sent = time.monotonic(), 0
        for piece in pieces:
            for i in range(0, len(piece), step):
                pause = start + sent / rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                chunk = piece[i:i + step]
                self.wfile.write(chunk)
                sent += len(chunk)

    def close_gracefully(self):
        """Close after the answer: TLS close_notify, then FIN (a clean EOF for the client)."""
        self.close_connection = True
        try:
            self.connection.settimeout(0.5)    # unwrap() also waits for the peer's close_notify
            self.connection.unwrap()
        except (OSError, ValueError):
            pass
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def reset_connection(self):
        """Close the TCP connection without an answer (RST where the stack allows)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            self.connection.close()   # no TLS close_notify: the socket just goes away
        except OSError:
            pass

    # -- TLS handshake count (stats key "tls_handshakes") -----------------------------------
    def first_request_on_connection(self):
        """True for the first request read on this TLS connection (one handshake each). A
        connection whose first request is a control call is not counted, so that a test's own
        stats read or reset does not change the figure."""
        first = not getattr(self, "_seen_request", False)
        self._seen_request = True
        return first

    def base_url(self):
        host = self.headers.get("Host") or f"localhost:{self.server.server_address[1]}"
        return f"https://{host}"

    def dispatch(self):
        path = urllib.parse.urlsplit(self.path).path
        method = self.command
        self.shape = None
        try:
            self._dispatch(method, path)
        except (ConnectionError, ssl.SSLError, socket.timeout):
            self.close_connection = True    # the client went away (also while trickling)

    def _dispatch(self, method, path):
        try:
            body = self.read_body()
            first_on_connection = self.first_request_on_connection()
            if path.startswith("/_emulator/"):
                return self.dispatch_control(method, path, body)
            if first_on_connection:
                self.state.count_handshake()
            self.state.count(method, path)
            fault = self.state.take_fault(method, path)
            if fault is not None and self._apply_fault(fault, method, path):
                return
            if not self.unified_admit(path):
                return
            for route_method, pattern, name in self.ROUTES:
                match = pattern.match(path)
                if match and route_method == method:
                    status, answer, headers = getattr(self, name)(body, *match.groups())
                    return self.send(status, answer, headers)
            raise rest_error(404, "ENDPOINT_NOT_FOUND", f"No API found for '{method} {path}'")
        except ApiError as e:
            self.send_error_answer(e.status, e.body, e.headers)
        except (ConnectionError, ssl.SSLError, socket.timeout):
            raise
        except Exception:
            log("internal error: " + traceback.format_exc().replace("\n", " | "))
            self.send(500, {"error_code": "INTERNAL_ERROR", "message": "emulator internal error"})

    def _apply_fault(self, fault, method, path):
        """Apply a fault; True when the request has been dealt with (answered or reset)."""
        if fault.latency_ms:
            time.sleep(fault.latency_ms / 1000.0)
        if fault.reset:
            log(f"{self.client_address[0]} {method} {path} RESET (fault)")
            self.reset_connection()
            return True
        if fault.raw is not None:
            # Not HTTP at all (an HTTP/0.9 answer, another service on the port): the bytes,
            # then a clean close.
            log(f"{self.client_address[0]} {method} {path} RAW answer (fault)")
            self.wfile.write(fault.raw.encode("latin-1", "replace"))
            self.close_gracefully()
            return True
        if fault.shapes:
            self.shape = fault   # send() repeats / truncates / trickles whichever answer goes out
        if fault.status is not None or fault.body is not None:
            status = fault.status if fault.status is not None else 200
            body = fault.body if fault.body is not None else {
                "error_code": "TEMPORARILY_UNAVAILABLE" if status >= 500 else
                "REQUEST_LIMIT_EXCEEDED" if status == 429 else "INVALID_STATE",
                "message": f"injected fault (HTTP {status})"}
            self.send_error_answer(status, body, fault.headers)
            return True
        return False   # latency and/or shaping only: carry on with the normal answer

    # -- API routes ------------------------------------------------------------------------

    @staticmethod
    def not_found(what):
        return rest_error(404, "NOT_FOUND", f"{what} not found [TraceId: {secrets.token_hex(16)}]")

    def list_page(self, items, key):
        """One page of a list answer: page_size (1..100; default and cap max_page_size) and
        page_token (opaque: the offset) from the query; next_page_token when more follow."""
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        cap = self.state.settings["max_page_size"]
        try:
            size = int(query.get("page_size", ["0"])[0])
        except ValueError:
            size = -1
        if not 0 <= size <= 100:
            raise rest_error(400, "INVALID_PARAMETER_VALUE", "page_size must be between 0 and 100")
        size = min(size or cap, cap)
        token = query.get("page_token", [""])[0]
        try:
            start = int(base64.urlsafe_b64decode(token.encode()).decode()[len("offset:"):]) if token else 0
        except ValueError:
            start = -1
        if not 0 <= start <= len(items):
            raise rest_error(400, "INVALID_PARAMETER_VALUE", "Invalid page_token")
        answer = {key: items[start:start + size]}
        if start + size < len(items):
            answer["next_page_token"] = base64.urlsafe_b64encode(f"offset:{start + size}".encode()).decode()
        return answer


class TLSServer(http.server.ThreadingHTTPServer):
    """Accepts plain TCP and does the TLS handshake in the connection's own thread."""

    daemon_threads = True

    def __init__(self, address, state, ssl_context, started):
        self.state, self.ssl_context, self.started = state, ssl_context, started
        super().__init__(address, Handler)

    def finish_request(self, request, client_address):
        request.settimeout(HANDSHAKE_TIMEOUT)
        try:
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # answers leave at once
        except OSError:
            pass
        try:
            conn = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            log(f"{client_address[0]} TLS handshake failed: {getattr(e, 'reason', None) or type(e).__name__}")
            return
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            try:
                conn.close()
            except OSError:
                pass


class TLSServer6(TLSServer):
    address_family = socket.AF_INET6


def listen(address_port, state, cert, key, started, what):
    """TLS servers on 127.0.0.1 (required) and ::1 (when available) for one port."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    try:
        servers = [TLSServer(("127.0.0.1", address_port), state, ctx, started)]
    except OSError as e:
        log(f"cannot listen on 127.0.0.1:{address_port} ({what}): {e.strerror}")
        sys.exit(1)
    try:
        servers.append(TLSServer6(("::1", address_port), state, ctx, started))
    except OSError as e:
        log(f"not listening on [::1]:{address_port} ({what}): {e.strerror}")
    return servers
