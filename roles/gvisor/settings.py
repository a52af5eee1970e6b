"""gvisor: the runsc runtime, registered in daemon.json by this project (never `runsc install`)."""

from typing import Literal

from pydantic import Field

from sandbox_host.roles.common.types import Section


class GvisorSettings(Section):
    # Install runsc and register it with dockerd.
    enabled: bool = True
    # gvisor_repo: gVisor's apt repository (current runsc, right for real hosts).
    # distro: Debian's runsc package (old: 2022 in bookworm).
    source: Literal["gvisor_repo", "distro"] = "gvisor_repo"
    # gVisor's apt repository and its signing key (source: gvisor_repo).
    repo_url: str = "https://storage.googleapis.com/gvisor/releases"
    # ASCII-armored key gVisor signs its repository with.
    key_url: str = "https://gvisor.dev/archive.key"
    # Name of the runtime in daemon.json (`docker run --runtime=NAME`).
    runtime_name: str = Field(default="runsc", pattern=r"^[a-z][a-z0-9_-]*$")
    # Where the package puts runsc.
    runsc_path: str = "/usr/bin/runsc"
    # runsc --platform; null = runsc's own default (systrap on current releases).
    platform: Literal["systrap", "ptrace", "kvm"] | None = None
    # runsc --network; null = sandbox (gVisor's own netstack).
    network: Literal["sandbox", "host", "none"] | None = None
    # More runtimeArgs, verbatim (e.g. ["--debug-log=/tmp/runsc/"]).
    extra_runtime_args: list[str] = []
    # Old runsc on a new kernel fails with "cannot run with network enabled in root network
    # namespace". auto: detect it with a smoke run and fall back to --network=host (the
    # container's own namespace, still behind Docker's iptables). never: leave it failing.
    network_bug_workaround: Literal["auto", "never"] = "auto"
    # Make runsc the default runtime for every container on the host.
    default_runtime: bool = False
    # Image for the smoke run that proves runsc works after registration; null = the sandbox's
    # base image (images.base_image), which every host needs anyway.
    smoke_image: str | None = None
