"""The benchmark's report (bench_run.py --doc): docs/benchmarks.md from a run's figures (the
table, the machine, the date and load, the issue's targets met or missed) and the chart of the
ratios beside it (benchmarks.png, drawn by gnuplot when it is installed)."""
import os
import shutil
import subprocess

# (case, metric, unit, driver variant, what the row measures)
ROWS = [
    ("fetch_getdata", "secs", "s", "driver", "{rows} rows x 10 mixed columns, SQLFetch + SQLGetData"),
    ("fetch_bound", "secs", "s", "driver", "{rows} rows x 10 columns, bound, rowset 1000"),
    ("prepared", "secs", "s", "driver", "{prepared} executes of a prepared one-row select"),
    ("cached_connect", "p50_ms", "ms", "driver", "{connects} cached connects, p50"),
    ("cached_connect", "p99_ms", "ms", "driver", "{connects} cached connects, p99"),
    ("cold_connect", "wall_ms", "ms", "driver", "cold connect, new process, +50 ms a request (process wall)"),
    ("cold_connect", "cpu_ms", "ms", "driver", "cold connect: the process's CPU"),
    ("storm", "p50_ms", "ms", "driver_auto", "{storm}-thread storm, TokenCache=auto, p50"),
    ("storm", "p99_ms", "ms", "driver_auto", "{storm}-thread storm, TokenCache=auto, p99"),
    ("storm", "p50_ms", "ms", "driver_off", "{storm}-thread storm, TokenCache=off, p50"),
    ("storm", "p99_ms", "ms", "driver_off", "{storm}-thread storm, TokenCache=off, p99"),
    ("isql", "secs", "s", "driver_auto", "{isql} isql processes, TokenCache=auto (default)"),
    ("isql", "secs", "s", "driver_file", "{isql} isql processes, TokenCache=file"),
    ("isql", "secs", "s", "driver_memory", "{isql} isql processes, TokenCache=memory"),
    ("isql", "secs", "s", "driver_off", "{isql} isql processes, TokenCache=off"),
    ("peak_rss", "kib", "KiB", "driver", "peak RSS, connect + {rss_rows} rows"),
]


NOTES_MARK = "<!-- Notes: written by hand; bench_report.py keeps everything below this line. -->"


def fmt(x):
    if x is None:
        return "-"
    return f"{x:.3g}" if abs(x) < 100 else f"{x:.0f}"


def get(results, case, variant, metric):
    return results.get(case, {}).get(variant, {}).get(metric)


def table_rows(data):
    res, size = data["results"], data["sizes"]
    names = dict(size)
    out = []
    for case, metric, unit, drv, what in ROWS:
        case = case.format(**names)
        d = get(res, case, drv, metric)
        if d is None:
            continue
        p, o = get(res, case, "psqlodbc", metric), get(res, case, "oauth", metric)
        rp = d["median"] / p["median"] if p and p["median"] else None
        ro = d["median"] / o["median"] if o and o["median"] else None
        out.append((what.format(**names), unit, d, p, o, rp, ro))
    return out


