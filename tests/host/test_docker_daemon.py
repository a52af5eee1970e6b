"""daemon.json has the managed settings and the running dockerd uses them. The expected values
are written out here (which setting feeds which key), not computed by the role."""

import json

import pytest

from conftest import docker_json
from expected import expected_mtu, wanted_daemon_keys as wanted_keys


def read_daemon_json(host, settings):
    return json.loads(host.file(settings.docker_daemon.path).content_string)


def test_daemon_json_is_root_owned_0644(host, settings):
    f = host.file(settings.docker_daemon.path)
    assert f.user == "root" and f.group == "root" and f.mode == 0o644


def test_daemon_json_has_every_managed_key(host, settings):
    d = settings.docker_daemon
    on_host = read_daemon_json(host, settings)
    wanted = wanted_keys(d, expected_mtu(host, settings))
    assert {key: on_host.get(key) for key in wanted} == wanted
    if d.log_driver in ("json-file", "local"):
        # Merged entry by entry: the host's other log options survive.
        assert on_host["log-opts"]["max-size"] == d.log_max_size
        assert on_host["log-opts"]["max-file"] == str(d.log_max_file)


def test_daemon_json_is_byte_stable(host, settings):
    # Sorted keys, two-space indentation, one trailing newline: the same text for the same content.
    text = host.file(settings.docker_daemon.path).content_string
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"


def test_no_rollback_leftovers(host, settings):
    for suffix in (".sandbox-host.bak", ".sandbox-host.absent", ".sandbox-host.new"):
        assert not host.file(settings.docker_daemon.path + suffix).exists


def test_running_dockerd_uses_the_config(host, settings):
    info = docker_json(host, "info", "--format", "'{{json .}}'")
    assert info["LoggingDriver"] == settings.docker_daemon.log_driver
    assert info["LiveRestoreEnabled"] is settings.docker_daemon.live_restore


def base_image(host, settings):
    image = settings.images.base_image
    if host.run(f"docker image inspect {image}").rc != 0:
        pytest.skip(f"{image} is not on the host (the sandbox roles load it)")
    return image


def test_containers_get_the_configured_dns(host, settings):
    if not settings.docker_daemon.dns:
        pytest.skip("docker_daemon.dns is empty: containers get Docker's own choice")
    resolv = host.check_output(f"docker run --rm {base_image(host, settings)} cat /etc/resolv.conf")
    servers = [line.split()[1] for line in resolv.splitlines() if line.startswith("nameserver ")]
    assert servers == list(settings.docker_daemon.dns)


def test_containers_get_the_configured_mtu(host, settings):
    mtu = host.check_output(f"docker run --rm {base_image(host, settings)} cat /sys/class/net/eth0/mtu")
    assert int(mtu) == expected_mtu(host, settings)


def test_containers_run_with_no_new_privileges(host, settings):
    image = base_image(host, settings)
    status = host.check_output(f"docker run --rm {image} grep NoNewPrivs /proc/self/status")
    assert status.split()[-1] == ("1" if settings.docker_daemon.no_new_privileges else "0")


def test_default_bridge_mtu(host, settings):
    # docker0 itself keeps the MTU it was created with until a container's veth joins; what
    # dockerd hands containers is the network's driver option.
    bridge = docker_json(host, "network", "inspect", "bridge")[0]
    assert bridge["Options"]["com.docker.network.driver.mtu"] == str(expected_mtu(host, settings))


def test_default_bridge_ipv6_as_configured(host, settings):
    bridge = docker_json(host, "network", "inspect", "bridge")[0]
    assert bridge["EnableIPv6"] is settings.docker_daemon.ipv6
