"""daemon.json has the managed settings and the running dockerd uses them."""

import json

import pytest

from sandbox_host.roles.docker_daemon import daemon_json

from conftest import docker_json, expected_mtu


def read_daemon_json(host, settings):
    return json.loads(host.file(settings.docker_daemon.path).content_string)


def test_daemon_json_is_root_owned_0644(host, settings):
    f = host.file(settings.docker_daemon.path)
    assert f.user == "root" and f.group == "root" and f.mode == 0o644


def test_daemon_json_has_every_managed_key(host, settings):
    on_host = read_daemon_json(host, settings)
    managed = daemon_json.managed_options(settings.docker_daemon, detected_mtu=expected_mtu(host, settings))
    for key, value in managed.items():
        if key in daemon_json.MERGED_MAPPINGS:
            assert value.items() <= on_host[key].items(), key
        else:
            assert on_host[key] == value, key


def test_daemon_json_is_byte_stable(host, settings):
    text = host.file(settings.docker_daemon.path).content_string
    assert text == daemon_json.render(json.loads(text))


def test_no_rollback_leftovers(host, settings):
    for suffix in (".sandbox-host.bak", ".sandbox-host.absent", ".sandbox-host.new"):
        assert not host.file(settings.docker_daemon.path + suffix).exists


def test_running_dockerd_uses_the_config(host, settings):
    info = docker_json(host, "info", "--format", "'{{json .}}'")
    assert info["LoggingDriver"] == settings.docker_daemon.log_driver
    assert info["LiveRestoreEnabled"] is settings.docker_daemon.live_restore


def test_containers_get_the_configured_dns_and_mtu(host, settings):
    image = settings.images.base_image
    if host.run(f"docker image inspect {image}").rc != 0:
        pytest.skip(f"{image} is not on the host (the sandbox roles load it)")
    resolv = host.check_output(f"docker run --rm {image} cat /etc/resolv.conf")
    for server in settings.docker_daemon.dns:
        assert f"nameserver {server}" in resolv
    wanted = expected_mtu(host, settings)
    if wanted:
        mtu = host.check_output(f"docker run --rm {image} cat /sys/class/net/eth0/mtu")
        assert int(mtu) == wanted


def test_containers_run_with_no_new_privileges(host, settings):
    image = settings.images.base_image
    if host.run(f"docker image inspect {image}").rc != 0:
        pytest.skip(f"{image} is not on the host (the sandbox roles load it)")
    status = host.check_output(f"docker run --rm {image} grep NoNewPrivs /proc/self/status")
    assert status.split()[-1] == ("1" if settings.docker_daemon.no_new_privileges else "0")


def test_default_bridge_mtu(host, settings):
    # docker0 itself keeps the MTU it was created with until a container's veth joins; what
    # dockerd hands containers is the network's driver option.
    wanted = expected_mtu(host, settings)
    if wanted:
        bridge = docker_json(host, "network", "inspect", "bridge")[0]
        assert bridge["Options"]["com.docker.network.driver.mtu"] == str(wanted)


def test_default_bridge_has_no_ipv6(host, settings):
    if not settings.docker_daemon.ipv6:
        bridge = docker_json(host, "network", "inspect", "bridge")[0]
        assert bridge["EnableIPv6"] is False
