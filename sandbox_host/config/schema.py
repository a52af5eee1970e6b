"""HostConfig: every role's section, composed; checks that span sections live here."""

from __future__ import annotations

from pydantic import Field

from sandbox_host.roles.common.types import Section, overlapping
from sandbox_host.roles.conformance.settings import ConformanceSettings
from sandbox_host.roles.docker_daemon.settings import DockerDaemonSettings
from sandbox_host.roles.docker_engine.settings import DockerEngineSettings
from sandbox_host.roles.docker_proxy.settings import DockerProxySettings
from sandbox_host.roles.firewall.settings import FirewallSettings
from sandbox_host.roles.gvisor.settings import GvisorSettings
from sandbox_host.roles.host_network.settings import HostNetworkSettings
from sandbox_host.roles.sandbox_network.settings import SandboxNetworkSettings
from sandbox_host.roles.images.settings import ImagesSettings
from sandbox_host.roles.egress_proxy.settings import EgressProxySettings
from sandbox_host.roles.agent.settings import AgentSettings
from sandbox_host.roles.conformance.sections import ConformanceSections
from sandbox_host.roles.credential_gateway.settings import CredentialGatewaySettings
from sandbox_host.roles.launcher.config import LauncherSections
from sandbox_host.roles.launcher.settings import LauncherSettings
from sandbox_host.roles.macos.settings import MacosSettings


class HostConfig(Section):
    docker_engine: DockerEngineSettings = Field(default_factory=DockerEngineSettings)
    docker_daemon: DockerDaemonSettings = Field(default_factory=DockerDaemonSettings)
    host_network: HostNetworkSettings = Field(default_factory=HostNetworkSettings)
    firewall: FirewallSettings = Field(default_factory=FirewallSettings)
    gvisor: GvisorSettings = Field(default_factory=GvisorSettings)
    docker_proxy: DockerProxySettings = Field(default_factory=DockerProxySettings)
    images: ImagesSettings = Field(default_factory=ImagesSettings)
    sandbox_network: SandboxNetworkSettings = Field(default_factory=SandboxNetworkSettings)
    egress_proxy: EgressProxySettings = Field(default_factory=EgressProxySettings)
    agent: AgentSettings = Field(default_factory=AgentSettings)
    credential_gateway: CredentialGatewaySettings = Field(default_factory=CredentialGatewaySettings)
    launcher: LauncherSettings = Field(default_factory=LauncherSettings)
    conformance: ConformanceSettings = Field(default_factory=ConformanceSettings)
    macos: MacosSettings = Field(default_factory=MacosSettings)

    def launcher_sections(self) -> LauncherSections:
        return LauncherSections(self.launcher, self.agent, self.images, self.gvisor, self.sandbox_network,
                                self.egress_proxy, self.credential_gateway)

    def conformance_sections(self) -> ConformanceSections:
        return ConformanceSections(
            self.conformance, self.docker_daemon, self.host_network, self.docker_proxy, self.gvisor,
            self.images, self.sandbox_network, self.egress_proxy, self.agent,
        )

    def docker_networks(self) -> dict[str, str]:
        """Every subnet this config hands to Docker, by the key that sets it."""
        nets = {}
        if self.docker_daemon.fixed_cidr:
            nets["docker_daemon.fixed_cidr"] = self.docker_daemon.fixed_cidr
        for i, pool in enumerate(self.docker_daemon.default_address_pools):
            nets[f"docker_daemon.default_address_pools.{i}.base"] = pool.base
        if self.sandbox_network.enabled:
            nets["sandbox_network.internal_subnet"] = self.sandbox_network.internal_subnet
            nets["sandbox_network.egress_subnet"] = self.sandbox_network.egress_subnet
        return nets

    def cross_checks(self) -> list[tuple[tuple, str]]:
        """Problems that span sections, as (key path blamed, reason); empty when consistent."""
        problems = []
        nets = self.docker_networks()
        for clash in overlapping(nets):
            first_key = clash.split(" ", 1)[0]
            problems.append((tuple(first_key.split(".")), f"subnets overlap: {clash}"))
        problems += [(("sandbox_network", key), reason) for key, reason in self.sandbox_network.address_problems()]
        if (self.credential_gateway.enabled and self.agent.enabled and self.egress_proxy.enabled
                and self.egress_proxy.upstream_proxy):
            # nginx cannot tunnel through a proxy: the gateway would try api_host directly, which a
            # host that must use an upstream proxy cannot reach (its requests would hang, then 502).
            problems.append(
                (("egress_proxy", "upstream_proxy"),
                 "is set while credential_gateway.enabled is true: the gateway connects to "
                 f"{self.credential_gateway.api_host} directly from the egress network, not through the "
                 "upstream proxy, so it cannot work on a host whose only way out is that proxy; set "
                 "credential_gateway.enabled: false (credentials then go into the sandbox's state volume)")
            )
        if self.docker_daemon.ipv6 and self.host_network.disable_ipv6:
            problems.append(
                (("docker_daemon", "ipv6"), "is true but host_network.disable_ipv6 turns IPv6 off host-wide")
            )
        return problems
