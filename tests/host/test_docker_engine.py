def test_docker_package_installed(host, settings):
    name = "docker-ce" if settings.docker_engine.source == "docker_ce" else "docker.io"
    assert host.package(name).is_installed


def test_dockerd_answers(host):
    assert host.run("docker version --format '{{.Server.Version}}'").rc == 0


def test_dockerd_enabled_at_boot(host):
    if host.run("test -d /run/systemd/system").rc != 0:
        return  # no systemd: enabled-at-boot is the init script's business
    assert host.service("docker").is_enabled
