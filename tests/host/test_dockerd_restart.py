"""What a dockerd restart must not leave behind with live-restore (roles/docker_daemon/bridge.py).

- docker0 gets daemon.json's mtu although containers run through the restart: dockerd rebuilds
  docker0 from daemon.json only when it starts with no running container. The deploy stops what
  it recreates anyway (the egress proxy, gateways, probes) around its restart; any other container
  keeps docker0 as it is, the deploy says which, and the next run after it is gone applies it.
- An egress proxy that ran through a dockerd restart done by hand (its DNS through dockerd's
  embedded resolver is stale: Squid's lookups hang) is restarted by the next deploy.
"""

import json

import pytest
import yaml

from expected import expected_mtu

pytestmark = [pytest.mark.mutates]

BLOCKER = "sbx-test-docker0-blocker"  # a container the deploy did not create (a user's own)


def bridge_mtu(host) -> int:
    options = json.loads(host.check_output("docker network inspect bridge --format '{{json .Options}}'"))
    return int(options["com.docker.network.driver.mtu"])


def container_mtu(host, image) -> int:
    return int(host.check_output(f"docker run --rm {image} cat /sys/class/net/eth0/mtu"))


def running(host) -> set[str]:
    return set(host.check_output("docker ps --format '{{.Names}}'").split())


def test_docker0_follows_daemon_json_mtu_with_containers_running(host, settings, converge, tmp_path):
    if settings.docker_daemon.mtu is None or not settings.docker_daemon.live_restore:
        pytest.skip("needs a managed docker_daemon.mtu and live-restore")
    image = settings.images.base_image
    wanted = expected_mtu(host, settings)
    other = wanted - 100
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "all.yml").write_text(yaml.safe_dump({"docker_daemon": {"mtu": other}}))
    assert bridge_mtu(host) == wanted
    host.check_output(f"docker rm -f {BLOCKER} >/dev/null 2>&1; docker run -d --name {BLOCKER} {image} sleep 900")
    try:
        # A container the deploy must not stop: daemon.json changes, docker0 cannot, and it says why.
        code, _, err = converge(extra_group_vars=overlay)
        assert code == 0, err
        assert f"docker0 keeps mtu {wanted} (daemon.json: {other}) while these containers run:" in err, err
        assert BLOCKER in err.split("while these containers run:")[1].split(".")[0]
        assert bridge_mtu(host) == wanted
        assert BLOCKER in running(host)

        # Once it is gone, the next run applies daemon.json to docker0, with the sandbox's own
        # containers stopped around the restart and running again after it.
        host.check_output(f"docker rm -f {BLOCKER}")
        before = running(host)
        assert settings.egress_proxy.container_name in before or not settings.egress_proxy.enabled
        code, changed, err = converge(extra_group_vars=overlay)
        assert code == 0, err
        assert any("Apply daemon.json to docker0" in name for name in changed), changed
        assert bridge_mtu(host) == other
        assert container_mtu(host, image) == other
        assert before <= running(host), before - running(host)
    finally:
        host.run(f"docker rm -f {BLOCKER}")
        # Back to the scenario's MTU, with the egress proxy (and any gateway) running meanwhile.
        code, _, err = converge()
        assert code == 0, err
    assert bridge_mtu(host) == wanted
    assert container_mtu(host, image) == wanted


def started(host, container) -> str:
    return host.check_output(f"docker inspect --format '{{{{.State.StartedAt}}}}' {container}")


def test_a_proxy_that_ran_through_a_hand_restart_of_dockerd_is_restarted_by_the_deploy(host, settings, converge):
    if not (settings.egress_proxy.enabled and settings.sandbox_network.enabled) or not settings.docker_daemon.live_restore:
        pytest.skip("needs the egress proxy and live-restore")
    proxy = settings.egress_proxy.container_name
    before = started(host, proxy)
    host.check_output("systemctl restart docker")
    assert started(host, proxy) == before, "live-restore kept the proxy running through the restart"
    code, changed, err = converge()
    assert code == 0, err
    assert any(name.startswith(f"Egress proxy | Container {proxy}") for name in changed), changed
    assert started(host, proxy) != before
    # Once restarted, the next run leaves it alone.
    code, changed, err = converge()
    assert code == 0, err
    assert not [name for name in changed if name.startswith(f"Egress proxy | Container {proxy}")], changed
