"""rules_mtu.mtu_larger_than_tunnel: a VPN/overlay further along than a 1500-byte uplink."""

import json
from pathlib import Path

from sandbox_host.diagnose import rules
from sandbox_host.diagnose.rules_mtu import bridge_mtu_not_applied, mtu_larger_than_tunnel

from test_diagnose_rules import healthy

FIXTURES = Path(__file__).parent / "fixtures" / "path_mtu"


def with_uplink_1500(r):
    # healthy() has the uplink at the path MTU; here the uplink says 1500 and so does Docker.
    r["network"]["links"]["eth0"]["mtu"] = 1500
    r["container"]["links"]["eth0"]["mtu"] = 1500
    r["daemon_json"]["content"].pop("mtu", None)
    for net in r["docker"]["networks"]:
        net["mtu"] = None
    return r


def test_healthy_host_has_no_tunnel_finding():
    assert mtu_larger_than_tunnel(with_uplink_1500(healthy())) == []


def test_vpn_link_up_below_docker_mtu_is_found_with_the_group_vars_fix():
    r = with_uplink_1500(healthy())
    r["network"]["links"]["wg0"] = {"mtu": 1420, "state": "unknown", "master": None}
    found = rules.run_rules(r)
    assert found and found[0].id == "mtu_larger_than_tunnel", [f.id for f in found]
    assert found[0].permanent == {"docker_daemon.mtu": 1420}
    assert found[0].evidence["uplink mtu"] == 1500


def test_a_tunnel_that_is_down_or_larger_is_not_a_cause():
    r = with_uplink_1500(healthy())
    r["network"]["links"]["tun0"] = {"mtu": 1400, "state": "down", "master": None}
    r["network"]["links"]["wg1"] = {"mtu": 1500, "state": "unknown", "master": None}
    assert mtu_larger_than_tunnel(r) == []


def test_docker_already_at_the_tunnel_mtu_is_fine():
    r = with_uplink_1500(healthy())
    r["network"]["links"]["wg0"] = {"mtu": 1420, "state": "unknown", "master": None}
    r["daemon_json"]["content"]["mtu"] = 1420
    r["container"]["links"]["eth0"]["mtu"] = 1420
    for net in r["docker"]["networks"]:
        net["mtu"] = 1420
    assert mtu_larger_than_tunnel(r) == []


def test_routes_decide_when_the_report_has_them():
    """With `ip` output (captured in a namespace with a split-tunnel VPN) the routes decide."""
    r = with_uplink_1500(healthy())
    r["network"]["links_and_routes"] = {
        "links": json.loads((FIXTURES / "vpn.links.json").read_text()),
        "routes": json.loads((FIXTURES / "vpn.routes.json").read_text()),
    }
    found = mtu_larger_than_tunnel(r)
    assert found and found[0].permanent == {"docker_daemon.mtu": 1360}


def test_docker0_behind_daemon_json_is_named_first_with_why_a_restart_alone_does_not_help():
    """live-restore kept docker0 at 1500 through the restart meant to apply daemon.json's 1400."""
    r = healthy()
    bridge = next(net for net in r["docker"]["networks"] if net["name"] == "bridge")
    wanted = r["daemon_json"]["content"]["mtu"] = bridge["mtu"] = 1400
    assert bridge_mtu_not_applied(r) == []
    bridge["mtu"] = 1500
    found = rules.run_rules(r)
    assert found and found[0].id == "bridge_mtu_not_applied", [f.id for f in found]
    assert found[0].evidence["docker network bridge mtu"] == 1500 and found[0].evidence["daemon_json.mtu"] == wanted
    assert found[0].permanent == {"docker_daemon.mtu": wanted}


def test_docker0_without_an_mtu_in_daemon_json_is_not_behind():
    r = healthy()
    r["daemon_json"]["content"].pop("mtu", None)
    assert bridge_mtu_not_applied(r) == []
