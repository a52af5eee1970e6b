#!/usr/bin/env python3
"""A stand-in for the Anthropic API, for the credential gateway's tests and benchmark.

    api_standin.py CERT KEY [--port 443]

HTTPS with the certificate it is given (signed by the test's own CA). Answers the Messages API
enough for Claude Code to print a reply: POST /v1/messages (JSON, or server-sent events when the
body asks for "stream"), POST /v1/messages/count_tokens; anything else 404 in the API's error
shape. Every request is one JSON line on stdout (`docker logs` is the evidence): method, path,
the peer, and the auth headers as they arrived, which is what the tests check.
"""

import argparse
import json
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPLY = "standin-reply-ok"


def sse(events: list[dict]) -> bytes:
    return b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events)


def message_events(model: str) -> list[dict]:
    usage = {"input_tokens": 10, "output_tokens": 1}
    return [
        {"type": "message_start", "message": {"id": "msg_standin", "type": "message", "role": "assistant",
                                              "model": model, "content": [], "stop_reason": None,
                                              "stop_sequence": None, "usage": usage}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": REPLY}},
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
         "usage": {"output_tokens": 5}},
        {"type": "message_stop"},
    ]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # the JSON line below is the log
        pass

    def _record(self, body: bytes) -> None:
        print(json.dumps({
            "method": self.command, "path": self.path, "peer": self.client_address[0],
            "x-api-key": self.headers.get("x-api-key"), "authorization": self.headers.get("authorization"),
            "anthropic-beta": self.headers.get("anthropic-beta"), "host": self.headers.get("host"),
            "body_bytes": len(body),
        }), flush=True)

    def _send(self, status: int, payload: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _handle(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        self._record(body)
        path = self.path.split("?", 1)[0]
        try:
            request = json.loads(body) if body else {}
        except ValueError:
            request = {}
        if self.command == "POST" and path == "/v1/messages":
            model = request.get("model") or "claude-standin"
            if request.get("stream"):
                self._send(200, sse(message_events(model)), "text/event-stream")
            else:
                message = message_events(model)[0]["message"] | {
                    "content": [{"type": "text", "text": REPLY}], "stop_reason": "end_turn",
                    "usage": {"input_tokens": 10, "output_tokens": 5}}
                self._send(200, json.dumps(message).encode(), "application/json")
        elif self.command == "POST" and path == "/v1/messages/count_tokens":
            self._send(200, b'{"input_tokens": 10}', "application/json")
        else:
            error = {"type": "error", "error": {"type": "not_found_error", "message": f"stand-in: no {path}"}}
            self._send(404, json.dumps(error).encode(), "application/json")

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _handle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cert")
    parser.add_argument("key")
    parser.add_argument("--port", type=int, default=443)
    args = parser.parse_args()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    server = ThreadingHTTPServer(("0.0.0.0", args.port), Handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print(json.dumps({"ready": args.port}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
