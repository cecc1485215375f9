"""Scale to zero: the compute behind one endpoint (class Compute: suspend, wake on first use,
resume) and the PortHolder that listens on PostgreSQL's port while it is suspended."""

import errno
import selectors
import socket
import subprocess
import threading
import time

from .common import log, rest_error


class PortHolder:
    """Listens on PostgreSQL's port while the compute is suspended. The first connection is
    closed at once (EOF before any PostgreSQL message), the port is released, and on_connect
    is called (from the holder's own thread) to start the wake."""

    def __init__(self, hosts, port, on_connect):
        self.hosts, self.port, self.on_connect = hosts, port, on_connect
        self.socks = []
        self.thread = None
        self._wake_r, self._wake_w = socket.socketpair()

    def open(self):
        """Bind every host (raises OSError if 127.0.0.1 or a bindable ::1 is still taken)."""
        try:
            for host in self.hosts:
                family = socket.AF_INET6 if ":" in host else socket.AF_INET
                try:
                    sock = socket.socket(family, socket.SOCK_STREAM)
                except OSError:
                    if family == socket.AF_INET6:
                        continue                     # no IPv6 at all
                    raise
                self.socks.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                try:
                    sock.bind((host, self.port))
                except OSError as e:
                    if family == socket.AF_INET6 and e.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
                        self.socks.remove(sock)
                        sock.close()
                        continue
                    raise
                sock.listen(16)
        except OSError:
            self._close_sockets()
            raise

    def start(self):
        """Start accepting (connections that arrived since open() wait in the backlog)."""
        self.thread = threading.Thread(target=self._run, name=f"hold-{self.port}", daemon=True)
        self.thread.start()

    def _run(self):
        sel = selectors.DefaultSelector()
        for sock in self.socks:
            sel.register(sock, selectors.EVENT_READ)
        sel.register(self._wake_r, selectors.EVENT_READ)
        peer = None
        try:
            while peer is None:
                events = sel.select()
                if any(key.fileobj is self._wake_r for key, _ in events):
                    return                            # released by close()
                for key, _ in events:
                    try:
                        conn, addr = key.fileobj.accept()
                    except OSError:
                        continue
                    self._refuse(conn)
                    peer = addr[0]
                    break
        finally:
            sel.close()
            self._close_sockets()                     # the port is free from here on
        self.on_connect(peer)

    @staticmethod
    def _refuse(conn):
        """Close without a byte of answer. The client's first message (SSLRequest, ...) is read
        first, so the close is a clean FIN (EOF) rather than a RST for unread data."""
        try:
            conn.settimeout(0.1)
            conn.recv(65536)
        except OSError:
            pass
        finally:
            conn.close()

    def _close_sockets(self):
        for sock in self.socks:
            try:
                sock.close()
            except OSError:
                pass
        self.socks = []

    def close(self):
        """Release the port (returns once the sockets are closed)."""
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(5)
        if self.thread is None:
            self._close_sockets()
        for s in (self._wake_r, self._wake_w):
            s.close()


