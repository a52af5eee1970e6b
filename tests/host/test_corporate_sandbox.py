"""The sandbox behind the corporate proxy (issue 11): the egress proxy reaches the outside only
through the lab's Squid, for allowed names only.

Runs in the corporate-proxy scenario (molecule/corporate-proxy, lab.yml): the test host sits on
an internal network whose only way out is the lab's Squid; the registry (HTTPS) stands in for
an allowed server. A client on the sandbox's internal network (the base image, bash only) asks
the egress proxy for a CONNECT tunnel, then speaks plain HTTP into it: the registry's Go TLS
server answers "Client sent an HTTP request to an HTTPS server", so the bytes reached it. The lab
Squid's access log shows the tunnel, coming from the test host; a denied name is refused by the
egress proxy and never shows there.
"""

import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml


def _lab():
    scenario = os.environ.get("MOLECULE_SCENARIO_DIRECTORY")
    path = Path(scenario, "lab.yml") if scenario else None
    return yaml.safe_load(path.read_text()) if path and path.is_file() else None


LAB = _lab()
pytestmark = [
    pytest.mark.corporate_proxy,
    pytest.mark.skipif(LAB is None, reason="needs the corporate-proxy scenario's lab (molecule/corporate-proxy/lab.yml)"),
]


@pytest.fixture(scope="module")
def sandbox(host, settings):
    if not (settings.egress_proxy.enabled and settings.egress_proxy.upstream_proxy):
        pytest.skip("the egress proxy has no upstream in this scenario")
    return settings


def squid_log() -> list[str]:
    done = subprocess.run(["docker", "exec", LAB["squid_container"], "cat", "/var/log/squid/access.log"],
                          capture_output=True, text=True, check=True)
    return done.stdout.splitlines()


def through_egress_proxy(host, settings, target: str) -> str:
    """A client on the internal network: CONNECT ``target`` via the egress proxy, then one HTTP
    request into the tunnel; returns what came back (bounded)."""
    net = settings.sandbox_network
    script = (
        f"exec 3<>/dev/tcp/{net.proxy_ip}/{net.proxy_port} || exit 9; "
        f"printf 'CONNECT {target} HTTP/1.1\\r\\nHost: {target}\\r\\n\\r\\n' >&3; "
        "sleep 2; printf 'GET /v2/ HTTP/1.0\\r\\n\\r\\n' >&3; timeout 10 cat <&3"
    )
    name = f"sbxtest-corp-client-{uuid.uuid4().hex[:8]}"
    out = host.run(
        f"timeout 60 docker run --rm --name {name} --network {net.internal_network} "
        f"{settings.images.base_image} bash -c {json.dumps(script)}"
    )
    return out.stdout


def test_allowed_name_goes_through_the_corporate_proxy(host, sandbox):
    target = f"{LAB['registry_name']}:{LAB['registry_port']}"
    before = len(squid_log())
    reply = through_egress_proxy(host, sandbox, target)
    assert "200" in reply.splitlines()[0], reply
    assert "Client sent an HTTP request to an HTTPS server" in reply, reply
    new = squid_log()[before:]
    tunnels = [line for line in new if f"CONNECT {target}" in line]
    assert tunnels, new
    # From the test host (the egress proxy's traffic leaves by the host's corp address).
    addresses = set(host.check_output("hostname -I").split())
    assert any(line.split()[2] in addresses for line in tunnels), (tunnels, addresses)


def test_denied_name_never_reaches_the_corporate_proxy(host, sandbox):
    before = len(squid_log())
    reply = through_egress_proxy(host, sandbox, f"denied.corp.test:{LAB['registry_port']}")
    assert "403" in reply.splitlines()[0], reply
    assert not [line for line in squid_log()[before:] if "denied.corp.test" in line]


def test_egress_proxy_logs_both_decisions(host, sandbox):
    logs = host.check_output(f"docker logs {sandbox.egress_proxy.container_name} 2>/dev/null")
    entries = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    hosts = {(e["host"], e["status"]) for e in entries}
    assert (LAB["registry_name"], 200) in hosts, entries[-5:]
    assert ("denied.corp.test", 403) in hosts, entries[-5:]


def test_no_direct_way_out_of_the_egress_network(host, sandbox):
    """The proxy's own network reaches the registry only through Squid: a direct connection fails."""
    net = sandbox.sandbox_network
    out = host.run(
        f"timeout 30 docker run --rm --network {net.egress_network} {sandbox.images.base_image} "
        f"timeout 8 bash -c 'exec 3<>/dev/tcp/{LAB['registry_ip']}/{LAB['registry_port']}'"
    )
    assert out.rc != 0
