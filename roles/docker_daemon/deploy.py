"""daemon.json, and the one guarded restart that applies every change to dockerd's config."""

from pyinfra.api import deploy
from pyinfra.operations.util import any_changed

from sandbox_host.roles.docker_daemon import daemon_json, operations
from sandbox_host.roles.docker_daemon.settings import DockerDaemonSettings


@deploy("Docker daemon config")
def docker_daemon(settings: DockerDaemonSettings, runtimes=None, released: dict | None = None):
    """Write the managed keys of daemon.json.

    ``runtimes``: a callable returning the runtime keys (gvisor.daemon_runtime_options), called
    when the operation runs, after runsc is installed. Returns the operation; pass it to
    ``restart_if_changed``.
    """
    return operations.config(
        name=f"Merge managed settings into {settings.path}",
        path=settings.path,
        managed=daemon_json.managed_options(settings),
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
