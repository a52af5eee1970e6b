"""Start dockerd with the init system that is really there (systemd, the init script, or none)."""

from pathlib import Path

from pyinfra import host
from pyinfra.api import operation
from pyinfra.operations import systemd

from sandbox_host.roles.common import scripts

# start / restart dockerd on hosts with or without systemd as PID 1 (see the file's header).
DOCKERD_SERVICE = Path(__file__).parent / "files" / "dockerd-service.sh"


@operation(is_idempotent=False)
def start_dockerd_without_systemd(timeout: int = 60):
    """Start dockerd on a host without systemd and wait until it answers."""
    yield scripts.command(DOCKERD_SERVICE, "start", int(timeout))


def ensure_dockerd_running(init: str, already_running: bool):
    """Make dockerd run now (and at boot, with systemd).

    ``already_running`` comes from DockerResponds: a dockerd started by hand, outside the init
    system, counts as running and is left alone.
    """
    if init == "systemd":
        return systemd.service(
            name="Run docker (systemd)",
            service="docker.service",
            running=None if already_running else True,
            enabled=True,
        )
    if already_running:
        host.noop("dockerd is running")
        return None
    return start_dockerd_without_systemd(name="Start dockerd (no systemd)")
