"""sandbox_network operations: faked facts in, exact commands (or a clear refusal) out."""

import pytest
from pyinfra.api import OperationError
from pyinfra.facts.docker import DockerContainers, DockerNetwork, DockerNetworks

from fakehost import run_operation
from sandbox_host.roles.sandbox_network import operations as ops
from sandbox_host.roles.sandbox_network.facts import FilterRules, Routes


def run(op, facts, **kwargs):
    return run_operation(op, facts, **kwargs)


INTERNAL = dict(network="sandbox-internal", bridge="sbx-int0", subnet="172.30.0.0/24", internal=True)
DOCKER0 = {"Name": "bridge", "IPAM": {"Config": [{"Subnet": "172.17.0.0/16"}]}}
ROUTES = [
    {"dst": "default", "dev": "eth0"},
    {"dst": "172.17.0.0/16", "dev": "docker0"},
    {"dst": "192.0.2.0/24", "dev": "eth0"},
    {"dst": "fe80::/64", "dev": "eth0"},
]
CREATE = (
    "docker network create --driver bridge --internal --subnet 172.30.0.0/24 "
    "--opt com.docker.network.bridge.name=sbx-int0 --label org.sandbox-host.managed=true sandbox-internal"
)


def inspected(subnet="172.30.0.0/24", internal=True, bridge="sbx-int0", ipv6=False, containers=None, mtu=None):
    options = {"com.docker.network.bridge.name": bridge}
    if mtu:
        options["com.docker.network.driver.mtu"] = str(mtu)
    return [
        {
            "Name": "sandbox-internal",
            "Driver": "bridge",
            "Internal": internal,
            "EnableIPv6": ipv6,
            "Options": options,
            "IPAM": {"Config": [{"Subnet": subnet, "Gateway": subnet.replace("0/24", "1")}]},
            "Containers": containers or {},
        }
    ]


def facts(existing=None, networks=(DOCKER0,), routes=ROUTES, containers=()):
    # existing None: no such network (`docker network inspect` finds nothing, the fact is []).
    return {(DockerNetworks,): list(networks), (Routes,): list(routes), (DockerContainers,): list(containers),
            (DockerNetwork, "sandbox-internal"): [] if existing is None else existing}


def test_missing_network_is_created():
    commands, _ = run(ops.network, facts(), **INTERNAL)
    assert commands == [CREATE]


def test_egress_network_is_not_internal_and_carries_the_mtu():
    commands, _ = run(ops.network, facts(), **{**INTERNAL, "internal": False, "mtu": 1450})
    assert commands == [
        "docker network create --driver bridge --subnet 172.30.0.0/24 --opt com.docker.network.bridge.name=sbx-int0 "
        "--opt com.docker.network.driver.mtu=1450 --label org.sandbox-host.managed=true sandbox-internal"
    ]


def test_matching_network_is_no_change():
    commands, noops = run(ops.network, facts(inspected()), **INTERNAL)
    assert commands == [] and noops == ["network sandbox-internal is as configured"]


@pytest.mark.parametrize(
    "drift",
    [{"subnet": "172.30.9.0/24"}, {"internal": False}, {"bridge": "br-1234"}, {"ipv6": True}, {"mtu": 1400}],
    ids=["subnet", "internal", "bridge name", "ipv6", "mtu"],
)
def test_drifted_network_without_containers_is_recreated(drift):
    commands, _ = run(ops.network, facts(inspected(**drift)), **INTERNAL)
    assert commands == ["docker network rm sandbox-internal", CREATE]


def test_drifted_network_with_containers_fails_naming_them_and_the_drift():
    attached = {"abc": {"Name": "agent-1"}, "def": {"Name": "sandbox-egress-proxy"}}
    with pytest.raises(OperationError) as caught:
        run(ops.network, facts(inspected(subnet="172.30.9.0/24", containers=attached)), **INTERNAL)
    message = str(caught.value)
    assert "containers are attached (agent-1, sandbox-egress-proxy)" in message
    assert "subnets is ['172.30.9.0/24'], want ['172.30.0.0/24']" in message


def test_stopped_container_on_the_network_also_blocks_a_recreate():
    # `docker network inspect` lists running endpoints only; a stopped proxy still needs the network.
    stopped = {"Name": "/sandbox-egress-proxy", "NetworkSettings": {"Networks": {"sandbox-internal": {}}}}
    elsewhere = {"Name": "/other", "NetworkSettings": {"Networks": {"bridge": {}}}}
    with pytest.raises(OperationError, match=r"containers are attached \(sandbox-egress-proxy\)"):
        run(ops.network, {**facts(inspected(subnet="172.30.9.0/24")), (DockerContainers,): [stopped, elsewhere]}, **INTERNAL)


def test_overlap_with_a_host_route_is_refused():
    routes = ROUTES + [{"dst": "172.30.0.0/16", "dev": "tun0"}]
    with pytest.raises(OperationError, match=r"overlaps host route 172.30.0.0/16 dev tun0"):
        run(ops.network, facts(routes=routes), **INTERNAL)


def test_overlap_with_another_docker_network_is_refused():
    other = {"Name": "compose_default", "IPAM": {"Config": [{"Subnet": "172.30.0.128/25"}]}}
    with pytest.raises(OperationError, match=r"overlaps Docker network compose_default \(172.30.0.128/25\)"):
        run(ops.network, facts(networks=[DOCKER0, other]), **INTERNAL)


