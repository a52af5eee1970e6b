"""sandbox_network: the internal and egress Docker networks, and the guard of the host's INPUT."""

from __future__ import annotations

from pyinfra.api import deploy

from roles.sandbox_network import operations
from roles.sandbox_network.settings import SandboxNetworkSettings


@deploy("Sandbox networks")
def sandbox_networks(settings: SandboxNetworkSettings, mtu: int | None = None):
    """Create (or fix) both networks; guard the host from the internal bridge.

    ``mtu``: pass ``docker_daemon.mtu`` so the sandbox's bridges use the host's path MTU like
    docker0 does (user-defined networks do not inherit the daemon's ``mtu``).
    Returns the operations' metas (for ``any_changed``).
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
        ),
        operations.network(
            name=f"Egress network {settings.egress_network} ({settings.egress_bridge})",
            network=settings.egress_network,
            bridge=settings.egress_bridge,
            subnet=settings.egress_subnet,
            internal=False,
            mtu=mtu,
        ),
    ]
    if settings.guard_host_input:
        for version in (4, 6):
            metas.append(
                operations.input_guard(
                    name=f"IPv{version}: {settings.internal_bridge} cannot reach host services",
                    chain=settings.guard_chain,
                    bridges=[settings.internal_bridge],
                    version=version,
                )
            )
    return metas
