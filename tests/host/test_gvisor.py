"""runsc is registered by us (never `runsc install`) and containers start under it."""

import json

import pytest


@pytest.fixture
def gvisor(settings):
    if not settings.gvisor.enabled:
        pytest.skip("gvisor.enabled is false in this scenario")
    return settings.gvisor


def test_runsc_registered_in_daemon_json(host, settings, gvisor):
    config = json.loads(host.file(settings.docker_daemon.path).content_string)
    entry = config["runtimes"][gvisor.runtime_name]
    assert entry["path"] == gvisor.runsc_path
    # `runsc install` would have set this behind the user's back.
    assert config["userland-proxy"] is settings.docker_daemon.userland_proxy


def test_dockerd_knows_the_runtime(host, gvisor):
    runtimes = host.check_output("docker info --format '{{json .Runtimes}}'")
    assert gvisor.runtime_name in json.loads(runtimes)


def test_default_runtime(host, gvisor):
    default = host.check_output("docker info --format '{{.DefaultRuntime}}'")
    assert default == (gvisor.runtime_name if gvisor.default_runtime else "runc")


def test_container_runs_under_gvisor_with_network(host, settings, gvisor):
    image = gvisor.smoke_image or settings.images.base_image
    out = host.run(f"docker run --rm --runtime={gvisor.runtime_name} {image} sh -c 'uname -r; cat /proc/net/dev'")
    assert out.rc == 0, out.stderr
    # gVisor reports its own (fake) kernel, not the host's.
    assert out.stdout.splitlines()[0] != host.check_output("uname -r")
