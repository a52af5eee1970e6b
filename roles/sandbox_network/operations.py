"""The sandbox's Docker networks and the host-side guard of the internal bridge."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pyinfra import host, logger
from pyinfra.api import OperationError, QuoteString, StringCommand, operation
from pyinfra.facts.docker import DockerContainers, DockerNetwork, DockerNetworks

from sandbox_host.roles.common import scripts
from sandbox_host.roles.common.labels import AGENT_LABEL, PROBE_LABELS, recreated_by_owner
from sandbox_host.roles.sandbox_network.facts import FilterRules, Routes

BRIDGE_NAME_OPT = "com.docker.network.bridge.name"
MTU_OPT = "com.docker.network.driver.mtu"
MANAGED_LABEL = "org.sandbox-host.managed"
REMOVE_NETWORK = Path(__file__).parent / "files" / "remove-network.sh"


def differing(found: dict, bridge: str, subnet: str, internal: bool, mtu: int | None,
              ip_range: str | None = None, gateway: str | None = None) -> dict[str, tuple]:
    """What differs between an existing network (``docker network inspect`` entry) and the wanted
    one, as {what: (have, want)}."""
    options = found.get("Options") or {}
    configs = (found.get("IPAM") or {}).get("Config") or []
    wanted = {
        "driver": ("bridge", found.get("Driver")),
        "internal": (internal, bool(found.get("Internal"))),
        "IPv6": (False, bool(found.get("EnableIPv6"))),
        "bridge name": (bridge, options.get(BRIDGE_NAME_OPT)),
        "subnets": ([subnet], [c.get("Subnet") for c in configs]),
        # Docker records a range and a gateway only when they were given at creation.
        "IP range": ([ip_range], [c.get("IPRange") or None for c in configs]),
        "MTU": (str(mtu) if mtu else None, options.get(MTU_OPT)),
    }
    if gateway:
        wanted["gateway"] = ([gateway], [c.get("Gateway") or None for c in configs])
    return {key: (have, want) for key, (want, have) in wanted.items() if want != have}


def differences(found: dict, *args, **kwargs) -> list[str]:
    """``differing`` as sentences: ``subnets is ['172.30.9.0/24'], want ['172.30.0.0/24']``."""
    return [f"{key} is {have!r}, want {want!r}" for key, (have, want) in differing(found, *args, **kwargs).items()]


def overlaps(name: str, bridge: str, subnet: str, networks: list[dict], routes: list[dict]) -> list[str]:
    """Docker networks (other than ``name``) and host routes (not via ``bridge``) that overlap ``subnet``."""
    want = ipaddress.ip_network(subnet)
    found = []
    for other in networks:
        if other.get("Name") == name:
            continue
        for config in (other.get("IPAM") or {}).get("Config") or []:
            theirs = ipaddress.ip_network(config.get("Subnet") or "0.0.0.0/32", strict=False)
            if theirs.version == want.version and theirs.overlaps(want) and config.get("Subnet"):
                found.append(f"Docker network {other.get('Name')} ({theirs})")
    for route in routes:
        if route["dst"] == "default" or route["dev"] == bridge:
            continue
        theirs = ipaddress.ip_network(route["dst"], strict=False)
        if theirs.version == want.version and not theirs.is_link_local and theirs.overlaps(want):
            found.append(f"host route {theirs} dev {route['dev']}")
    return found


def attached_containers(network: str, containers: list[dict]) -> dict[str, dict]:
    """Containers on ``network`` by name, with their ``docker container inspect`` entry: running
    ones and stopped ones (their own settings name the network; the network inspect lists only
    running endpoints, and a stopped container could not start without it). Read from the
    containers, not the network's endpoints: a throwaway probe listed there may be gone (--rm) by
    the time the containers are read."""
    attached = {}
    for container in containers:
        if network in ((container.get("NetworkSettings") or {}).get("Networks") or {}):
            attached[container.get("Name", "").lstrip("/") or container.get("Id", "")[:12]] = container
    return dict(sorted(attached.items()))


def replaceable(container: dict) -> bool:
    """Whether a container on the network may be removed so the network can be recreated: one
    its creator recreates from its spec when it is missing (the egress proxy, by the deploy right
    after the networks; a credential gateway, by agent-sandbox at the next start), a throwaway
    probe, or a stopped agent sandbox (agent-sandbox start replaces a stopped leftover anyway). A
    running sandbox holds someone's session, and containers the project did not make are not its
    to remove."""
    labels = (container.get("Config") or {}).get("Labels") or {}
    if recreated_by_owner(labels):
        return True
    key, value = AGENT_LABEL
    return labels.get(key) == value and not (container.get("State") or {}).get("Running")


@operation()
def network(
    network: str,
    bridge: str,
    subnet: str,
    internal: bool = False,
    mtu: int | None = None,
    ip_range: str | None = None,
    gateway: str | None = None,
):
    """
    A bridge network with a fixed bridge name and subnet, IPv6 off.

    + network: Docker network name
    + bridge: Linux bridge name (``com.docker.network.bridge.name``), what firewall rules refer to
    + subnet: IPv4 CIDR; checked against the host's routes and Docker's other networks
    + internal: ``--internal`` (no route out through Docker's NAT)
    + mtu: ``com.docker.network.driver.mtu`` (None: Docker's default, 1500)
    + ip_range: ``--ip-range``, where Docker takes the addresses of containers that join without
      a fixed IP (None: the whole subnet)
    + gateway: ``--gateway``, the bridge's own address (None: Docker's choice, which with an
      ip_range is the range's first address)

    Present and matching: no change. Present and different: removed and created again. Containers
    attached are removed first when that loses nothing (``replaceable``: their creators recreate
    them); any other one stops the operation, which names it.
    """
    found = host.get_fact(DockerNetwork, object_id=network)
    replaced = []
    if found:
        diff = differences(found[0], bridge, subnet, internal, mtu, ip_range, gateway)
        if not diff:
            host.noop(f"network {network} is as configured")
            # Checked at creation too, but a VPN or another interface can add a route later.
            clashes = [c for c in overlaps(network, bridge, subnet, [], host.get_fact(Routes)) if c.startswith("host route")]
            if clashes and host.state.is_executing:  # once per run (the generator also runs to plan)
                logger.warning("%ssubnet %s of network %s overlaps %s: containers cannot reach what that route "
                               "leads to (or the host cannot reach them); choose another subnet in sandbox_network "
                               "settings", host.print_prefix, subnet, network, ", ".join(clashes))
            return
        attached = attached_containers(network, host.get_fact(DockerContainers) or [])
        kept = [name for name, container in attached.items() if not replaceable(container)]
        if kept:
            raise OperationError(
                f"network {network} differs from the settings ({'; '.join(diff)}) but containers the deploy "
                f"cannot recreate are attached ({', '.join(kept)}): stop them (agent-sandbox stop, docker rm -f) "
                "and run again"
            )
        replaced = list(attached)

    clashes = overlaps(network, bridge, subnet, host.get_fact(DockerNetworks) or [], host.get_fact(Routes))
    if clashes:
        raise OperationError(
            f"subnet {subnet} of network {network} overlaps {', '.join(clashes)}: "
            "choose another subnet in sandbox_network settings"
        )

    if replaced:
        if host.state.is_executing:
            logger.warning("%snetwork %s is recreated (%s); removed first, recreated by their owners: %s",
                           host.print_prefix, network, "; ".join(diff), ", ".join(replaced))
        yield StringCommand("docker container rm --force", *[QuoteString(name) for name in replaced])
    if found:
        # A probe that joins meanwhile (the conformance timer's) would keep the network: it goes too.
        yield scripts.command(REMOVE_NETWORK, network, *PROBE_LABELS)
    create = ["docker network create --driver bridge"]
    if internal:
        create.append("--internal")
    create += ["--subnet", QuoteString(subnet)]
    if ip_range:
        create += ["--ip-range", QuoteString(ip_range)]
    if gateway:
        create += ["--gateway", QuoteString(gateway)]
    create += ["--opt", QuoteString(f"{BRIDGE_NAME_OPT}={bridge}")]
    if mtu:
        create += ["--opt", QuoteString(f"{MTU_OPT}={mtu}")]
    create += ["--label", f"{MANAGED_LABEL}=true", QuoteString(network)]
    yield StringCommand(*create)


def guard_rules(chain: str, bridges: list[str]) -> tuple[list[str], list[str]]:
    """The guard chain's rules and INPUT's jumps into it, as ``iptables -S`` prints them."""
    chain_rules = [
        f"-N {chain}",
        # Replies to connections the host opened (e.g. a health check of the proxy) still arrive.
        f"-A {chain} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
        f"-A {chain} -j DROP",
    ]
    jumps = [f"-A INPUT -i {bridge} -j {chain}" for bridge in bridges]
    return chain_rules, jumps


@operation()
def input_guard(chain: str, bridges: list[str], version: int = 4):
    """
    Drop what containers on ``bridges`` send to the host itself (INPUT), except replies.

    Docker's --internal only stops forwarding; a host service listening on 0.0.0.0 still answers
    at the bridge's gateway IP. The guard chain is owned here: rewritten whole when it differs.
    Each bridge's jump sits ahead of every ACCEPT in INPUT, so firewall rules added later (UFW,
    firewalld, hand-made) cannot shadow it. A host without ip6tables is skipped for version 6.
    """
    tool = "iptables" if version == 4 else "ip6tables"
    rules = host.get_fact(FilterRules, version=version)
    if rules is None:
        if version == 4:
            raise OperationError("iptables is not installed: cannot guard the sandbox's internal bridge")
        host.noop("ip6tables is not installed: nothing to guard over IPv6")
        return

    chain_rules, jumps = guard_rules(chain, bridges)
    have_chain = [r for r in rules if r == f"-N {chain}" or r.startswith(f"-A {chain} ")]
    changed = False
    if have_chain != chain_rules:
        changed = True
        if f"-N {chain}" in have_chain:
            yield f"{tool} -w -F {chain}"
        else:
            yield f"{tool} -w -N {chain}"
        for rule in chain_rules[1:]:
            yield f"{tool} -w {rule}"

    input_rules = [r for r in rules if r.startswith("-A INPUT ")]
    for stale in [r for r in input_rules if r.endswith(f" -j {chain}") and r not in jumps]:
        # A bridge that is no longer guarded (renamed in the settings).
        changed = True
        yield f"{tool} -w {stale.replace('-A INPUT', '-D INPUT', 1)}"
        input_rules.remove(stale)
    first_accept = next((i for i, r in enumerate(input_rules) if r.endswith("-j ACCEPT")), len(input_rules))
    for jump in jumps:
        if jump in input_rules[:first_accept]:
            continue
        changed = True
        if jump in input_rules:
            yield f"{tool} -w {jump.replace('-A INPUT', '-D INPUT', 1)}"
        yield f"{tool} -w {jump.replace('-A INPUT', '-I INPUT 1', 1)}"
    if not changed:
        host.noop(f"{tool} guard {chain} is in place for {', '.join(bridges)}")
