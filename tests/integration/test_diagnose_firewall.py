"""diagnose on a real firewalld host (the firewall role's test-host image): a Docker bridge in a
zone that rejects its traffic is named first, and the finding's own fix command clears it.

Self-contained like tests/integration/test_firewall.py (its own systemd test host, @docker connector);
skipped under Molecule and when the image is missing. No traffic: host facts only."""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from conftest import REPO
from sandbox_host.diagnose import rules

IMAGE = "sandbox-host-testhost-firewalld:bookworm"
RUN_FLAGS = [
    "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE", "--security-opt", "seccomp=unconfined",
    "--security-opt", "apparmor=unconfined", "--cgroupns=host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
    "--tmpfs", "/run", "--tmpfs", "/run/lock", "--stop-signal", "SIGRTMIN+3",
]


def _skip_reason():
    if "MOLECULE_INSTANCE_CONFIG" in os.environ:
        return "runs its own test host; Molecule scenarios verify theirs"
    if not shutil.which("docker") or subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True).returncode:
        return f"needs {IMAGE} (tests/integration/images/firewall-testhost.Dockerfile)"
    return None


pytestmark = pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason()))


def sh(name, script):
    done = subprocess.run(["docker", "exec", name, "sh", "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, f"{script}: {done.stdout}{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def firewalld_host():
    name = f"sbx-diag-fwd-{os.getpid()}"
    subprocess.run(["docker", "rm", "-f", name], capture_output=True)
    subprocess.run(["docker", "run", "-d", "--name", name, "--hostname", name, *RUN_FLAGS,
                    "-v", f"{name}-docker:/var/lib/docker", IMAGE], check=True, capture_output=True)
    try:
        deadline = time.monotonic() + 90
        while subprocess.run(["docker", "exec", name, "sh", "-c", "firewall-cmd --state && systemctl is-active docker"],
                             capture_output=True).returncode:
            assert time.monotonic() < deadline, "test host did not boot"
            time.sleep(1)
        # The sandbox's egress network, as the sandbox_network role makes it.
        sh(name, "docker network create -o com.docker.network.bridge.name=sbx-egr0 --subnet 172.30.1.0/24 sandbox-egress")
        yield name
    finally:
        subprocess.run(["docker", "rm", "-f", "-v", name], capture_output=True)
        subprocess.run(["docker", "volume", "rm", f"{name}-docker"], capture_output=True)


def diagnose(name, tmp_path):
    out = tmp_path / f"r{len(list(tmp_path.iterdir()))}"
    done = subprocess.run([sys.executable, "-m", "sandbox_host.diagnose", "gather", f"@docker/{name}", "--out", str(out),
                           "--no-container-probes"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    (path,) = out.glob("*.json")
    report = json.loads(path.read_text())
    return report, rules.run_rules(report)


def test_bridge_in_a_rejecting_zone_is_named_and_its_fix_clears_it(firewalld_host, tmp_path):
    report, found = diagnose(firewalld_host, tmp_path)
    # dockerd binds its bridges to its own zone (runtime only): nothing to report.
    assert report["firewalld"]["zones"]["docker0"] == report["firewalld"]["zones"]["sbx-egr0"] == "docker"
    assert "firewalld_bridge_not_trusted" not in [f.id for f in found]

    sh(firewalld_host, "firewall-cmd -q --zone=block --change-interface=sbx-egr0"
                       " && firewall-cmd -q --permanent --zone=block --change-interface=sbx-egr0")
    report, found = diagnose(firewalld_host, tmp_path)
    top = found[0]
    assert (top.id, top.evidence["bridge"], top.evidence["zone"]) == ("firewalld_bridge_not_trusted", "sbx-egr0", "block")

    sh(firewalld_host, top.fix[0].replace("sudo ", ""))
    report, found = diagnose(firewalld_host, tmp_path)
    assert "firewalld_bridge_not_trusted" not in [f.id for f in found], [f.title for f in found]
    assert report["firewalld"]["zones"] == {"docker0": "docker", "sbx-int0": "public", "sbx-egr0": "docker"}
