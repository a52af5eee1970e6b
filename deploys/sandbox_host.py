"""Turn a Docker host into a safe place to run the agent sandbox.

    pyinfra inventories/dev.py deploys/sandbox_host.py
    sandbox-host deploy inventories/dev.py            (the same deploy, through the CLI)

Thin composition: every step is a role (roles/<name>/deploy.py) with its settings section in
group_vars/. Order matters: Docker and its configuration first, one guarded restart, then what
runs on Docker (gVisor smoke run, sandbox networks and images, launcher).
"""

import pyinfra
from pyinfra import host
from pyinfra.operations.util import any_changed

from sandbox_host.roles.agent.deploy import agent_image
from sandbox_host import config
from sandbox_host.roles.common.facts import InitSystem
from sandbox_host.roles.docker_daemon.deploy import detect_mtu, docker_daemon, restart_if_changed
from sandbox_host.roles.docker_engine.deploy import docker_engine
from sandbox_host.roles.docker_proxy.deploy import docker_proxy
from sandbox_host.roles.egress_proxy.deploy import egress_proxy
from sandbox_host.roles.firewall.deploy import configure_firewall
from sandbox_host.roles.gvisor import deploy as gvisor
from sandbox_host.roles.host_network.deploy import host_network
from sandbox_host.roles.images import deploy as images
from sandbox_host.roles.launcher.deploy import launcher
from sandbox_host.roles.sandbox_network.deploy import sandbox_networks


def deploy_sandbox_host():
    """The whole deploy for the current host (pyinfra's context ``host``): the CLI runs it from
    this file, the fleet tools (sandbox_host.fleet) call it per host through pyinfra's API."""
    # Every group_vars file is validated before any operation is planned, so a bad value in any
    # group stops the run before a host is touched (exit 2, file, key and reason, no traceback).
    settings = config.load_or_exit(host.groups)
    init = host.get_fact(InitSystem)

    docker_engine(settings.docker_engine)
    sandbox = settings.sandbox_network
    sandbox_bridges = [sandbox.internal_bridge, sandbox.egress_bridge] if sandbox.enabled else []
    host_network(settings.host_network, bridges=["docker0", *sandbox_bridges])
    # The path MTU (docker_daemon.mtu: auto), for docker0 and the sandbox networks alike.
    mtu = detect_mtu(settings.docker_daemon, bridges=sandbox_bridges)
    # Before the restart: a bridge bound to another firewalld zone stops dockerd from starting.
    configure_firewall(
        settings.firewall,
        interfaces=["docker0", *sandbox_bridges],
        subnets=[
            *([sandbox.egress_subnet] if sandbox.enabled else []),
            *[pool.base for pool in settings.docker_daemon.default_address_pools],
        ],
    )

    runsc_installed = gvisor.install(settings.gvisor) if settings.gvisor.enabled else None
    daemon_config = docker_daemon(
        settings.docker_daemon,
        runtimes=gvisor.daemon_runtime_options(settings.gvisor) if settings.gvisor.enabled else None,
        released={"default-runtime": settings.gvisor.runtime_name},
        mtu=mtu,
    )
    daemon_proxy = docker_proxy(settings.docker_proxy, init)
    restart_if_changed(settings.docker_daemon, init, daemon_config, daemon_proxy)

    proxy = settings.docker_proxy
    images.build_proxy(settings.images, proxy.http_proxy, proxy.https_proxy, proxy.no_proxy)
    base_image = images.base_image(settings.images)

    if settings.gvisor.enabled:
        gvisor.smoke_run(
            name="Smoke run under runsc",
            runtime=settings.gvisor.runtime_name,
            image=settings.gvisor.smoke_image or settings.images.base_image,
            _if=any_changed(*[op for op in (daemon_config, runsc_installed) if op is not None]),
        )

    # The sandbox: networks, the egress proxy on them, the agent image and the launcher.
    sandbox_networks(settings.sandbox_network, mtu=mtu[0])
    egress_proxy(settings.egress_proxy, settings.sandbox_network, settings.images)
    if settings.agent.enabled:
        agent_image(settings.agent, settings.images)
    launcher(settings.launcher_sections())


# `pyinfra INVENTORY deploys/sandbox_host.py` executes this file: deploy. Imported (the fleet
# tools' drift and rollout), it only defines the function.
if pyinfra.is_cli:
    deploy_sandbox_host()
