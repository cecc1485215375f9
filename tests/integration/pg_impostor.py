#!/usr/bin/python3
"""An impostor PostgreSQL server on loopback, for the driver's TLS tests (pg_tls_test.c).

It answers PostgreSQL's SSLRequest with 'S', does TLS with a self-signed certificate for
localhost that it makes at start (openssl), or with the one --cert/--key name, asks for a cleartext password and records what
happened, one line per connection, in the record file:
    handshake-failed <reason>     the client refused the certificate (no password sent)
    no-password <reason>          the client closed or sent no password (after the handshake,
                                  libpq closes when the certificate names another host)
    password <sha256 hex> <bytes> the client sent a password (the password itself never
                                  leaves this process: only its hash, which a test compares
                                  with the hashes of the credentials the emulator issued)
Then it answers with a FATAL error (not an authentication failure, so the driver neither
refreshes the credential nor waits for a waking compute) and closes.

Usage: pg_impostor.py --dir DIR --port-file FILE --record FILE [--cert PEM --key PEM]
(the port is written once the server listens; stop it with SIGTERM).
"""
import argparse
import hashlib
import os
import signal
import socket
import ssl
import struct
import subprocess
import sys
import threading

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104


def make_cert(directory):
    cert, key = os.path.join(directory, "impostor.pem"), os.path.join(directory, "impostor.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2",
                    "-keyout", key, "-out", cert, "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError(f"connection closed after {len(data)} of {n} bytes")
        data += chunk
    return data


def read_startup(sock):
    length = struct.unpack("!I", read_exact(sock, 4))[0]
    if not 8 <= length <= 10000:
        raise ValueError(f"bad startup length {length}")
    body = read_exact(sock, length - 4)
    return struct.unpack("!I", body[:4])[0]


def error_response(text):
    fields = b"SFATAL\0VFATAL\0C08006\0M" + text.encode() + b"\0\0"
    return b"E" + struct.pack("!I", 4 + len(fields)) + fields


class Recorder:
    def __init__(self, path):
        self.path, self.lock = path, threading.Lock()

    def __call__(self, line):
        with self.lock, open(self.path, "a") as f:
            f.write(line + "\n")


def serve(conn, ctx, record):
    with conn:
        conn.settimeout(20)
        try:
            code = read_startup(conn)
            if code == GSSENC_REQUEST:
                conn.sendall(b"N")
                code = read_startup(conn)
            if code != SSL_REQUEST:
                record(f"no-password plain connection (code {code})")
                return
            conn.sendall(b"S")
            try:
                tls = ctx.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError) as e:
                record(f"handshake-failed {getattr(e, 'reason', None) or e}")
                return
            with tls:
                read_startup(tls)
                tls.sendall(b"R" + struct.pack("!II", 8, 3))   # AuthenticationCleartextPassword
                kind = read_exact(tls, 1)
                length = struct.unpack("!I", read_exact(tls, 4))[0]
                body = read_exact(tls, length - 4) if 4 < length <= 100000 else b""
                if kind != b"p":
                    record(f"no-password message {kind!r}")
                    return
                password = body.rstrip(b"\0")
                record(f"password {hashlib.sha256(password).hexdigest()} {len(password)}")
                tls.sendall(error_response("impostor: this is not the Lakebase server"))
        except (EOFError, ValueError, OSError) as e:
            record(f"no-password {e}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--record", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    args = ap.parse_args()
    cert, key = (args.cert, args.key) if args.cert else make_cert(args.dir)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    record = Recorder(args.record)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{srv.getsockname()[1]}\n")
    os.rename(tmp, args.port_file)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, ctx, record), daemon=True).start()


if __name__ == "__main__":
    main()