def chart(rows, png):
    """A bar chart of the ratios (driver / psqlODBC, driver / OAuth control); False without gnuplot."""
    gp = shutil.which("gnuplot")
    if gp is None:
        return False
    dat = png[:-4] + ".dat"
    with open(dat, "w") as f:
        for i, (what, _unit, _d, _p, _o, rp, ro) in enumerate(rows):
            label = what.replace('"', "'")
            if len(label) > 40:
                label = label[:38] + ".."
            f.write(f'{i} "{label}" {rp if rp is not None else "NaN"} {ro if ro is not None else "NaN"}\n')
    script = f"""set terminal pngcairo size 1100,{200 + 28 * len(rows)} font "sans,10" noenhanced
set output "{png}"
set title "lakebase-odbc: driver / psqlODBC alone (median of the rounds; 1 = no cost)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set xtics rotate by -35 left
set ytics nomirror
set grid ytics
set key outside top center horizontal
set rmargin 16
set logscale y 2
set yrange [0.25:*]
set bmargin 14
plot "{dat}" using 3:xtic(2) title "against psqlODBC (password role)", \\
     "" using 4 title "against the OAuth control (same role, credential fetched outside)", \\
     1 with lines lc rgb "black" notitle
"""
    try:
        r = subprocess.run([gp], input=script.encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    if r.returncode != 0:
        return False
    os.unlink(dat)
    return True


def write(data, path):
    rows = table_rows(data)
    png = os.path.splitext(path)[0] + ".png"
    has_chart = chart(rows, png)
    m = data["machine"]
    res = data["results"]
    lines = [
        "# Benchmarks",
        "",
        "Written by `scripts/bench.sh` (the runner is `tests/bench/bench_run.py`, the ODBC client",
        "`tests/bench/bench_client.c`); the figures of this run are in `build/bench/full/bench.json`",
        "when you run it yourself. Every case runs through the driver and straight through psqlODBC",
        "on the same local Lakebase (the workspace emulator and a real PostgreSQL 15), one process per",
        "measurement, the variants alternating round by round (A B C A B C ...). Two controls, both",
        "psqlODBC alone: **psqlODBC** logs in as the password role `lakebase_direct` (SCRAM), and the",
        "**OAuth control** logs in as the service principal's OAuth role with a credential fetched",
        "outside the driver. The local PostgreSQL checks OAuth credentials through PAM (`pam_exec`",
        "runs a shell script for every login), a cost real Lakebase does not have: the OAuth control",
        "pays it too, so the driver against the OAuth control is the driver's own cost.",
        "",
        f"- Date: {data['date']}; mode: {data['mode']}, {data['rounds']} rounds, {data.get('elapsed_s', '?')} s in all",
        f"- Machine: {m['cpu']}, {m['cpus']} CPUs, {m['memory_mib']} MiB, {m['os']}, Linux {m['kernel']}",
        f"- Load (1, 5, 15 min): {data['load_before']} at the start, {m['load']} at the end. The machine is",
        "  shared with other build and test sessions, so single figures are noisy; medians of the",
        "  alternating rounds are what to read.",
    ] + [f"- Rerun: `--cases {r['cases']}` at {r['date']}, {r.get('rounds', data['rounds'])} rounds, {r['elapsed_s']} s, "
         f"load {r['load_before']} at the start, {r['load_after']} at the end (its figures replace the first run's)"
         for r in data.get("reruns", [])] + [
        "",
        "## Figures (medians of the rounds; min in brackets)",
        "",
        "| case | unit | driver | psqlODBC | OAuth control | driver / psqlODBC | driver / OAuth |",
        "|---|---|---|---|---|---|---|",
    ]
    for what, unit, d, p, o, rp, ro in rows:
        cell = (lambda s: f"{fmt(s['median'])} ({fmt(s['min'])})" if s else "-")
        lines.append(f"| {what} | {unit} | {cell(d)} | {cell(p)} | {cell(o)} | {fmt(rp)} | {fmt(ro)} |")
    lines.append("")
    if has_chart:
        lines += [f"![driver / psqlODBC ratios]({os.path.basename(png)})", ""]

    def med(case, v, mtr):
        s = get(res, case, v, mtr)
        return s["median"] if s else None

    if "cold_connect" in res:
        lines += ["## Cold connect (a new process, an empty cache, 50 ms added to every HTTPS answer)", "",
                  "| variant | requests | TLS handshakes | connect (ms) | process CPU (ms) | steps (ms, from the driver's log) |",
                  "|---|---|---|---|---|---|"]
        for v, label in (("driver", "driver"), ("driver_discovery_cached", "driver, discovery in the file cache"),
                         ("oauth", "OAuth control (credential given)"), ("curl", "one curl process, same 3 requests")):
            if v not in res["cold_connect"]:
                continue
            steps = ", ".join(f"{k[5:]} {fmt(s['median'])}" for k, s in res["cold_connect"][v].items()
                              if k.startswith("step ") and k != "step total")
            lines.append(f"| {label} | {fmt(med('cold_connect', v, 'requests'))} | "
                         f"{fmt(med('cold_connect', v, 'tls_handshakes'))} | "
                         f"{fmt(med('cold_connect', v, 'connect_ms') or med('cold_connect', v, 'wall_ms'))} | "
                         f"{fmt(med('cold_connect', v, 'cpu_ms'))} | {steps or '-'} |")
        lines.append("")
    if "storm" in res:
        lines += ["## Storm: API calls per run (medians)", "", "| TokenCache | discovery | token | credential | TLS handshakes |",
                  "|---|---|---|---|---|"]
        for v in ("driver_auto", "driver_off"):
            lines.append(f"| {v[7:]} | " + " | ".join(fmt(med("storm", v, k)) for k in
                                                     ("discovery", "token", "credential", "tls_handshakes")) + " |")
        lines.append("")
    icase = "isql"
    if icase in res:
        lines += [f"## {data['sizes']['isql']} `isql` processes, one after another (DSN `lakebase-local`: no `Servername`, so "
                  "the host is looked up too)", "",
                  "| TokenCache | seconds | credential requests | API requests | / psqlODBC | / OAuth control |",
                  "|---|---|---|---|---|---|"]
        for v in ("driver_auto", "driver_file", "driver_memory", "driver_off"):
            s, p, o = med(icase, v, "secs"), med(icase, "psqlodbc", "secs"), med(icase, "oauth", "secs")
            if s is None:
                continue
            lines.append(f"| {v[7:]} | {fmt(s)} | {fmt(med(icase, v, 'credential'))} | {fmt(med(icase, v, 'requests'))} | "
                         f"{fmt(s / p if p else None)} | {fmt(s / o if o else None)} |")
        lines.append("")
    if "refresh" in res:
        life, secs, every = data["sizes"]["spread"]
        lines += ["## Connects across refresh points", "",
                  f"One process connects (and runs `SELECT 1`) every {every} ms for {secs} s while the emulator issues "
                  f"credentials that live {life} s (its `credential_lifetime` setting: the driver's "
                  "`CredentialLifetime` key asks for 300 s at least, whose refresh point comes after 150 s). "
                  f"Refresh ahead: `TokenRefreshMargin={life // 4}`, so past {life // 2} s the cached credential "
                  "is used while one background refresh runs. The control, synchronous refresh: "
                  f"`TokenRefreshMargin={life // 2}`, which puts the refresh point at the end of use, so the "
                  "connect that reaches it fetches on its own clock (the behaviour before refresh ahead). "
                  "There is no switch that turns refresh ahead off; this is the same driver with a margin "
                  "that leaves it no window.", "",
                  "| variant | p50 (ms) | p99 (ms) | max (ms) | credential requests |", "|---|---|---|---|---|"]
        for v in ("refresh_ahead", "sync_refresh"):
            lines.append(f"| {v.replace('_', ' ')} | " + " | ".join(fmt(med("refresh", v, k)) for k in
                                                                  ("p50_ms", "p99_ms", "max_ms", "credential")) + " |")
        lines.append("")
    lines += ["## Targets (issue 13; read from the table, not asserted)", "", "| target | measured | |", "|---|---|---|"]
    for t in data["targets"]:
        lines.append(f"| {t['target']} | {t['measured']} | {'met' if t['met'] else '**missed**'} |")
    lines.append("")
    if data["errors"]:
        lines += ["## Cases that errored", ""] + [f"- {e}" for e in data["errors"]] + [""]
    # The analysis written by hand below the marker survives a new run.
    kept = ""
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
        if NOTES_MARK in old:
            kept = old.split(NOTES_MARK, 1)[1].lstrip("\n")
    lines += [NOTES_MARK, "", kept.rstrip("\n") if kept else "## Notes\n\n(none yet)"]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(lines))
    print(f"report: {path}" + (f", chart {png}" if has_chart else " (no chart: gnuplot is not installed)"))
