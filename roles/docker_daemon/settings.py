"""docker_daemon: the keys of /etc/docker/daemon.json this project manages.

A key left at null/empty is not managed: whatever the host has for it stays. Keys the project
never manages are always preserved (the file is merged, not replaced).
"""

from typing import Any

from pydantic import Field

from sandbox_host.roles.common.types import IPAddress, MtuSetting, Network, Section


class AddressPool(Section):
    base: Network = Field(
        description="Network user-defined Docker networks are cut from.",
    )
    size: int = Field(ge=8, le=30, description="prefix length of each network cut from base")


class DockerDaemonSettings(Section):
    path: str = Field(
        default="/etc/docker/daemon.json",
        description="The file dockerd reads (its --config-file).",
    )
    dns: list[IPAddress] = Field(
        default=[],
        description=(
            "Resolvers containers use (seed 001: container DNS failing while host DNS works). IPs "
            "only."
        ),
    )
    mtu: MtuSetting = Field(
        default="auto",
        description=(
            "MTU of docker0 and the sandbox networks. auto: the MTU of the path out, found at each "
            "deploy (default route's interface, tunnels/VPNs routes go through, route mtu "
            "attributes; the smallest wins). A number wins over detection; null leaves Docker's "
            "default. Too large and large requests hang (seed 001, MTU mismatch)."
        ),
    )
    ipv6: bool = Field(
        default=False,
        description="IPv6 on the default bridge. Off: half-working IPv6 makes Node hang for 60 s (seed 000).",
    )
    fixed_cidr: Network | None = Field(
        default=None,
        description="Subnet of docker0's containers (--fixed-cidr) and the pools user networks are cut from.",
    )
    default_address_pools: list[AddressPool] = Field(
        default=[],
        description=(
            "Pools of [{base: CIDR, size: prefix}] user-defined networks are cut from (keep them "
            "clear of VPN/office ranges: overlapping routes are a classic \"container cannot reach "
            "X\")."
        ),
    )
    log_driver: str = Field(
        default="json-file",
        description="Log driver of every container; json-file and local get the rotation below.",
    )
    log_max_size: str = Field(
        default="10m", pattern=r"^[0-9]+[kmg]$",
        description="Log rotation, so a chatty agent cannot fill the disk.",
    )
    log_max_file: int = Field(
        default=3, ge=1, le=100,
        description="How many rotated log files are kept per container.",
    )
    live_restore: bool = Field(
        default=True,
        description=(
            "Containers keep running while dockerd restarts (the deploy restarts it when config "
            "changes)."
        ),
    )
    userland_proxy: bool = Field(
        default=True,
        description=(
            "Docker's default (true). false = CIS 2.16 hardening; it is never changed behind your "
            "back."
        ),
    )
    no_new_privileges: bool = Field(
        default=True,
        description="CIS 2.18: containers cannot gain privileges through setuid binaries.",
    )
    icc: bool = Field(
        default=False,
        description="CIS 2.1: no traffic between containers on the default bridge.",
    )
    extra: dict[str, Any] = Field(
        default={},
        description=(
            "More managed keys, written verbatim (escape hatch for settings this schema does not "
            "model)."
        ),
    )
    restart_timeout: int = Field(
        default=60, ge=5, le=600,
        description="Seconds to wait for dockerd to answer after a restart before rolling back.",
    )
