"""Operations for dockerd's configuration: write daemon.json safely, restart with rollback."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

from pyinfra import host
from pyinfra.api import OperationValueError, operation
from pyinfra.facts.files import File, FileContents
from pyinfra.operations import files

from sandbox_host.roles.common import scripts
from sandbox_host.roles.common.labels import PROBE_LABELS, SPEC_LABEL
from sandbox_host.roles.common.services import DOCKERD_SERVICE
from sandbox_host.roles.docker_daemon import daemon_json

FILES = Path(__file__).parent / "files"
# The new daemon.json waits here until install-daemon-json.sh puts it in place; the backup names
# (.sandbox-host.bak/.absent/.failed) are that script's and restart-dockerd.sh's business.
STAGED = ".sandbox-host.new"


@operation()
def config(path: str, managed: dict, released: dict | None = None, managed_later=None):
    """Merge ``managed`` keys into daemon.json at ``path``; other keys stay as the host has them.

    ``managed_later``: a callable returning more managed keys, called when the operation runs
    rather than when the deploy is planned, for keys that depend on what earlier operations
    installed (the runsc runtime's arguments depend on the runsc apt put there).

    The new file is staged next to the old one, checked (`dockerd --validate` where this Docker
    has it, else our own checks), and the old one kept as ``path.sandbox-host.bak`` for
    ``restart(...)`` to roll back to (files/install-daemon-json.sh). Yields nothing when the file already matches.
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
    yield scripts.command(FILES / "install-daemon-json.sh", staged, path)


@operation(is_idempotent=False)
def restart(path: str, init: str, timeout: int = 60, bridge_options: list[str] | tuple = ()):
    """Restart dockerd once, wait until it answers, and roll daemon.json back if it does not.

    Run it gated on the operations that changed dockerd's configuration
    (``_if=any_changed(...)``). Fails the run after a rollback, so nobody mistakes a rolled-back
    host for a converged one. The containers the project recreates from a spec are stopped
    around the restart and probes removed before it, so docker0 and their DNS come back fresh
    (bridge.py); ``bridge_options`` ("OPTION=VALUE"): what docker0 must show afterwards (once
    more restarted if a probe ran through the restart). files/restart-dockerd.sh, restarting with
    roles/common's dockerd-service.sh.
    """
    restart_command = scripts.argv(DOCKERD_SERVICE, "restart", init)
    yield scripts.command(FILES / "restart-dockerd.sh", path, int(timeout), SPEC_LABEL, " ".join(PROBE_LABELS),
                          " ".join(bridge_options), *restart_command)
