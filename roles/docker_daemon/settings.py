"""docker_daemon: the keys of /etc/docker/daemon.json this project manages.

A key left at null/empty is not managed: whatever the host has for it stays. Keys the project
never manages are always preserved (the file is merged, not replaced).
"""

from typing import Any

from pydantic import Field

from sandbox_host.roles.common.types import IPAddress, Mtu, Network, Section


class AddressPool(Section):
    # Network user-defined Docker networks are cut from.
    base: Network
    size: int = Field(ge=8, le=30, description="prefix length of each network cut from base")


class DockerDaemonSettings(Section):
    # The file dockerd reads (its --config-file).
    path: str = "/etc/docker/daemon.json"
    # Resolvers containers use (seed 001: container DNS failing while host DNS works). IPs only.
    dns: list[IPAddress] = []
    # MTU of docker0; set it to the path MTU (VPN/overlay 1450, etc.) or large requests hang (seed 001).
    mtu: Mtu | None = None
    # IPv6 on the default bridge. Off: half-working IPv6 makes Node hang for 60 s (seed 000).
    ipv6: bool = False
    # Subnet of docker0's containers (--fixed-cidr) and the pools user networks are cut from.
    fixed_cidr: Network | None = None
    # Pools of [{base: CIDR, size: prefix}] user-defined networks are cut from (keep them clear of
    # VPN/office ranges: overlapping routes are a classic "container cannot reach X").
    default_address_pools: list[AddressPool] = []
    # Log driver of every container; json-file and local get the rotation below.
    log_driver: str = "json-file"
    # Log rotation, so a chatty agent cannot fill the disk.
    log_max_size: str = Field(default="10m", pattern=r"^[0-9]+[kmg]$")
    # How many rotated log files are kept per container.
    log_max_file: int = Field(default=3, ge=1, le=100)
    # Containers keep running while dockerd restarts (the deploy restarts it when config changes).
    live_restore: bool = True
    # Docker's default (true). false = CIS 2.16 hardening; it is never changed behind your back.
    userland_proxy: bool = True
    # CIS 2.18: containers cannot gain privileges through setuid binaries.
    no_new_privileges: bool = True
    # CIS 2.1: no traffic between containers on the default bridge.
    icc: bool = False
    # More managed keys, written verbatim (escape hatch for settings this schema does not model).
    extra: dict[str, Any] = {}
    # Seconds to wait for dockerd to answer after a restart before rolling back.
    restart_timeout: int = Field(default=60, ge=5, le=600)
