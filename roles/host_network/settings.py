"""host_network: kernel network settings, persisted in one file under /etc/sysctl.d."""

from pydantic import Field

from sandbox_host.roles.common.types import Section


class HostNetworkSettings(Section):
    # The one file this role owns; applied with `sysctl -p FILE` (never --system).
    sysctl_file: str = "/etc/sysctl.d/90-sandbox-host.conf"
    # Containers reach the network only through forwarding (seed 001, cause 3).
    ip_forward: bool = True
    # Turn IPv6 off host-wide (seed 000: half-working IPv6 hangs the agent).
    disable_ipv6: bool = True
    # Keepalive probes keep idle API connections alive through NAT/conntrack and detect dead
    # ones in minutes instead of hours (seed 000: ECONNRESET after idle periods).
    tcp_keepalive_time: int = Field(default=60, ge=1, le=32767)
    # Seconds between keepalive probes.
    tcp_keepalive_intvl: int = Field(default=10, ge=1, le=32767)
    # Unanswered probes before the connection is declared dead.
    tcp_keepalive_probes: int = Field(default=6, ge=1, le=127)
    # Any further net.* sysctls (only network keys: they are the ones that are per-namespace).
    extra: dict[str, int | str] = {}
