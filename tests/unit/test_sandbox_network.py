"""sandbox_network operations: faked facts in, exact commands (or a clear refusal) out."""

import pytest
from pyinfra.api import OperationError
from pyinfra.facts.docker import DockerContainers, DockerNetwork, DockerNetworks

from fakehost import run_operation
from sandbox_host.roles.common import scripts
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


# `docker network rm`, with the throwaway probes that may join meanwhile removed first.
REMOVE = [scripts.command(ops.REMOVE_NETWORK, "sandbox-internal", "org.sandbox-host.conformance-probe",
                          "sandbox-host.diagnose")]


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


def container(name, labels, running=True, network="sandbox-internal"):
    """A `docker container inspect` entry of a container on ``network``."""
    return {"Name": f"/{name}", "Config": {"Labels": labels}, "State": {"Running": running},
            "NetworkSettings": {"Networks": {network: {}}}}


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
    assert commands == [*REMOVE, CREATE]


def test_drifted_network_with_foreign_containers_fails_naming_them_and_the_drift():
    attached = {"abc": {"Name": "agent-1"}, "def": {"Name": "sandbox-egress-proxy"}}
    running = [container("agent-1", {"org.sandbox-host.role": "agent"}),
               container("sandbox-egress-proxy", {"org.sandbox-host.spec": "abc"})]
    with pytest.raises(OperationError) as caught:
        run(ops.network, facts(inspected(subnet="172.30.9.0/24", containers=attached), containers=running), **INTERNAL)
    message = str(caught.value)
    # The running sandbox holds someone's session; the proxy alone would have been replaced.
    assert "containers the deploy cannot recreate are attached (agent-1): stop them" in message
    assert "subnets is ['172.30.9.0/24'], want ['172.30.0.0/24']" in message


def test_stopped_foreign_container_on_the_network_also_blocks_a_recreate():
    # `docker network inspect` lists running endpoints only; a stopped container still needs the network.
    stopped = container("mine", {}, running=False)
    elsewhere = {"Name": "/other", "NetworkSettings": {"Networks": {"bridge": {}}}}
    with pytest.raises(OperationError, match=r"cannot recreate are attached \(mine\)"):
        run(ops.network, facts(inspected(subnet="172.30.9.0/24"), containers=[stopped, elsewhere]), **INTERNAL)


def test_endpoint_gone_by_the_time_containers_are_read_is_no_obstacle():
    # A conformance probe (--rm) listed by the network inspect, finished before the containers
    # were read: nothing is attached any more.
    commands, _ = run(ops.network, facts(inspected(subnet="172.30.9.0/24", containers={"x": {"Name": "probe-1"}})),
                      **INTERNAL)
    assert commands == [*REMOVE, CREATE]


# The internal network's dynamic range: containers without --ip never get a fixed address.

RANGED = {**INTERNAL, "ip_range": "172.30.0.64/26", "gateway": "172.30.0.1"}
CREATE_RANGED = (
    "docker network create --driver bridge --internal --subnet 172.30.0.0/24 --ip-range 172.30.0.64/26 "
    "--gateway 172.30.0.1 --opt com.docker.network.bridge.name=sbx-int0 --label org.sandbox-host.managed=true "
    "sandbox-internal"
)


def ranged(**kwargs):
    found = inspected(**kwargs)
    found[0]["IPAM"]["Config"][0]["IPRange"] = "172.30.0.64/26"
    return found


def test_internal_network_is_created_with_its_range_and_gateway():
    commands, _ = run(ops.network, facts(), **RANGED)
    assert commands == [CREATE_RANGED]


def test_network_with_its_range_is_no_change():
    commands, noops = run(ops.network, facts(ranged()), **RANGED)
    assert commands == [] and noops == ["network sandbox-internal is as configured"]


def test_network_made_without_a_range_differs_and_its_own_containers_are_replaced():
    # A network created before the range existed: Docker records no IPRange (and no Gateway).
    old = inspected()
    old[0]["IPAM"]["Config"][0].pop("Gateway")
    assert ops.differences(old[0], "sbx-int0", "172.30.0.0/24", True, None, "172.30.0.64/26", "172.30.0.1") == [
        "IP range is [None], want ['172.30.0.64/26']", "gateway is [None], want ['172.30.0.1']"]
    endpoints = {"a": {"Name": "sandbox-egress-proxy"}, "b": {"Name": "agent-sandbox-gateway-1000"},
                 "c": {"Name": "sbx-conformance-probe-1"}}
    inspected_containers = [
        container("sandbox-egress-proxy", {"org.sandbox-host.spec": "1f"}),
        container("agent-sandbox-gateway-1000", {"org.sandbox-host.spec": "2e",
                                                  "org.sandbox-host.role": "credential-gateway"}),
        container("sbx-conformance-probe-1", {"org.sandbox-host.conformance-probe": "1"}),
        container("agent-sandbox-1000", {"org.sandbox-host.role": "agent"}, running=False),
    ]
    old[0]["Containers"] = endpoints
    commands, _ = run(ops.network, facts(old, containers=inspected_containers), **RANGED)
    assert commands == [
        "docker container rm --force agent-sandbox-1000 agent-sandbox-gateway-1000 sandbox-egress-proxy "
        "sbx-conformance-probe-1",
        *REMOVE,
        CREATE_RANGED,
    ]


