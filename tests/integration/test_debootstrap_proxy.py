"""The base image bootstrap on a host that reaches its Debian mirror only through a proxy: the
deploy hands debootstrap.sh the build proxy file, and debootstrap's downloads go to that proxy.

The proxy here is a stand-in on loopback that records each request line and answers 502, so
nothing leaves this machine and the bootstrap fails right after its first request."""

import os
import shutil
import socketserver
import subprocess
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "roles" / "images" / "files" / "debootstrap.sh"
# A name that resolves nowhere (RFC 6761): only the proxy can take a request for it.
MIRROR = "http://mirror.sandbox-host.invalid/debian"

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("debootstrap") is None, reason="needs root and debootstrap"
)


class _RecordingProxy(socketserver.StreamRequestHandler):
    seen: list[str] = []

    def handle(self):
        self.seen.append(self.rfile.readline().decode(errors="replace").strip())
        self.wfile.write(b"HTTP/1.0 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")


@pytest.fixture
def proxy():
    _RecordingProxy.seen = []
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _RecordingProxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], _RecordingProxy.seen
    server.shutdown()
    server.server_close()


def test_debootstrap_downloads_go_through_the_build_proxy(proxy, tmp_path):
    port, seen = proxy
    env_file = tmp_path / "build-proxy.env"
    # The deploy's own format (roles/images render_proxy_env): both cases, quoted values.
    env_file.write_text(
        f"HTTP_PROXY='http://127.0.0.1:{port}'\nhttp_proxy='http://127.0.0.1:{port}'\n"
        "NO_PROXY=localhost\nno_proxy=localhost\n"
    )
    result = subprocess.run(
        ["sh", str(SCRIPT), "image", "sandbox-host-itest-never-imported:latest", "bookworm", MIRROR, str(env_file)],
        capture_output=True, text=True, timeout=180,
    )
    assert result.returncode != 0, "the stand-in proxy answers 502: the bootstrap cannot succeed"
    assert "debootstrap through the build proxy" in result.stderr
    assert seen, f"debootstrap never asked the proxy; stderr:\n{result.stderr}"
    # A proxy request names the absolute URL of the mirror's release file.
    assert seen[0].startswith(f"GET {MIRROR}/dists/bookworm/"), seen


def test_a_missing_proxy_file_is_ignored(tmp_path):
    # Hosts without docker_proxy have no build proxy file: the argument must not break the bootstrap.
    # Only the mode's argument handling is exercised here (an unknown suite fails before any download).
    result = subprocess.run(
        ["sh", str(SCRIPT), "image", "sandbox-host-itest-never-imported:latest", "no-such-suite-x",
         "http://127.0.0.1:9/debian", str(tmp_path / "absent.env")],
        capture_output=True, text=True, timeout=120,
    )
    assert "build proxy" not in result.stderr
    assert "debootstrap no-such-suite-x from http://127.0.0.1:9/debian" in result.stderr
