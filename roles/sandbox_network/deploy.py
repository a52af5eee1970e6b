"""sandbox_network: the internal and egress Docker networks, and the guard of the host's INPUT."""

from __future__ import annotations

import posixpath
from io import StringIO
from pathlib import Path

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.files import Directory
from pyinfra.operations import files

from sandbox_host.roles.common import firewalld_direct, templating
from sandbox_host.roles.common.units import boot_unit
from sandbox_host.roles.sandbox_network import operations
from sandbox_host.roles.sandbox_network.settings import SandboxNetworkSettings

TEMPLATES = Path(__file__).parent / "templates"


def render(template: str, **variables) -> str:
    return templating.render(TEMPLATES, template, **variables)


def guard_unit_name(settings: SandboxNetworkSettings) -> str:
    return f"{posixpath.basename(settings.guard_script)}.service"


@deploy("Sandbox networks")
def sandbox_networks(settings: SandboxNetworkSettings, mtu: int | None = None):
    """Create (or fix) both networks; guard the host from the internal bridge, now and at boot.

    ``mtu``: pass ``docker_daemon.mtu`` so the sandbox's bridges use the host's path MTU like
    docker0 does (user-defined networks do not inherit the daemon's ``mtu``).
    Returns the operations' metas.
    """
    if not settings.enabled:
        return []
    metas = [
        operations.network(
            name=f"Internal network {settings.internal_network} ({settings.internal_bridge})",
            network=settings.internal_network,
            bridge=settings.internal_bridge,
            subnet=settings.internal_subnet,
            internal=True,
            mtu=mtu,
            # Containers without a fixed IP get theirs from this range only: none can take the
            # proxy's or a gateway's address while that container is being recreated.
            ip_range=settings.dynamic_range(),
            gateway=settings.bridge_ip(),
        ),
        operations.network(
            name=f"Egress network {settings.egress_network} ({settings.egress_bridge})",
            network=settings.egress_network,
            bridge=settings.egress_bridge,
            subnet=settings.egress_subnet,
            internal=False,
            mtu=mtu,
            # No fixed address here: the proxy and the gateways join it without one.
            ip_range=None,
            gateway=None,
        ),
    ]
    if settings.guard_host_input:
        metas += input_guard(settings)
    return metas


def input_guard(settings: SandboxNetworkSettings) -> list:
    bridges = [settings.internal_bridge]
    metas = [
        operations.input_guard(
            name=f"IPv{version}: {settings.internal_bridge} cannot reach host services",
            chain=settings.guard_chain,
            bridges=bridges,
            version=version,
        )
        for version in (4, 6)
    ]
    # firewalld's reloads flush iptables: with it running, it restores the guard itself.
    chain_rules, jumps = operations.guard_rules(settings.guard_chain, bridges)
    metas.append(firewalld_direct.keep_through_reloads(
        name=f"Guard {settings.guard_chain} kept through firewalld reloads",
        table="filter", chain=settings.guard_chain, rules=[*chain_rules, *jumps],
    ))
    script = render("input-guard.sh.j2", chain=settings.guard_chain, bridges=bridges)
    metas.append(
        files.put(
            name=f"Boot-time guard script {settings.guard_script}",
            src=StringIO(script),
            dest=settings.guard_script,
            user="root",
            group="root",
            mode="755",
        )
    )
    # Without systemd as PID 1 (containers, this project's dev machine) the deploy's own guard
    # is all there is: re-run the deploy (or the script) after a reboot.
    if host.get_fact(Directory, path="/run/systemd/system"):
        unit_name = guard_unit_name(settings)
        metas += boot_unit("guard", unit_name, render("input-guard.service.j2", bridges=bridges,
                                                      script=settings.guard_script))
    return metas
