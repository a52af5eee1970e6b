"""sandbox_network: the internal network that holds the agent and the egress network of its proxy."""

from roles.common.types import InterfaceName, IPAddress, Network, Port, Section


class SandboxNetworkSettings(Section):
    enabled: bool = True
    # Internal network (no gateway, no IPv6): the agent and the proxy.
    internal_network: str = "sandbox-internal"
    internal_bridge: InterfaceName = "sbx-int0"
    internal_subnet: Network = "172.30.0.0/24"
    # The agent reaches the proxy by this fixed IP: gVisor's netstack cannot use Docker's
    # embedded DNS (127.0.0.11) on user-defined networks.
    proxy_ip: IPAddress = "172.30.0.2"
    proxy_port: Port = 3128
    # External network: the proxy only, its way out.
    egress_network: str = "sandbox-egress"
    egress_bridge: InterfaceName = "sbx-egr0"
    egress_subnet: Network = "172.30.1.0/24"
