#!/usr/bin/env python3
"""A minimal HTTPS proxy (HTTP CONNECT) on loopback for the proxy tests: it tunnels to
loopback targets only, optionally requires Basic proxy credentials, and appends one line
per CONNECT ("<target> <status>") to a log file.
Usage: connect_proxy.py --port-file F --log F [--auth user:password]"""
import argparse
import base64
import os
import socket
import threading


def pipe(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def handle(client, args):
    with client:
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 16384:
            chunk = client.recv(4096)
            if not chunk:
                return
            head += chunk
        lines = head.split(b"\r\n")
        parts = lines[0].decode("latin-1").split()
        target = parts[1] if len(parts) == 3 and parts[0] == "CONNECT" else "-"
        status = 200
        if args.auth:
            want = "Basic " + base64.b64encode(args.auth.encode()).decode()
            got = [l.split(b":", 1)[1].strip().decode("latin-1") for l in lines[1:]
                   if l.lower().startswith(b"proxy-authorization:")]
            if got != [want]:
                status = 407
        host, _, port = target.rpartition(":")
        if status == 200 and (target == "-" or host not in ("localhost", "127.0.0.1", "[::1]")):
            status = 403
        with open(args.log, "a") as log:
            log.write(f"{target} {status}\n")
        if status != 200:
            reason = {407: "Proxy Authentication Required", 403: "Forbidden"}[status]
            extra = 'Proxy-Authenticate: Basic realm="test"\r\n' if status == 407 else ""
            client.sendall(f"HTTP/1.1 {status} {reason}\r\n{extra}Content-Length: 0\r\n\r\n".encode())
            return
        upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
        upstream.settimeout(None)
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        t = threading.Thread(target=pipe, args=(upstream, client), daemon=True)
        t.start()
        pipe(client, upstream)
        t.join(5)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--auth")
    args = ap.parse_args()
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(32)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.getsockname()[1]))
    os.replace(tmp, args.port_file)
    while True:
        client, _ = srv.accept()
        threading.Thread(target=handle, args=(client, args), daemon=True).start()


main()
