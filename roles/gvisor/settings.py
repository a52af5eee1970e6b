"""gvisor: the runsc runtime, registered in daemon.json by this project (never `runsc install`)."""

from typing import Literal

from pydantic import Field

from sandbox_host.roles.common.types import Section


class GvisorSettings(Section):
    enabled: bool = Field(
        default=True,
        description="Install runsc and register it with dockerd.",
    )
    source: Literal["gvisor_repo", "distro"] = Field(
        default="gvisor_repo",
        description=(
            "gvisor_repo: gVisor's apt repository (current runsc, right for real hosts). distro: "
            "Debian's runsc package (old: 2022 in bookworm)."
        ),
    )
    repo_url: str = Field(
        default="https://storage.googleapis.com/gvisor/releases",
        description="gVisor's apt repository and its signing key (source: gvisor_repo).",
    )
    key_url: str = Field(
        default="https://gvisor.dev/archive.key",
        description="ASCII-armored key gVisor signs its repository with.",
    )
    runtime_name: str = Field(
        default="runsc", pattern=r"^[a-z][a-z0-9_-]*$",
        description="Name of the runtime in daemon.json (`docker run --runtime=NAME`).",
    )
    runsc_path: str = Field(
        default="/usr/bin/runsc",
        description="Where the package puts runsc.",
    )
    platform: Literal["systrap", "ptrace", "kvm"] | None = Field(
        default=None,
        description="runsc --platform; null = runsc's own default (systrap on current releases).",
    )
    network: Literal["sandbox", "host", "none"] | None = Field(
        default=None,
        description="runsc --network; null = sandbox (gVisor's own netstack).",
    )
    extra_runtime_args: list[str] = Field(
        default=[],
        description="More runtimeArgs, verbatim (e.g. [\"--debug-log=/tmp/runsc/\"]).",
    )
    network_bug_workaround: Literal["auto", "never"] = Field(
        default="auto",
        description=(
            "Old runsc on a new kernel fails with \"cannot run with network enabled in root network "
            "namespace\". auto: detect it with a smoke run and fall back to --network=host (the "
            "container's own namespace, still behind Docker's iptables). never: leave it failing."
        ),
    )
    default_runtime: bool = Field(
        default=False,
        description="Make runsc the default runtime for every container on the host.",
    )
    smoke_image: str | None = Field(
        default=None,
        description=(
            "Image for the runtime check (files/agent_operations.sh) that proves runsc works after registration; "
            "null = the sandbox's "
            "base image (images.base_image), which every host needs anyway."
        ),
    )
    runtime_check_file: str = Field(
        default="/var/lib/sandbox-host/runtime-check.json",
        description=(
            "Where the deploy records whether the runtime does what agents do (ls -la, stat, git status, a node "
            "file read, a fork storm); the launcher falls back to runc (or refuses with agent.require_gvisor) "
            "when it says the runtime fails."
        ),
    )
