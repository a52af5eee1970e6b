"""testinfra checks of the firewall role on a converged host (Molecule firewalld/ufw scenarios,
or `pytest --hosts=ssh://root@host tests/host/test_firewall_converged.py` after a rollout).

Each check applies to the backend that is running on the host and skips otherwise; the checks
with real traffic, dockerd restarts and broken-then-repaired hosts are in test_firewall.py.
"""

import pytest

from sandbox_host.roles.firewall.deploy import DOCKER_ZONE
from sandbox_host.roles.firewall.facts import parse_tuple
from sandbox_host.roles.host_network import mss
from sandbox_host.roles.sandbox_network.operations import guard_rules

SANDBOX_HOST_COMMENT = "sandbox-host"


def bridges(settings):
    names = ["docker0", *settings.firewall.extra_interfaces]
    if settings.sandbox_network.enabled:
        names += [settings.sandbox_network.internal_bridge, settings.sandbox_network.egress_bridge]
    return names


@pytest.fixture
def firewalld(host, settings):
    if not settings.firewall.manage or settings.firewall.backend in ("none", "ufw"):
        pytest.skip("firewalld is not managed by this config")
    if host.run("firewall-cmd --state").rc != 0:
        if settings.firewall.backend == "firewalld":
            pytest.fail("firewall.backend is firewalld but firewalld is not running")
        pytest.skip("firewalld is not running on this host")
    return settings.firewall.firewalld_zone


@pytest.fixture
def ufw_rules(host, settings):
    if not settings.firewall.manage or settings.firewall.backend in ("none", "firewalld"):
        pytest.skip("UFW is not managed by this config")
    if "Status: active" not in host.run("LC_ALL=C ufw status").stdout:
        if settings.firewall.backend == "ufw":
            pytest.fail("firewall.backend is ufw but UFW is not active")
        pytest.skip("UFW is not active on this host")
    text = host.check_output("cat /etc/ufw/user.rules /etc/ufw/user6.rules")
    return [rule for rule in map(parse_tuple, text.splitlines()) if rule]


@pytest.mark.firewalld
def test_bridges_bound_at_runtime_and_permanently(host, settings, firewalld):
    for bridge in bridges(settings):
        runtime = host.run(f"firewall-cmd --get-zone-of-interface={bridge}").stdout.strip()
        permanent = host.run(f"firewall-cmd --permanent --get-zone-of-interface={bridge}").stdout.strip()
        assert (runtime, permanent) == (firewalld, firewalld), bridge


@pytest.mark.firewalld
def test_zone_accepts(host, firewalld):
    assert host.check_output(f"firewall-cmd --permanent --zone={firewalld} --get-target") == "ACCEPT"


@pytest.mark.firewalld
def test_bindings_survive_reload(host, settings, firewalld):
    host.check_output("firewall-cmd --reload")
    for bridge in bridges(settings):
        assert host.run(f"firewall-cmd --get-zone-of-interface={bridge}").stdout.strip() == firewalld, bridge


def assert_our_chains_in_place(host, settings):
    """The INPUT guard of the internal bridge and the MSS chain, exactly as the deploy makes them."""
    filter_rules = host.check_output("iptables -w -S").splitlines()
    mangle_rules = host.check_output("iptables -w -t mangle -S").splitlines()
    sandbox = settings.sandbox_network
    if sandbox.enabled and sandbox.guard_host_input:
        chain_rules, jumps = guard_rules(sandbox.guard_chain, [sandbox.internal_bridge])
        for rule in [*chain_rules, *jumps]:
            assert rule in filter_rules, rule
    net = settings.host_network
    if net.mss_clamping != "off":
        bridges = ["docker0"] + ([sandbox.internal_bridge, sandbox.egress_bridge] if sandbox.enabled else []) + ["br-+"]
        assert sorted(mss.ours(mangle_rules, net.mss_chain)) == sorted(
            mss.expected_rules(net.mss_chain, str(net.mss_clamping), bridges))


@pytest.mark.firewalld
def test_guard_and_mss_chain_survive_reload(host, settings, firewalld):
    # firewalld's reload flushes iptables (Debian 12, nftables backend): the INPUT guard of the
    # internal bridge and the MSS chain must come back with it, as its permanent direct rules.
    host.check_output("firewall-cmd --reload")
    assert_our_chains_in_place(host, settings)


@pytest.mark.firewalld
def test_docker_zone_is_used_when_docker_has_one(host, settings, firewalld):
    # dockerd >= 20.10 refuses to start while docker0 sits in another zone than its own.
    if host.run(f"firewall-cmd --permanent --info-zone={DOCKER_ZONE}").rc != 0:
        pytest.skip(f"this firewalld has no {DOCKER_ZONE} zone (Docker older than 20.10)")
    assert firewalld == DOCKER_ZONE


def docker0_subnet(host):
    return host.check_output("docker network inspect -f '{{(index .IPAM.Config 0).Subnet}}' bridge")


@pytest.mark.ufw
def test_route_rules_for_the_docker_subnets(host, settings, ufw_rules):
    wanted = {docker0_subnet(host), *settings.firewall.extra_subnets}
    if settings.sandbox_network.enabled:
        wanted.add(settings.sandbox_network.egress_subnet)
    routed = {rule["src"] for rule in ufw_rules if rule["route"] and rule["action"] == "allow"}
    assert wanted <= routed


@pytest.mark.ufw
def test_internal_network_not_routed(host, settings, ufw_rules):
    if not settings.sandbox_network.enabled:
        pytest.skip("sandbox_network.enabled is false: there is no internal network")
    assert settings.sandbox_network.internal_subnet not in {rule["src"] for rule in ufw_rules if rule["route"]}


@pytest.mark.ufw
def test_no_host_port_opened(ufw_rules):
    assert [rule for rule in ufw_rules if rule["comment"] == SANDBOX_HOST_COMMENT and not rule["route"]] == []


@pytest.mark.ufw
def test_forward_policy(host, settings, ufw_rules):
    policy = settings.firewall.ufw_forward_policy
    if policy == "keep":
        pytest.skip("firewall.ufw_forward_policy is keep: the host's own policy stands")
    wanted = {"allow": "ACCEPT", "deny": "DROP", "reject": "REJECT"}[policy]
    assert f'DEFAULT_FORWARD_POLICY="{wanted}"' in host.file("/etc/default/ufw").content_string


@pytest.mark.ufw
def test_rules_survive_ufw_reload(host, settings, ufw_rules):
    host.check_output("ufw reload")
    chain = host.check_output("iptables -S ufw-user-forward")
    ours = [rule["src"] for rule in ufw_rules if rule["route"] and rule["comment"] == SANDBOX_HOST_COMMENT and ":" not in rule["src"]]
    assert ours, "no IPv4 route rule of the deploy to check"
    assert [src for src in ours if f"-s {src} -j ACCEPT" not in chain] == []
    # UFW's reload rewrites its own ufw-* chains only (measured): the guard and MSS chain stay.
    assert_our_chains_in_place(host, settings)
