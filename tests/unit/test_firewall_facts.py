"""The firewall facts' process() on outputs captured from real hosts (tests/unit/fixtures/firewall)."""

from pathlib import Path

import pytest

from sandbox_host.roles.firewall.facts import DockerBridges, FirewalldState, UfwStatus, parse_tuple, parse_zones

FIXTURES = Path(__file__).parent / "fixtures" / "firewall"


def captured(name):
    return (FIXTURES / name).read_text().splitlines()


def test_firewalld_as_dockerd_leaves_it():
    state = FirewalldState().process(captured("firewalld-debian12-docker-zone.txt"))
    assert state["running"] is True
    assert state["default_zone"] == "public"
    assert state["runtime"]["docker"] == {"target": "ACCEPT", "interfaces": ["docker0"], "sources": []}
    # dockerd binds at runtime only: the permanent zone exists but holds no interface.
    assert state["permanent"]["docker"]["interfaces"] == []
    assert state["runtime"]["block"]["target"] == "%%REJECT%%"
    assert set(state["runtime"]) == set(state["permanent"]) >= {"block", "docker", "public", "trusted"}


def test_firewalld_rich_rules_and_sources_do_not_confuse_the_parser():
    state = FirewalldState().process(captured("firewalld-debian12-trusted-rich-rules.txt"))
    runtime, permanent = state["runtime"], state["permanent"]
    assert runtime["trusted"]["interfaces"] == ["docker0"]
    assert permanent["trusted"]["interfaces"] == ["docker0"]
    # eth0 was bound at runtime only; rich rules (tab-indented lines) are not zones or keys.
    assert runtime["public"] == {"target": "default", "interfaces": ["eth0"], "sources": []}
    assert permanent["public"]["interfaces"] == []
    assert runtime["internal"]["sources"] == ["192.0.2.128/25"]
    assert not any(name.startswith("rule") for name in runtime)


def test_firewalld_stopped():
    state = FirewalldState().process(captured("firewalld-debian12-stopped.txt"))
    assert state == {"running": False, "default_zone": None, "runtime": {}, "permanent": {}}


def test_firewalld_fact_needs_firewall_cmd():
    assert FirewalldState().requires_command() == "firewall-cmd"
    assert FirewalldState.default() is None


def test_zone_header_variants():
    zones = parse_zones(["public (default, active)", "  interfaces: eth0 eth1", "  target: default", "", "home", "  interfaces: "])
    assert zones == {
        "public": {"target": "default", "interfaces": ["eth0", "eth1"], "sources": []},
        "home": {"target": None, "interfaces": [], "sources": []},
    }


def test_ufw_active_with_route_rules():
    status = UfwStatus().process(captured("ufw-debian12-active-route-rules.txt"))
    assert status["active"] is True
    assert status["policies"] == {"input": "DROP", "output": "ACCEPT", "forward": "DROP"}
    routed = [(r["src"], r["interface_in"], r["comment"]) for r in status["rules"] if r["route"]]
    assert routed == [("172.17.0.0/16", None, None), ("172.18.0.0/16", "docker0", None), ("fd00:dead::/64", None, "sandbox-host")]


def test_ufw_inactive_keeps_its_persisted_rules():
    status = UfwStatus().process(captured("ufw-debian12-inactive.txt"))
    assert status["active"] is False
    assert len(status["rules"]) == 5


def test_ufw_ubuntu_style_rules():
    rules = UfwStatus().process(captured("ufw-ubuntu-style-rules.txt"))["rules"]
    assert len(rules) == 7
    ssh = rules[0]
    assert (ssh["action"], ssh["dport"], ssh["apps"], ssh["route"]) == ("allow", "22", ("OpenSSH", "-"), False)
    libvirt = rules[4]
    assert (libvirt["interface_in"], libvirt["interface_out"], libvirt["comment"]) == ("virbr0", "enp3s0", "libvirt")
    assert (rules[5]["action"], rules[5]["log"]) == ("deny", "log")


def test_ufw_fact_needs_ufw():
    assert UfwStatus().requires_command() == "ufw"
    assert UfwStatus.default() is None


@pytest.mark.parametrize("line", ["### tuple ### too short", "-A ufw-user-input -p tcp --dport 22 -j ACCEPT", ""])
def test_not_a_tuple(line):
    assert parse_tuple(line) is None


def test_docker_bridges():
    bridges = DockerBridges().process(captured("docker-bridges-debian12.txt"))
    assert bridges == {
        "docker0": {"network": "bridge", "internal": False, "subnets": ["172.18.0.0/16"]},
        "br-27baeb0bf8d6": {"network": "plainnet", "internal": False, "subnets": ["172.19.0.0/16"]},
        "sbx-egr0": {"network": "sandbox-egress", "internal": False, "subnets": ["172.30.1.0/24"]},
        "sbx-int0": {"network": "sandbox-internal", "internal": True, "subnets": ["172.30.0.0/24"]},
    }


def test_docker_bridges_without_docker():
    assert DockerBridges().requires_command() == "docker"
    assert DockerBridges.default() == {}
    assert DockerBridges().process([]) == {}