def test_own_route_and_own_old_network_do_not_count_as_overlap():
    # Recreating: the old network and its bridge's route are about to go.
    own_route = ROUTES + [{"dst": "172.30.0.0/24", "dev": "sbx-int0"}]
    old = inspected(subnet="172.30.0.0/25")
    commands, _ = run(ops.network, facts(old, networks=[DOCKER0, old[0]], routes=own_route), **INTERNAL)
    assert commands == ["docker network rm sandbox-internal", CREATE]


def test_host_route_without_prefix_is_a_single_address():
    routes = ROUTES + [{"dst": "172.30.0.9", "dev": "wg0"}]
    with pytest.raises(OperationError, match=r"host route 172.30.0.9/32 dev wg0"):
        run(ops.network, facts(routes=routes), **INTERNAL)


# The host INPUT guard

CHAIN = "SANDBOX-INPUT"
GUARDED = [
    "-P INPUT ACCEPT",
    f"-N {CHAIN}",
    f"-A INPUT -i sbx-int0 -j {CHAIN}",
    "-A INPUT -i lo -j ACCEPT",
    f"-A {CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
    f"-A {CHAIN} -j DROP",
]


def guard(rules, bridges=("sbx-int0",), version=4):
    return run(ops.input_guard, {(FilterRules, version): rules}, chain=CHAIN, bridges=list(bridges), version=version)


def test_guard_on_a_bare_host_creates_chain_and_jump_first():
    commands, _ = guard(["-P INPUT ACCEPT", "-A INPUT -i lo -j ACCEPT"])
    assert commands == [
        f"iptables -w -N {CHAIN}",
        f"iptables -w -A {CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
        f"iptables -w -A {CHAIN} -j DROP",
        f"iptables -w -I INPUT 1 -i sbx-int0 -j {CHAIN}",
    ]


def test_guard_in_place_is_no_change():
    commands, noops = guard(GUARDED)
    assert commands == [] and noops == [f"iptables guard {CHAIN} is in place for sbx-int0"]


def test_guard_chain_edited_by_hand_is_rewritten():
    edited = [r for r in GUARDED if not r.endswith("-j DROP")] + [f"-A {CHAIN} -j ACCEPT"]
    commands, _ = guard(edited)
    assert commands == [
        f"iptables -w -F {CHAIN}",
        f"iptables -w -A {CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
        f"iptables -w -A {CHAIN} -j DROP",
    ]


def test_jump_shadowed_by_an_earlier_accept_is_moved_to_the_top():
    shadowed = ["-P INPUT ACCEPT", f"-N {CHAIN}", "-A INPUT -j ACCEPT", f"-A INPUT -i sbx-int0 -j {CHAIN}"] + GUARDED[4:]
    commands, _ = guard(shadowed)
    assert commands == [f"iptables -w -D INPUT -i sbx-int0 -j {CHAIN}", f"iptables -w -I INPUT 1 -i sbx-int0 -j {CHAIN}"]


def test_renamed_bridge_loses_its_old_jump():
    commands, _ = guard(GUARDED, bridges=["sbx-new0"])
    assert commands == [f"iptables -w -D INPUT -i sbx-int0 -j {CHAIN}", f"iptables -w -I INPUT 1 -i sbx-new0 -j {CHAIN}"]


def test_ip6tables_missing_is_skipped_but_iptables_missing_fails():
    commands, noops = guard(None, version=6)
    assert commands == [] and noops == ["ip6tables is not installed: nothing to guard over IPv6"]
    with pytest.raises(OperationError, match="iptables is not installed"):
        guard(None, version=4)


def test_ip6tables_commands_use_ip6tables():
    commands, _ = guard(["-P INPUT ACCEPT"], version=6)
    assert commands[0] == f"ip6tables -w -N {CHAIN}"


def test_routes_fact_parses_both_families():
    output = [
        '[{"dst":"default","gateway":"192.0.2.1","dev":"eth0","flags":[]},{"dst":"172.17.0.0/16","dev":"docker0"}]',
        '[{"dst":"fd00::/64","dev":"eth0"}]',
    ]
    assert Routes().process(output) == [
        {"dst": "default", "dev": "eth0"},
        {"dst": "172.17.0.0/16", "dev": "docker0"},
        {"dst": "fd00::/64", "dev": "eth0"},
    ]


# The boot-time script and unit (roles/sandbox_network/templates)

from sandbox_host.roles.sandbox_network.deploy import guard_unit_name, render  # noqa: E402
from sandbox_host.roles.sandbox_network.settings import SandboxNetworkSettings  # noqa: E402


def test_boot_script_applies_the_same_rules_as_the_operation():
    script = render("input-guard.sh.j2", chain=CHAIN, bridges=["sbx-int0"])
    chain_rules, jumps = ops.guard_rules(CHAIN, ["sbx-int0"])
    for rule in chain_rules[1:]:
        assert f'"$tool" -w {rule}' in script
    for jump in jumps:
        assert f'"$tool" -w {jump.replace("-A INPUT", "-I INPUT 1")}' in script
    assert f'"$tool" -w -N {CHAIN} 2>/dev/null || "$tool" -w -F {CHAIN}' in script


def test_boot_unit_runs_the_script_before_docker():
    settings = SandboxNetworkSettings()
    unit = render("input-guard.service.j2", bridges=["sbx-int0"], script=settings.guard_script)
    assert guard_unit_name(settings) == "sandbox-host-input-guard.service"
    assert "Before=docker.service network-pre.target" in unit
    assert f"ExecStart={settings.guard_script}" in unit
    assert "WantedBy=multi-user.target" in unit
