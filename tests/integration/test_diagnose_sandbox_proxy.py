"""diagnose's egress-proxy probe against a stand-in: an --internal network the test creates and
a tiny CONNECT responder the test runs on that network's gateway address (this machine). Nothing
leaves the machine: the responder answers CONNECT itself, 200 for the allowed name, 403 otherwise."""

import json
import os
import random
import socket
import socketserver
import subprocess
import sys
import threading
import uuid

import pytest

from conftest import REPO
from sandbox_host.diagnose import rules

PROBE_IMAGE = "sandbox-host-base:bookworm"
ALLOWED = "allowed.sandbox.test:443"


def _docker_ready():
    return subprocess.run(["docker", "image", "inspect", PROBE_IMAGE], capture_output=True).returncode == 0


pytestmark = [
    pytest.mark.skipif("MOLECULE_INSTANCE_CONFIG" in os.environ, reason="diagnoses this machine; Molecule verifies its test hosts"),
    pytest.mark.skipif(not _docker_ready(), reason=f"needs a local dockerd with {PROBE_IMAGE}"),
]


class _Connect(socketserver.StreamRequestHandler):
    def handle(self):
        line = self.rfile.readline().decode(errors="replace").split()
        ok = len(line) >= 2 and line[0] == "CONNECT" and line[1] == ALLOWED
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n" if ok else b"HTTP/1.1 403 Forbidden\r\n\r\n")


@pytest.fixture(scope="module")
def internal_network():
    name = f"sbx-diag-int-{uuid.uuid4().hex[:6]}"
    third = random.randint(1, 250)
    subnet, gateway = f"10.213.{third}.0/24", f"10.213.{third}.1"
    subprocess.run(["docker", "network", "create", "--internal", "--subnet", subnet, "--gateway", gateway, name],
                   check=True, capture_output=True)
    server = socketserver.ThreadingTCPServer((gateway, 0), _Connect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield name, gateway, server.server_address[1]
    server.shutdown()
    server.server_close()
    subprocess.run(["docker", "network", "rm", name], capture_output=True)


def probe(tmp_path, network, address, target):
    out = tmp_path / uuid.uuid4().hex[:6]
    done = subprocess.run(
        [sys.executable, "-m", "sandbox_host.diagnose", "gather", "@local", "--out", str(out), "--probe-image", PROBE_IMAGE,
         "--resolve-name", "localhost", "--probe-timeout", "10", "--sandbox-network", network,
         "--proxy-address", address, "--proxy-target", target],
        cwd=REPO, capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (path,) = out.glob("*.json")
    report = json.loads(path.read_text())
    return report["sandbox_proxy"], [f.id for f in rules.run_rules(report)]


def test_proxy_that_reaches_the_allowed_host_is_fine(tmp_path, internal_network):
    name, gateway, port = internal_network
    result, ids = probe(tmp_path, name, f"{gateway}:{port}", ALLOWED)
    # container: none holds the proxy's address here (a process on the host stands in for Squid).
    assert result == {"status": "ok", "proxy_reachable": True, "connect_status": 200,
                      "connect_reply": "HTTP/1.1 200 Connection established", "container": None}
    assert not {"sandbox_proxy_unreachable", "sandbox_proxy_cannot_reach_target"} & set(ids)


def test_proxy_refusing_the_target_is_named(tmp_path, internal_network):
    name, gateway, port = internal_network
    result, ids = probe(tmp_path, name, f"{gateway}:{port}", "other.sandbox.test:443")
    assert result["connect_status"] == 403
    assert "sandbox_proxy_cannot_reach_target" in ids


def test_proxy_not_listening_is_named(tmp_path, internal_network):
    name, gateway, _ = internal_network
    with socket.socket() as unused:  # a port nothing listens on
        unused.bind((gateway, 0))
        free = unused.getsockname()[1]
    result, ids = probe(tmp_path, name, f"{gateway}:{free}", ALLOWED)
    assert result["proxy_reachable"] is False
    assert ids[0] == "sandbox_proxy_unreachable"


def test_no_sandbox_network_is_absent_not_a_finding(tmp_path):
    result, ids = probe(tmp_path, f"sbx-diag-missing-{uuid.uuid4().hex[:6]}", "10.213.0.2:3128", ALLOWED)
    assert result == {"status": "absent"}
    assert not [i for i in ids if i.startswith("sandbox_proxy")]
