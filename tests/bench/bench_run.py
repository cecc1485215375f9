#!/usr/bin/env python3
"""The benchmark's runner (issue 13; scripts/bench.sh brings up the local Lakebase and calls it).

Runs every case through the driver and straight through psqlODBC on the same server,
alternating the variants round by round (A B C A B C ...), and prints the median, the minimum
and the ratios per case. Two controls, both psqlODBC alone:
  psqlodbc  the password role lakebase_direct (SCRAM), what psqlODBC users have;
  oauth     the service principal's OAuth role with a credential fetched here, outside the
            driver (the local PostgreSQL checks OAuth roles through PAM, a cost real Lakebase
            does not have: this control pays it too, so it isolates the driver's own cost).
One process per measurement (bench_client), so each gets its CPU time and peak RSS (wait4).
Writes <out>/bench.json; with --doc also docs/benchmarks.md and docs/benchmarks.png (gnuplot).
Exits 1 when a case errors (a process failed or an answer was wrong); never on time.

Needs the environment of the test suite: LAKEBASE_LOCAL_STATE, LAKEBASE_EMULATOR_URL,
LAKEBASE_CLIENT_ID, LAKEBASE_PG_PORT, LAKEBASE_DRIVER, LAKEBASE_PSQLODBC, ODBCSYSINI."""
import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "emulator"))
from emulator_client import EmulatorClient  # noqa: E402

ENDPOINT = "projects/demo/branches/main/endpoints/primary"
DISCOVERY = "GET /oidc/.well-known/oauth-authorization-server"
TOKENS = "POST /oidc/v1/token"
CREDENTIALS = "POST /api/2.0/postgres/credentials"
LOOKUP = "GET /api/2.0/postgres/" + ENDPOINT

# Sizes and rounds: (full, quick). --set NAME=VALUE overrides one (a loaded machine: see
# docs/benchmarks.md for the sizes of the published run).
SIZES = {
    "rounds": (7, 2),
    "rows": (1_000_000, 5_000),
    "prepared": (20_000, 500),
    "connects": (300, 10),
    "storm": (64, 8),
    "isql": (50, 3),
    "rss_rows": (10_000, 1_000),
    # connects across refresh points: credential lifetime (emulator, s), run length (s),
    # interval between connects (ms)
    "spread": ((16, 18, 60), (4, 5, 100)),
}


# The figures' case names under the runner's case names (--cases).
CASE_OF = {"fetch_getdata": "after_connect", "fetch_bound": "after_connect", "prepared": "after_connect",
           "cached_connect": "connects", "cold_connect": "cold", "peak_rss": "rss"}


class CaseError(Exception):
    pass


def children_cpu_since(before):
    """CPU seconds (user + system) of the child processes reaped since `before`."""
    now = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (now.ru_utime - before.ru_utime) + (now.ru_stime - before.ru_stime)


def pct(values, p):
    """The p-th percentile (nearest rank)."""
    v = sorted(values)
    if not v:
        return None
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


