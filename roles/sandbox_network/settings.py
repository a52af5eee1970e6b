"""sandbox_network: the internal network that holds the agent and the egress network of its proxy."""

import ipaddress

from pydantic import Field

from sandbox_host.roles.common.types import InterfaceName, IPAddress, Network, Port, Section


class SandboxNetworkSettings(Section):
    enabled: bool = Field(
        default=True,
        description="false: no sandbox networks (and no egress proxy: it has nowhere to sit).",
    )
    internal_network: str = Field(
        default="sandbox-internal",
        description="Internal network (--internal, no IPv6): the agent and the proxy.",
    )
    internal_bridge: InterfaceName = Field(
        default="sbx-int0",
        description="Its Linux bridge, named so host firewall rules (and the INPUT guard) can refer to it.",
    )
    internal_subnet: Network = Field(
        default="172.30.0.0/24",
        description="Its subnet; the deploy refuses one that overlaps a host route or another Docker network.",
    )
    proxy_ip: IPAddress = Field(
        default="172.30.0.2",
        description=(
            "The agent reaches the proxy by this fixed IP: gVisor's netstack cannot use Docker's "
            "embedded DNS (127.0.0.11) on user-defined networks."
        ),
    )
    proxy_port: Port = Field(
        default=3128,
        description="Port the proxy listens on (HTTP_PROXY=http://proxy_ip:proxy_port for the agent).",
    )
    gateway_ip_range: Network | None = Field(
        default=None,
        description=(
            "Fixed IPs of the per-user credential gateways (credential_gateway), inside "
            "internal_subnet; each host user's gateway takes the first free one. null: the top /27 "
            "of internal_subnet (172.30.0.224/27 for the default), away from the addresses Docker "
            "hands out from the bottom."
        ),
    )
    egress_network: str = Field(
        default="sandbox-egress",
        description="External network: the proxy only, its way out.",
    )
    egress_bridge: InterfaceName = Field(
        default="sbx-egr0",
        description="Its Linux bridge (fixed name, for host firewall rules).",
    )
    egress_subnet: Network = Field(
        default="172.30.1.0/24",
        description="Its subnet; checked for overlaps like internal_subnet.",
    )
    guard_host_input: bool = Field(
        default=True,
        description=(
            "Docker 20.10's --internal only stops forwarding: host services on 0.0.0.0 still answer "
            "at the internal bridge's gateway IP. The guard drops what the internal bridge sends to "
            "the host itself (iptables/ip6tables INPUT), replies to host-opened connections excepted."
        ),
    )
    guard_chain: str = Field(
        default="SANDBOX-INPUT", pattern=r"^[A-Z][A-Z0-9_-]{0,28}$",
        description="The iptables chain the guard owns (rewritten whole by the deploy).",
    )
    guard_script: str = Field(
        default="/usr/local/sbin/sandbox-host-input-guard", pattern=r"^/[A-Za-z0-9._/-]+$",
        description=(
            "Script that re-creates the guard; with systemd it runs at boot, before docker.service, "
            "from the unit <script name>.service (iptables rules do not survive a reboot)."
        ),
    )

    def gateway_range(self) -> str:
        """gateway_ip_range, or the top /27 of internal_subnet (of a smaller subnet: its top half)."""
        if self.gateway_ip_range:
            return self.gateway_ip_range
        subnet = ipaddress.ip_network(self.internal_subnet)
        return str(list(subnet.subnets(new_prefix=max(27, subnet.prefixlen + 1)))[-1])
