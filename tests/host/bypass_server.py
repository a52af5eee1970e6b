#!/usr/bin/env python3
"""The egress bypass suite's stand-in for "the outside" (tests/host/test_egress_bypass.py).

    bypass-server LABEL [--tcp PORTS] [--tls PORTS] [--udp PORTS]

Baked into the suite's tools image and run in the containers the suite starts: the allowed and
forbidden web servers, the outside resolver, and a listener on the test host's own addresses.
Every TCP connection and every UDP datagram it receives is one JSON line on stdout
({"proto", "port", "peer"}): `docker logs` of it is the evidence that a probe did (or did not)
arrive. TCP ports answer an HTTP 200 whose body is "<LABEL>-ok" (TLS ports with a self-signed
certificate made at start, so no key sits in an image layer); UDP ports send the datagram back
with DNS's "response" bit set. A probe that gets "<LABEL>-ok" or any UDP reply reached the server.
"""

import argparse
import json
import os
import socket
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading


def log(**fields) -> None:
    print(json.dumps(fields), flush=True)


def peer(address: str) -> str:
    return address.removeprefix("::ffff:")  # IPv4 clients of a dual-stack socket


def dual_stack() -> bool:
    """IPv6 sockets where the namespace has IPv6 (IPv4 clients arrive v4-mapped), else IPv4."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::", 0))
        return True
    except OSError:
        return False


def tls_context(label: str) -> ssl.SSLContext:
    folder = tempfile.mkdtemp()
    key, cert = os.path.join(folder, "key.pem"), os.path.join(folder, "cert.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={label}",
         "-keyout", key, "-out", cert],
        check=True, capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


class TCPHandler(socketserver.BaseRequestHandler):
    def handle(self):
        server = self.server
        log(proto="tcp", port=server.port, peer=peer(self.client_address[0]))
        conn = self.request
        conn.settimeout(3)
        try:
            if server.tls is not None:
                conn = server.tls.wrap_socket(conn, server_side=True)
            data = b""
            while b"\r\n\r\n" not in data and len(data) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            body = f"{server.label}-ok\n".encode()
            head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            conn.sendall(head + body)
        except (OSError, ssl.SSLError):
            pass


class UDPHandler(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        log(proto="udp", port=self.server.port, peer=peer(self.client_address[0]))
        reply = bytearray(data or b"\0\0\0")
        if len(reply) > 2:
            reply[2] |= 0x80  # DNS QR bit: "this is a response"
        sock.sendto(bytes(reply), self.client_address)


def serve(kind, port: int, label: str, tls: ssl.SSLContext | None, v6: bool) -> None:
    base = socketserver.ThreadingTCPServer if kind == "tcp" else socketserver.ThreadingUDPServer
    handler = TCPHandler if kind == "tcp" else UDPHandler

    class Server(base):
        address_family = socket.AF_INET6 if v6 else socket.AF_INET
        allow_reuse_address = True
        daemon_threads = True

    try:
        server = Server(("::" if v6 else "0.0.0.0", port), handler)
    except OSError as exc:  # something on the host already listens there: it is a target anyway
        log(error=f"{kind} {port}: {exc.strerror}")
        return
    server.port, server.label, server.tls = port, label, tls
    log(listening=kind, port=port, tls=tls is not None)
    threading.Thread(target=server.serve_forever, daemon=True).start()


def ports(text: str) -> list[int]:
    return [int(p) for p in text.split(",") if p]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("label")
    parser.add_argument("--tcp", type=ports, default=[])
    parser.add_argument("--tls", type=ports, default=[])
    parser.add_argument("--udp", type=ports, default=[])
    args = parser.parse_args()
    v6 = dual_stack()
    tls = tls_context(args.label) if args.tls else None
    for port in args.tcp:
        serve("tcp", port, args.label, None, v6)
    for port in args.tls:
        serve("tcp", port, args.label, tls, v6)
    for port in args.udp:
        serve("udp", port, args.label, None, v6)
    log(ready=args.label)
    threading.Event().wait()


if __name__ == "__main__":
    sys.exit(main())
