"""Install Docker from Docker's apt repository or the distro, and make sure dockerd runs."""

import shlex
from pathlib import Path

from pyinfra import host
from pyinfra.api import StringCommand, deploy, operation
from pyinfra.facts.deb import DebPackages
from pyinfra.facts.server import LinuxDistribution
from pyinfra.operations import apt, files

from sandbox_host.roles.common.facts import DockerResponds, InitSystem
from sandbox_host.roles.common.services import ensure_dockerd_running
from sandbox_host.roles.docker_engine.settings import DockerEngineSettings

DOCKER_CE_PACKAGES = ["docker-ce", "docker-ce-cli", "containerd.io", "docker-buildx-plugin"]
DISTRO_PACKAGES = ["docker.io"]
KEYRING = "/etc/apt/keyrings/docker.asc"
START_SCRIPT = (Path(__file__).with_name("files") / "start_dockerd.sh").read_text()


def docker_ce_source(distro: dict, repo_url: str) -> tuple[str, str]:
    """(signing key URL, apt source line) of Docker's repository for this distro release."""
    meta = distro.get("release_meta") or {}
    distro_id = (meta.get("ID") or distro.get("name") or "").lower()
    codename = meta.get("VERSION_CODENAME") or meta.get("UBUNTU_CODENAME") or meta.get("CODENAME")
    if distro_id not in ("debian", "ubuntu", "raspbian") or not codename:
        raise ValueError(
            f"Docker's apt repository has no packages for {distro.get('name')!r}: "
            "set docker_engine.source: distro for this host"
        )
    base = f"{repo_url.rstrip('/')}/{distro_id}"
    return f"{base}/gpg", f"deb [signed-by={KEYRING}] {base} {codename} stable"


def _docker_ce_repo(settings: DockerEngineSettings):
    key_url, source = docker_ce_source(host.get_fact(LinuxDistribution), settings.docker_ce_repo_url)
    files.directory(name="Create /etc/apt/keyrings", path="/etc/apt/keyrings", mode="755")
    files.download(name="Download Docker's apt signing key", src=key_url, dest=KEYRING, mode="644")
    return apt.repo(name="Add Docker's apt repository (signed-by its key)", src=source, filename="docker")


@deploy("Docker engine")
def docker_engine(settings: DockerEngineSettings, running: bool | None = None):
    """Install Docker (``source``: docker_ce or distro); keep a running dockerd running (and
    enabled at boot).

    ``running``: whether dockerd answered when the deploy was planned (DockerResponds). A dockerd
    that does not answer is started by ``start_after_config`` instead, once its configuration is
    written: a daemon.json that stops dockerd is repaired first, not run into.
    apt's lists are refreshed only when a package is missing, so a converged host sees no change.
    Returns the package operation (None when nothing was missing).
    """
    packages = DOCKER_CE_PACKAGES if settings.source == "docker_ce" else DISTRO_PACKAGES
    installed_packages = host.get_fact(DebPackages)
    missing = [p for p in packages if p not in installed_packages]
    installed = None
    if missing:
        if settings.source == "docker_ce":
            _docker_ce_repo(settings)
        installed = apt.packages(
            name=f"Install Docker ({settings.source}): {' '.join(missing)}",
            packages=packages,
            update=True,
        )
    else:
        host.noop(f"Docker packages installed: {' '.join(packages)}")
    running = host.get_fact(DockerResponds) if running is None else running
    if settings.start and running:
        ensure_dockerd_running(init=host.get_fact(InitSystem), already_running=True)
    return installed


@operation(is_idempotent=False)
def start_dockerd(init: str, path: str, managed_keys: list[str], timeout: int = 60):
    """(Re)start dockerd with its written configuration and wait for it (files/start_dockerd.sh);
    when it does not start, fail with dockerd's own error, `dockerd --validate` and the
    daemon.json keys this project does not manage that the error names (file and key)."""
    yield StringCommand("sh", "-c", shlex.quote(START_SCRIPT), "start-dockerd", init, path, str(int(timeout)),
                        *[shlex.quote(key) for key in managed_keys])


@deploy("Docker engine start")
def start_after_config(settings: DockerEngineSettings, init: str, running: bool, daemon_json: str,
                       managed_keys: list[str], timeout: int = 60):
    """Start a dockerd that did not answer when the deploy was planned, after the deploy wrote
    its configuration (call after docker_daemon and docker_proxy). Nothing when it was running."""
    if not settings.start or running:
        return None
    return start_dockerd(name="Start dockerd with the written configuration (it did not answer)",
                         init="systemd" if init == "systemd" else "other", path=daemon_json,
                         managed_keys=sorted(managed_keys), timeout=timeout)
