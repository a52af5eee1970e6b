import pytest


def test_docker_package_installed(host, settings):
    name = "docker-ce" if settings.docker_engine.source == "docker_ce" else "docker.io"
    assert host.package(name).is_installed


def test_dockerd_answers(host):
    assert host.run("docker version --format '{{.Server.Version}}'").rc == 0


def test_dockerd_enabled_at_boot(host, settings):
    if not settings.docker_engine.start:
        pytest.skip("docker_engine.start is false: the deploy leaves the service alone")
    if host.run("test -d /run/systemd/system").rc != 0:
        pytest.skip("no systemd: starting dockerd at boot is the init script's business, not the deploy's")
    assert host.service("docker").is_enabled
