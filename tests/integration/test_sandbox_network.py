"""The sandbox networks on this machine's Docker: created as configured, idempotent, recreated
on drift only when nothing is attached, refused on overlap, and the host guarded from the
internal bridge. Converges @local with test-only names (tests/integration/sandbox_egress_harness.py).
"""

import http.server
import re
import threading

import pytest

import sandbox_egress_harness as h

pytestmark = [pytest.mark.host, pytest.mark.skipif(h.docker_ready() is not None, reason=str(h.docker_ready()))]


@pytest.fixture(scope="module")
def converged(request, tmp_path_factory):
    h.skip_unless_local(request.config)
    with h.exclusive():
        yield from _converge(tmp_path_factory)


def _converge(tmp_path_factory):
    h.teardown()
    try:
        # A leftover of another shape: the deploy must replace it (nothing is attached).
        h.sh("docker", "network", "create", "--internal", "--subnet", "172.30.252.0/24", h.INTERNAL)
        group_vars = h.write_group_vars(tmp_path_factory.mktemp("gv"))
        first = h.deploy(group_vars)
        second = h.deploy(group_vars)
        yield first, second
    finally:
        h.teardown()


def test_first_run_creates_and_second_changes_nothing(converged):
    first, second = converged
    assert not h.failed(first), first["stderr"][-3000:]
    assert any("Internal network" in name for name in h.changed(first))
    assert not h.failed(second), second["stderr"][-3000:]
    assert h.changed(second) == []
    assert second["results"]["totals"]["success"] == 0


def test_internal_network_properties(converged):
    net = h.inspect("network", h.INTERNAL)
    assert net["Internal"] is True
    assert net["EnableIPv6"] is False
    assert net["Options"]["com.docker.network.bridge.name"] == h.INTERNAL_BRIDGE
    assert [c["Subnet"] for c in net["IPAM"]["Config"]] == [h.INTERNAL_SUBNET]  # the leftover was replaced


def test_egress_network_properties(converged):
    net = h.inspect("network", h.EGRESS)
    assert net["Internal"] is False
    assert net["EnableIPv6"] is False
    assert net["Options"]["com.docker.network.bridge.name"] == h.EGRESS_BRIDGE
    assert [c["Subnet"] for c in net["IPAM"]["Config"]] == [h.EGRESS_SUBNET]


@pytest.fixture
def host_listener():
    """A web server of the host itself on 0.0.0.0 (what the guard must hide from the sandbox)."""
    server = http.server.HTTPServer(("0.0.0.0", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def curl_status(network, url):
    run = h.sh("docker", "run", "--rm", "--network", network, h.TOOLS_IMAGE, "curl", "-s", "-o", "/dev/null",
               "-m", "3", "-w", "%{http_code}", url, check=False)
    return run.stdout.strip() or "000"


def test_host_services_unreachable_from_internal_bridge(converged, host_listener):
    egress_gateway = h.inspect("network", h.EGRESS)["IPAM"]["Config"][0].get("Gateway") or "172.30.251.1"
    # The listener answers containers in general (egress network is not guarded) ...
    assert curl_status(h.EGRESS, f"http://{egress_gateway}:{host_listener}/") == "200"
    # ... but not the internal network, although Docker 20.10 routes it to the bridge IP.
    assert curl_status(h.INTERNAL, f"http://{h.GATEWAY}:{host_listener}/") == "000"


def test_guard_rules_sit_ahead_of_accepts(converged):
    rules = h.sh("iptables", "-w", "-S").stdout.splitlines()
    jump = f"-A INPUT -i {h.INTERNAL_BRIDGE} -j {h.CHAIN}"
    assert jump in rules
    inputs = [r for r in rules if r.startswith("-A INPUT ")]
    accepts = [i for i, r in enumerate(inputs) if r.endswith("-j ACCEPT")]
    assert not accepts or inputs.index(jump) < accepts[0]
    assert f"-A {h.CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN" in rules
    assert f"-A {h.CHAIN} -j DROP" in rules


def guard_rules(tool):
    return [r for r in h.sh(tool, "-w", "-S").stdout.splitlines() if h.CHAIN in r]


def test_boot_script_recreates_the_guard_idempotently(converged):
    installed = {tool: guard_rules(tool) for tool in ("iptables", "ip6tables")}
    assert len(installed["iptables"]) == 4, installed  # -N, the jump, RETURN, DROP
    # What a reboot leaves: nothing.
    for tool in ("iptables", "ip6tables"):
        h.sh(tool, "-w", "-D", "INPUT", "-i", h.INTERNAL_BRIDGE, "-j", h.CHAIN)
        h.sh(tool, "-w", "-F", h.CHAIN)
        h.sh(tool, "-w", "-X", h.CHAIN)
    h.sh(h.GUARD_SCRIPT)
    assert {tool: guard_rules(tool) for tool in installed} == installed
    h.sh(h.GUARD_SCRIPT)  # again: no duplicates
    assert {tool: guard_rules(tool) for tool in installed} == installed


@pytest.mark.parametrize("state", ["running", "stopped"])
def test_drift_with_attached_container_fails_and_names_it(converged, tmp_path, state):
    # A stopped container is not among the network's endpoints, yet could not start without it.
    verb = ["run", "-d"] if state == "running" else ["create"]
    h.sh("docker", *verb, "--name", h.OUTSIDE_CLIENT, "--network", h.EGRESS, h.TOOLS_IMAGE, "sleep", "infinity")
    try:
        moved = h.write_group_vars(tmp_path / "gv", {"sandbox_network": {"egress_subnet": "172.30.253.0/24"}})
        result = h.deploy(moved)
        assert h.failed(result)
        attached = re.search(r"containers the deploy cannot recreate are attached \(([^)]*)\)", result["stderr"])
        assert attached and h.OUTSIDE_CLIENT in attached.group(1).split(", ")
        # Nothing was removed.
        assert [c["Subnet"] for c in h.inspect("network", h.EGRESS)["IPAM"]["Config"]] == [h.EGRESS_SUBNET]
    finally:
        h.remove_containers(h.OUTSIDE_CLIENT)


def test_subnet_overlapping_a_host_route_is_refused(converged, tmp_path):
    docker0 = h.inspect("network", "bridge")["IPAM"]["Config"][0]["Subnet"]  # e.g. 172.17.0.0/16
    inside = docker0.split("/")[0].rsplit(".", 2)[0] + ".77.0/24"
    proxy_ip = inside.replace(".0/24", ".2")
    clash = h.write_group_vars(
        tmp_path / "gv",
        {"sandbox_network": {"internal_network": "sbxtest-clash", "internal_subnet": inside, "proxy_ip": proxy_ip}},
    )
    result = h.deploy(clash)
    assert h.failed(result)
    assert f"subnet {inside} of network sbxtest-clash overlaps" in result["stderr"]
    assert "docker0" in result["stderr"]
    assert h.sh("docker", "network", "inspect", "sbxtest-clash", check=False).returncode != 0
