"""docker_engine: where Docker comes from."""

from typing import Literal

from sandbox_host.roles.common.types import Section


class DockerEngineSettings(Section):
    # docker_ce: Docker's own apt repository (signed-by key), what real hosts should run.
    # distro: Debian/Ubuntu's docker.io package, for hosts that only reach the distro mirror.
    source: Literal["docker_ce", "distro"] = "docker_ce"
    # Base URL of Docker's apt repository; the distro id (debian/ubuntu) is appended.
    docker_ce_repo_url: str = "https://download.docker.com/linux"
    # Start dockerd and enable it at boot.
    start: bool = True
