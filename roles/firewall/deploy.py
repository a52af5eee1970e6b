"""Firewall: let Docker's bridges through firewalld or UFW (seed 001, cause 2).

    from sandbox_host.roles.firewall.deploy import configure_firewall
    configure_firewall(settings.firewall, interfaces=[...bridges...], subnets=[...docker subnets...])

firewalld (running): every bridge is bound to `firewall.firewalld_zone` (default `docker`),
permanently and at runtime, so the binding survives `firewall-cmd --reload` and reboots; a
bridge bound to another zone is moved, with a warning.
UFW (active): routed traffic from each subnet is allowed (`ufw route allow from <subnet>`, kept
in /etc/ufw/user.rules so it survives `ufw reload`) and DEFAULT_FORWARD_POLICY is set to
`firewall.ufw_forward_policy` (default deny). No INPUT rule is added: no host port opens.
Neither installed and running: nothing is done.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyinfra import host, logger
from pyinfra.api import deploy
from pyinfra.api.operation import OperationMeta

from sandbox_host.roles.firewall.facts import FirewalldState, UfwStatus
from sandbox_host.roles.firewall.operations import firewalld, ufw
from sandbox_host.roles.firewall.settings import FirewallSettings

# The zone dockerd >= 20.10 creates and binds its bridges to (runtime only).
DOCKER_ZONE = "docker"


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _firewalld(settings: FirewallSettings, state: dict, interfaces: list[str]) -> list[OperationMeta]:
    zone = settings.firewalld_zone
    if zone != DOCKER_ZONE and DOCKER_ZONE in state["permanent"]:
        logger.warning(
            f"{host.print_prefix}firewall.firewalld_zone is {zone!r} but dockerd manages a "
            f"{DOCKER_ZONE!r} zone: Docker >= 20.10 fails to start while docker0 is bound to "
            f"another zone (ZONE_CONFLICT). Use firewalld_zone: {DOCKER_ZONE} unless this Docker is older."
        )
    metas = [firewalld.zone(name=f"firewalld zone {zone} (target ACCEPT)", zone=zone, target="ACCEPT")]
    for interface in interfaces:
        metas.append(
            firewalld.zone_interface(
                name=f"Bind {interface} to firewalld zone {zone}", zone=zone, interface=interface
            )
        )
    return metas


def _ufw(settings: FirewallSettings, interfaces: list[str], subnets: list[str]) -> list[OperationMeta]:
    metas = []
    if settings.ufw_forward_policy != "keep":
        metas.append(
            ufw.default_forward_policy(
                name=f"UFW routed policy {settings.ufw_forward_policy}", policy=settings.ufw_forward_policy
            )
        )
    for subnet in subnets:
        metas.append(ufw.route_allow(name=f"UFW allow routed traffic from {subnet}", source=subnet))
    # docker0's subnet is 172.17.0.0/16 only when that clashes with no host route (it does not
    # in nested test hosts or on some corporate LANs): each bridge's subnets are read from Docker
    # when the operation runs, after Docker is installed and started by the roles before.
    for interface in interfaces:
        metas.append(ufw.route_allow(name=f"UFW allow routed traffic from {interface}'s subnet", bridge=interface))
    return metas


@deploy("Firewall")
def configure_firewall(
    settings: FirewallSettings,
    interfaces: Iterable[str] = ("docker0",),
    subnets: Iterable[str] = (),
) -> list[OperationMeta]:
    """Make the active host firewall let Docker's bridges through; returns the operations' metas.

    + settings: the `firewall` section
    + interfaces: Docker's bridges (docker0 and the sandbox bridges); firewall.extra_interfaces
      is appended
    + subnets: subnets whose routed traffic UFW allows besides the bridges' own (which UFW
      reads from Docker, internal networks excepted): e.g. the sandbox egress subnet and the
      daemon's address pools, as configured; firewall.extra_subnets is appended. Leave out
      networks that must not route (the sandbox's internal network): Docker's isolation rules
      drop their traffic first today, and an allow rule would only be a second door.
    """
    if not settings.manage or settings.backend == "none":
        host.noop("firewall: not managed (firewall.manage false or backend none)")
        return []
    interfaces = _unique([*interfaces, *settings.extra_interfaces])
    subnets = _unique([*subnets, *settings.extra_subnets])

    metas: list[OperationMeta] = []
    if settings.backend in ("auto", "firewalld"):
        state = host.get_fact(FirewalldState)
        if state and state["running"]:
            metas += _firewalld(settings, state, interfaces)
        elif settings.backend == "firewalld":
            host.noop("firewall: firewalld is " + ("not running" if state else "not installed"))
    if settings.backend in ("auto", "ufw"):
        status = host.get_fact(UfwStatus)
        if status and status["active"]:
            metas += _ufw(settings, interfaces, subnets)
        elif settings.backend == "ufw":
            host.noop("firewall: ufw is " + ("inactive" if status else "not installed"))
    if not metas:
        host.noop("firewall: neither firewalld nor UFW is running; nothing to open")
    return metas
