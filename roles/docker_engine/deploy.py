"""Install Docker from Docker's apt repository or the distro, and make sure dockerd runs."""

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.deb import DebPackages
from pyinfra.facts.server import LinuxDistribution
from pyinfra.operations import apt, files

from sandbox_host.roles.common.facts import DockerResponds, InitSystem
from sandbox_host.roles.common.services import ensure_dockerd_running
from sandbox_host.roles.docker_engine.settings import DockerEngineSettings

DOCKER_CE_PACKAGES = ["docker-ce", "docker-ce-cli", "containerd.io", "docker-buildx-plugin"]
DISTRO_PACKAGES = ["docker.io"]
KEYRING = "/etc/apt/keyrings/docker.asc"


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
def docker_engine(settings: DockerEngineSettings):
    """Install Docker (``source``: docker_ce or distro) and start it with the host's init system.

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
    if settings.start:
        ensure_dockerd_running(init=host.get_fact(InitSystem), already_running=host.get_fact(DockerResponds))
    return installed
