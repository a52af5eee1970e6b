"""path_mtu.find over `ip -j -d link show` / `ip -j route show table all` captured on real hosts:
host_eth0_1400 is this project's dev machine; vpn is a network namespace with a full-tunnel
OpenVPN-style tun0 (0.0.0.0/1 + 128.0.0.0/1), a split-tunnel 1360 VPN with its routes in table
51820, a route with an mtu attribute, docker0 with a veth, and an idle 1200 tun9 no route uses.
Kinds this machine's kernel cannot create (wireguard, gre, ppp) are built from their `ip -j`
field names."""

import json
from pathlib import Path

import pytest

from sandbox_host.roles.docker_daemon import daemon_json, path_mtu
from sandbox_host.roles.docker_daemon.facts import SEPARATOR, LinksAndRoutes
from sandbox_host.roles.docker_daemon.settings import DockerDaemonSettings

FIXTURES = Path(__file__).parent / "fixtures" / "path_mtu"


def captured(name):
    return (json.loads((FIXTURES / f"{name}.links.json").read_text()),
            json.loads((FIXTURES / f"{name}.routes.json").read_text()))


def test_plain_host_takes_its_default_routes_interface():
    found = path_mtu.find(*captured("host_eth0_1400"))
    assert found.mtu == 1400
    assert found.sources == ["eth0 1400: default route"]


def test_smallest_of_default_tunnels_and_route_mtu_wins():
    found = path_mtu.find(*captured("vpn"))
    assert found.mtu == 1360
    assert found.sources[0] == "vpn-corp 1360: tunnel, route 10.20.0.0/16 table 51820"
    text = found.describe()
    for part in ("tun0 1500", "eth0 1500", "route 203.0.113.0/24 dev eth0 1380"):
        assert part in text
    # docker0 and its veth, and the idle tun9 that no route uses, do not count.
    assert "docker0" not in text and "veth" not in text and "tun9" not in text


def test_sandbox_bridges_are_skipped_like_dockers():
    links, routes = captured("vpn")
    links = [*links, {"ifname": "sbx-egr0", "mtu": 1000, "link_type": "ether", "linkinfo": {"info_kind": "bridge"}}]
    routes = [*routes, {"dst": "172.30.1.0/24", "dev": "sbx-egr0", "metrics": [{"mtu": 900}]}]
    assert path_mtu.find(links, routes).mtu == 900
    assert path_mtu.find(links, routes, exclude=("sbx-egr0",)).mtu == 1360


@pytest.mark.parametrize("link", [
    {"ifname": "wg0", "mtu": 1420, "link_type": "none", "linkinfo": {"info_kind": "wireguard"}},
    {"ifname": "ppp0", "mtu": 1492, "link_type": "ppp"},
    {"ifname": "corp", "mtu": 1476, "link_type": "gre", "linkinfo": {"info_kind": "gre"}},
    {"ifname": "ipsec0", "mtu": 1438, "link_type": "none", "linkinfo": {"info_kind": "xfrm"}},
], ids=["wireguard", "ppp", "gre", "xfrm"])
def test_tunnel_kinds_count_when_a_route_uses_them(link):
    links, routes = captured("host_eth0_1400")
    links = [*links, {**link, "mtu": 1300}]
    assert path_mtu.find(links, routes).mtu == 1400  # up, but no route: not on the path
    routes = [*routes, {"dst": "10.0.0.0/8", "dev": link["ifname"], "flags": []}]
    assert path_mtu.find(links, routes).mtu == 1300


def test_no_route_out_is_unknown():
    links, _ = captured("host_eth0_1400")
    found = path_mtu.find(links, [])
    assert found.mtu is None and "unknown" in found.describe()


def test_fact_parses_both_documents():
    links, routes = captured("vpn")
    output = [json.dumps(links), SEPARATOR, json.dumps(routes)]
    assert LinksAndRoutes().process(output) == {"links": links, "routes": routes}


@pytest.mark.parametrize("setting, detected, written", [
    ("auto", 1400, 1400),
    ("auto", None, None),  # no route out: the key is left alone
    (1450, 1400, 1450),  # an explicit number wins
    (None, 1400, None),  # unmanaged
])
def test_daemon_json_mtu(setting, detected, written):
    options = daemon_json.managed_options(DockerDaemonSettings(mtu=setting), detected_mtu=detected)
    assert options.get("mtu") == written


def test_auto_is_the_default():
    assert DockerDaemonSettings().mtu == "auto"
