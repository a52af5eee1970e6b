"""host_network: kernel network settings, persisted in one file under /etc/sysctl.d, and TCP MSS
clamping for the Docker and sandbox bridges."""

from typing import Annotated, Literal

from pydantic import Field

from sandbox_host.roles.common.types import Section


class HostNetworkSettings(Section):
    sysctl_file: str = Field(
        default="/etc/sysctl.d/90-sandbox-host.conf",
        description="The one file this role owns; applied with `sysctl -p FILE` (never --system).",
    )
    ip_forward: bool = Field(
        default=True,
        description="Containers reach the network only through forwarding (seed 001, cause 3).",
    )
    disable_ipv6: bool = Field(
        default=True,
        description="Turn IPv6 off host-wide (seed 000: half-working IPv6 hangs the agent).",
    )
    tcp_keepalive_time: int = Field(
        default=60, ge=1, le=32767,
        description=(
            "Keepalive probes keep idle API connections alive through NAT/conntrack and detect dead "
            "ones in minutes instead of hours (seed 000: ECONNRESET after idle periods)."
        ),
    )
    tcp_keepalive_intvl: int = Field(
        default=10, ge=1, le=32767,
        description="Seconds between keepalive probes.",
    )
    tcp_keepalive_probes: int = Field(
        default=6, ge=1, le=127,
        description="Unanswered probes before the connection is declared dead.",
    )
    extra: dict[str, int | str] = Field(
        default={},
        description="Any further net.* sysctls (only network keys: they are the ones that are per-namespace).",
    )
    mss_clamping: Literal["pmtu", "off"] | Annotated[int, Field(ge=536, le=65495)] = Field(
        default="pmtu",
        description=(
            "TCP MSS clamping of connections forwarded from/to docker0, the sandbox bridges and "
            "Docker's br-* networks (seed 001, MTU mismatch: a smaller link further along and "
            "blocked ICMP make large downloads hang). pmtu: --clamp-mss-to-pmtu (the MSS fits the "
            "route's MTU); a number: --set-mss to it (path MTU - 40, for a tunnel the host cannot "
            "see); off: no clamping (the chain is removed)."
        ),
    )
    mss_chain: str = Field(
        default="SANDBOX-MSS", pattern=r"^[A-Z][A-Z0-9_-]{0,28}$",
        description="The mangle chain clamping owns (jumped from mangle FORWARD; rewritten whole).",
    )
    mss_script: str = Field(
        default="/usr/local/sbin/sandbox-host-mss-clamp", pattern=r"^/[A-Za-z0-9._/-]+$",
        description=(
            "Script that (re)creates the chain; the deploy runs it when the rules differ, and with "
            "systemd the unit <script name>.service runs it at boot, before docker.service."
        ),
    )
