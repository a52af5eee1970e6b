"""sandbox_network: the internal network that holds the agent and the egress network of its proxy."""

from pydantic import Field

from sandbox_host.roles.common.types import InterfaceName, IPAddress, Network, Port, Section


class SandboxNetworkSettings(Section):
    # false: no sandbox networks (and no egress proxy: it has nowhere to sit).
    enabled: bool = True
    # Internal network (--internal, no IPv6): the agent and the proxy.
    internal_network: str = "sandbox-internal"
    # Its Linux bridge, named so host firewall rules (and the INPUT guard) can refer to it.
    internal_bridge: InterfaceName = "sbx-int0"
    # Its subnet; the deploy refuses one that overlaps a host route or another Docker network.
    internal_subnet: Network = "172.30.0.0/24"
    # The agent reaches the proxy by this fixed IP: gVisor's netstack cannot use Docker's
    # embedded DNS (127.0.0.11) on user-defined networks.
    proxy_ip: IPAddress = "172.30.0.2"
    # Port the proxy listens on (HTTP_PROXY=http://proxy_ip:proxy_port for the agent).
    proxy_port: Port = 3128
    # External network: the proxy only, its way out.
    egress_network: str = "sandbox-egress"
    # Its Linux bridge (fixed name, for host firewall rules).
    egress_bridge: InterfaceName = "sbx-egr0"
    # Its subnet; checked for overlaps like internal_subnet.
    egress_subnet: Network = "172.30.1.0/24"
    # Docker 20.10's --internal only stops forwarding: host services on 0.0.0.0 still answer at
    # the internal bridge's gateway IP. The guard drops what the internal bridge sends to the host
    # itself (iptables/ip6tables INPUT), replies to host-opened connections excepted.
    guard_host_input: bool = True
    # The iptables chain the guard owns (rewritten whole by the deploy).
    guard_chain: str = Field(default="SANDBOX-INPUT", pattern=r"^[A-Z][A-Z0-9_-]{0,28}$")
    # Script that re-creates the guard; with systemd it runs at boot, before docker.service, from
    # the unit <script name>.service (iptables rules do not survive a reboot).
    guard_script: str = Field(default="/usr/local/sbin/sandbox-host-input-guard", pattern=r"^/[A-Za-z0-9._/-]+$")
