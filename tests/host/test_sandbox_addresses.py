"""The internal network's dynamic range: a container that joins without --ip never gets a fixed
address (the bridge's, the egress proxy's, a credential gateway's), even while their owner is down;
a network made before the range existed is found by drift and recreated by the deploy, which
replaces the project's own containers on it and refuses while a running sandbox is attached."""

import ipaddress
import json
import os
import subprocess
import sys

import pytest
import yaml

from conftest import REPO
from sandbox_host.roles.common import scripts
from sandbox_host.roles.common.labels import PROBE_LABELS
from sandbox_host.roles.sandbox_network.operations import REMOVE_NETWORK

pytestmark = pytest.mark.mutates

INVENTORY = REPO / "molecule/shared/inventory.py"
PREFIX = "sbx-addr-test"
# A small range for the exhaustion test: eight containers fill it, the ninth must be refused.
SMALL_RANGE = "172.30.0.64/29"


@pytest.fixture(scope="module", autouse=True)
def sandbox_network(settings):
    if not (settings.sandbox_network.enabled and settings.egress_proxy.enabled):
        pytest.skip("this scenario deploys no sandbox network with a proxy")
    return settings.sandbox_network


@pytest.fixture(scope="module")
def base_image(settings):
    return settings.images.base_image


def network(host, name) -> dict:
    return json.loads(host.check_output(f"docker network inspect {name}"))[0]


def address_of(host, container, net) -> str | None:
    found = json.loads(host.check_output(f"docker inspect {container}"))[0]
    return ((found["NetworkSettings"]["Networks"] or {}).get(net) or {}).get("IPAddress") or None


def remove_test_containers(host):
    host.run(f"docker ps -aq --filter name={PREFIX} | xargs -r docker rm -f")


def overlay(tmp_path, sandbox_network: dict):
    (tmp_path / "all.yml").write_text(yaml.safe_dump({"sandbox_network": sandbox_network}))
    return tmp_path


def proxy_runs_at_its_ip(host, settings):
    net = settings.sandbox_network
    proxy = settings.egress_proxy.container_name
    assert host.check_output(f"docker inspect --format '{{{{.State.Running}}}}' {proxy}") == "true"
    assert address_of(host, proxy, net.internal_network) == net.proxy_ip


def test_internal_network_hands_out_only_its_dynamic_range(host, sandbox_network):
    config = network(host, sandbox_network.internal_network)["IPAM"]["Config"]
    assert config == [{"Subnet": sandbox_network.internal_subnet, "IPRange": sandbox_network.dynamic_range(),
                       "Gateway": sandbox_network.bridge_ip()}]


def test_containers_without_ip_never_take_a_fixed_address(host, settings, converge, base_image, tmp_path):
    """With the proxy stopped, containers fill the (small) range; the next one is refused instead
    of taking the proxy's or a gateway's address; the proxy starts again at its own."""
    net = settings.sandbox_network
    proxy = settings.egress_proxy.container_name
    old_id = network(host, net.internal_network)["Id"]
    # A changed range recreates the network with the proxy attached: the deploy replaces it.
    code, changed, err = converge(extra_group_vars=overlay(tmp_path, {"dynamic_ip_range": SMALL_RANGE}))
    assert code == 0, err
    assert network(host, net.internal_network)["Id"] != old_id
    assert network(host, net.internal_network)["IPAM"]["Config"][0]["IPRange"] == SMALL_RANGE
    proxy_runs_at_its_ip(host, settings)
    fixed = [ipaddress.ip_network(cidr) for cidr in net.fixed_addresses().values()]
    host.check_output(f"docker stop {proxy}")
    try:
        given = []
        for index in range(ipaddress.ip_network(SMALL_RANGE).num_addresses + 1):
            name = f"{PREFIX}-{index}"
            done = host.run(f"docker run -d --name {name} --network {net.internal_network} {base_image} sleep 300")
            if done.rc != 0:
                break
            given.append(address_of(host, name, net.internal_network))
        print(f"addresses given with the proxy stopped: {given}; refused: {done.stderr.strip()}")
        assert sorted(given, key=ipaddress.ip_address) == [str(a) for a in ipaddress.ip_network(SMALL_RANGE)]
        assert not [a for a in given if any(ipaddress.ip_address(a) in f for f in fixed)]
        assert done.rc != 0 and "no available IPv4 addresses" in done.stderr, done.stderr
        host.check_output(f"docker start {proxy}")
        proxy_runs_at_its_ip(host, settings)
    finally:
        remove_test_containers(host)
        host.run(f"docker start {proxy}")
        code, _, err = converge()
        assert code == 0, err


