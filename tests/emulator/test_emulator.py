#!/usr/bin/env python3
"""Self-test of the local Lakebase (stdlib unittest): the workspace emulator's routes, control
API and faults (including slow, huge and truncated answers), the wrong-host listener, the
record of issued secrets, scale-to-zero (suspend, wake on first use, resume), and the
PostgreSQL PAM path (issued credentials log in, others do not).
Needs a running `scripts/local-lakebase.sh up`; state folder from LAKEBASE_LOCAL_STATE.

    LAKEBASE_LOCAL_STATE=/path/.local-lakebase python3 tests/emulator/test_emulator.py -v
"""

import base64
import calendar
import hashlib
import http.client
import json
import os
import shlex
import socket
import ssl
import subprocess
import time
import unittest
import urllib.parse

from emulator_client import EmulatorClient, issued_secrets

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STATE = os.environ.get("LAKEBASE_LOCAL_STATE") or os.path.join(REPO, ".local-lakebase")
DATABASE = "databricks_postgres"


def read_state(name):
    with open(os.path.join(STATE, name)) as f:
        return f.read().strip()


def load_env():
    """The export lines of env.sh as a dict."""
    env = {}
    for line in read_state("env.sh").splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[0] == "export":
            key, _, value = words[1].partition("=")
            env[key] = value
    return env


def b64url_json(part):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


class Emulator(EmulatorClient):
    """The emulator client (emulator_client.py) plus the OAuth and credential calls the tests make."""

    def token_request(self, client_id, secret, form="grant_type=client_credentials&scope=all-apis",
                      encode=urllib.parse.quote):
        basic = base64.b64encode(f"{encode(client_id, safe='')}:{encode(secret, safe='')}".encode()).decode()
        return self.json("POST", "/oidc/v1/token", form, {
            "Authorization": "Basic " + basic,
            "Content-Type": "application/x-www-form-urlencoded"})

    def access_token(self, client_id, secret):
        status, answer = self.token_request(client_id, secret)
        assert status == 200, (status, answer)
        return answer["access_token"]

    def credential_request(self, access_token, body):
        return self.json("POST", "/api/2.0/postgres/credentials", body,
                         {"Authorization": "Bearer " + access_token})


class LocalLakebaseTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.isfile(os.path.join(STATE, "env.sh")):
            raise RuntimeError(f"no local Lakebase state in {STATE}: run scripts/local-lakebase.sh up")
        cls.env = load_env()
        cls.ca = cls.env["LAKEBASE_CA_FILE"]
        cls.emu = Emulator(cls.env["LAKEBASE_EMULATOR_URL"], cls.ca)
        cls.pg_port = cls.env["LAKEBASE_PG_PORT"]
        cls.endpoint = cls.env.get("LAKEBASE_ENDPOINT", "projects/demo/branches/main/endpoints/primary")
        cls.client_id = cls.env["LAKEBASE_CLIENT_ID"]
        cls.secret = read_state("client-secret")
        cls.noaccess_id = read_state("noaccess-client-id")
        cls.noaccess_secret = read_state("noaccess-client-secret")
        cls.live_file = os.path.join(read_state("runtime-dir"), "live-credentials")
        try:
            cls.emu.ctl("GET", "stats")
        except OSError as e:
            raise RuntimeError(f"emulator not answering at {cls.env['LAKEBASE_EMULATOR_URL']}: {e}")

    def setUp(self):
        self.saved_config = self.emu.ctl("GET", "config")
        self.emu.ctl("DELETE", "faults")
        self.emu.ctl("POST", "stats/reset")

    def tearDown(self):
        # Leave the emulator as found: no faults, original settings, empty stats.
        self.emu.ctl("DELETE", "faults")
        self.emu.ctl("POST", "config", self.saved_config)
        self.emu.ctl("POST", "stats/reset")

    # -- helpers -----------------------------------------------------------------------------
    def new_credential(self, client_id=None, secret=None):
        at = self.emu.access_token(client_id or self.client_id, secret or self.secret)
        status, answer = self.emu.credential_request(at, {"endpoint": self.endpoint})
        self.assertEqual(status, 200, answer)
        return answer

    def psql(self, user, password, sslmode="require", extra=""):
        """Run one query through TCP + TLS as `user`; (returncode, stdout, stderr)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(PGPASSWORD=password, PGCONNECT_TIMEOUT="10")
        dsn = f"host=localhost port={self.pg_port} dbname={DATABASE} user={user} sslmode={sslmode} {extra}"
        proc = subprocess.run(["psql", "-X", "-At", "-d", dsn, "-c",
                               "SELECT current_user || ' ' || current_database()"],
                              env=env, capture_output=True, text=True, timeout=30)
        return proc.returncode, proc.stdout.strip(), proc.stderr.strip()

    def assertLogin(self, user, password, **kw):
        rc, out, err = self.psql(user, password, **kw)
        self.assertEqual(rc, 0, f"login should work: {err}")
        self.assertEqual(out, f"{user} {DATABASE}")

    def assertNoLogin(self, user, password, **kw):
        rc, out, err = self.psql(user, password, **kw)
        self.assertNotEqual(rc, 0, "login should fail")
        self.assertIn("authentication failed", err)

    def live_lines(self):
        with open(self.live_file) as f:
            return [line.split() for line in f if line.strip()]

    # -- Azure: Entra ID's token endpoint and the instance metadata service ------------------
    DATABRICKS_RESOURCE = "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d"

    def entra(self, form, tenant=None, version=""):
        tenant = tenant or self.env["LAKEBASE_AZURE_TENANT_ID"]
        return self.emu.json("POST", f"/{tenant}/oauth2/{version}token", urllib.parse.urlencode(form),
                             {"Content-Type": "application/x-www-form-urlencoded"})

    def imds(self, query, headers=None):
        url = urllib.parse.urlsplit(self.env["LAKEBASE_MSI_ENDPOINT"])
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        conn.request("GET", url.path + "?" + urllib.parse.urlencode(query),
                     headers={"Metadata": "true"} if headers is None else headers)
        resp = conn.getresponse()
        answer = json.loads(resp.read())
        conn.close()
        return resp.status, answer

    def test_entra_token_v1_and_v2(self):
        app = {"grant_type": "client_credentials", "client_id": self.env["LAKEBASE_AZURE_CLIENT_ID"],
               "client_secret": read_state("azure-client-secret")}
        status, answer = self.entra(dict(app, resource=self.DATABRICKS_RESOURCE))
        self.assertEqual(status, 200, answer)
        # Entra v1 writes the times as strings.
        for key in ("expires_in", "ext_expires_in", "expires_on", "not_before"):
            self.assertIsInstance(answer[key], str)
        self.assertEqual(answer["token_type"], "Bearer")
        self.assertEqual(answer["resource"], self.DATABRICKS_RESOURCE)
        claims = b64url_json(answer["access_token"].split(".")[1])
        self.assertEqual(claims["appid"], app["client_id"])
        self.assertEqual(claims["aud"], self.DATABRICKS_RESOURCE)
        self.assertEqual(claims["tid"], self.env["LAKEBASE_AZURE_TENANT_ID"])
        # The workspace accepts it as a bearer; a management token beside it is noted.
        status, mgmt = self.entra(dict(app, resource="https://management.core.windows.net/"))
        self.assertEqual(status, 200, mgmt)
        status, cred = self.emu.json("POST", "/api/2.0/postgres/credentials", {"endpoint": self.endpoint},
                                     {"Authorization": "Bearer " + answer["access_token"],
                                      "X-Databricks-Azure-SP-Management-Token": mgmt["access_token"]})
        self.assertEqual(status, 200, cred)
        self.assertEqual(self.emu.count("AZURE management-token ok"), 1)
        self.assertLogin(app["client_id"], cred["token"])
        # v2: scope <resource>/.default, numbers.
        status, answer = self.entra(dict(app, scope=self.DATABRICKS_RESOURCE + "/.default"), version="v2.0/")
        self.assertEqual(status, 200, answer)
        self.assertIsInstance(answer["expires_in"], int)

    def test_entra_errors(self):
        app = {"grant_type": "client_credentials", "client_id": self.env["LAKEBASE_AZURE_CLIENT_ID"],
               "client_secret": "wrong", "resource": self.DATABRICKS_RESOURCE}
        status, answer = self.entra(app)
        self.assertEqual(status, 401)
        self.assertEqual(answer["error"], "invalid_client")
        self.assertEqual(answer["error_codes"], [7000215])
        self.assertTrue(answer["error_description"].startswith("AADSTS7000215: "))
        self.assertIn("\r\nTrace ID: ", answer["error_description"])
        for key in ("timestamp", "trace_id", "correlation_id", "error_uri"):
            self.assertIn(key, answer)
        status, answer = self.entra(dict(app, client_id="00000000-0000-4000-8000-000000000001"))
        self.assertEqual((status, answer["error"], answer["error_codes"]), (400, "unauthorized_client", [700016]))
        status, answer = self.entra(app, tenant="other-tenant")
        self.assertEqual((status, answer["error_codes"]), (400, [90002]))
        status, answer = self.entra(dict(app, client_secret=read_state("azure-client-secret"), resource="nope"))
        self.assertEqual((status, answer["error"], answer["error_codes"]), (400, "invalid_resource", [500011]))

    def test_metadata_service(self):
        status, answer = self.imds({"api-version": "2018-02-01", "resource": self.DATABRICKS_RESOURCE})
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["client_id"], self.env["LAKEBASE_MSI_SYSTEM_ID"])
        self.assertIsInstance(answer["expires_on"], str)
        self.assertEqual(b64url_json(answer["access_token"].split(".")[1])["appid"], self.env["LAKEBASE_MSI_SYSTEM_ID"])
        status, answer = self.imds({"api-version": "2018-02-01", "resource": self.DATABRICKS_RESOURCE,
                                    "client_id": self.env["LAKEBASE_MSI_USER_ID"]})
        self.assertEqual((status, answer["client_id"]), (200, self.env["LAKEBASE_MSI_USER_ID"]))
        status, answer = self.imds({"api-version": "2018-02-01", "resource": self.DATABRICKS_RESOURCE,
                                    "client_id": "00000000-0000-4000-8000-0000000000ff"})
        self.assertEqual((status, answer), (400, {"error": "invalid_request", "error_description": "Identity not found"}))
        status, answer = self.imds({"api-version": "2018-02-01", "resource": self.DATABRICKS_RESOURCE}, headers={})
        self.assertEqual((status, answer["error_description"]), (400, "Required metadata header not specified"))
        self.assertEqual(self.emu.count("GET /metadata/identity/oauth2/token"), 4)

    # -- discovery and OAuth -----------------------------------------------------------------
    def test_discovery(self):
        status, hdrs, raw = self.emu.request("GET", "/oidc/.well-known/oauth-authorization-server")
        self.assertEqual(status, 200)
        doc = json.loads(raw)
        base = f"https://localhost:{self.emu.port}"
        self.assertEqual(doc["issuer"], base + "/oidc")
        self.assertEqual(doc["token_endpoint"], base + "/oidc/v1/token")
        self.assertEqual(doc["authorization_endpoint"], base + "/oidc/v1/authorize")
        self.assertEqual(hdrs["Content-Type"], "application/json")
        self.assertTrue(hdrs["x-request-id"])

    def test_token_success(self):
        status, answer = self.emu.token_request(self.client_id, self.secret)
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["token_type"], "Bearer")
        self.assertEqual(answer["expires_in"], self.saved_config["token_lifetime"])
        self.assertEqual(answer["scope"], "all-apis")
        self.assertGreater(len(answer["access_token"]), 20)

    def test_token_basic_parts_are_url_decoded(self):
        # RFC 6749 2.3.1: every character percent-encoded must still authenticate.
        every = lambda s, safe="": "".join(f"%{b:02X}" for b in s.encode())
        status, answer = self.emu.token_request(self.client_id, self.secret, encode=every)
        self.assertEqual(status, 200, answer)

    def test_token_wrong_credentials(self):
        cases = [(self.client_id, "wrong-secret"), ("00000000-0000-0000-0000-000000000000", self.secret)]
        for cid, secret in cases:
            status, answer = self.emu.token_request(cid, secret)
            self.assertEqual(status, 401)
            self.assertEqual(answer, {"error": "invalid_client",
                                      "error_description": "Client authentication failed"})
        # No Authorization header at all, and credentials in the body instead of the header.
        form = f"grant_type=client_credentials&scope=all-apis&client_id={self.client_id}&client_secret={self.secret}"
        status, answer = self.emu.json("POST", "/oidc/v1/token", form,
                                       {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual((status, answer["error"]), (401, "invalid_client"))

    def test_token_bad_grant_and_scope(self):
        status, answer = self.emu.token_request(self.client_id, self.secret, "grant_type=password&scope=all-apis")
        self.assertEqual((status, answer["error"]), (400, "unsupported_grant_type"))
        status, answer = self.emu.token_request(self.client_id, self.secret, "grant_type=client_credentials&scope=sql")
        self.assertEqual((status, answer["error"]), (400, "invalid_scope"))

    # -- database credentials and PostgreSQL -------------------------------------------------
    def test_credential_logs_in(self):
        cred = self.new_credential()
        token = cred["token"]
        self.assertLess(len(token), 400)
        header, payload, signature = token.split(".")
        self.assertEqual(b64url_json(header)["typ"], "JWT")
        claims = b64url_json(payload)
        self.assertEqual(claims["sub"], self.client_id)
        self.assertTrue(claims["jti"])
        self.assertEqual(claims["exp"] - claims["iat"], self.saved_config["credential_lifetime"])
        # The whole seconds are the JWT's exp; 9 fraction digits follow by default.
        self.assertRegex(cred["expire_time"],
                         "^" + time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(claims["exp"])) + r"\.\d{9}Z$")
        # The live file names the hash, never the token, and PostgreSQL can read it.
        with open(self.live_file) as f:
            self.assertNotIn(token, f.read())
        self.assertEqual(os.stat(self.live_file).st_mode & 0o777, 0o644)
        self.assertIn([self.client_id, hashlib.sha256(token.encode()).hexdigest(), str(claims["exp"])],
                      self.live_lines())
        self.assertLogin(self.client_id, token)
        # Full verification against the local CA works too (cert names localhost).
        self.assertLogin(self.client_id, token, sslmode="verify-full", extra=f"sslrootcert={self.ca}")

    def test_several_live_credentials_for_one_role(self):
        first, second = self.new_credential()["token"], self.new_credential()["token"]
        self.assertNotEqual(first, second)
        self.assertLogin(self.client_id, first)
        self.assertLogin(self.client_id, second)

    def test_wrong_passwords_fail(self):
        token = self.new_credential()["token"]
        self.assertNoLogin(self.client_id, "not-a-credential")
        self.assertNoLogin(self.client_id, token + "x")          # exact match only
        self.assertNoLogin(self.client_id, token[:-1])
        self.assertNoLogin(self.noaccess_id, token)             # bound to its role
        self.assertLogin(self.client_id, token)

    def test_plain_tcp_is_rejected(self):
        token = self.new_credential()["token"]
        rc, _, err = self.psql(self.client_id, token, sslmode="disable")
        self.assertNotEqual(rc, 0)
        self.assertIn("no encryption", err)

    def test_revoked_credential_fails(self):
        token = self.new_credential()["token"]
        self.assertLogin(self.client_id, token)
        answer = self.emu.ctl("POST", "revoke", {"client_id": self.client_id})
        self.assertGreaterEqual(answer["revoked"], 1)
        self.assertNoLogin(self.client_id, token)
        # Revoke-all as well; a fresh credential works again afterwards.
        token = self.new_credential()["token"]
        self.emu.ctl("POST", "revoke")
        self.assertEqual(self.live_lines(), [])
        self.assertNoLogin(self.client_id, token)
        self.assertLogin(self.client_id, self.new_credential()["token"])

    def test_expired_credential_fails(self):
        self.emu.ctl("POST", "config", {"credential_lifetime": 2})
        time.sleep(1.02 - time.time() % 1)   # issue just after a second starts: ~2 s of validity
        cred = self.new_credential()
        exp = b64url_json(cred["token"].split(".")[1])["exp"]
        self.assertLogin(self.client_id, cred["token"])
        time.sleep(max(0.0, exp - time.time()) + 1.2)
        self.assertNoLogin(self.client_id, cred["token"])
        time.sleep(1.2)   # the emulator prunes expired lines about once a second
        self.assertNotIn(exp, [int(line[2]) for line in self.live_lines()])

    def test_fractional_expire_time(self):
        self.emu.ctl("POST", "config", {"fractional_seconds": True})
        self.assertRegex(self.new_credential()["expire_time"],
                         r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")

    def test_expire_time_digits(self):
        # By default 9 fraction digits (protobuf's JSON for a Timestamp with nanoseconds);
        # 0, 3, 6 or 9 by config; true / false still mean 6 / 0.
        self.assertEqual(self.saved_config["fractional_seconds"], 9)
        self.emu.ctl("POST", "config", {"credential_lifetime": 3600})
        patterns = {0: r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"}
        for digits in (3, 6, 9):
            patterns[digits] = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{%d}Z$" % digits
        for value, digits in ((0, 0), (3, 3), (6, 6), (9, 9), (False, 0), (True, 6)):
            self.emu.ctl("POST", "config", {"fractional_seconds": value})
            before = time.time()
            expire = self.new_credential()["expire_time"]
            self.assertRegex(expire, patterns[digits], value)
            whole = calendar.timegm(time.strptime(expire[:19], "%Y-%m-%dT%H:%M:%S"))
            self.assertAlmostEqual(whole, before + 3600, delta=2)
        for bad in (1, 12, "9", -3):
            status, answer = self.emu.json("POST", "/_emulator/config", {"fractional_seconds": bad})
            self.assertEqual(status, 400, bad)

    def test_error_details(self):
        # REST errors carry google.rpc details: ErrorInfo (reason = the code) and RequestInfo
        # (request_id = the x-request-id header); OAuth errors keep their own shape.
        at = self.emu.access_token(self.client_id, self.secret)
        status, hdrs, raw = self.emu.request("POST", "/api/2.0/postgres/credentials",
                                             {"endpoint": "projects/demo/branches/main/endpoints/nope"},
                                             {"Authorization": "Bearer " + at})
        answer = json.loads(raw)
        self.assertEqual((status, answer["error_code"]), (404, "NOT_FOUND"))
        info, request = answer["details"]
        self.assertEqual(info, {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "NOT_FOUND",
                                "domain": "databricks.com", "metadata": {}})
        self.assertEqual(request, {"@type": "type.googleapis.com/google.rpc.RequestInfo",
                                   "request_id": hdrs["x-request-id"], "serving_data": ""})
        status, answer = self.emu.token_request(self.client_id, "wrong")
        self.assertEqual(answer, {"error": "invalid_client", "error_description": "Client authentication failed"})
        # A fault's default body has them too; a body given as text is sent as it is.
        self.emu.ctl("POST", "faults", [{"path": "/api/2.0/postgres/credentials", "status": 500},
                                        {"path": "/api/2.0/postgres/credentials", "status": 500, "body": "{}"}])
        self.assertEqual(self.emu.credential_request(at, {})[1]["details"][0]["reason"], "TEMPORARILY_UNAVAILABLE")
        self.assertEqual(self.emu.credential_request(at, {})[1], {})
        self.emu.ctl("POST", "config", {"error_details": False})
        self.assertNotIn("details", self.emu.credential_request(at, {})[1])
        status, answer = self.emu.json("POST", "/_emulator/config", {"error_details": "yes"})
        self.assertEqual(status, 400)

    def test_throttle_retry_after(self):
        # 429 and 503 carry Retry-After (1 s by default, config retry_after; 0: none); a
        # fault's own Retry-After wins; other statuses get none.
        def retry_after(fault, config=None):
            if config is not None:
                self.emu.ctl("POST", "config", {"retry_after": config})
            self.emu.ctl("POST", "faults", dict(fault, path="/oidc/v1/token"))
            status, hdrs, _ = self.emu.request("POST", "/oidc/v1/token", "grant_type=client_credentials")
            self.assertEqual(status, fault["status"])
            return hdrs.get("Retry-After")
        self.assertEqual(retry_after({"status": 429}), "1")
        self.assertEqual(retry_after({"status": 503, "body": "busy"}), "1")
        self.assertIsNone(retry_after({"status": 500}))
        self.assertIsNone(retry_after({"status": 400}))
        self.assertEqual(retry_after({"status": 429, "headers": {"retry-after": "7"}}), "7")
        self.assertEqual(retry_after({"status": 503}, config=4), "4")
        self.assertIsNone(retry_after({"status": 429}, config=0))
        for bad in (-1, 3601, True, "1"):
            status, answer = self.emu.json("POST", "/_emulator/config", {"retry_after": bad})
            self.assertEqual(status, 400, bad)

    def test_credential_errors(self):
        at = self.emu.access_token(self.client_id, self.secret)
        for body in ("not json", "[]", {}, {"endpoint": "primary"},
                     {"endpoint": "projects/demo/branches/main"}, {"endpoint": 42}):
            status, answer = self.emu.credential_request(at, body)
            self.assertEqual((status, answer["error_code"]), (400, "INVALID_PARAMETER_VALUE"), body)
        status, answer = self.emu.credential_request(
            at, {"endpoint": "projects/demo/branches/main/endpoints/nope"})
        self.assertEqual((status, answer["error_code"]), (404, "NOT_FOUND"))
        self.assertRegex(answer["message"], r"^endpoint id not found \[TraceId: [0-9a-f]+\]$")
        # Unknown extra fields are ignored.
        status, answer = self.emu.credential_request(
            at, {"endpoint": self.endpoint, "ttl": "600s", "claims": [], "request_id": "x"})
        self.assertEqual(status, 200, answer)

    def test_bearer_required(self):
        for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic abc"}):
            status, answer = self.emu.json("POST", "/api/2.0/postgres/credentials",
                                           {"endpoint": self.endpoint}, headers)
            self.assertEqual((status, answer["error_code"]), (401, "UNAUTHENTICATED"), headers)
            self.assertTrue(answer["message"])

    def test_expired_access_token(self):
        self.emu.ctl("POST", "config", {"token_lifetime": 1})
        status, answer = self.emu.token_request(self.client_id, self.secret)
        self.assertEqual(answer["expires_in"], 1)
        time.sleep(1.5)
        status, answer = self.emu.credential_request(answer["access_token"], {"endpoint": self.endpoint})
        self.assertEqual((status, answer["error_code"]), (401, "UNAUTHENTICATED"))

    def test_no_workspace_access(self):
        at = self.emu.access_token(self.noaccess_id, self.noaccess_secret)   # token is granted
        status, answer = self.emu.credential_request(at, {"endpoint": self.endpoint})
        self.assertEqual(status, 403)
        self.assertEqual({k: answer[k] for k in ("error_code", "message")}, {"error_code": "PERMISSION_DENIED", "message":
                                  "API is disabled for users without workspace-access entitlement"})
        self.assertEqual(answer["details"][0]["reason"], "PERMISSION_DENIED")

    # -- endpoint look-up and unknown paths ----------------------------------------------------
    def test_get_endpoint(self):
        at = self.emu.access_token(self.client_id, self.secret)
        auth = {"Authorization": "Bearer " + at}
        status, ep = self.emu.json("GET", "/api/2.0/postgres/" + self.endpoint, headers=auth)
        self.assertEqual(status, 200, ep)
        self.assertEqual(ep["name"], self.endpoint)
        self.assertTrue(ep["uid"])
        self.assertEqual(ep["status"]["current_state"], "ACTIVE")
        self.assertEqual(ep["status"]["endpoint_type"], "ENDPOINT_TYPE_READ_WRITE")
        self.assertEqual(ep["status"]["hosts"]["host"], "localhost")
        status, answer = self.emu.json("GET", "/api/2.0/postgres/projects/demo/branches/main/endpoints/x",
                                       headers=auth)
        self.assertEqual((status, answer["error_code"]), (404, "NOT_FOUND"))
        status, answer = self.emu.json("GET", "/api/2.0/postgres/" + self.endpoint)
        self.assertEqual(status, 401)
        status, listing = self.emu.json("GET", "/api/2.0/postgres/projects/demo/branches/main/endpoints",
                                        headers=auth)
        self.assertEqual([e["name"] for e in listing["endpoints"]], [self.endpoint])
        # Endpoint state is settable at run time (e.g. IDLE = scaled to zero).
        eps = [dict(e, state="IDLE") for e in self.saved_config["endpoints"]]
        self.emu.ctl("POST", "config", {"endpoints": eps})
        status, ep = self.emu.json("GET", "/api/2.0/postgres/" + self.endpoint, headers=auth)
        self.assertEqual(ep["status"]["current_state"], "IDLE")

    def test_unknown_path(self):
        status, hdrs, raw = self.emu.request("GET", "/api/2.0/nothing/here")
        self.assertEqual(status, 404)
        answer = json.loads(raw)
        self.assertEqual((answer["error_code"], answer["message"]),
                         ("ENDPOINT_NOT_FOUND", "No API found for 'GET /api/2.0/nothing/here'"))
        self.assertEqual(answer["details"][0]["reason"], "ENDPOINT_NOT_FOUND")
        self.assertEqual(hdrs["Content-Type"], "application/json")
        self.assertTrue(hdrs["x-request-id"])
        status, _, _ = self.emu.request("GET", "/oidc/v1/token")     # wrong method, same answer
        self.assertEqual(status, 404)

    # -- control API ----------------------------------------------------------------------------
    def test_stats(self):
        self.emu.request("GET", "/oidc/.well-known/oauth-authorization-server")
        at = self.emu.access_token(self.client_id, self.secret)
        self.emu.access_token(self.client_id, self.secret)
        self.emu.access_token(self.client_id, self.secret)
        self.emu.credential_request(at, {"endpoint": self.endpoint})
        self.emu.credential_request(at, {"endpoint": self.endpoint})
        self.emu.ctl("GET", "config")                                # not counted
        self.assertEqual(self.emu.ctl("GET", "stats"), {
            "GET /oidc/.well-known/oauth-authorization-server": 1,
            "POST /oidc/v1/token": 3,
            "POST /api/2.0/postgres/credentials": 2,
            "tls_handshakes": 6})                                    # one connection each
        self.emu.ctl("POST", "stats/reset")
        self.assertEqual(self.emu.ctl("GET", "stats"), {})

    def test_tls_handshakes_and_keepalive_latency(self):
        """tls_handshakes counts TLS connections (control calls aside); answers on a kept-alive
        connection come at loopback speed (one write per answer, TCP_NODELAY). The latency is
        printed, not asserted."""
        path = "/oidc/.well-known/oauth-authorization-server"
        conn = http.client.HTTPSConnection(self.emu.host, self.emu.port, context=self.emu.ctx, timeout=15)
        times = []
        try:
            for _ in range(20):
                start = time.monotonic()
                conn.request("GET", path)
                resp = conn.getresponse()
                self.assertEqual(resp.status, 200)
                resp.read()
                times.append(time.monotonic() - start)
        finally:
            conn.close()
        times.sort()
        print(f"\nkeep-alive request latency over 20 requests: median {times[10] * 1000:.2f} ms, "
              f"min {times[0] * 1000:.2f} ms, max {times[-1] * 1000:.2f} ms", flush=True)
        stats = self.emu.ctl("GET", "stats")
        self.assertEqual(stats.get("tls_handshakes"), 1, stats)
        self.assertEqual(stats.get("GET " + path), 20, stats)
        self.emu.request("GET", path)                                # a second connection
        self.assertEqual(self.emu.ctl("GET", "stats").get("tls_handshakes"), 2)
        self.assertLess(times[10], 5.0)                              # generous: not a timing test

    def test_fault_status(self):
        self.emu.ctl("POST", "faults", {"method": "POST", "path": "/oidc/v1/token", "count": 2,
                                        "status": 503, "headers": {"Retry-After": "1"},
                                        "body": '{"error_code":"TEMPORARILY_UNAVAILABLE"}'})
        for _ in range(2):
            status, hdrs, raw = self.emu.request("POST", "/oidc/v1/token", "grant_type=client_credentials")
            self.assertEqual(status, 503)
            self.assertEqual(hdrs["Retry-After"], "1")
            self.assertEqual(raw, b'{"error_code":"TEMPORARILY_UNAVAILABLE"}')
            self.assertTrue(hdrs["x-request-id"])
        self.assertEqual(self.emu.token_request(self.client_id, self.secret)[0], 200)   # used up
        self.assertEqual(self.emu.ctl("GET", "stats")["POST /oidc/v1/token"], 3)

    def test_fault_status_default_body(self):
        self.emu.ctl("POST", "faults", {"method": "POST", "path": "/api/2.0/postgres/credentials",
                                        "status": 429})
        at = self.emu.access_token(self.client_id, self.secret)
        status, answer = self.emu.credential_request(at, {"endpoint": self.endpoint})
        self.assertEqual((status, answer["error_code"]), (429, "REQUEST_LIMIT_EXCEEDED"))
        self.assertEqual(answer["details"][0]["reason"], "REQUEST_LIMIT_EXCEEDED")
        self.assertEqual(self.emu.credential_request(at, {"endpoint": self.endpoint})[0], 200)

    def test_fault_latency_only(self):
        self.emu.ctl("POST", "faults", {"method": "GET", "path": "/oidc/.well-known/oauth-authorization-server",
                                        "latency_ms": 700})
        start = time.monotonic()
        status, answer = self.emu.json("GET", "/oidc/.well-known/oauth-authorization-server")
        self.assertGreaterEqual(time.monotonic() - start, 0.7)
        self.assertEqual(status, 200)
        self.assertIn("token_endpoint", answer)           # the normal answer, delayed

    def test_fault_reset(self):
        self.emu.ctl("POST", "faults", {"method": "POST", "path": "/oidc/v1/token", "reset": True})
        with self.assertRaises((OSError, http.client.HTTPException)):
            self.emu.token_request(self.client_id, self.secret)
        self.assertEqual(self.emu.token_request(self.client_id, self.secret)[0], 200)
        self.assertEqual(self.emu.ctl("GET", "stats")["POST /oidc/v1/token"], 2)

    def test_fault_body_only_is_200(self):
        self.emu.ctl("POST", "faults", {"method": "POST", "path": "/oidc/v1/token", "body": '{"access_token": '})
        status, _, raw = self.emu.request("POST", "/oidc/v1/token", "grant_type=client_credentials")
        self.assertEqual((status, raw), (200, b'{"access_token": '))

    def test_faults_clear_and_validation(self):
        self.emu.ctl("POST", "faults", {"path": "/oidc/v1/token", "status": 500, "count": -1})
        self.assertEqual(len(self.emu.ctl("GET", "faults")["faults"]), 1)
        for _ in range(3):     # count -1: until cleared
            self.assertEqual(self.emu.token_request(self.client_id, self.secret)[0], 500)
        self.emu.ctl("DELETE", "faults")
        self.assertEqual(self.emu.ctl("GET", "faults"), {"faults": []})
        self.assertEqual(self.emu.token_request(self.client_id, self.secret)[0], 200)
        status, answer = self.emu.json("POST", "/_emulator/faults", {"path": "/x", "colour": "red"})
        self.assertEqual((status, answer["error_code"]), (400, "INVALID_PARAMETER_VALUE"))
        status, answer = self.emu.json("POST", "/_emulator/config", {"credential_lifetime": "soon"})
        self.assertEqual(status, 400)


    # -- hostile answers: slow, huge, truncated -------------------------------------------------
    def test_fault_trickle(self):
        body = "x" * 300
        self.emu.ctl("POST", "faults", {"method": "POST", "path": "/oidc/v1/token", "body": body,
                                        "trickle_bytes_per_s": 500})
        timing = {}
        status, hdrs, raw = self.emu.request("POST", "/oidc/v1/token", "grant_type=client_credentials",
                                             timing=timing)
        self.assertEqual((status, raw), (200, body.encode()))
        # ~170 header bytes then 300 body bytes at 500 B/s: both parts arrive slowly.
        self.assertGreater(timing["headers"], 0.15, timing)
        self.assertGreater(timing["total"] - timing["headers"], 0.45, timing)
        # The normal answer can be trickled too (here fast); it stays intact.
        self.emu.ctl("POST", "faults", {"method": "GET", "path": "/oidc/.well-known/*",
                                        "trickle_bytes_per_s": 5000})
        timing = {}
        status, _, raw = self.emu.request("GET", "/oidc/.well-known/oauth-authorization-server",
                                          timing=timing)
        self.assertEqual(status, 200)
        self.assertIn("token_endpoint", json.loads(raw))
        self.assertGreater(timing["total"], 0.1)

    def test_fault_body_hex(self):
        # Raw bytes that are not UTF-8 go out exactly; body and body_hex exclude each other.
        view = self.emu.ctl("POST", "faults", {"method": "POST", "path": "/oidc/v1/token",
                                               "body_hex": "7b2261223a2022fffe227d"})["faults"][0]
        self.assertEqual((view["body"], view["body_hex"]), (None, "7b2261223a2022fffe227d"))
        status, _, raw = self.emu.request("POST", "/oidc/v1/token", "grant_type=client_credentials")
        self.assertEqual((status, raw), (200, b'{"a": "\xff\xfe"}'))
        for bad in ({"body_hex": "zz"}, {"body_hex": 5}, {"body_hex": "00", "body": "x"}):
            status, answer = self.emu.json("POST", "/_emulator/faults", dict(bad, path="/x"))
            self.assertEqual((status, answer["error_code"]), (400, "INVALID_PARAMETER_VALUE"), bad)

    def test_fault_body_repeat(self):
        self.emu.ctl("POST", "faults", {"method": "POST", "path": "/oidc/v1/token",
                                        "body": "0123456789", "body_repeat": 1 << 20})
        status, hdrs, raw = self.emu.request("POST", "/oidc/v1/token", "grant_type=client_credentials")
        self.assertEqual((status, len(raw), hdrs["Content-Length"]), (200, 10 << 20, str(10 << 20)))
        self.assertEqual(raw[:20], b"01234567890123456789")
        self.assertEqual(raw.count(b"0123456789"), 1 << 20)
        # Repeating the normal answer: the JSON document twice, which is no longer JSON.
        self.emu.ctl("POST", "faults", {"method": "GET", "path": "/oidc/.well-known/*", "body_repeat": 2})
        status, _, raw = self.emu.request("GET", "/oidc/.well-known/oauth-authorization-server")
        half = raw[:len(raw) // 2]
        self.assertEqual((status, raw), (200, half * 2))
        self.assertIn("token_endpoint", json.loads(half))
        self.assertEqual(self.emu.token_request(self.client_id, self.secret)[0], 200)   # used up

    def test_fault_truncate(self):
        self.emu.ctl("POST", "faults", {"method": "POST", "path": "/oidc/v1/token",
                                        "body": "y" * 1000, "truncate_at": 100})
        conn = http.client.HTTPSConnection(self.emu.host, self.emu.port, context=self.emu.ctx, timeout=15)
        try:
            conn.request("POST", "/oidc/v1/token", "grant_type=client_credentials")
            resp = conn.getresponse()
            self.assertEqual((resp.status, resp.headers["Content-Length"]), (200, "1000"))
            with self.assertRaises(http.client.IncompleteRead) as caught:
                resp.read()
            self.assertEqual(caught.exception.partial, b"y" * 100)
        finally:
            conn.close()
        # Truncating the normal answer at 0: headers for the whole document, no body at all.
        self.emu.ctl("POST", "faults", {"method": "GET", "path": "/oidc/.well-known/*", "truncate_at": 0})
        with self.assertRaises(http.client.IncompleteRead) as caught:
            self.emu.request("GET", "/oidc/.well-known/oauth-authorization-server")
        self.assertEqual(caught.exception.partial, b"")
        self.assertEqual(self.emu.token_request(self.client_id, self.secret)[0], 200)   # used up

    def test_hostile_fault_validation(self):
        for bad in ({"trickle_bytes_per_s": 0}, {"trickle_bytes_per_s": "fast"}, {"body_repeat": 0},
                    {"body_repeat": 1.5}, {"truncate_at": -1}, {"truncate_at": True}):
            status, answer = self.emu.json("POST", "/_emulator/faults", dict(bad, path="/oidc/v1/token"))
            self.assertEqual((status, answer["error_code"]), (400, "INVALID_PARAMETER_VALUE"), bad)
        view = self.emu.ctl("POST", "faults", {"path": "/x", "body_repeat": 3, "truncate_at": 5,
                                               "trickle_bytes_per_s": 9})["faults"][0]
        self.assertEqual((view["body_repeat"], view["truncate_at"], view["trickle_bytes_per_s"]), (3, 5, 9))

    # -- second listener with a certificate for another host name -------------------------------
    def test_wrong_host_listener(self):
        url = self.env.get("LAKEBASE_WRONG_HOST_URL")
        if not url:
            self.skipTest("no LAKEBASE_WRONG_HOST_URL in env.sh (instance from an older script)")
        path = "/oidc/.well-known/oauth-authorization-server"
        # Full verification with the test CA: the chain is fine, the name is not.
        with self.assertRaises(ssl.SSLCertVerificationError) as caught:
            Emulator(url, self.ca).request("GET", path)
        self.assertIn("Hostname mismatch", str(caught.exception))
        # Chain only (no host name check): the same routes answer, same state.
        chain_only = ssl.create_default_context(cafile=self.ca)
        chain_only.check_hostname = False
        wrong = Emulator(url, None, chain_only)
        status, _, raw = wrong.request("GET", path)
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(raw)["token_endpoint"], url + "/oidc/v1/token")
        self.assertEqual(wrong.token_request(self.client_id, self.secret)[0], 200)
        self.assertEqual(self.emu.ctl("GET", "stats")["POST /oidc/v1/token"], 1)
        # Without the test CA the chain fails too; with the certificate's own name it all passes.
        no_ca = ssl.create_default_context()
        no_ca.check_hostname = False
        with self.assertRaises(ssl.SSLCertVerificationError):
            Emulator(url, None, no_ca).request("GET", path)
        ctx = ssl.create_default_context(cafile=self.ca)
        with socket.create_connection((wrong.host, wrong.port), timeout=10) as raw_sock:
            with ctx.wrap_socket(raw_sock, server_hostname="wrong-host.invalid") as tls:
                names = [v for k, v in tls.getpeercert()["subjectAltName"]]
                self.assertEqual(names, ["wrong-host.invalid"])

    # -- record of issued secrets (leak tests) --------------------------------------------------
    def test_issued_secrets_recorded(self):
        path = self.env.get("LAKEBASE_ISSUED_SECRETS") or os.path.join(STATE, "issued-secrets")
        if not os.path.exists(path):
            self.skipTest("no issued-secrets file (instance from an older script)")
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        access_token = self.emu.access_token(self.client_id, self.secret)
        status, cred = self.emu.credential_request(access_token, {"endpoint": self.endpoint})
        self.assertEqual(status, 200, cred)
        lines = issued_secrets(path)
        self.assertIn(access_token, lines)
        self.assertIn(cred["token"], lines)
        self.assertNotIn(self.secret, lines)      # client secrets live in their own files
        # ... and the request log has none of them.
        with open(os.path.join(STATE, "emulator.log")) as f:
            log = f.read()
        for secret in (access_token, cred["token"], self.secret):
            self.assertNotIn(secret, log)

    # -- scale to zero -----------------------------------------------------------------------------
    def compute_or_skip(self):
        compute = self.emu.ctl("GET", "compute")
        if not compute.get("configured"):
            self.skipTest("the emulator has no compute (instance from an older script)")
        self.assertEqual(compute["state"], "ACTIVE", compute)
        self.addCleanup(self.emu.ctl, "POST", "resume")   # never leave PostgreSQL suspended
        return compute

    def wait_compute(self, predicate, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            compute = self.emu.ctl("GET", "compute")
            if predicate(compute):
                return compute
            if time.monotonic() > deadline:
                self.fail(f"compute did not get there: {compute}")
            time.sleep(0.05)

    def endpoint_state(self):
        at = self.emu.access_token(self.client_id, self.secret)
        status, ep = self.emu.json("GET", "/api/2.0/postgres/" + self.endpoint,
                                   headers={"Authorization": "Bearer " + at})
        self.assertEqual(status, 200, ep)
        return ep["status"]["current_state"]

    def connect_raw(self):
        """A bare TCP connect to PostgreSQL's port: True if accepted, False if refused."""
        try:
            socket.create_connection(("127.0.0.1", int(self.pg_port)), timeout=5).close()
            return True
        except ConnectionRefusedError:
            return False

    def test_suspend_then_connection_wakes(self):
        wakes = self.compute_or_skip()["wakes"]
        before = self.new_credential()["token"]          # issued while ACTIVE
        compute = self.emu.ctl("POST", "suspend", {"wake_delay_ms": 1500})
        self.assertEqual((compute["state"], compute["holding_port"], compute["wakes"]), ("IDLE", True, wakes))
        self.assertEqual(self.endpoint_state(), "IDLE")
        # The first connection attempt is closed before any PostgreSQL message, and starts the wake.
        # (Not with a new credential: a credential request would start the wake itself.)
        rc, _, err = self.psql(self.client_id, before)
        self.assertNotEqual(rc, 0)
        self.assertRegex(err, r"server closed the connection unexpectedly|reset by peer")
        woke_at = time.monotonic()
        compute = self.wait_compute(lambda c: c["waking"] and not c["holding_port"], 5)
        self.assertEqual(compute["wakes"], wakes + 1)
        # During the delay nothing listens, and the endpoint still says IDLE (a client that asks
        # the state to tell a waking compute from a wrong port must see it asleep).
        self.assertFalse(self.connect_raw(), "connection should be refused during the wake delay")
        self.assertEqual(self.endpoint_state(), "IDLE")
        self.wait_compute(lambda c: c["state"] == "ACTIVE")
        self.assertGreaterEqual(time.monotonic() - woke_at, 1.4)
        self.assertEqual(self.endpoint_state(), "ACTIVE")
        # Back: a fresh credential logs in, and so does one issued before the suspend.
        self.assertLogin(self.client_id, self.new_credential()["token"])
        self.assertLogin(self.client_id, before)
        self.assertEqual(self.emu.ctl("GET", "compute")["wakes"], wakes + 1)

    def test_suspend_then_credential_request_wakes(self):
        wakes = self.compute_or_skip()["wakes"]
        self.emu.ctl("POST", "suspend", {"wake_delay_ms": 300})
        start = time.monotonic()
        token = self.new_credential()["token"]         # issued at once, wake in the background
        self.assertLess(time.monotonic() - start, 1.0)
        self.assertEqual(self.emu.ctl("GET", "compute")["wakes"], wakes + 1)
        self.wait_compute(lambda c: c["state"] == "ACTIVE" and not c["waking"])
        self.assertLogin(self.client_id, token)

    def test_resume(self):
        wakes = self.compute_or_skip()["wakes"]
        self.emu.ctl("POST", "suspend", {"wake_delay_ms": 60000})
        self.emu.ctl("POST", "suspend", {"wake_delay_ms": 60000})      # again: no-op
        start = time.monotonic()
        compute = self.emu.ctl("POST", "resume")        # at once, and waits until PostgreSQL is ready
        self.assertLess(time.monotonic() - start, 15)
        self.assertEqual((compute["state"], compute["waking"], compute["wakes"]), ("ACTIVE", False, wakes + 1))
        self.assertLogin(self.client_id, self.new_credential()["token"])
        # resume also cuts a pending wake delay short (here started by a credential request).
        self.emu.ctl("POST", "suspend", {"wake_delay_ms": 60000})
        token = self.new_credential()["token"]
        self.assertTrue(self.emu.ctl("GET", "compute")["waking"])
        compute = self.emu.ctl("POST", "resume")
        self.assertEqual((compute["state"], compute["wakes"]), ("ACTIVE", wakes + 2))
        self.assertLogin(self.client_id, token)
        self.assertEqual(self.emu.ctl("POST", "resume")["wakes"], wakes + 2)   # ACTIVE: no-op
        for bad in ({"wake_delay_ms": -1}, {"wake_delay_ms": "soon"}, {"colour": "red"},
                    {"endpoint": "projects/demo/branches/main/endpoints/other"}):
            status, answer = self.emu.json("POST", "/_emulator/suspend", bad)
            self.assertEqual((status, answer["error_code"]), (400, "INVALID_PARAMETER_VALUE"), bad)
        self.assertEqual(self.emu.ctl("GET", "compute")["state"], "ACTIVE")

    # -- unified host (one URL, several workspaces) ---------------------------------------------
    def test_unified_host(self):
        ws, other, account = "1234567890123456", "2222222222222222", "0c5a4c2e-1111-4222-8333-444455556666"
        self.assertEqual(self.emu.request("GET", "/.well-known/databricks-config")[0], 404)   # off by default
        self.assertFalse(self.emu.ctl("GET", "unified")["enabled"])
        try:
            report = self.emu.ctl("POST", "unified", {"workspace_ids": [ws, other], "account_id": account})
            self.assertEqual((report["enabled"], report["workspace_ids"]), (True, [ws, other]))
            status, doc = self.emu.json("GET", "/.well-known/databricks-config")
            base = self.env["LAKEBASE_EMULATOR_URL"]
            self.assertEqual((status, doc["oidc_endpoint"], doc["account_id"]),
                             (200, base + "/oidc/accounts/{account_id}", account))
            # The SDKs' discovery: oidc_endpoint (placeholder filled) + /.well-known/oauth-authorization-server.
            oidc = doc["oidc_endpoint"].replace("{account_id}", account)
            status, disc = self.emu.json("GET", oidc[len(base):] + "/.well-known/oauth-authorization-server")
            self.assertEqual((status, disc["token_endpoint"]), (200, f"{oidc}/v1/token"))
            self.assertEqual(self.emu.request("GET", f"/oidc/accounts/{other}/.well-known/oauth-authorization-server")[0],
                             404)                                            # another account
            basic = base64.b64encode(f"{self.client_id}:{self.secret}".encode()).decode()
            status, tok = self.emu.json("POST", disc["token_endpoint"][len(base):],
                                        "grant_type=client_credentials&scope=all-apis",
                                        {"Authorization": "Basic " + basic,
                                         "Content-Type": "application/x-www-form-urlencoded"})
            self.assertEqual(status, 200, tok)
            auth = {"Authorization": "Bearer " + tok["access_token"]}
            # Without the header (or with another workspace's id): the login page, 200 text/html.
            for headers in (auth, dict(auth, **{"X-Databricks-Workspace-Id": "999"})):
                status, hdrs, raw = self.emu.request("POST", "/api/2.0/postgres/credentials",
                                                     {"endpoint": self.endpoint}, headers)
                self.assertEqual(status, 200)
                self.assertTrue(hdrs["Content-Type"].startswith("text/html"))
                self.assertTrue(raw.startswith(b"<!doctype html>"), raw[:40])
            # With it: the API, as usual.
            status, cred = self.emu.json("POST", "/api/2.0/postgres/credentials", {"endpoint": self.endpoint},
                                         dict(auth, **{"X-Databricks-Workspace-Id": ws}))
            self.assertEqual(status, 200, cred)
            self.assertIn("token", cred)
            status, ep = self.emu.json("GET", "/api/2.0/postgres/" + self.endpoint, None,
                                       dict(auth, **{"X-Databricks-Workspace-Id": other}))
            self.assertEqual((status, ep["name"]), (200, self.endpoint))
            self.emu.request("GET", "/oidc/.well-known/oauth-authorization-server", None,
                             {"X-Databricks-Workspace-Id": ws})             # a header outside /api/
            self.assertEqual(self.emu.ctl("GET", "unified")["counts"],
                             {"with": {ws: 1, other: 1}, "without": 1, "unknown": 1, "elsewhere": 1})
            for bad in ({"workspace_ids": ["12a"]}, {"workspace_ids": []}, {"workspace_ids": [ws], "colour": 1},
                        {"workspace_ids": [ws], "account_id": "a/b"}):
                status, answer = self.emu.json("POST", "/_emulator/unified", bad)
                self.assertEqual((status, answer["error_code"]), (400, "INVALID_PARAMETER_VALUE"), bad)
        finally:
            self.emu.ctl("POST", "unified", {})
        self.assertFalse(self.emu.ctl("GET", "unified")["enabled"])
        self.assertEqual(self.emu.request("GET", f"/oidc/accounts/{account}/.well-known/oauth-authorization-server")[0],
                         404)
        # Off: the header is still counted (per id), and nothing is refused for lacking it.
        at = self.emu.access_token(self.client_id, self.secret)
        self.assertEqual(self.emu.credential_request(at, {"endpoint": self.endpoint})[0], 200)
        self.emu.json("POST", "/api/2.0/postgres/credentials", {"endpoint": self.endpoint},
                      {"Authorization": "Bearer " + at, "X-Databricks-Workspace-Id": ws})
        self.assertEqual(self.emu.ctl("GET", "unified")["counts"],
                         {"with": {ws: 1}, "without": 0, "unknown": 0, "elsewhere": 0})
        self.emu.ctl("POST", "unified", {})

    # -- Lakebase Provisioned (the `database` service) ---------------------------------------
    def database_request(self, body, token=None):
        token = token or self.emu.access_token(self.client_id, self.secret)
        return self.emu.json("POST", "/api/2.0/database/credentials", body, {"Authorization": "Bearer " + token})

    def test_database_credential_logs_in(self):
        instance = self.env["LAKEBASE_LOCAL_INSTANCE"]
        rid = "3f2b8c1e-9d4a-4b6e-8f00-1234567890ab"
        status, answer = self.database_request({"instance_names": [instance], "request_id": rid})
        self.assertEqual(status, 200, answer)
        self.assertEqual(set(answer), {"token", "expiration_time"})
        claims = b64url_json(answer["token"].split(".")[1])
        # Whole seconds are the JWT's exp; the fraction (9 digits by default) follows them.
        self.assertRegex(answer["expiration_time"],
                         "^" + time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(claims["exp"])) + r"(\.\d{9})?Z$")
        self.assertLogin(self.client_id, answer["token"])
        seen = self.emu.ctl("GET", "database/credential-requests")["requests"][-1]
        self.assertEqual(seen, {"instance_names": [instance], "request_id": rid})

    def test_database_credential_errors(self):
        instance = self.env["LAKEBASE_LOCAL_INSTANCE"]
        rid = "3f2b8c1e-9d4a-4b6e-8f00-1234567890ab"
        for body in ({}, {"instance_names": [], "request_id": rid}, {"instance_names": instance, "request_id": rid},
                     {"instance_names": [instance]}, {"instance_names": [instance], "request_id": "not-a-uuid"},
                     {"instance_names": [instance], "request_id": "3f2b8c1e-9d4a-1b6e-8f00-1234567890ab"},
                     {"instance_names": [instance], "request_id": "3f2b8c1e-9d4a-4b6e-7f00-1234567890ab"}):
            status, answer = self.database_request(body)
            self.assertEqual((status, answer["error_code"]), (400, "INVALID_PARAMETER_VALUE"), body)
        status, answer = self.database_request({"instance_names": ["nope"], "request_id": rid})
        self.assertEqual((status, answer["error_code"]), (404, "NOT_FOUND"))
        self.assertIn("nope", answer["message"])
        status, answer = self.emu.json("POST", "/api/2.0/database/credentials",
                                       {"instance_names": [instance], "request_id": rid})
        self.assertEqual((status, answer["error_code"]), (401, "UNAUTHENTICATED"))

    def test_get_and_list_instances(self):
        instance = self.env["LAKEBASE_LOCAL_INSTANCE"]
        token = self.emu.access_token(self.client_id, self.secret)
        auth = {"Authorization": "Bearer " + token}
        status, answer = self.emu.json("GET", f"/api/2.0/database/instances/{instance}", None, auth)
        self.assertEqual(status, 200, answer)
        self.assertEqual((answer["name"], answer["state"], answer["read_write_dns"]), (instance, "AVAILABLE", "localhost"))
        self.assertNotIn("read_only_dns", answer)
        status, answer = self.emu.json("GET", "/api/2.0/database/instances/nope", None, auth)
        self.assertEqual((status, answer["error_code"]), (404, "NOT_FOUND"))
        self.assertIn("'nope'", answer["message"])
        # Paging: three instances, two per page.
        more = self.saved_config["instances"] + [
            {"name": "second", "read_write_dns": "localhost", "read_only_dns": "ro.localhost", "state": "STOPPED"},
            {"name": "third", "read_write_dns": "localhost"}]
        self.emu.ctl("POST", "config", {"instances": more})
        names, token_ = [], None
        for _ in range(3):
            query = "?page_size=2" + (f"&page_token={token_}" if token_ else "")
            status, answer = self.emu.json("GET", "/api/2.0/database/instances" + query, None, auth)
            self.assertEqual(status, 200, answer)
            names += [i["name"] for i in answer["database_instances"]]
            token_ = answer.get("next_page_token")
            if not token_:
                break
        self.assertEqual(names, [instance, "second", "third"])
        status, answer = self.emu.json("GET", "/api/2.0/database/instances/second", None, auth)
        self.assertEqual((answer["state"], answer["read_only_dns"]), ("STOPPED", "ro.localhost"))

    def test_list_projects_and_branches(self):
        token = self.emu.access_token(self.client_id, self.secret)
        auth = {"Authorization": "Bearer " + token}
        more = self.saved_config["endpoints"] + [
            {"name": "projects/demo/branches/dev/endpoints/ep1", "host": "localhost", "state": "IDLE",
             "endpoint_type": "ENDPOINT_TYPE_READ_WRITE"},
            {"name": "projects/other/branches/trunk/endpoints/rw", "host": "localhost", "state": "ACTIVE",
             "endpoint_type": "ENDPOINT_TYPE_READ_WRITE"}]
        self.emu.ctl("POST", "config", {"endpoints": more})

        def every(path, field):
            items, token_ = [], None
            for _ in range(5):
                query = "?page_size=1" + (f"&page_token={token_}" if token_ else "")
                status, answer = self.emu.json("GET", path + query, None, auth)
                self.assertEqual(status, 200, answer)
                items += answer[field]
                token_ = answer.get("next_page_token")
                if not token_:
                    return items
            self.fail("no last page")

        projects = every("/api/2.0/postgres/projects", "projects")
        self.assertEqual([p["name"] for p in projects], ["projects/demo", "projects/other"])
        self.assertEqual(projects[1]["status"]["display_name"], "other")
        branches = every("/api/2.0/postgres/projects/demo/branches", "branches")
        self.assertEqual([(b["name"], b["status"]["default"], b["status"]["current_state"]) for b in branches],
                         [("projects/demo/branches/main", True, "READY"),
                          ("projects/demo/branches/dev", False, "READY")])
        status, answer = self.emu.json("GET", "/api/2.0/postgres/projects/nope/branches", None, auth)
        self.assertEqual((status, answer["error_code"]), (404, "NOT_FOUND"))
        status, answer = self.emu.json("GET", "/api/2.0/postgres/projects")
        self.assertEqual((status, answer["error_code"]), (401, "UNAUTHENTICATED"))

    def test_instance_state_control(self):
        instance = self.env["LAKEBASE_LOCAL_INSTANCE"]
        token = self.emu.access_token(self.client_id, self.secret)
        get = lambda: self.emu.json("GET", f"/api/2.0/database/instances/{instance}", None,
                                    {"Authorization": "Bearer " + token})[1]["state"]
        self.emu.ctl("POST", "instance-state", {"name": instance, "state": "STARTING", "then": "AVAILABLE",
                                                "after_ms": 300})
        self.assertEqual(get(), "STARTING")
        deadline = time.monotonic() + 10
        while get() != "AVAILABLE" and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(get(), "AVAILABLE")
        for bad in ({"name": instance, "state": "ASLEEP"}, {"name": "nope", "state": "STOPPED"},
                    {"name": instance, "then": "AVAILABLE", "after_ms": -1}, {"name": instance, "colour": 1}):
            status, answer = self.emu.json("POST", "/_emulator/instance-state", bad)
            self.assertEqual((status, answer["error_code"]), (400, "INVALID_PARAMETER_VALUE"), bad)

    def test_token_exchange(self):
        jwt = read_state("oidc-token")
        grant = "urn:ietf:params:oauth:grant-type:token-exchange"
        jwt_type = "urn:ietf:params:oauth:token-type:jwt"

        def exchange(subject, **extra):
            form = dict(grant_type=grant, subject_token=subject, subject_token_type=jwt_type, scope="all-apis",
                        **extra)
            return self.emu.json("POST", "/oidc/v1/token", urllib.parse.urlencode(form),
                                 {"Content-Type": "application/x-www-form-urlencoded"})

        status, answer = exchange(jwt, client_id=self.client_id)
        self.assertEqual((status, answer["token_type"]), (200, "Bearer"), answer)
        status, cred = self.emu.credential_request(answer["access_token"], {"endpoint": self.endpoint})
        self.assertEqual(status, 200, cred)
        self.assertLogin(self.client_id, cred["token"])
        status, answer = exchange(jwt)                     # account-wide: the policy's principal
        self.assertEqual(status, 200, answer)
        for subject, extra, why in ((read_state("oidc-token-expired"), {}, "expired"),
                                    (jwt[:-4] + "AAAA", {}, "signature"),
                                    (jwt, {"client_id": self.noaccess_id}, "no federation policy"),
                                    ("not-a-jwt", {}, "not a JWT")):
            status, answer = exchange(subject, **extra)
            self.assertEqual((status, answer["error"]), (400, "invalid_grant"), why)
            self.assertIn(why, answer["error_description"])

    # -- people: PATs, SCIM Me, CLI logins (issue 10) ------------------------------------------
    def test_pat_scim_me_and_credential(self):
        pat = read_state("pat")
        user = self.env["LAKEBASE_PAT_USER"]
        bearer = {"Authorization": f"Bearer {pat}"}
        status, me = self.emu.json("GET", "/api/2.0/preview/scim/v2/Me", headers=bearer)
        self.assertEqual(status, 200, me)
        self.assertEqual(me["userName"], user)
        self.assertTrue(me["id"].isdigit())
        self.assertEqual(me["emails"][0]["value"], user)
        self.assertIn("urn:ietf:params:scim:schemas:core:2.0:User", me["schemas"])
        # 401 without a valid bearer, in the REST error shape.
        for headers in ({}, {"Authorization": "Bearer dapi-not-a-token"}):
            status, answer = self.emu.json("GET", "/api/2.0/preview/scim/v2/Me", headers=headers)
            self.assertEqual((status, answer["error_code"]), (401, "UNAUTHENTICATED"))
        # A credential issued for the PAT's person logs in as their role, and only as it.
        status, cred = self.emu.credential_request(pat, {"endpoint": self.endpoint})
        self.assertEqual(status, 200, cred)
        self.assertLogin(user, cred["token"])
        self.assertNoLogin(self.client_id, cred["token"])
        self.assertNoLogin(self.env["LAKEBASE_CLI_USER"], cred["token"])

    def test_scim_me_of_service_principal(self):
        at = self.emu.access_token(self.client_id, self.secret)
        status, me = self.emu.json("GET", "/api/2.0/preview/scim/v2/Me", headers={"Authorization": f"Bearer {at}"})
        self.assertEqual((status, me["userName"]), (200, self.client_id))

    def test_fake_cli(self):
        cli = self.env["LAKEBASE_FAKE_CLI"]
        env = dict(os.environ, LAKEBASE_FAKE_CLI_LOGINS=self.env["LAKEBASE_FAKE_CLI_LOGINS"])
        url = self.env["LAKEBASE_EMULATOR_URL"]
        proc = subprocess.run([cli, "auth", "token", "--host", url], env=env, capture_output=True, text=True,
                              timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        answer = json.loads(proc.stdout)
        self.assertEqual(sorted(answer), ["access_token", "expiry", "token_type"])
        self.assertRegex(answer["expiry"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d)$")
        status, me = self.emu.json("GET", "/api/2.0/preview/scim/v2/Me",
                                   headers={"Authorization": f"Bearer {answer['access_token']}"})
        self.assertEqual((status, me["userName"]), (200, self.env["LAKEBASE_CLI_USER"]))
        # Not logged in for that host: exit status 1, the message on standard error.
        proc = subprocess.run([cli, "auth", "token", "--host", "https://elsewhere.example"], env=env,
                              capture_output=True, text=True, timeout=30)
        self.assertEqual((proc.returncode, proc.stdout), (1, ""))
        self.assertIn("databricks auth login --host https://elsewhere.example", proc.stderr)


    # -- host discovery: pooled hosts, disabled, paging, ttl ----------------------------------
    def discovery_endpoints(self):
        base = self.saved_config["endpoints"][0]
        return [dict(base, read_only_host="127.0.0.1", read_write_pooled_host="pooled.localhost",
                     read_only_pooled_host="ro-pooled.localhost", disabled=True, state="IDLE")] + [
            {"name": f"projects/demo/branches/paged/endpoints/e{i}", "host": f"e{i}.localhost",
             "endpoint_type": "ENDPOINT_TYPE_READ_WRITE" if i == 2 else "ENDPOINT_TYPE_READ_ONLY"}
            for i in range(3)]

    def test_discovery_endpoint_fields(self):
        self.emu.ctl("POST", "config", {"endpoints": self.discovery_endpoints()})
        auth = {"Authorization": "Bearer " + self.emu.access_token(self.client_id, self.secret)}
        status, ep = self.emu.json("GET", "/api/2.0/postgres/" + self.endpoint, headers=auth)
        self.assertEqual(status, 200, ep)
        self.assertEqual(ep["status"]["hosts"], {"host": "localhost", "read_only_host": "127.0.0.1",
                                                 "read_write_pooled_host": "pooled.localhost",
                                                 "read_only_pooled_host": "ro-pooled.localhost"})
        self.assertIs(ep["status"]["disabled"], True)
        self.assertEqual(ep["status"]["current_state"], "IDLE")
        status, ep = self.emu.json("GET", "/api/2.0/postgres/projects/demo/branches/paged/endpoints/e0",
                                   headers=auth)
        self.assertNotIn("disabled", ep["status"])
        self.assertEqual(ep["status"]["hosts"], {"host": "e0.localhost"})
        bad = dict(self.saved_config["endpoints"][0], disabled="yes")
        status, answer = self.emu.json("POST", "/_emulator/config", {"endpoints": [bad]})
        self.assertEqual((status, answer["error_code"]), (400, "INVALID_PARAMETER_VALUE"))

    def test_endpoint_list_paging(self):
        self.emu.ctl("POST", "config", {"endpoints": self.discovery_endpoints(), "max_page_size": 1})
        auth = {"Authorization": "Bearer " + self.emu.access_token(self.client_id, self.secret)}
        path = "/api/2.0/postgres/projects/demo/branches/paged/endpoints"
        names, token, pages = [], None, 0
        while True:
            query = "?page_size=100" + (f"&page_token={token}" if token else "")
            status, page = self.emu.json("GET", path + query, headers=auth)
            self.assertEqual(status, 200, page)
            pages += 1
            self.assertEqual(len(page["endpoints"]), 1)      # capped by max_page_size
            names += [e["name"] for e in page["endpoints"]]
            token = page.get("next_page_token")
            if not token:
                break
        self.assertEqual((pages, names), (3, [f"projects/demo/branches/paged/endpoints/e{i}" for i in range(3)]))
        self.emu.ctl("POST", "config", {"max_page_size": 100})
        status, page = self.emu.json("GET", path + "?page_size=2", headers=auth)
        self.assertEqual((len(page["endpoints"]), bool(page.get("next_page_token"))), (2, True))
        status, page = self.emu.json("GET", path, headers=auth)
        self.assertEqual((len(page["endpoints"]), "next_page_token" in page), (3, False))
        for query in ("?page_size=101", "?page_size=x", "?page_token=bogus"):
            status, answer = self.emu.json("GET", path + query, headers=auth)
            self.assertEqual((status, answer["error_code"]), (400, "INVALID_PARAMETER_VALUE"), query)
        status, answer = self.emu.json("POST", "/_emulator/config", {"max_page_size": 0})
        self.assertEqual(status, 400)

    def test_credential_ttl(self):
        at = self.emu.access_token(self.client_id, self.secret)
        for ttl, lifetime in (("300s", 300), ("1800.5s", 1800), (None, 3600)):
            body = {"endpoint": self.endpoint} if ttl is None else {"endpoint": self.endpoint, "ttl": ttl}
            before = time.time()
            status, answer = self.emu.credential_request(at, body)
            self.assertEqual(status, 200, answer)
            exp = calendar.timegm(time.strptime(answer["expire_time"].split(".")[0].rstrip("Z"), "%Y-%m-%dT%H:%M:%S"))
            self.assertLessEqual(abs(exp - before - lifetime), 2, (ttl, answer["expire_time"]))
            self.assertLogin(self.client_id, answer["token"])
        for ttl in ("299s", "3601s", "600", "ten minutes", 600):
            status, answer = self.emu.credential_request(at, {"endpoint": self.endpoint, "ttl": ttl})
            self.assertEqual((status, answer["error_code"]), (400, "INVALID_PARAMETER_VALUE"), ttl)

if __name__ == "__main__":
    unittest.main()
