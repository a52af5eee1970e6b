"""macos: Docker on a Mac (Docker Desktop or Colima) made ready for the sandbox (owned by the macos role)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sandbox_host.roles.common.types import Section


class MacosSettings(Section):
    docker: Literal["auto", "docker_desktop", "colima"] = Field(
        default="auto",
        description=(
            "Which Docker the Mac runs. auto: Docker Desktop when /Applications/Docker.app exists, "
            "else Colima when installed, else Colima from Homebrew if install_colima is true."
        ),
    )
    install_colima: bool = Field(
        default=False,
        description=(
            "When neither Docker Desktop nor Colima is installed, install Colima and the docker CLI "
            "with Homebrew (`brew install colima docker`) and start a VM. false: stop and say what to "
            "install."
        ),
    )
    colima_profile: str = Field(
        default="default", pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$",
        description="Colima profile (VM) the sandbox uses; its config is ~/.colima/<profile>/colima.yaml.",
    )
    colima_cpus: int = Field(default=2, ge=1, le=64, description="CPUs of a Colima VM this deploy starts.")
    colima_memory_gib: int = Field(default=4, ge=1, le=256, description="Memory (GiB) of a Colima VM this deploy starts.")
    colima_gvisor: bool = Field(
        default=True,
        description=(
            "Colima: install runsc inside the VM (a provision script in colima.yaml, run at every VM "
            "start) and register it in Colima's Docker config. Docker Desktop's VM cannot take an "
            "extra runtime: there the sandbox runs under runc, and agent.require_gvisor stops the deploy."
        ),
    )
    runsc_release_url: str = Field(
        default="https://storage.googleapis.com/gvisor/releases/release/latest",
        pattern=r"^https://",
        description="gVisor release folder the Colima provision script downloads runsc (and its .sha512) from; the VM's architecture is appended.",
    )
