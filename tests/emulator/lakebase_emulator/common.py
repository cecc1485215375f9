"""What every module of the emulator shares: constants and path patterns, the request log,
timestamps and base64url, and the error answers (ApiError, REST and OAuth error bodies, the
google.rpc details and Retry-After of the real service)."""

import base64
import json
import re
import sys
import threading
import time

ENDPOINT_RE = re.compile(r"^projects/([^/]+)/branches/([^/]+)/endpoints/([^/]+)$")
ENDPOINT_PATH_RE = re.compile(r"^/api/2\.0/postgres/(projects/[^/]+/branches/[^/]+/endpoints/[^/]+)$")
ENDPOINT_LIST_RE = re.compile(r"^/api/2\.0/postgres/(projects/[^/]+/branches/[^/]+)/endpoints$")
PROJECT_LIST_RE = re.compile(r"^/api/2\.0/postgres/projects$")
BRANCH_LIST_RE = re.compile(r"^/api/2\.0/postgres/(projects/[^/]+)/branches$")
# Lakebase Provisioned (the `database` service): instances by name.
INSTANCE_PATH_RE = re.compile(r"^/api/2\.0/database/instances/([^/]+)$")
INSTANCE_LIST_RE = re.compile(r"^/api/2\.0/database/instances$")
INSTANCE_STATES = ("AVAILABLE", "STARTING", "STOPPED", "UPDATING", "FAILING_OVER", "DELETING")
UUID4_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
MAX_BODY = 1 << 20          # largest request body accepted
MAX_TOKEN_BYTES = 400       # pam_exec passes at most 512 bytes of password; stay well under
HANDSHAKE_TIMEOUT = 10      # seconds for the TLS handshake of a new connection
IDLE_TIMEOUT = 60           # seconds a keep-alive connection may sit idle

_log_lock = threading.Lock()
_log_file = sys.stderr


def log(msg):
    """One line per event. Callers pass only method, path, status and the like: no secrets."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with _log_lock:
        _log_file.write(f"{stamp} {msg}\n")
        _log_file.flush()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def rfc3339(ts, digits=0):
    """RFC 3339 UTC with `digits` (0, 3, 6 or 9) fraction digits, as protobuf's JSON writes a
    Timestamp (True means 6, for older callers)."""
    digits = 6 if digits is True else int(digits or 0)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(ts)))
    if digits:
        scale = 10 ** digits
        return f"{base}.{min(int((ts % 1) * scale), scale - 1):0{digits}d}Z"
    return base + "Z"


class ApiError(Exception):
    """An error answer: HTTP status, JSON body and optional extra headers."""

    def __init__(self, status, body, headers=None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def rest_error(status, code, message):
    return ApiError(status, {"error_code": code, "message": message})


def json_object_body(body):
    """A REST request's body as a JSON object, or the API's 400 for anything else."""
    try:
        request = json.loads(body.decode("utf-8")) if body.strip() else None
    except (ValueError, UnicodeDecodeError):
        request = None
    if not isinstance(request, dict):
        raise rest_error(400, "INVALID_PARAMETER_VALUE", "Request body must be a JSON object")
    return request


# --------------------------------------------------------------------------------------------
# Wire-format realism (issue 9): google.rpc details in REST errors, Retry-After when throttling
# --------------------------------------------------------------------------------------------

ERROR_DOMAIN = "databricks.com"


def with_error_details(body, request_id):
    """A REST error body (one with error_code) as the real service sends it: with a `details`
    array holding a google.rpc.ErrorInfo (reason = the code) and a google.rpc.RequestInfo
    (request_id = the answer's x-request-id). Other bodies, and bodies that already have
    details, are returned unchanged."""
    if not isinstance(body, dict) or "error_code" not in body or "details" in body:
        return body
    return dict(body, details=[
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": str(body["error_code"]),
         "domain": ERROR_DOMAIN, "metadata": {}},
        {"@type": "type.googleapis.com/google.rpc.RequestInfo", "request_id": request_id, "serving_data": ""}])


def throttle_headers(status, headers, retry_after):
    """A 429 or 503 carries Retry-After (retry_after seconds; 0: none) unless the headers
    already have one."""
    headers = dict(headers or {})
    if status in (429, 503) and retry_after and not any(k.lower() == "retry-after" for k in headers):
        headers["Retry-After"] = str(retry_after)
    return headers


def oauth_error(status, code, description, headers=None):
    return ApiError(status, {"error": code, "error_description": description}, headers)
