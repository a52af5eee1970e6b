"""daemon.json, and the one guarded restart that applies every change to dockerd's config."""

from pyinfra import host
from pyinfra.api import deploy, operation
from pyinfra.operations.util import any_changed

from sandbox_host.roles.docker_daemon import daemon_json, operations, path_mtu
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
def restart_if_changed(settings: DockerDaemonSettings, init: str, *changes):
    """Restart dockerd at most once, only if one of ``changes`` changed; roll back if unhealthy."""
    changes = [change for change in changes if change is not None]
    return operations.restart(
        name="Restart dockerd (config changed), roll back if it does not come back",
        path=settings.path,
        init=init,
        timeout=settings.restart_timeout,
        _if=any_changed(*changes),
    )
