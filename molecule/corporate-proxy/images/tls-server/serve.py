"""Serve a folder over HTTPS on port 443: serve.py DIR CERT KEY (one line per request on stderr)."""

import functools
import http.server
import ssl
import sys

folder, cert, key = sys.argv[1:4]
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=folder)
server = http.server.ThreadingHTTPServer(("0.0.0.0", 443), handler)
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
