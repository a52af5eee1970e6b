"""daemon.json, and the one guarded restart that applies every change to dockerd's config."""

from pyinfra import host, logger
from pyinfra.api import deploy, operation
from pyinfra.facts.docker import DockerContainers, DockerNetwork
from pyinfra.operations.util import any_changed

from sandbox_host.roles.docker_daemon import bridge, daemon_json, operations, path_mtu
from sandbox_host.roles.docker_daemon.facts import LinksAndRoutes
from sandbox_host.roles.docker_daemon.settings import DockerDaemonSettings


def detect_mtu(settings: DockerDaemonSettings, bridges=()) -> tuple[int | None, str]:
    """The MTU docker0 and the sandbox networks get, and why: ``settings.mtu`` when it is a
    number (or None: unmanaged), else the path MTU found on the host (``path_mtu.find``).
    ``bridges``: the sandbox's, skipped like Docker's own."""
    if settings.mtu == "auto":
        found = path_mtu.find(**host.get_fact(LinksAndRoutes), exclude=tuple(bridges))
        return found.mtu, f"docker_daemon.mtu auto: {found.describe()}"
    if settings.mtu is None:
        return None, "docker_daemon.mtu: null, Docker's default MTU is left alone"
    return settings.mtu, f"docker_daemon.mtu: {settings.mtu} (set in group_vars)"


@operation(is_idempotent=True)
def report(message: str):
    """Changes nothing: says in the deploy's output what the deploy found (e.g. the path MTU)."""
    host.noop(message)
    yield from ()


@deploy("Docker daemon config")
def docker_daemon(settings: DockerDaemonSettings, runtimes=None, released: dict | None = None,
                  mtu: tuple[int | None, str] | None = None):
    """Write the managed keys of daemon.json; ``mtu``: ``detect_mtu``'s answer (found here when
    not given).

    ``runtimes``: a callable returning the runtime keys (gvisor.daemon_runtime_options), called
    when the operation runs, after runsc is installed. Returns the operation; pass it to
    ``restart_if_changed``.
    """
    value, why = mtu if mtu is not None else detect_mtu(settings)
    report(name="MTU of docker0 and the sandbox networks", message=why)
    return operations.config(
        name=f"Merge managed settings into {settings.path}",
        path=settings.path,
        managed=daemon_json.managed_options(settings, detected_mtu=value),
        released=released,
        managed_later=runtimes,
    )


@deploy("Docker daemon restart")
def restart_if_changed(settings: DockerDaemonSettings, init: str, *changes, detected_mtu: int | None = None):
    """Restart dockerd at most once, only if one of ``changes`` changed or docker0 still lacks
    daemon.json's bridge settings (bridge.py); roll back if unhealthy. ``detected_mtu``: the
    path MTU for ``docker_daemon.mtu: auto`` (detect_mtu)."""
    changes = [change for change in changes if change is not None]
    network = host.get_fact(DockerNetwork, object_id="bridge")
    managed = daemon_json.managed_options(settings, detected_mtu=detected_mtu)
    pending = bridge.pending(managed, network[0] if network else None)
    bridge_options = bridge.expected_options(managed)
    if pending:
        others = bridge.left_running(host.get_fact(DockerContainers))
        if others:
            # Restarting again would not help (and would only disturb those containers).
            logger.warning("%sdocker0 keeps %s while these containers run: %s. dockerd rebuilds docker0 from "
                           "daemon.json only when it starts with no container running (live-restore keeps them "
                           "through a restart); stop them, then run the deploy again",
                           host.print_prefix, bridge.describe(pending), ", ".join(others))
            pending, bridge_options = {}, []
    return operations.restart(
        name=("Restart dockerd (config changed), roll back if it does not come back" if not pending else
              f"Apply daemon.json to docker0 (restart dockerd): docker0 has {bridge.describe(pending)}"),
        path=settings.path,
        init=init,
        timeout=settings.restart_timeout,
        bridge_options=bridge_options,
        **({} if pending else {"_if": any_changed(*changes)}),
    )
