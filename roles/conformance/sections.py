"""The settings sections the declared state is computed from (handed in by the composition)."""

from typing import NamedTuple

from sandbox_host.roles.agent.settings import AgentSettings
from sandbox_host.roles.conformance.settings import ConformanceSettings
from sandbox_host.roles.docker_daemon.settings import DockerDaemonSettings
from sandbox_host.roles.docker_proxy.settings import DockerProxySettings
from sandbox_host.roles.egress_proxy.settings import EgressProxySettings
from sandbox_host.roles.gvisor.settings import GvisorSettings
from sandbox_host.roles.host_network.settings import HostNetworkSettings
from sandbox_host.roles.images.settings import ImagesSettings
from sandbox_host.roles.sandbox_network.settings import SandboxNetworkSettings


class ConformanceSections(NamedTuple):
    conformance: ConformanceSettings
    docker_daemon: DockerDaemonSettings
    host_network: HostNetworkSettings
    docker_proxy: DockerProxySettings
    gvisor: GvisorSettings
    images: ImagesSettings
    sandbox_network: SandboxNetworkSettings
    egress_proxy: EgressProxySettings
    agent: AgentSettings
