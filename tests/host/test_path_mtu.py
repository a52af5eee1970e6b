"""MTU and MSS on a converged test host (issue 11, seed 001 "MTU mismatch").

- docker_daemon.mtu: auto put the test host's path MTU (the MTU of its default route's
  interface: a test host has no tunnel) into daemon.json and onto the sandbox networks.
- The MSS clamping chain (host_network.mss_clamping) is in mangle FORWARD, survives a dockerd
  restart (Docker never touches the mangle table) and comes back from its boot unit.
- The proof (default scenario, `mutates`): a far side behind a 1280-byte link whose router drops
  ICMP "fragmentation needed" (tests/host/far_side.sh). A 4 MiB download from a container on
  docker0 and on the sandbox's egress network hangs without the clamping and completes with it.
  Both times go to .cache/test-results/path_mtu.json (the issue's closing-note numbers).
"""

from __future__ import annotations

import json
import posixpath
import shlex
from pathlib import Path

import pytest

from sandbox_host.roles.host_network import mss

from conftest import docker_json, write_file

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / ".cache" / "test-results" / "path_mtu.json"
SERVER = "10.231.1.2"
SIZE = 4 * 1024 * 1024
# Bounded: a clamped 4 MiB download takes about a second here; a black-holed one never ends.
HANG_AFTER = 20


def default_route_mtu(host) -> tuple[str, int]:
    """The interface of the test host's default route and its MTU, read without the deploy's code."""
    dev = host.check_output("ip -4 route show default").split(" dev ", 1)[1].split()[0]
    return dev, int(host.file(f"/sys/class/net/{dev}/mtu").content_string)


def test_auto_mtu_is_the_default_routes_mtu(host, settings):
    if settings.docker_daemon.mtu != "auto":
        pytest.skip(f"docker_daemon.mtu is {settings.docker_daemon.mtu} in this scenario")
    dev, mtu = default_route_mtu(host)
    daemon = json.loads(host.file(settings.docker_daemon.path).content_string)
    assert daemon.get("mtu") == mtu, (dev, mtu, daemon.get("mtu"))
    sandbox = settings.sandbox_network
    if sandbox.enabled:
        for network in (sandbox.internal_network, sandbox.egress_network):
            options = docker_json(host, "network", "inspect", network)[0]["Options"]
            assert options.get("com.docker.network.driver.mtu") == str(mtu), network


def mangle(host, tool="iptables") -> list[str]:
    return host.check_output(f"{tool} -w -t mangle -S").splitlines()


def test_mss_chain_in_mangle_forward(host, settings):
    net = settings.host_network
    if net.mss_clamping == "off":
        assert not mss.ours(mangle(host), net.mss_chain)
        return
    rules = mangle(host)
    assert f"-A FORWARD -j {net.mss_chain}" in rules
    target = "--clamp-mss-to-pmtu" if net.mss_clamping == "pmtu" else f"--set-mss {net.mss_clamping}"
    for bridge in ("docker0", "br-+"):
        assert f"-A {net.mss_chain} -i {bridge} -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS {target}" in rules


def test_mss_boot_unit_enabled(host, settings):
    if not host.file("/run/systemd/system").exists:
        pytest.skip("no systemd: the deploy alone keeps the chain")
    unit = posixpath.basename(settings.host_network.mss_script) + ".service"
    assert host.service(unit).is_enabled
    assert host.file(settings.host_network.mss_script).mode == 0o755


@pytest.mark.mutates
def test_mss_chain_survives_a_dockerd_restart(host, settings):
    """Docker rewrites filter and nat chains of its own when it starts, never mangle."""
    before = mangle(host)
    assert mss.ours(before, settings.host_network.mss_chain)
    host.check_output("systemctl restart docker")
    host.check_output("timeout 60 sh -c 'until docker info >/dev/null 2>&1; do sleep 1; done'")
    assert mangle(host) == before
    # As the deploy would: a proxy that ran through a dockerd restart resolves through a stale
    # mapping (tests/host/test_dockerd_restart.py); the checks after this one use it.
    if settings.egress_proxy.enabled and settings.sandbox_network.enabled:
        host.check_output(f"docker restart {settings.egress_proxy.container_name}")


