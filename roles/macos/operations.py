"""Operations for Docker on a Mac: Docker Desktop's daemon.json, Colima's colima.yaml, restarts."""

from __future__ import annotations

import posixpath
import shlex
from io import StringIO
from pathlib import Path

import yaml
from pyinfra import host
from pyinfra.api import FileUploadCommand, OperationValueError, operation
from pyinfra.facts.files import FileContents

from sandbox_host.roles.docker_daemon import daemon_json

FILES = Path(__file__).resolve().parent / "files"
PROVISION_MARKER = "# sandbox-host: runsc in Colima's VM"


def _current(path: str) -> str | None:
    lines = host.get_fact(FileContents, path=path)
    return "\n".join(lines) + "\n" if lines is not None else None


def _upload(text: str, path: str):
    yield f"mkdir -p {shlex.quote(posixpath.dirname(path))}"
    yield FileUploadCommand(StringIO(text), path)
    yield f"chmod 644 {shlex.quote(path)}"


@operation()
def docker_desktop_daemon(path: str, managed: dict):
    """Merge ``managed`` keys into Docker Desktop's daemon settings (~/.docker/daemon.json, the
    file its Settings > Docker Engine page edits); the user's other keys stay."""
    current = _current(path)
    try:
        merged = daemon_json.merge(daemon_json.parse(current, path), managed)
    except ValueError as exc:
        raise OperationValueError(str(exc)) from None
    text = daemon_json.render(merged)
    if current == text:
        host.noop(f"{path} has the managed settings")
        return
    yield from _upload(text, path)


def provision_entry(release_url: str) -> dict:
    """Colima provision step (root, every VM start) installing runsc; the script is files/colima-runsc.sh."""
    script = (FILES / "colima-runsc.sh").read_text()
    return {"mode": "system", "script": f"{PROVISION_MARKER}\nexport RELEASE_URL={shlex.quote(release_url)}\n{script}"}


def colima_document(current: dict, managed: dict, provision: dict | None) -> dict:
    """colima.yaml with Docker's managed keys merged into its ``docker:`` mapping (Colima writes
    that to the VM's daemon.json) and our provision step present (or removed when None)."""
    document = dict(current)
    document["docker"] = daemon_json.merge(document.get("docker") or {}, managed)
    steps = [s for s in (document.get("provision") or []) if PROVISION_MARKER not in str(s.get("script", ""))]
    if provision:
        steps.append(provision)
    document["provision"] = steps
    return document


@operation()
def colima_config(path: str, managed: dict, provision: dict | None = None):
    """Edit the Colima profile's colima.yaml (created by `colima start`); yields nothing when it
    already has the managed Docker settings and provision step."""
    current = _current(path)
    if current is None:
        raise OperationValueError(f"{path} is missing: `colima start` writes it (is the profile right?)")
    try:
        loaded = yaml.safe_load(current) or {}
    except yaml.YAMLError as exc:
        raise OperationValueError(f"{path} is not valid YAML: {exc}") from None
    wanted = colima_document(loaded, managed, provision)
    if wanted == loaded:
        host.noop(f"{path} has the managed settings")
        return
    yield from _upload(yaml.safe_dump(wanted, sort_keys=False, default_flow_style=False), path)


@operation()
def colima_start(profile: str, cpus: int, memory_gib: int):
    """Start the Colima VM (Docker runtime) when it is not running."""
    from sandbox_host.roles.macos.facts import ColimaRunning

    if host.get_fact(ColimaRunning, profile=profile):
        host.noop(f"Colima profile {profile} is running")
        return
    yield f"colima start --profile {shlex.quote(profile)} --cpu {cpus} --memory {memory_gib} --runtime docker"


@operation(is_idempotent=False)
def colima_restart(profile: str):
    """Restart the Colima VM so Docker and the provision step read colima.yaml again."""
    yield f"colima restart --profile {shlex.quote(profile)}"


@operation(is_idempotent=False)
def docker_desktop_restart(timeout: int = 120):
    """Restart Docker Desktop (files/restart-docker-desktop.sh) and wait for its daemon."""
    yield f"sh -c {shlex.quote((FILES / 'restart-docker-desktop.sh').read_text())} restart-docker-desktop {timeout}"
