"""Start dockerd with the init system that is really there (systemd, the init script, or none)."""

import shlex

from pyinfra import host
from pyinfra.api import StringCommand, operation
from pyinfra.operations import systemd

# Hosts without systemd as PID 1 (containers, WSL, CI machines): Debian's init script first; if
# dockerd still does not answer (the script can fail where it may not raise ulimits, or dockerd
# was started by hand and the script does not know it), run dockerd directly, detached.
START_DOCKERD_SH = r"""
answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
start_dockerd() {
  service docker start >/dev/null 2>&1 || true
  i=0; while [ "$i" -lt 10 ]; do answers && return 0; sleep 1; i=$((i + 1)); done
  if ! pidof dockerd >/dev/null; then
    echo "the init script did not start dockerd: starting it directly (log: /var/log/docker.log)" >&2
    setsid dockerd >>/var/log/docker.log 2>&1 </dev/null &
  fi
}
stop_dockerd() {
  service docker stop >/dev/null 2>&1 || true
  if pidof dockerd >/dev/null; then
    kill -TERM $(pidof dockerd)
    i=0; while pidof dockerd >/dev/null && [ "$i" -lt 30 ]; do sleep 1; i=$((i + 1)); done
  fi
}
"""


@operation(is_idempotent=False)
def start_dockerd_without_systemd(timeout: int = 60):
    """Start dockerd on a host without systemd and wait until it answers."""
    script = START_DOCKERD_SH + f"""
start_dockerd
i=0; while [ "$i" -lt {int(timeout)} ]; do answers && exit 0; sleep 1; i=$((i + 1)); done
echo "dockerd did not answer within {int(timeout)}s: see /var/log/docker.log" >&2
exit 1
"""
    yield StringCommand("sh", "-c", shlex.quote(script))


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
