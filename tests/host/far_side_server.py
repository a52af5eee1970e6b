"""The far side's server (tests/host/far_side.sh): every TCP connection gets SIZE bytes, then EOF.

    python3 far_side_server.py ADDRESS PORT SIZE
"""

import socketserver
import sys


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.sendall(b"x" * int(sys.argv[3]))


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    Server((sys.argv[1], int(sys.argv[2])), Handler).serve_forever()