def drifted_keys(tmp_path) -> list[str]:
    done = subprocess.run([sys.executable, "-m", "sandbox_host", "drift", str(INVENTORY), "--json"],
                          cwd=REPO, capture_output=True, text=True, env=dict(os.environ))
    assert done.returncode in (0, 3), done.stdout + done.stderr
    (entry,) = json.loads(done.stdout)["hosts"]
    return [f"{d['key']}: {'; '.join(d['details'])}" for d in entry["drifted"]]


def test_network_made_before_the_range_is_drift_and_the_deploy_recreates_it(host, settings, converge, base_image,
                                                                          tmp_path):
    """The network as the deploy made it before the range: no IPRange, no Gateway, the proxy at
    its IP (a stand-in with a stale spec here) and a stopped sandbox. drift names the range; a
    running sandbox stops the deploy; without it, the deploy replaces what it owns."""
    net = settings.sandbox_network
    proxy = settings.egress_proxy.container_name
    host.check_output(f"docker rm -f {proxy}")
    # As the deploy removes it: the conformance timer's probe may have joined a moment ago.
    host.check_output(scripts.command(REMOVE_NETWORK, net.internal_network, *PROBE_LABELS))
    host.check_output(f"docker network create --driver bridge --internal --subnet {net.internal_subnet} "
                      f"--opt com.docker.network.bridge.name={net.internal_bridge} --label org.sandbox-host.managed=true "
                      f"{net.internal_network}")
    host.check_output(f"docker run -d --name {proxy} --label org.sandbox-host.spec=before-the-range "
                      f"--network {net.internal_network} --ip {net.proxy_ip} {base_image} sleep 600")
    stopped_sandbox = f"{PREFIX}-stopped-sandbox"
    running_sandbox = f"{PREFIX}-running-sandbox"
    host.check_output(f"docker create --name {stopped_sandbox} --label org.sandbox-host.role=agent "
                      f"--network {net.internal_network} {base_image} sleep 600")
    try:
        keys = drifted_keys(tmp_path)
        assert f'sandbox_network.dynamic_ip_range: IP range: null != "{net.dynamic_range()}"' in keys, keys

        host.check_output(f"docker run -d --name {running_sandbox} --label org.sandbox-host.role=agent "
                          f"--network {net.internal_network} {base_image} sleep 600")
        code, _, err = converge()
        assert code != 0
        assert (f"containers the deploy cannot recreate are attached ({running_sandbox}): stop them" in err), err

        host.check_output(f"docker rm -f {running_sandbox}")
        code, changed, err = converge()
        assert code == 0, err
        test_internal_network_hands_out_only_its_dynamic_range(host, net)
        assert host.run(f"docker inspect {stopped_sandbox}").rc != 0, "the stopped sandbox is still there"
        proxy_runs_at_its_ip(host, settings)
        labels = json.loads(host.check_output(f"docker inspect {proxy}"))[0]["Config"]["Labels"]
        assert labels["org.sandbox-host.spec"] != "before-the-range"
        assert not [k for k in drifted_keys(tmp_path) if k.startswith("sandbox_network.")]
    finally:
        remove_test_containers(host)
        code, _, err = converge()
        assert code == 0, err