def test_running_agent_sandbox_stops_the_recreate_and_nothing_is_removed():
    old = inspected(containers={"a": {"Name": "sandbox-egress-proxy"}, "b": {"Name": "agent-sandbox-1000"}})
    running = [container("sandbox-egress-proxy", {"org.sandbox-host.spec": "1f"}),
               container("agent-sandbox-1000", {"org.sandbox-host.role": "agent"})]
    with pytest.raises(OperationError, match=r"cannot recreate are attached \(agent-sandbox-1000\): stop them"):
        run(ops.network, facts(old, containers=running), **RANGED)


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
    assert commands == [*REMOVE, CREATE]


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


# The address plan: fixed addresses, the dynamic range derived from them, and its checks.

from sandbox_host.config.schema import HostConfig  # noqa: E402


def test_default_plan_keeps_the_dynamic_range_off_every_fixed_address():
    settings = SandboxNetworkSettings()
    assert settings.bridge_ip() == "172.30.0.1"
    assert settings.fixed_addresses() == {
        "internal_subnet (the bridge's address)": "172.30.0.1/32",
        "proxy_ip": "172.30.0.2/32",
        "gateway_ip_range": "172.30.0.224/27",
    }
    # .0/26 holds the bridge and the proxy, .192/26 the gateways: the largest free block is .64/26.
    assert settings.dynamic_range() == "172.30.0.64/26"
    assert settings.address_problems() == []


@pytest.mark.parametrize("network,expected", [
    ({"internal_subnet": "10.99.0.0/24", "proxy_ip": "10.99.0.2"}, "10.99.0.64/26"),
    ({"internal_subnet": "172.30.0.0/23"}, "172.30.0.128/25"),
    ({"proxy_ip": "172.30.0.100"}, "172.30.0.128/26"),
    ({"gateway_ip_range": "172.30.0.16/28"}, "172.30.0.128/25"),
    ({"dynamic_ip_range": "172.30.0.32/27"}, "172.30.0.32/27"),
], ids=["custom subnet", "larger subnet", "proxy in the middle", "gateways low", "set explicitly"])
def test_dynamic_range_follows_the_fixed_addresses(network, expected):
    settings = SandboxNetworkSettings(**network)
    assert settings.dynamic_range() == expected
    assert settings.address_problems() == []


@pytest.mark.parametrize("network,key,reason", [
    ({"dynamic_ip_range": "172.30.0.0/26"}, "dynamic_ip_range",
     "172.30.0.0/26 holds fixed addresses (internal_subnet (the bridge's address), proxy_ip): Docker could give "
     "them to another container while their owner is down"),
    ({"dynamic_ip_range": "172.30.0.192/26"}, "dynamic_ip_range", "172.30.0.192/26 holds fixed addresses (gateway_ip_range): "
     "Docker could give them to another container while their owner is down"),
    ({"dynamic_ip_range": "172.31.0.0/26"}, "dynamic_ip_range", "172.31.0.0/26 must lie inside internal_subnet 172.30.0.0/24"),
    ({"proxy_ip": "172.30.0.1"}, "proxy_ip", "172.30.0.1 is not a usable address of internal_subnet 172.30.0.0/24 "
                                            "(nor the bridge's own address 172.30.0.1)"),
    ({"gateway_ip_range": "172.30.0.0/28", "proxy_ip": "172.30.0.100"}, "gateway_ip_range",
     "172.30.0.0/28 must lie inside internal_subnet 172.30.0.0/24 and hold neither proxy_ip 172.30.0.100 "
     "nor the bridge's address 172.30.0.1"),
    # Every block of four holds a fixed address: nothing left to derive.
    ({"internal_subnet": "172.30.0.0/28", "proxy_ip": "172.30.0.5", "gateway_ip_range": "172.30.0.8/29"},
     "dynamic_ip_range", "no block of internal_subnet 172.30.0.0/28 is free of the fixed addresses "
                         "(bridge, proxy_ip, gateway_ip_range): set one"),
], ids=["holds bridge and proxy", "holds the gateways", "outside the subnet", "proxy on the bridge",
        "gateways over the bridge", "nothing free"])
def test_address_plan_problems_name_the_key_and_the_reason(network, key, reason):
    assert SandboxNetworkSettings(**network).address_problems() == [(key, reason)]
    assert HostConfig(sandbox_network=network).cross_checks() == [(("sandbox_network", key), reason)]


def test_deploy_creates_the_internal_network_with_the_derived_range(monkeypatch):
    from fakehost import fake_host

    from sandbox_host.roles.sandbox_network import deploy

    called = []
    monkeypatch.setattr(deploy.operations, "network", lambda **kwargs: called.append(kwargs))
    with fake_host({}):
        deploy.sandbox_networks._inner(SandboxNetworkSettings(guard_host_input=False), mtu=1450)
    internal, egress = called
    assert {k: v for k, v in internal.items() if k != "name"} == {**RANGED, "mtu": 1450}
    # The egress network has no fixed address (the proxy and the gateways join it dynamically).
    assert egress["ip_range"] is None and egress["gateway"] is None
