"""Shared by tests/integration/test_sandbox_network.py, test_egress_proxy.py and benchmarks/proxy_latency.py:
converge tests/integration/sandbox_egress_deploy.py against this machine's Docker (@local, inventory
group "dev") with test-only names, subnets and chain, so a real deploy on the same host is never
touched. Everything the tests start is named sbxtest-*; only those are contacted and removed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "tests/integration/sandbox_egress_deploy.py"
PYINFRA = Path(sys.executable).with_name("pyinfra")

INTERNAL, EGRESS = "sbxtest-internal", "sbxtest-egress"
INTERNAL_BRIDGE, EGRESS_BRIDGE = "sbxt-int0", "sbxt-egr0"
INTERNAL_SUBNET, EGRESS_SUBNET = "172.30.250.0/24", "172.30.251.0/24"
GATEWAY = "172.30.250.1"
PROXY_IP, PROXY_PORT = "172.30.250.2", 3128
PROXY, PROXY_IMAGE = "sbxtest-egress-proxy", "sbxtest-egress-proxy"
TOOLS_IMAGE = "sbxtest-tools"
CHAIN = "SBXTEST-INPUT"
GUARD_SCRIPT = "/usr/local/sbin/sbxtest-input-guard"
WEB, CLIENT, OUTSIDE_CLIENT = "sbxtest-web", "sbxtest-client", "sbxtest-outside"
# Names the test web server answers to (Docker DNS aliases on the egress network).
ALLOWED, WILDCARD_HIT, DENIED_IN_WILDCARD, NOT_LISTED = (
    "allowed.sbx.test",
    "a.wild.sbx.test",
    "deny.wild.sbx.test",
    "notlisted.sbx.test",
)

SETTINGS = {
    "images": {
        "base_image": "sandbox-host-base:bookworm",
        # This machine re-signs outbound TLS: builds trust the host's bundle (images README).
        "extra_ca_certificates": ["/etc/ssl/certs/ca-certificates.crt"],
    },
    "sandbox_network": {
        "internal_network": INTERNAL,
        "internal_bridge": INTERNAL_BRIDGE,
        "internal_subnet": INTERNAL_SUBNET,
        "proxy_ip": PROXY_IP,
        "proxy_port": PROXY_PORT,
        "egress_network": EGRESS,
        "egress_bridge": EGRESS_BRIDGE,
        "egress_subnet": EGRESS_SUBNET,
        "guard_chain": CHAIN,
        "guard_script": GUARD_SCRIPT,
    },
    "egress_proxy": {
        "image": PROXY_IMAGE,
        "container_name": PROXY,
        "allowed_domains": [ALLOWED, "*.wild.sbx.test"],
        "denied_domains": [DENIED_IN_WILDCARD],
        # The test's "outside" server necessarily has a private address; the default (true) is
        # tested on its own (test_allowed_name_resolving_to_a_private_address_is_refused).
        "deny_private_destinations": False,
    },
}


def docker_ready() -> str | None:
    """None when this machine can run the tests, else why not."""
    if not shutil.which("docker") or not shutil.which("iptables"):
        return "docker or iptables not installed"
    if os.geteuid() != 0:
        return "needs root (iptables, docker)"
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        return "docker daemon not reachable"
    if subprocess.run(["docker", "image", "inspect", SETTINGS["images"]["base_image"]], capture_output=True).returncode:
        return f"base image {SETTINGS['images']['base_image']} missing (scripts/build-base-image.sh)"
    return None


@contextlib.contextmanager
def exclusive():
    """One user of the sbxtest-* networks, containers and chain at a time on this machine (two
    pytest runs, or a test run and the benchmark, would tear down each other's setup)."""
    with open("/tmp/sandbox-host-sbxtest.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def skip_unless_local(config) -> None:
    """These tests converge this machine (@local). Under testinfra's --hosts=<remote> (molecule
    verify, the test host) they would still converge here, not there: skip instead."""
    import pytest

    hosts = config.getoption("hosts", None)
    if hosts and any(not h.startswith(("local://", "local")) for h in hosts.split(",")):
        pytest.skip(f"converges @local with this machine's Docker; not run against --hosts={hosts}")


def write_group_vars(directory: Path, overrides: dict | None = None) -> Path:
    """A group_vars folder with dev.yml = SETTINGS deep-merged with overrides (JSON is YAML)."""
    data = json.loads(json.dumps(SETTINGS))
    for section, values in (overrides or {}).items():
        data.setdefault(section, {}).update(values)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "dev.yml").write_text(json.dumps(data, indent=2))
    return directory


def deploy(group_vars: Path) -> dict:
    """Run the test deploy once; return pyinfra's --json output plus stderr (raises on error)."""
    env = dict(os.environ, SANDBOX_HOST_GROUP_VARS=f"{REPO / 'group_vars'}:{group_vars}")
    run = subprocess.run(
        [str(PYINFRA), "-y", "--json", "inventories/dev.py", str(DEPLOY)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    try:
        result = json.loads(run.stdout)
    except json.JSONDecodeError:
        result = {}
    result["stderr"] = run.stderr
    result["returncode"] = run.returncode
    return result


def changed(result: dict) -> list[str]:
    """Names of the operations that changed something (pyinfra's exit code never says)."""
    return [op["name"] for op in result["results"]["operations"] if op["success"]]


def failed(result: dict) -> bool:
    return not result.get("results") or result["results"]["totals"]["error"] > 0


def sh(*args: str, check: bool = True, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, check=check, timeout=timeout)


def inspect(kind: str, name: str) -> dict:
    return json.loads(sh("docker", kind, "inspect", name).stdout)[0]


def start_web_and_clients() -> str:
    """The "outside" web server (plain http on 80 and 443) on the egress network under the test
    names, a client on the internal network and one on the egress network. Returns the web IP."""
    remove_containers(WEB, CLIENT, OUTSIDE_CLIENT)
    aliases = [arg for name in (ALLOWED, WILDCARD_HIT, DENIED_IN_WILDCARD, NOT_LISTED) for arg in ("--network-alias", name)]
    sh("docker", "run", "-d", "--name", WEB, "--network", EGRESS, *aliases, TOOLS_IMAGE,
       "sh", "-c", "busybox httpd -p 80 -h /www && exec busybox httpd -f -p 443 -h /www")
    sh("docker", "run", "-d", "--name", CLIENT, "--network", INTERNAL, TOOLS_IMAGE, "sleep", "infinity")
    sh("docker", "run", "-d", "--name", OUTSIDE_CLIENT, "--network", EGRESS, TOOLS_IMAGE, "sleep", "infinity")
    web_ip = inspect("container", WEB)["NetworkSettings"]["Networks"][EGRESS]["IPAddress"]
    for _ in range(50):  # httpd is up within a second; bounded wait
        if sh("docker", "exec", OUTSIDE_CLIENT, "curl", "-s", "-m", "1", f"http://{web_ip}/", check=False).returncode == 0:
            break
        time.sleep(0.2)
    return web_ip


def remove_containers(*names: str) -> None:
    for name in names:
        sh("docker", "rm", "-f", name, check=False)


def teardown() -> None:
    """Remove every sbxtest container, both test networks and the test guard chain (images stay:
    they are the build cache of the next run)."""
    remove_containers(WEB, CLIENT, OUTSIDE_CLIENT, PROXY)
    for network in (INTERNAL, EGRESS):
        sh("docker", "network", "rm", network, check=False)
    for tool in ("iptables", "ip6tables"):
        if shutil.which(tool):
            for bridge in (INTERNAL_BRIDGE,):
                while sh(tool, "-w", "-D", "INPUT", "-i", bridge, "-j", CHAIN, check=False).returncode == 0:
                    pass
            sh(tool, "-w", "-F", CHAIN, check=False)
            sh(tool, "-w", "-X", CHAIN, check=False)
    Path(GUARD_SCRIPT).unlink(missing_ok=True)