@pytest.mark.mutates
def test_mss_chain_back_from_the_boot_unit(host, settings):
    """What a reboot does to iptables (they are empty), then the boot unit alone."""
    net = settings.host_network
    if not host.file("/run/systemd/system").exists:
        pytest.skip("no systemd")
    before = mangle(host)
    unit = posixpath.basename(net.mss_script) + ".service"
    host.check_output(f"{mss.script_command(net.mss_script, net.mss_chain, 'off', [])}")
    assert not mss.ours(mangle(host), net.mss_chain)
    host.check_output(f"systemctl restart {unit}")
    assert mangle(host) == before


@pytest.fixture(scope="module")
def far_side(host, settings):
    if settings.host_network.mss_clamping != "pmtu":
        pytest.skip("host_network.mss_clamping is not pmtu in this scenario")
    image = settings.images.base_image
    if host.run(f"docker image inspect {image}").rc != 0:
        pytest.skip(f"{image} is not on the host")
    for name in ("far_side.sh", "far_side_server.py"):
        write_file(host, f"/run/net-{name}", (Path(__file__).parent / name).read_text())
    host.run("sh /run/net-far_side.sh down")
    host.check_output(f"sh /run/net-far_side.sh up /run/net-far_side_server.py {SIZE}")
    yield image
    host.run("sh /run/net-far_side.sh down")


def download(host, image: str, network: str) -> tuple[int, float]:
    """Bytes a container on ``network`` got from the far side within HANG_AFTER seconds, and how
    long the download took, measured inside the container (container start left out)."""
    fetch = f"exec 3<>/dev/tcp/{SERVER}/8080 && wc -c <&3"
    script = (
        "start=$(date +%s%N); "
        f"timeout {HANG_AFTER} bash -c '{fetch}' || echo 0; "
        "echo $(( ($(date +%s%N) - start) / 1000000 ))"
    )
    out = host.run(f"docker run --rm --network {network} {image} bash -c {shlex.quote(script)}")
    lines = out.stdout.split()
    assert out.rc == 0 and len(lines) >= 2, (out.stdout, out.stderr)
    return int(lines[-2]), round(int(lines[-1]) / 1000, 1)


def record(key: str, value):
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results[key] = value
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


@pytest.mark.mutates
@pytest.mark.parametrize("which", ["bridge", "egress"])
def test_large_download_through_a_pmtu_black_hole(host, settings, far_side, which):
    """Hangs without the clamping, completes with it; the chain is put back by its own script."""
    net = settings.host_network
    network = "bridge" if which == "bridge" else settings.sandbox_network.egress_network
    if which == "egress" and not settings.sandbox_network.enabled:
        pytest.skip("no sandbox networks in this scenario")
    container_mtu = host.check_output(f"docker run --rm --network {network} {far_side} cat /sys/class/net/eth0/mtu")
    assert int(container_mtu) > 1280, "the container must think it can send more than the far link carries"

    jump = f"-t mangle -D FORWARD -j {net.mss_chain}"
    host.check_output(f"iptables -w {jump}")
    try:
        unclamped = download(host, far_side, network)
    finally:
        # Put back by the boot unit (what a reboot runs), not by a converge.
        host.check_output(f"systemctl restart {posixpath.basename(net.mss_script)}.service")
    clamped = download(host, far_side, network)
    record(f"{which}: without clamping", {"bytes": unclamped[0], "seconds": unclamped[1]})
    record(f"{which}: with clamping", {"bytes": clamped[0], "seconds": clamped[1]})
    assert unclamped[0] < SIZE, f"the download completed without clamping: no black hole ({unclamped})"
    assert clamped[0] == SIZE, f"the clamped download did not complete ({clamped})"