class Bench:
    def __init__(self, args):
        self.quick = args.quick
        self.size = {k: v[1] if args.quick else v[0] for k, v in SIZES.items()}
        for kv in args.set or []:
            k, _, v = kv.partition("=")
            if k not in SIZES:
                raise SystemExit(f"--set {kv}: no such size (one of {', '.join(SIZES)})")
            self.size[k] = [int(x) for x in v.split(",")] if k == "spread" else int(v)
        self.rounds = self.size["rounds"]
        self.client = args.client
        self.out = os.path.abspath(args.out)
        self.only = set(args.cases.split(",")) if args.cases else None
        os.makedirs(self.out, exist_ok=True)
        self.work = tempfile.mkdtemp(prefix="work-", dir=self.out)
        env = os.environ
        self.state = env["LAKEBASE_LOCAL_STATE"]
        self.url = env["LAKEBASE_EMULATOR_URL"]
        self.client_id = env["LAKEBASE_CLIENT_ID"]
        self.pg_port = env["LAKEBASE_PG_PORT"]
        self.driver = env["LAKEBASE_DRIVER"]
        self.psqlodbc = env["LAKEBASE_PSQLODBC"]
        self.ca = os.path.join(self.state, "ca.pem")
        self.secret = self.read(os.path.join(self.state, "client-secret"))
        self.direct_pw = self.read(os.path.join(self.state, "direct-password"))
        self.emu = EmulatorClient.from_env()
        self.results = {}
        self.errors = []

    @staticmethod
    def read(path):
        with open(path) as f:
            return f.read().strip()

    # -- connection strings and environments ----------------------------------------------
    def connstr(self, variant, extra=""):
        pg = (f"Servername=localhost;Port={self.pg_port};Database=databricks_postgres;SSLmode=require;")
        if variant == "driver":
            return (f"Driver={{{self.driver}}};DatabricksHost={self.url};ClientID={self.client_id};"
                    f"ClientSecret={{{self.secret}}};Endpoint={ENDPOINT};CAFile={{{self.ca}}};"
                    f"SSLRootCert={{{self.ca}}};{pg}{extra}")
        pq = f"pqopt={{sslrootcert='{self.ca}'}};Debug=0;CommLog=0;"
        if variant == "psqlodbc":
            return f"Driver={{{self.psqlodbc}}};{pg}{pq}UID=lakebase_direct;PWD={{{self.direct_pw}}};{extra}"
        if variant == "oauth":
            return f"Driver={{{self.psqlodbc}}};{pg}{pq}UID={self.client_id};PWD={{{self.oauth_credential()}}};{extra}"
        raise ValueError(variant)

    def oauth_credential(self):
        """A database credential fetched outside the driver (token, then credential), kept for
        10 minutes (the emulator's default lifetime is an hour)."""
        now = time.monotonic()
        if getattr(self, "_cred", None) and now - self._cred[1] < 600:
            return self._cred[0]
        basic = urllib.parse.quote(self.client_id, safe="") + ":" + urllib.parse.quote(self.secret, safe="")
        import base64
        auth = "Basic " + base64.b64encode(basic.encode()).decode()
        status, tok = self.emu.json("POST", "/oidc/v1/token", "grant_type=client_credentials&scope=all-apis",
                                    {"Authorization": auth, "Content-Type": "application/x-www-form-urlencoded"})
        if status != 200:
            raise CaseError(f"control: token request answered {status}")
        status, cred = self.emu.json("POST", "/api/2.0/postgres/credentials", {"endpoint": ENDPOINT},
                                     {"Authorization": "Bearer " + tok["access_token"]})
        if status != 200:
            raise CaseError(f"control: credential request answered {status}")
        self._cred = (cred["token"], now)
        return cred["token"]

    def env(self, cache="auto", xdg=None, extra_env=None):
        e = dict(os.environ)
        e["LAKEBASE_ODBC_TOKEN_CACHE"] = cache
        e["XDG_CACHE_HOME"] = xdg or os.path.join(self.work, "xdg-shared")
        e.update(extra_env or {})
        return e

    def fresh_xdg(self, name):
        path = os.path.join(self.work, "xdg-" + name)
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path, mode=0o700)
        return path

    # -- one process ------------------------------------------------------------------------
    def run(self, argv, env, stdin=None, what=""):
        """Runs argv to its end; (wall seconds, stdout, stderr). CaseError unless it exits 0."""
        t0 = time.monotonic()
        p = subprocess.run(argv, env=env, input=stdin.encode() if stdin is not None else None,
                           stdin=None if stdin is not None else subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=900)
        wall = time.monotonic() - t0
        if p.returncode != 0:
            raise CaseError(f"{what or argv[0]}: exit {p.returncode}: {p.stderr.decode(errors='replace').strip()[-600:]}")
        return wall, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")

    def client_run(self, case, args, variant, env, extra=""):
        e = dict(env)
        e["LB_BENCH_CONNSTR"] = self.connstr(variant, extra)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall, out, _ = self.run([self.client, case] + [str(a) for a in args], e, what=f"{case} ({variant})")
        fig = json.loads(out.strip().splitlines()[-1])
        fig["wall_s"] = wall
        fig["cpu_s"] = children_cpu_since(before)
        return fig

    # -- recording --------------------------------------------------------------------------
    def record(self, case, variant, metric, value):
        self.results.setdefault(case, {}).setdefault(variant, {}).setdefault(metric, []).append(value)

    def summary(self, case, metric, variant):
        vals = self.results.get(case, {}).get(variant, {}).get(metric)
        if not vals:
            return None
        return {"median": statistics.median(vals), "min": min(vals), "n": len(vals)}

    def print_case(self, case, metric, unit, variants=("driver", "psqlodbc", "oauth"), base="driver"):
        b = self.summary(case, metric, base)
        line = [f"{case:<22} {metric:<8}"]
        for v in variants:
            s = self.summary(case, metric, v)
            if s is None:
                continue
            line.append(f"{v}: median {s['median']:.4g} {unit}, min {s['min']:.4g}")
        for v in variants:
            s = self.summary(case, metric, v)
            if v != base and s and b and s["median"]:
                line.append(f"{base}/{v} {b['median'] / s['median']:.3f}")
        print(" | ".join(line), flush=True)

    def stats_reset(self):
        self.emu.reset_stats()

    def api_calls(self):
        s = self.emu.stats()
        return {"discovery": s.get(DISCOVERY, 0), "token": s.get(TOKENS, 0), "credential": s.get(CREDENTIALS, 0),
                "lookup": s.get(LOOKUP, 0), "tls_handshakes": s.get("tls_handshakes", 0),
                "requests": sum(v for k, v in s.items() if k != "tls_handshakes" and isinstance(v, int))}

    def wanted(self, case):
        return self.only is None or case in self.only

    def guarded(self, case, fn):
        if not self.wanted(case):
            return
        try:
            fn()
        except (CaseError, OSError, ValueError, KeyError, subprocess.TimeoutExpired) as e:
            self.errors.append(f"{case}: {e}")
            print(f"{case}: ERROR {e}", file=sys.stderr, flush=True)
        finally:
            try:
                self.emu.clear_faults()
            except Exception:  # the next case reports its own failure
                pass

    # -- cases ------------------------------------------------------------------------------
    def case_after_connect(self):
        env = self.env()
        for case, arg in (("fetch_getdata", self.size["rows"]), ("fetch_bound", self.size["rows"]),
                          ("prepared", self.size["prepared"])):
            mode = {"fetch_getdata": "getdata", "fetch_bound": "bound", "prepared": "prepared"}[case]
            for _ in range(self.rounds):
                for v in ("driver", "psqlodbc", "oauth"):
                    self.record(case, v, "secs", self.client_run(mode, [arg], v, env)["secs"])
            self.print_case(case, "secs", "s")

    def case_connects(self):
        env = self.env()
        for _ in range(self.rounds):
            for v in ("driver", "psqlodbc", "oauth"):
                t = self.client_run("connects", [self.size["connects"]], v, env)["times_ms"]
                self.record("cached_connect", v, "p50_ms", pct(t, 50))
                self.record("cached_connect", v, "p99_ms", pct(t, 99))
        self.print_case("cached_connect", "p50_ms", "ms")
        self.print_case("cached_connect", "p99_ms", "ms")

    def parse_steps(self, log):
        """The driver's "connect: ok in N ms (settings N ms; ...)" line as {step: ms}."""
        with open(log) as f:
            lines = [l for l in f if "connect: ok in " in l]
        if not lines:
            raise CaseError("cold connect: the driver's log has no \"connect: ok\" line")
        text = lines[-1].split("connect: ok in ", 1)[1]
        steps = {"total": float(text.split(" ms", 1)[0])}
        inner = text[text.index("(") + 1:text.rindex(")")]
        for part in inner.split(";"):
            words = part.strip().split(" ms", 1)[0].rsplit(" ", 1)
            steps[words[0]] = float(words[1])
        return steps

    def curl_control(self, latency):
        """One curl process making the driver's three requests over one connection."""
        token = self.emu.json("POST", "/oidc/v1/token", "grant_type=client_credentials&scope=all-apis", {
            "Authorization": "Basic " + __import__("base64").b64encode(
                f"{urllib.parse.quote(self.client_id, safe='')}:{urllib.parse.quote(self.secret, safe='')}".encode()
            ).decode(), "Content-Type": "application/x-www-form-urlencoded"})[1]["access_token"]
        ca = f'cacert = "{self.ca}"'  # "next" resets every option: each request names it
        conf = "\n".join([
            f'url = "{self.url}/oidc/.well-known/oauth-authorization-server"', 'output = "/dev/null"', ca, "next",
            f'url = "{self.url}/oidc/v1/token"', f'user = "{self.client_id}:{self.secret}"',
            'data = "grant_type=client_credentials&scope=all-apis"', 'output = "/dev/null"', ca, "next",
            f'url = "{self.url}/api/2.0/postgres/credentials"', ca,
            f'header = "Authorization: Bearer {token}"', 'header = "Content-Type: application/json"',
            f'data = "{{\\"endpoint\\": \\"{ENDPOINT}\\"}}"', 'output = "/dev/null"']) + "\n"
        if latency:
            self.emu.add_faults({"method": "*", "path": "/*", "count": -1, "latency_ms": latency})
        self.stats_reset()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall, _, _ = self.run(["curl", "-sS", "--fail", "-K", "-"], self.env(), stdin=conf,
                              what="curl")
        cpu = children_cpu_since(before)
        self.emu.clear_faults()
        calls = self.api_calls()
        return wall, cpu, calls

    def case_cold(self):
        latency = 50
        log = os.path.join(self.work, "cold.log")
        for _ in range(self.rounds):
            for v in ("driver", "driver_discovery_cached", "oauth", "curl"):
                if v == "curl":
                    wall, cpu, calls = self.curl_control(latency)
                    self.record("cold_connect", v, "wall_ms", wall * 1e3)
                    self.record("cold_connect", v, "cpu_ms", cpu * 1e3)
                    self.record("cold_connect", v, "requests", calls["requests"])
                    self.record("cold_connect", v, "tls_handshakes", calls["tls_handshakes"])
                    continue
                if v == "oauth":
                    self.oauth_credential()  # fetched before the clock starts
                    fig = self.client_run("once", [], "oauth", self.env())
                    self.record("cold_connect", v, "wall_ms", fig["wall_s"] * 1e3)
                    self.record("cold_connect", v, "connect_ms", fig["times_ms"][0])
                    self.record("cold_connect", v, "cpu_ms", fig["cpu_s"] * 1e3)
                    continue
                xdg = self.fresh_xdg("cold")
                if v == "driver_discovery_cached":
                    # A process that finds the discovered token endpoint (a public file) but no
                    # credential: run once, then drop every sealed (credential) file.
                    self.client_run("once", [], "driver", self.env(xdg=xdg))
                    for name in os.listdir(os.path.join(xdg, "lakebase-odbc")):
                        path = os.path.join(xdg, "lakebase-odbc", name)
                        if name.endswith(".cred"):
                            with open(path) as f:
                                f.readline()
                                if f.readline().strip() != "public":
                                    os.unlink(path)
                if os.path.exists(log):
                    os.unlink(log)
                self.emu.add_faults({"method": "*", "path": "/*", "count": -1, "latency_ms": latency})
                self.stats_reset()
                fig = self.client_run("once", [], "driver", self.env(xdg=xdg),
                                      extra=f"LogLevel=info;LogFile={{{log}}};")
                self.emu.clear_faults()
                calls = self.api_calls()
                self.record("cold_connect", v, "wall_ms", fig["wall_s"] * 1e3)
                self.record("cold_connect", v, "connect_ms", fig["times_ms"][0])
                self.record("cold_connect", v, "cpu_ms", fig["cpu_s"] * 1e3)
                self.record("cold_connect", v, "requests", calls["requests"])
                self.record("cold_connect", v, "tls_handshakes", calls["tls_handshakes"])
                for step, ms in self.parse_steps(log).items():
                    self.record("cold_connect", v, "step " + step, ms)
        vs = ("driver", "driver_discovery_cached", "oauth", "curl")
        for m in ("wall_ms", "connect_ms", "cpu_ms", "requests", "tls_handshakes"):
            self.print_case("cold_connect", m, "", variants=vs)
        for v in ("driver", "driver_discovery_cached"):
            steps = {m[5:]: s["median"] for m in self.results["cold_connect"][v] if m.startswith("step ")
                     for s in [self.summary("cold_connect", m, v)]}
            print(f"cold_connect steps ({v}, medians, ms): " + ", ".join(f"{k} {x:.0f}" for k, x in steps.items()))

    def case_storm(self):
        n = self.size["storm"]
        for _ in range(self.rounds):
            for v, cache in (("driver_auto", "auto"), ("driver_off", "off"), ("psqlodbc", None), ("oauth", None)):
                self.stats_reset()
                try:  # a failed run is reported (the bench fails) and the rounds go on
                    if cache:
                        fig = self.client_run("storm", [n], "driver",
                                              self.env(cache=cache, xdg=self.fresh_xdg("storm")))
                        calls = self.api_calls()
                        for k in ("discovery", "token", "credential", "tls_handshakes"):
                            self.record("storm", v, k, calls[k])
                    else:
                        fig = self.client_run("storm", [n], v, self.env())
                except CaseError as e:
                    self.errors.append(f"storm ({v}): {e}")
                    print(f"storm ({v}): ERROR {e}", file=sys.stderr, flush=True)
                    continue
                self.record("storm", v, "p50_ms", pct(fig["times_ms"], 50))
                self.record("storm", v, "p99_ms", pct(fig["times_ms"], 99))
        vs = ("driver_auto", "driver_off", "psqlodbc", "oauth")
        for m in ("p50_ms", "p99_ms"):
            self.print_case("storm", m, "ms", variants=vs, base="driver_auto")
            self.print_case("storm", m, "ms", variants=("driver_off", "oauth"), base="driver_off")
        for m in ("discovery", "token", "credential", "tls_handshakes"):
            self.print_case("storm", m, "", variants=("driver_auto", "driver_off"))

    def write_isql_ini(self):
        ini = os.path.join(self.work, "odbc.ini")
        base = self.read(os.environ.get("ODBCINI") or os.path.join(self.state, "odbc.ini"))
        pg = ["Servername=localhost", f"Port={self.pg_port}", "Database=databricks_postgres", "SSLmode=require",
              f"pqopt=sslrootcert={self.ca}"]
        text = base + "\n\n[bench-psqlodbc]\nDriver=PostgreSQL Unicode\n" + "\n".join(pg) + \
            f"\nUsername=lakebase_direct\nPassword={self.direct_pw}\n" + \
            "\n[bench-oauth]\nDriver=PostgreSQL Unicode\n" + "\n".join(pg) + \
            f"\nUsername={self.client_id}\nPassword={self.oauth_credential()}\n"
        fd = os.open(ini, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        return ini

    def case_isql(self):
        n = self.size["isql"]
        modes = ("auto", "file", "memory", "off")
        for _ in range(self.rounds):
            ini = self.write_isql_ini()
            for v in [f"driver_{m}" for m in modes] + ["psqlodbc", "oauth"]:
                dsn = "lakebase-local" if v.startswith("driver") else "bench-" + v
                cache = v[7:] if v.startswith("driver") else "auto"
                env = self.env(cache=cache, xdg=self.fresh_xdg("isql"), extra_env={"ODBCINI": ini})
                self.stats_reset()
                t0 = time.monotonic()
                for _i in range(n):
                    _, out, _ = self.run(["isql", "-b", dsn], env, stdin="SELECT 1\n", what=f"isql {dsn}")
                    if "1 rows fetched" not in out:
                        raise CaseError(f"isql {dsn}: no result row in {out[-200:]!r}")
                secs = time.monotonic() - t0
                self.record("isql", v, "secs", secs)
                if v.startswith("driver"):
                    calls = self.api_calls()
                    for k in ("credential", "requests"):
                        self.record("isql", v, k, calls[k])
        case = "isql"
        vs = tuple(f"driver_{m}" for m in modes)
        for base in vs:
            self.print_case(case, "secs", "s", variants=(base, "psqlodbc", "oauth"), base=base)
        for m in ("credential", "requests"):
            self.print_case(case, m, "", variants=vs)

    def case_refresh(self):
        life, secs, every = self.size["spread"]
        # A credential lives `life` s. Refresh ahead: margin life/4, so past life/2 (the
        # refresh point) the cached one is used while one background refresh runs. The
        # control, margin life/2: the refresh point is the end of use, so the connect that
        # reaches it fetches on its own clock (a synchronous refresh, as before refresh ahead).
        self.emu.set_config({"credential_lifetime": life})
        try:
            for _ in range(self.rounds):
                for v, margin in (("refresh_ahead", life // 4), ("sync_refresh", life // 2)):
                    self.stats_reset()
                    fig = self.client_run("spread", [secs, every], "driver", self.env(cache="memory"),
                                          extra=f"TokenRefreshMargin={margin};")
                    t = fig["times_ms"]
                    self.record("refresh", v, "p50_ms", pct(t, 50))
                    self.record("refresh", v, "p99_ms", pct(t, 99))
                    self.record("refresh", v, "max_ms", max(t))
                    self.record("refresh", v, "credential", self.api_calls()["credential"])
        finally:
            self.emu.set_config({"credential_lifetime": 3600})
        for m in ("p50_ms", "p99_ms", "max_ms", "credential"):
            self.print_case("refresh", m, "" if m == "credential" else "ms", variants=("refresh_ahead", "sync_refresh"),
                            base="refresh_ahead")

    def case_rss(self):
        for _ in range(self.rounds):
            for v in ("driver", "psqlodbc", "oauth"):
                fig = self.client_run("rss", [self.size["rss_rows"]], v, self.env())
                self.record("peak_rss", v, "kib", fig["maxrss_kib"])
        self.print_case("peak_rss", "kib", "KiB")

    # -- report -------------------------------------------------------------------------------
    def med(self, case, variant, metric):
        s = self.summary(case, metric, variant)
        return s["median"] if s else None

    def targets(self):
        """[(target, measured text, met)] from the medians, as the issue words them."""
        t = []
        m = self.med

        def ratio(case, metric, a, b):
            x, y = m(case, a, metric), m(case, b, metric)
            return x / y if x is not None and y else None

        for case in ("fetch_getdata", "fetch_bound", "prepared"):
            r1, r2 = ratio(case, "secs", "driver", "psqlodbc"), ratio(case, "secs", "driver", "oauth")
            if r1 is not None:
                t.append((f"after connect ({case}): ratio at most 1.01",
                          f"{r1:.3f} against psqlODBC, {r2:.3f} against the OAuth control", max(r1, r2) <= 1.01))
        r = ratio("cached_connect", "p50_ms", "driver", "oauth")
        if r is not None:
            r99 = ratio("cached_connect", "p99_ms", "driver", "oauth")
            t.append(("cached connect against the OAuth control: at most 1.02",
                      f"p50 {r:.3f}, p99 {r99:.3f} (against psqlODBC's password role: p50 "
                      f"{ratio('cached_connect', 'p50_ms', 'driver', 'psqlodbc'):.3f})", r <= 1.02))
        if m("cold_connect", "driver", "tls_handshakes") is not None:
            h1, q1 = m("cold_connect", "driver", "tls_handshakes"), m("cold_connect", "driver", "requests")
            h2, q2 = (m("cold_connect", "driver_discovery_cached", "tls_handshakes"),
                      m("cold_connect", "driver_discovery_cached", "requests"))
            t.append(("cold connect: one TLS handshake; three requests with discovery, two when it is cached",
                      f"{h1:g} handshake(s), {q1:g} requests; discovery cached: {h2:g}, {q2:g}",
                      h1 == 1 and q1 == 3 and h2 == 1 and q2 == 2))
            cd, co, cc = m("cold_connect", "driver", "cpu_ms"), m("cold_connect", "oauth", "cpu_ms"), \
                m("cold_connect", "curl", "cpu_ms")
            if cc:
                t.append(("cold connect CPU: at most 1.2x one curl process making the same requests",
                          f"driver process {cd:.0f} ms - OAuth control process {co:.0f} ms = {cd - co:.0f} ms for "
                          f"the HTTPS part, curl {cc:.0f} ms: {(cd - co) / cc:.2f}x", (cd - co) / cc <= 1.2))
        case = "isql"
        if m(case, "driver_auto", "secs") is not None:
            cr = m(case, "driver_auto", "credential")
            r = ratio(case, "secs", "driver_auto", "oauth")
            t.append((f"{self.size['isql']} isql runs, default settings: at most one credential request",
                      f"{cr:g}", cr <= 1))
            t.append((f"{self.size['isql']} isql runs, default settings: at most 1.1x the OAuth control",
                      f"{r:.3f} (against psqlODBC's password role {ratio(case, 'secs', 'driver_auto', 'psqlodbc'):.3f})",
                      r <= 1.1))
        if m("storm", "driver_off", "discovery") is not None:
            d, k = m("storm", "driver_off", "discovery"), m("storm", "driver_off", "token")
            t.append(("storm with TokenCache=off: one discovery and one token request",
                      f"{d:g} discovery, {k:g} token, {m('storm', 'driver_off', 'credential'):g} credential requests",
                      d == 1 and k == 1))
        if m("refresh", "refresh_ahead", "p99_ms") is not None and m("cached_connect", "driver", "p99_ms"):
            p, c = m("refresh", "refresh_ahead", "p99_ms"), m("cached_connect", "driver", "p99_ms")
            t.append(("connects across refresh points: p99 within 1.1x of a cached connect",
                      f"p99 {p:.1f} ms against {c:.1f} ms: {p / c:.2f}x (synchronous refresh: p99 "
                      f"{m('refresh', 'sync_refresh', 'p99_ms'):.1f} ms, max {m('refresh', 'sync_refresh', 'max_ms'):.1f}"
                      f" ms; refresh ahead max {m('refresh', 'refresh_ahead', 'max_ms'):.1f} ms)", p / c <= 1.1))
        if m("peak_rss", "driver", "kib") is not None:
            d = m("peak_rss", "driver", "kib") - m("peak_rss", "psqlodbc", "kib")
            t.append(("peak RSS: at most 1.5 MiB over psqlODBC alone", f"{d / 1024:+.2f} MiB", d <= 1536))
        return t

    def machine(self):
        cpu = ""
        try:
            with open("/proc/cpuinfo") as f:
                cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
        except OSError:
            pass
        with open("/proc/meminfo") as f:
            mem = int(f.readline().split()[1]) // 1024
        with open("/proc/loadavg") as f:
            load = " ".join(f.read().split()[:3])
        return {"cpu": cpu, "cpus": os.cpu_count(), "memory_mib": mem, "kernel": platform.release(),
                "os": self.os_name(), "load": load}

    @staticmethod
    def os_name():
        try:
            with open("/etc/os-release") as f:
                for l in f:
                    if l.startswith("PRETTY_NAME="):
                        return l.split("=", 1)[1].strip().strip('"')
        except OSError:
            pass
        return platform.system()

    def report(self, started, load_before):
        data = {"date": started, "mode": "quick" if self.quick else "full", "rounds": self.rounds,
                "sizes": self.size, "machine": self.machine(), "load_before": load_before,
                "results": {c: {v: {k: {"values": vals, **self.summary(c, k, v)} for k, vals in ms.items()}
                                for v, ms in vs.items()} for c, vs in self.results.items()},
                "targets": [{"target": a, "measured": b, "met": c} for a, b, c in self.targets()],
                "errors": self.errors}
        path = os.path.join(self.out, "bench.json")
        with open(path, "w") as f:
            json.dump(data, f, indent=1)
        print(f"figures: {path}")
        for a, b, c in self.targets():
            print(f"target {'MET   ' if c else 'MISSED'} {a}: {b}")
        return data


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds and smaller sizes (CI)")
    ap.add_argument("--set", action="append", metavar="NAME=VALUE",
                    help="override a size: " + ", ".join(SIZES) + " (spread: LIFE,SECONDS,MS)")
    ap.add_argument("--client", required=True, help="the bench_client program")
    ap.add_argument("--out", required=True, help="folder for bench.json")
    ap.add_argument("--cases", help="comma-separated: after_connect,connects,cold,storm,isql,refresh,rss")
    ap.add_argument("--merge", action="store_true",
                    help="keep the earlier bench.json's figures of the cases not named in --cases")
    ap.add_argument("--doc", help="write the Markdown report here (and the chart beside it)")
    args = ap.parse_args()
    b = Bench(args)
    if args.merge:  # the figures of an earlier run, for the cases not run again now
        with open(os.path.join(b.out, "bench.json")) as f:
            old = json.load(f)
        b.results = {c: {v: {m: s["values"] for m, s in ms.items()} for v, ms in vs.items()}
                     for c, vs in old["results"].items() if not b.wanted(CASE_OF.get(c, c))}
        b.errors = [e for e in old["errors"] if not b.wanted(CASE_OF.get(e.split(":")[0], e.split(":")[0]))]
        b.earlier = old
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    with open("/proc/loadavg") as f:
        load_before = " ".join(f.read().split()[:3])
    print(f"bench: {'quick' if b.quick else 'full'} mode, {b.rounds} rounds, load {load_before}", flush=True)
    t0 = time.monotonic()
    for name in ("after_connect", "connects", "cold", "storm", "isql", "refresh", "rss"):
        b.guarded(name, getattr(b, "case_" + name))
    data = b.report(started, load_before)
    data["elapsed_s"] = round(time.monotonic() - t0, 1)
    earlier = getattr(b, "earlier", None)
    if earlier:  # the run stays the earlier one's; this one is a rerun of some cases
        data["reruns"] = earlier.get("reruns", []) + [
            {"cases": args.cases, "date": started, "rounds": b.rounds, "load_before": load_before,
             "elapsed_s": data["elapsed_s"], "load_after": data["machine"]["load"]}]
        for k in ("date", "rounds", "load_before", "elapsed_s", "machine"):
            data[k] = earlier.get(k)
    with open(os.path.join(b.out, "bench.json"), "w") as f:
        json.dump(data, f, indent=1)
    if args.doc:
        import bench_report
        bench_report.write(data, args.doc)
    shutil.rmtree(b.work, ignore_errors=True)
    print(f"bench: {data['elapsed_s']} s")
    if b.errors:
        print("bench: cases that errored:\n  " + "\n  ".join(b.errors), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
