"""Turn a Docker host into a safe place to run the agent sandbox.

    pyinfra inventories/dev.py deploys/sandbox_host.py
    sandbox-host deploy inventories/dev.py            (the same deploy, through the CLI)

Thin composition: every step is a role (roles/<name>/deploy.py) with its settings section in
group_vars/. Order matters: Docker and its configuration first, one guarded restart, then what
runs on Docker (gVisor runtime check, sandbox networks and images, launcher, conformance). A
dockerd that does not answer is started only after its configuration is written: the deploy
repairs a daemon.json that stops it instead of failing on it.
"""

import sys

import pyinfra
from pyinfra import host
from pyinfra.api import OperationError
from pyinfra.operations import python
from pyinfra.operations.util import any_changed

from sandbox_host import config, docker_prefetch, fact_batch, fact_memo
from sandbox_host.ssh_nodelay import set_nodelay
from sandbox_host.roles.agent.deploy import agent_image, check_offline_tarballs
from sandbox_host.roles.common.facts import DockerResponds, InitSystem
from sandbox_host.roles.conformance.deploy import conformance
from sandbox_host.roles.credential_gateway.deploy import credential_gateway
from sandbox_host.roles.docker_daemon import daemon_json
from sandbox_host.roles.docker_daemon.deploy import detect_mtu, docker_daemon, restart_if_changed
from sandbox_host.roles.docker_engine.deploy import docker_engine, start_after_config
from sandbox_host.roles.docker_proxy.deploy import docker_proxy
from sandbox_host.roles.docker_proxy.warnings import warn_foreign_dropins
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
    if settings.agent.enabled:
        # agent.offline's tarballs against their integrity (a full read of each): a different or
        # damaged file stops the run here as a bad setting does (exit 2), before a host is touched.
        try:
            check_offline_tarballs(settings.agent)
        except OperationError as exc:
            print(f"sandbox-host: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
    # A fact asked again before the host changed is answered without a round trip (fact_memo.py).
    fact_memo.install()
    # The CLI's SSH connections too (the fleet tools set it when they connect).
    set_nodelay(host)
    # The facts this host was asked last run, read in one round trip instead of ~55 (fact_batch.py).
    fact_batch.prime(host)
    init = host.get_fact(InitSystem)
    docker_running = host.get_fact(DockerResponds)

    docker_engine(settings.docker_engine, running=docker_running)
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
    warn_foreign_dropins(settings.docker_proxy, init)

    def prefetch_docker_objects():
        # The Docker objects the roles read one by one (docker0's "bridge" network: the restart's),
        # in one `docker inspect`; names that are not certain are left to the roles' own facts
        # (docker_prefetch.py).
        docker_prefetch.prefetch(
            host,
            images=[settings.images.base_image, f"{settings.egress_proxy.image}:latest"],
            networks=["bridge", *([sandbox.internal_network, sandbox.egress_network] if sandbox.enabled else [])],
            containers=[settings.egress_proxy.container_name] if settings.egress_proxy.enabled else [],
        )

    if docker_running:
        prefetch_docker_objects()
        restart_if_changed(settings.docker_daemon, init, daemon_config, daemon_proxy, detected_mtu=mtu[0])
    else:
        managed = [*daemon_json.managed_options(settings.docker_daemon, detected_mtu=mtu[0]), "runtimes",
                   "default-runtime"]
        start_after_config(settings.docker_engine, init, docker_running, settings.docker_daemon.path, managed,
                           timeout=settings.docker_daemon.restart_timeout)

    proxy = settings.docker_proxy
    images.build_proxy(settings.images, proxy.http_proxy, proxy.https_proxy, proxy.no_proxy)

    def on_docker():
        """Everything that needs a running dockerd: facts about images, networks and containers."""
        if not docker_running:
            prefetch_docker_objects()
        images.base_image(settings.images)

        if settings.gvisor.enabled:
            # Not only "does a container start": the operations agents use, recorded for the
            # launcher. Again whenever runsc or dockerd's config changed, or when no result is
            # recorded yet.
            gvisor.warn_recorded_failure(settings.gvisor)
            recheck = {} if gvisor.check_missing(settings.gvisor) else {
                "_if": any_changed(*[op for op in (daemon_config, runsc_installed) if op is not None])}
            gvisor.runtime_check(
                name=f"Runtime check under {settings.gvisor.runtime_name} (ls -la, stat, git status, node, fork storm)",
                runtime=settings.gvisor.runtime_name,
                image=settings.gvisor.smoke_image or settings.images.base_image,
                state_file=settings.gvisor.runtime_check_file,
                source=settings.gvisor.source,
                **recheck,
            )

        # The sandbox: networks, the egress proxy on them, the agent image and the launcher.
        sandbox_networks(settings.sandbox_network, mtu=mtu[0])
        egress_proxy(settings.egress_proxy, settings.sandbox_network, settings.images)
        if settings.agent.enabled:
            # The gateway serves the agent's sandboxes only (roles/credential_gateway).
            credential_gateway(settings.credential_gateway, settings.sandbox_network, settings.images)
            agent_image(settings.agent, settings.images)
        launcher(settings.launcher_sections())

        # Last: the self-check records (and then keeps checking) the state every step above produced.
        conformance(settings.conformance_sections(), init, mtu=mtu[0])

    def on_docker_at_run_time():
        # pyinfra's API (the fleet tools) names an operation by its position in the host's list.
        # One called while operations run would take the name of an operation another host has
        # planned at that position, and run_ops would then run it again on this host ("Cannot
        # complete an already complete operation"). A loop position of its own keeps these
        # names apart; the CLI names operations by call site and is not affected.
        for _ in host.loop(["at run time"]):
            on_docker()

    if docker_running:
        on_docker()
    else:
        # dockerd did not answer at planning: the Docker facts these roles read cannot be gathered
        # yet. Planned and run once dockerd is up (pyinfra runs operations called during execution
        # right away), in the same run.
        python.call(name="Deploy what runs on Docker, now that dockerd answers", function=on_docker_at_run_time)


# `pyinfra INVENTORY deploys/sandbox_host.py` executes this file: deploy. Imported (the fleet
# tools' drift and rollout), it only defines the function.
if pyinfra.is_cli:
    deploy_sandbox_host()
