"""Small pieces of the host roles: init detection, sysctls, Docker's apt source."""

import shlex

import pytest

from pyinfra.facts.server import Sysctl

from fakehost import run_operation
from sandbox_host.roles.common import services
from sandbox_host.roles.common.facts import InitSystem
from sandbox_host.roles.docker_engine.deploy import docker_ce_source
from sandbox_host.roles.host_network import deploy as host_network
from sandbox_host.roles.host_network.settings import HostNetworkSettings


@pytest.mark.parametrize(
    "output,init",
    [(["systemd", "systemd-booted"], "systemd"), (["bash"], "sysvinit"), (["init"], "sysvinit"),
     (["sleep"], "other"), ([], "other")],
)
def test_init_system(output, init):
    assert InitSystem().process(output) == init


DEBIAN = {"name": "Debian", "release_meta": {"ID": "debian", "VERSION_CODENAME": "bookworm"}}
UBUNTU = {"name": "Ubuntu", "release_meta": {"ID": "ubuntu", "VERSION_CODENAME": "noble", "UBUNTU_CODENAME": "noble"}}


@pytest.mark.parametrize("distro,line", [
    (DEBIAN, "deb [signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/debian bookworm stable"),
    (UBUNTU, "deb [signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/ubuntu noble stable"),
])
def test_docker_ce_source(distro, line):
    key, source = docker_ce_source(distro, "https://download.docker.com/linux/")
    assert source == line and key.endswith(f"/{distro['release_meta']['ID']}/gpg")


def test_docker_ce_source_refuses_unknown_distro():
    with pytest.raises(ValueError, match="set docker_engine.source: distro"):
        docker_ce_source({"name": "Fedora", "release_meta": {"ID": "fedora"}}, "https://x")


def test_sysctl_values():
    values = host_network.wanted_sysctls(HostNetworkSettings(extra={"net.core.somaxconn": 4096}))
    assert values["net.ipv4.ip_forward"] == 1
    assert values["net.ipv6.conf.all.disable_ipv6"] == 1
    assert values["net.core.somaxconn"] == 4096
    assert "net.ipv4.tcp_keepalive_time = 60\n" in host_network.render(values)


def test_sysctl_applied_only_when_live_values_differ():
    values = {"net.ipv4.ip_forward": 1, "net.ipv4.tcp_keepalive_time": 60}
    keys = (Sysctl, ("net.ipv4.ip_forward", "net.ipv4.tcp_keepalive_time"))
    same = {keys: {"net.ipv4.ip_forward": 1, "net.ipv4.tcp_keepalive_time": 60}}
    commands, noops = run_operation(host_network.apply_file, same, path="/etc/sysctl.d/x.conf", values=values)
    assert commands == [] and noops
    differ = {keys: {"net.ipv4.ip_forward": 0, "net.ipv4.tcp_keepalive_time": 60}}
    commands, _ = run_operation(host_network.apply_file, differ, path="/etc/sysctl.d/x.conf", values=values)
    assert commands == ["sysctl -p /etc/sysctl.d/x.conf"]


def test_dockerd_start_without_systemd_is_the_service_program_with_its_timeout():
    commands, _ = run_operation(services.start_dockerd_without_systemd, {}, timeout=45)
    assert commands == [shlex.join(["sh", "-c", services.DOCKERD_SERVICE.read_text(), "dockerd-service.sh", "start", "45"])]
