"""Start services with the init system that is really there (systemd, or the sysvinit script)."""

from pyinfra import host
from pyinfra.operations import systemd, sysvinit


def ensure_running(service: str, init: str, already_running: bool, enabled: bool = True):
    """Make ``service`` run now and at boot.

    ``already_running`` comes from a fact that asks the service itself (e.g. DockerResponds): a
    daemon started by hand, outside the init system, counts as running and is left alone.
    """
    if init == "systemd":
        return systemd.service(
            name=f"Run {service} (systemd)",
            service=f"{service}.service",
            running=None if already_running else True,
            enabled=enabled,
        )
    if already_running:
        host.noop(f"{service} is running")
        return None
    return sysvinit.service(name=f"Start {service} (init script)", service=service, running=True)
