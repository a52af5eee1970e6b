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
    dynamic_ip_range: Network | None = Field(
        default=None,
        description=(
            "The addresses Docker hands to containers that join internal_network without a fixed "
            "IP (agent sandboxes, the conformance and diagnose probes): the network's --ip-range, so "
            "none of them can take a fixed address (the bridge's, proxy_ip, gateway_ip_range) while "
            "its owner is down. Inside internal_subnet, holding none of the fixed addresses. null: "
            "the largest block of internal_subnet that holds none (172.30.0.64/26 for the default: "
            "64 containers; a larger internal_subnet gives more)."
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

    def bridge_ip(self) -> str:
        """The internal bridge's own address (Docker's gateway of the network): the subnet's first
        host, given to Docker explicitly (with an --ip-range Docker would take the range's first)."""
        return str(next(ipaddress.ip_network(self.internal_subnet).hosts()))

    def fixed_addresses(self) -> dict[str, str]:
        """Every address of internal_subnet the project assigns itself, as CIDRs, by the key that
        sets it; Docker's dynamic range must hold none of them."""
        return {
            "internal_subnet (the bridge's address)": f"{self.bridge_ip()}/32",
            "proxy_ip": f"{self.proxy_ip}/32",
            "gateway_ip_range": self.gateway_range(),
        }

    def dynamic_range(self) -> str | None:
        """dynamic_ip_range, or the largest block of internal_subnet that overlaps no fixed
        address (the lowest of equal size, four addresses at least); None when there is none."""
        if self.dynamic_ip_range:
            return self.dynamic_ip_range
        subnet = ipaddress.ip_network(self.internal_subnet)
        fixed = [ipaddress.ip_network(cidr) for cidr in self.fixed_addresses().values()]
        for prefix in range(subnet.prefixlen + 1, subnet.max_prefixlen - 1):
            for block in subnet.subnets(new_prefix=prefix):
                if not any(block.overlaps(address) for address in fixed):
                    return str(block)
        return None

    def address_problems(self) -> list[tuple[str, str]]:
        """Fixed addresses outside internal_subnet or inside the dynamic range, as (key, reason)."""
        subnet = ipaddress.ip_network(self.internal_subnet)
        ip = ipaddress.ip_address(self.proxy_ip)
        bridge = ipaddress.ip_address(self.bridge_ip())
        problems = []
        if ip not in subnet or ip in (subnet.network_address, subnet.broadcast_address, bridge):
            problems.append(("proxy_ip", f"{ip} is not a usable address of internal_subnet {subnet} "
                                         f"(nor the bridge's own address {bridge})"))
        gateways = ipaddress.ip_network(self.gateway_range())
        if not gateways.subnet_of(subnet) or ip in gateways or bridge in gateways:
            problems.append(("gateway_ip_range", f"{gateways} must lie inside internal_subnet {subnet} and hold "
                                                 f"neither proxy_ip {ip} nor the bridge's address {bridge}"))
        dynamic = self.dynamic_range()
        if dynamic is None:
            problems.append(("dynamic_ip_range", f"no block of internal_subnet {subnet} is free of the fixed "
                                                 "addresses (bridge, proxy_ip, gateway_ip_range): set one"))
            return problems
        dynamic_net = ipaddress.ip_network(dynamic)
        if not dynamic_net.subnet_of(subnet):
            problems.append(("dynamic_ip_range", f"{dynamic} must lie inside internal_subnet {subnet}"))
        held = [key for key, cidr in self.fixed_addresses().items() if dynamic_net.overlaps(ipaddress.ip_network(cidr))]
        if held:
            problems.append(("dynamic_ip_range", f"{dynamic} holds fixed addresses ({', '.join(held)}): Docker "
                                                 "could give them to another container while their owner is down"))
        return problems

    def gateway_range(self) -> str:
        """gateway_ip_range, or the top /27 of internal_subnet (of a smaller subnet: its top half)."""
        if self.gateway_ip_range:
            return self.gateway_ip_range
        subnet = ipaddress.ip_network(self.internal_subnet)
        return str(list(subnet.subnets(new_prefix=max(27, subnet.prefixlen + 1)))[-1])
