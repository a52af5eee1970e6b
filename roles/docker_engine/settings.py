"""docker_engine: where Docker comes from."""

from typing import Literal

from pydantic import Field

from sandbox_host.roles.common.types import Section


class DockerEngineSettings(Section):
    source: Literal["docker_ce", "distro"] = Field(
        default="docker_ce",
        description=(
            "docker_ce: Docker's own apt repository (signed-by key), what real hosts should run. "
            "distro: Debian/Ubuntu's docker.io package, for hosts that only reach the distro mirror."
        ),
    )
    docker_ce_repo_url: str = Field(
        default="https://download.docker.com/linux",
        description="Base URL of Docker's apt repository; the distro id (debian/ubuntu) is appended.",
    )
    start: bool = Field(
        default=True,
        description="Start dockerd and enable it at boot.",
    )
