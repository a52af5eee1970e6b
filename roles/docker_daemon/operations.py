"""Operations for dockerd's configuration: write daemon.json safely, restart with rollback."""

from __future__ import annotations

import shlex
from io import StringIO

from pyinfra import host
from pyinfra.api import OperationValueError, StringCommand, operation
from pyinfra.facts.files import File, FileContents
from pyinfra.operations import files

from sandbox_host.roles.common.services import START_DOCKERD_SH
from sandbox_host.roles.docker_daemon import daemon_json

STAGED = ".sandbox-host.new"
BACKUP = ".sandbox-host.bak"  # the previous daemon.json, kept until dockerd is healthy again
ABSENT = ".sandbox-host.absent"  # marker: there was no daemon.json before this run
FAILED = ".sandbox-host.failed"  # a config dockerd would not start with, kept for inspection


@operation()
def config(path: str, managed: dict, released: dict | None = None, managed_later=None):
    """Merge ``managed`` keys into daemon.json at ``path``; other keys stay as the host has them.

    ``managed_later``: a callable returning more managed keys, called when the operation runs
    rather than when the deploy is planned, for keys that depend on what earlier operations
    installed (the runsc runtime's arguments depend on the runsc apt put there).

    The new file is staged next to the old one, checked (`dockerd --validate` where this Docker
    has it, else our own checks), and the old one kept as ``path + BACKUP`` for
    ``restart(...)`` to roll back to. Yields nothing when the file already matches.
    """
    lines = host.get_fact(FileContents, path=path)
    current = "\n".join(lines) + "\n" if lines is not None else None
    if managed_later is not None:
        managed = {**managed, **managed_later()}
    try:
        merged = daemon_json.merge(daemon_json.parse(current, path), managed, released)
    except ValueError as exc:
        raise OperationValueError(str(exc)) from None
    problems = daemon_json.check(merged)
    if problems:
        raise OperationValueError(f"the merged {path} would not start dockerd: " + "; ".join(problems))
    text = daemon_json.render(merged)

    info = host.get_fact(File, path=path)
    if current == text and info and info["mode"] == 644 and info["user"] == "root":
        host.noop(f"{path} has the managed settings")
        return

    staged = path + STAGED
    yield from files.put._inner(src=StringIO(text), dest=staged, user="root", group="root", mode="644")
    q = shlex.quote
    yield StringCommand(
        "sh",
        "-c",
        q(
            f"if dockerd --help 2>&1 | grep -q -- --validate; then "
            f"  dockerd --validate --config-file {q(staged)} >/dev/null || "
            f"  {{ echo 'dockerd rejects the new {path}; the old one is untouched' >&2; rm -f {q(staged)}; exit 1; }}; "
            f"fi; "
            f"if [ -e {q(path)} ]; then cp -p {q(path)} {q(path + BACKUP)}; rm -f {q(path + ABSENT)}; "
            f"else rm -f {q(path + BACKUP)}; : > {q(path + ABSENT)}; fi; "
            f"mv {q(staged)} {q(path)}"
        ),
    )


RESTART_SCRIPT = START_DOCKERD_SH + r"""
set -u
path=$1 init=$2 timeout=$3
healthy() {
  i=0
  while [ "$i" -lt "$timeout" ]; do
    docker version --format '{{.Server.Version}}' >/dev/null 2>&1 && return 0
    sleep 1; i=$((i + 1))
  done
  return 1
}
restart_docker() {
  if [ "$init" = systemd ]; then
    systemctl daemon-reload
    systemctl reset-failed docker.service 2>/dev/null || true
    systemctl restart docker.service
  else
    # dockerd started outside the init script (by hand, by a CI wrapper) is stopped too, and
    # started directly when the init script cannot start it.
    stop_dockerd
    start_dockerd
  fi
}
restart_docker
if healthy; then
  rm -f "$path.sandbox-host.bak" "$path.sandbox-host.absent"
  exit 0
fi
echo "dockerd did not answer within ${timeout}s with the new $path: restoring the previous one" >&2
cp -p "$path" "$path.sandbox-host.failed" 2>/dev/null
if [ -e "$path.sandbox-host.bak" ]; then mv "$path.sandbox-host.bak" "$path"
elif [ -e "$path.sandbox-host.absent" ]; then rm -f "$path" "$path.sandbox-host.absent"
fi
restart_docker
if healthy; then
  echo "rolled back: Docker runs with the previous $path; the rejected one is $path.sandbox-host.failed" >&2
else
  echo "Docker does not start even with the previous $path: see journalctl -u docker / the daemon log" >&2
fi
exit 1
"""


@operation(is_idempotent=False)
def restart(path: str, init: str, timeout: int = 60):
    """Restart dockerd once, wait until it answers, and roll daemon.json back if it does not.

    Run it gated on the operations that changed dockerd's configuration
    (``_if=any_changed(...)``). Fails the run after a rollback, so nobody mistakes a rolled-back
    host for a converged one.
    """
    yield StringCommand("sh", "-c", shlex.quote(RESTART_SCRIPT), "restart-docker", path, init, str(timeout))
