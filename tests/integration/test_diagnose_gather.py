"""diagnose's gather on hosts that are not converged test hosts: this machine (@local, no systemd)
and a bare container with none of the tools (@docker/NAME). Read-only: the only thing started is
a throwaway probe container (and the bare container itself). Names resolve from /etc/hosts."""

import json
import os
import shutil
import subprocess
import sys
import uuid

import pytest

from conftest import REPO
from sandbox_host.diagnose import compare, rules

PROBE_IMAGE = "sandbox-host-base:bookworm"
SECTIONS = {"system", "sysctl", "network", "dns", "proxy_env", "docker", "daemon_json", "docker_unit", "iptables",
            "nftables", "firewalld", "ufw", "runsc", "container", "sandbox_proxy"}


def _docker_ready():
    return shutil.which("docker") and subprocess.run(["docker", "image", "inspect", PROBE_IMAGE], capture_output=True).returncode == 0


pytestmark = [
    pytest.mark.skipif("MOLECULE_INSTANCE_CONFIG" in os.environ, reason="diagnoses this machine; Molecule verifies its test hosts"),
    pytest.mark.skipif(not _docker_ready(), reason=f"needs a local dockerd with {PROBE_IMAGE}"),
]


def gather(inventory, out, *extra):
    done = subprocess.run(
        [sys.executable, "-m", "sandbox_host.diagnose", "gather", inventory, "--out", str(out), "--probe-image", PROBE_IMAGE,
         "--resolve-name", "localhost", "--proxy-target", "127.0.0.1:9", "--probe-timeout", "10", *extra],
        cwd=REPO, capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (path,) = out.glob("*.json")
    return json.loads(path.read_text())


def test_local_report_is_complete_and_read_from_the_live_host(tmp_path):
    report = gather("@local", tmp_path)
    assert SECTIONS <= set(report)
    assert report["schema"] == "sandbox-host.diagnose/2"
    # Values match what the kernel says right now.
    forward = int(open("/proc/sys/net/ipv4/ip_forward").read())
    assert report["sysctl"]["net.ipv4.ip_forward"] == forward
    uplink = report["network"]["default_route_v4"]["interface"]
    assert report["network"]["links"][uplink]["mtu"] == int(open(f"/sys/class/net/{uplink}/mtu").read())
    assert report["docker"]["status"] == "ok"
    assert report["container"]["status"] == "ok" and report["container"]["resolve"]["status"] == "ok"
    # The probe container is gone again.
    left = subprocess.run(["docker", "ps", "-aq", "--filter", "label=sandbox-host.diagnose=probe"], capture_output=True, text=True)
    assert left.stdout.strip() == ""
    rules.run_rules(report)  # the rules accept a real report


@pytest.fixture
def bare_container():
    name = f"sbx-diag-bare-{uuid.uuid4().hex[:8]}"
    subprocess.run(["docker", "run", "-d", "--name", name, "--network", "none", PROBE_IMAGE, "sleep", "600"],
                   check=True, capture_output=True)
    yield name
    subprocess.run(["docker", "rm", "-f", name], capture_output=True)


def test_host_without_any_tool_reports_absent_instead_of_failing(tmp_path, bare_container):
    report = gather(f"@docker/{bare_container}", tmp_path)
    for section in ("docker", "daemon_json", "docker_unit", "nftables", "firewalld", "ufw"):
        assert report[section]["status"] == "absent", section
    assert report["iptables"] == {"status": "absent"}
    assert report["runsc"]["version"] == {"status": "absent"}
    assert report["container"]["status"] == "skipped"
    # --network none: no default route, only loopback.
    assert report["network"]["default_route_v4"] is None and set(report["network"]["links"]) == {"lo"}
    assert rules.run_rules(report) == []
    # Comparing with a full host names dockerd as the first difference.
    local = gather("@local", tmp_path / "local")
    assert compare.differences(report, local)[0]["key"] == "docker.status"


def test_unreachable_host_is_reported_and_the_command_fails(tmp_path):
    import socket

    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inventory = tmp_path / "inventory.py"
    inventory.write_text(f"hosts = [('127.0.0.1', {{'ssh_port': {port}, 'ssh_connect_retries': 0}})]\n")
    done = subprocess.run([sys.executable, "-m", "sandbox_host.diagnose", "gather", str(inventory), "--out", str(tmp_path / "out")],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "127.0.0.1: connection failed" in done.stdout
    assert not (tmp_path / "out").exists()
