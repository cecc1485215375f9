"""The emulator's command line (see the package docstring): parse the arguments, build the state
and compute, listen, prune expired credentials until SIGTERM/SIGINT, then clean up.
Run as `python3 -m lakebase_emulator` or through the ../lakebase_emulator.py launcher."""

import argparse
import json
import os
import signal
import threading
import time

from . import __doc__ as PACKAGE_DOC
from . import common
from .common import log
from .azure import ImdsServer
from .compute import Compute
from .server import listen
from .state import State


def main():
    ap = argparse.ArgumentParser(description=PACKAGE_DOC.split("\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--live-file", required=True)
    ap.add_argument("--pidfile")
    ap.add_argument("--log")
    ap.add_argument("--record-issued", metavar="FILE",
                    help="append every issued database credential and access token (mode 0600)")
    ap.add_argument("--wrong-host-port", type=int,
                    help="second HTTPS port, serving --wrong-host-cert (another host name)")
    ap.add_argument("--wrong-host-cert")
    ap.add_argument("--wrong-host-key")
    ap.add_argument("--imds-port", type=int,
                    help="plain-HTTP port on 127.0.0.1 serving the Azure instance metadata service")
    args = ap.parse_args()
    if (args.wrong_host_port is None) != (args.wrong_host_cert is None) or \
            (args.wrong_host_cert is None) != (args.wrong_host_key is None):
        ap.error("--wrong-host-port, --wrong-host-cert and --wrong-host-key go together")
    if args.log:
        common._log_file = open(args.log, "a", buffering=1)

    with open(args.config) as f:
        config = json.load(f)
    state = State(config, args.live_file, args.record_issued)
    if config.get("compute"):
        state.compute = Compute(config["compute"], state)

    started = time.time()
    servers = listen(args.port, state, args.cert, args.key, started, "emulator")
    if args.wrong_host_port is not None:
        servers += listen(args.wrong_host_port, state, args.wrong_host_cert, args.wrong_host_key,
                          started, "wrong-host listener")

    if args.imds_port is not None:
        try:
            servers.append(ImdsServer(("127.0.0.1", args.imds_port), state))
        except OSError as e:
            log(f"cannot listen on 127.0.0.1:{args.imds_port} (metadata service): {e.strerror}")
            raise SystemExit(1)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    for srv in servers:
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    if args.pidfile:
        with open(args.pidfile + ".tmp", "w") as f:
            f.write(f"{os.getpid()}\n")
        os.replace(args.pidfile + ".tmp", args.pidfile)
    extra = f", wrong-host listener on port {args.wrong_host_port}" if args.wrong_host_port else ""
    compute = f", compute on port {state.compute.port}" if state.compute else ""
    compute += f", metadata service on http://127.0.0.1:{args.imds_port}" if args.imds_port else ""
    log(f"listening on https://localhost:{args.port} (pid {os.getpid()}){extra}{compute}, "
        f"live file {args.live_file}")

    while not stop.wait(1.0):
        state.prune_expired()

    for srv in servers:
        srv.shutdown()
        srv.server_close()
    if state.compute is not None:   # release PostgreSQL's port; a running start may finish
        state.compute.shutdown()
    with state.lock:            # nothing stays valid once the emulator is gone
        state.live = []
        state.write_live_file()
    if args.pidfile:
        try:
            os.unlink(args.pidfile)
        except FileNotFoundError:
            pass
    log("stopped")


if __name__ == "__main__":
    main()