class Compute:
    """Suspend / wake of the PostgreSQL behind one endpoint, with the commands from the config.

    ACTIVE: PostgreSQL runs. suspend(): run `stop`, hold the port (PortHolder), state IDLE.
    trigger() (a connection on the held port, a credential request, resume): release the port,
    wait wake_delay_ms (nothing listens: connection refused), run `start`, poll `ready`, state
    ACTIVE. Commands run in the caller's handler thread (suspend) or in a wake thread, never
    in the accepting threads of the HTTP servers."""

    def __init__(self, spec, state):
        if not isinstance(spec, dict):
            raise ValueError("'compute' must be a JSON object")
        self.state = state
        endpoints = state.settings["endpoints"]
        self.endpoint = spec.get("endpoint") or (endpoints[0]["name"] if endpoints else None)
        if self.endpoint is None or state.endpoint(self.endpoint) is None:
            raise ValueError("'compute.endpoint' must name a configured endpoint")
        self.port = int(spec.get("port") or state.endpoint(self.endpoint)["port"])
        self.cmds = {}
        for key in ("start", "stop", "ready"):
            argv = spec.get(key)
            if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
                raise ValueError(f"'compute.{key}' must be a non-empty argv list of strings")
            self.cmds[key] = argv
        self.hosts = spec.get("hosts") or ["127.0.0.1", "::1"]
        self.log_path = spec.get("log")
        self.ready_timeout = float(spec.get("ready_timeout", 30))
        self.cond = threading.Condition()      # guards everything below
        self.current = "ACTIVE"                # ACTIVE or IDLE (IDLE until PostgreSQL is ready again)
        self.busy = False                      # a suspend is running its stop command
        self.waking = False
        self.wakes = 0
        self.wake_delay_ms = 0
        self.last_error = None
        self.holder = None
        self.wake_thread = None
        self.hurry = threading.Event()         # cut the wake delay short (resume, shutdown)
        self.closing = False

    def report(self):
        with self.cond:
            return {"configured": True, "endpoint": self.endpoint, "port": self.port,
                    "state": self.current, "wakes": self.wakes, "waking": self.waking,
                    "holding_port": self.holder is not None, "wake_delay_ms": self.wake_delay_ms,
                    "last_error": self.last_error}

    def _run(self, what, timeout):
        """Run one configured command; (ok, description)."""
        out = subprocess.DEVNULL
        try:
            if self.log_path and what != "ready":
                out = open(self.log_path, "ab")      # PostgreSQL keeps logging here (pg_ctl's stdout)
            proc = subprocess.run(self.cmds[what], stdin=subprocess.DEVNULL, stdout=out,
                                  stderr=subprocess.STDOUT, cwd="/", start_new_session=True,
                                  timeout=timeout)
            return proc.returncode == 0, f"{what} command exited with {proc.returncode}"
        except (OSError, subprocess.SubprocessError) as e:
            return False, f"{what} command failed: {type(e).__name__}: {e}"
        finally:
            if out is not subprocess.DEVNULL:
                out.close()

    def suspend(self, wake_delay_ms):
        with self.cond:
            if self.closing:
                raise rest_error(409, "INVALID_STATE", "the emulator is stopping")
            if self.waking or self.busy:
                raise rest_error(409, "INVALID_STATE", "the compute is waking or suspending; try again")
            self.wake_delay_ms = wake_delay_ms
            if self.current == "IDLE" and self.holder is not None:
                return                                 # already suspended: new delay only
            self.busy = True
        holder = None
        try:
            ok, why = self._run("stop", 60)
            if not ok:
                log(f"compute {self.endpoint}: {why} (holding the port anyway if it is free)")
            holder = PortHolder(self.hosts, self.port, self._on_connect)
            try:
                holder.open()
            except OSError as e:
                self.last_error = f"cannot hold port {self.port}: {e.strerror}"
                raise rest_error(409, "INVALID_STATE",
                                 f"port {self.port} is still taken ({why}); not suspended")
            self.state.set_endpoint_state(self.endpoint, "IDLE")
            with self.cond:
                self.current = "IDLE"
                self.last_error = None if ok else why
                self.holder, holder = holder, None
                self.busy = False
                self.holder.start()                    # from here a connection starts the wake
            log(f"compute {self.endpoint}: suspended (IDLE), holding port {self.port}, "
                f"wake delay {wake_delay_ms} ms")
        finally:
            if holder is not None:
                holder.close()
            with self.cond:
                self.busy = False
                self.cond.notify_all()

    def _on_connect(self, peer):
        log(f"compute {self.endpoint}: connection from {peer} while suspended: closed it, waking")
        self.trigger("connection")

    def trigger(self, reason, delay_ms=None):
        """Start a wake if suspended and not already waking; never waits for it."""
        with self.cond:
            if self.current != "IDLE" or self.waking or self.busy or self.closing:
                return False
            self.waking = True
            self.wakes += 1
            self.hurry.clear()
            delay = self.wake_delay_ms if delay_ms is None else delay_ms
            self.wake_thread = threading.Thread(target=self._wake, args=(reason, delay),
                                                name="wake", daemon=True)
            self.wake_thread.start()
            return True

    def _wake(self, reason, delay):
        with self.cond:
            holder, self.holder = self.holder, None
        if holder is not None:
            holder.close()                             # port free: connections are refused now
        log(f"compute {self.endpoint}: wake #{self.wakes} ({reason}), starting PostgreSQL in {delay} ms")
        self.hurry.wait(delay / 1000.0)
        ok, why = False, "the emulator is stopping"
        if not self.closing:
            ok, why = self._run("start", 60)
            deadline = time.monotonic() + self.ready_timeout
            while ok and not self.closing:
                ready, _ = self._run("ready", 10)
                if ready:
                    break
                if time.monotonic() > deadline:
                    ok, why = False, f"PostgreSQL not ready after {self.ready_timeout:g} s"
                    break
                time.sleep(0.1)
        with self.cond:
            self.waking = False
            if ok:                                     # PostgreSQL runs (even if we are stopping)
                self.current = "ACTIVE"
                self.last_error = None
            else:
                self.last_error = why
            self.cond.notify_all()
        if ok:
            self.state.set_endpoint_state(self.endpoint, "ACTIVE")
            log(f"compute {self.endpoint}: ACTIVE again")
        else:
            log(f"compute {self.endpoint}: wake failed: {why}")

    def resume(self, timeout=90):
        """Wake now (no delay) and wait until PostgreSQL is ready."""
        with self.cond:
            if not self.cond.wait_for(lambda: not self.busy, timeout):
                raise rest_error(504, "DEADLINE_EXCEEDED", "a suspend is still running")
            if self.current == "ACTIVE" and not self.waking:
                return
            if not self.trigger("resume", 0):
                log(f"compute {self.endpoint}: resume: wake delay cut short")
            self.hurry.set()
            if not self.cond.wait_for(lambda: not self.waking, timeout):
                raise rest_error(504, "DEADLINE_EXCEEDED", "the compute did not wake in time")
            if self.current != "ACTIVE":
                raise rest_error(500, "INTERNAL_ERROR", f"wake failed: {self.last_error}")

    def shutdown(self):
        """On exit: cancel a pending wake, release the port, let a running start finish."""
        with self.cond:
            self.closing = True
            self.hurry.set()
            holder, self.holder = self.holder, None
            thread = self.wake_thread
        if holder is not None:
            holder.close()
        if thread is not None:
            thread.join(30)
