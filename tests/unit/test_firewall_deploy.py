"""Which operations the Firewall deploy calls, for each backend state (faked facts)."""

import logging

import pytest

from fakehost import fake_host
from sandbox_host.roles.firewall import deploy as firewall_deploy
from sandbox_host.roles.firewall.facts import DockerBridges, FirewalldState, UfwStatus
from sandbox_host.roles.firewall.settings import FirewallSettings

RUNNING = {"running": True, "default_zone": "public", "runtime": {"docker": {}}, "permanent": {"docker": {}}}
STOPPED = {"running": False, "default_zone": None, "runtime": {}, "permanent": {}}
ACTIVE = {"active": True, "policies": {"forward": "DROP"}, "rules": []}
INACTIVE = {"active": False, "policies": {"forward": "DROP"}, "rules": []}

BRIDGES = ["docker0", "sbx-int0", "sbx-egr0"]
SUBNETS = ["172.17.0.0/16", "172.30.1.0/24"]
FIREWALLD_OPS = [
    ("firewalld.zone", {"zone": "docker", "target": "ACCEPT"}),
    ("firewalld.zone_interface", {"zone": "docker", "interface": "docker0"}),
    ("firewalld.zone_interface", {"zone": "docker", "interface": "sbx-int0"}),
    ("firewalld.zone_interface", {"zone": "docker", "interface": "sbx-egr0"}),
]
UFW_OPS = [
    ("ufw.default_forward_policy", {"policy": "deny"}),
    ("ufw.route_allow", {"source": "172.17.0.0/16"}),
    ("ufw.route_allow", {"source": "172.30.1.0/24"}),
    # each bridge's own subnets, read from Docker when the operation runs
    ("ufw.route_allow", {"bridge": "docker0"}),
    ("ufw.route_allow", {"bridge": "sbx-int0"}),
    ("ufw.route_allow", {"bridge": "sbx-egr0"}),
]


class Recorder:
    """Stands in for an operations module: records each call, returns its (name, kwargs)."""

    def __init__(self, module, calls):
        self.module, self.calls = module, calls

    def __getattr__(self, op):
        def call(name=None, **kwargs):
            self.calls.append((f"{self.module}.{op}", kwargs))
            return (f"{self.module}.{op}", kwargs)

        return call


def run(monkeypatch, settings, firewalld, ufw, interfaces=BRIDGES, subnets=SUBNETS, bridges=None):
    calls = []
    monkeypatch.setattr(firewall_deploy, "firewalld", Recorder("firewalld", calls))
    monkeypatch.setattr(firewall_deploy, "ufw", Recorder("ufw", calls))
    facts = {(FirewalldState,): firewalld, (UfwStatus,): ufw, (DockerBridges,): bridges or {}}
    with fake_host(facts) as host:
        metas = firewall_deploy.configure_firewall._inner(settings, interfaces=interfaces, subnets=subnets)
    assert metas == calls  # every operation called is returned for change tracking
    return calls, host.noops


CASES = {
    "not managed": ({"manage": False}, RUNNING, ACTIVE, [], "firewall: not managed (firewall.manage false or backend none)"),
    "backend none": ({"backend": "none"}, RUNNING, ACTIVE, [], "firewall: not managed (firewall.manage false or backend none)"),
    "auto, firewalld running": ({}, RUNNING, None, FIREWALLD_OPS, None),
    "auto, ufw active": ({}, None, ACTIVE, UFW_OPS, None),
    "auto, both running": ({}, RUNNING, ACTIVE, FIREWALLD_OPS + UFW_OPS, None),
    "auto, neither installed": ({}, None, None, [], "firewall: neither firewalld nor UFW is running; nothing to open"),
    "auto, both installed but off": ({}, STOPPED, INACTIVE, [], "firewall: neither firewalld nor UFW is running; nothing to open"),
    "firewalld only, ufw ignored": ({"backend": "firewalld"}, RUNNING, ACTIVE, FIREWALLD_OPS, None),
    "firewalld asked, not installed": ({"backend": "firewalld"}, None, ACTIVE, [], "firewall: firewalld is not installed"),
    "firewalld asked, stopped": ({"backend": "firewalld"}, STOPPED, None, [], "firewall: firewalld is not running"),
    "ufw only, firewalld ignored": ({"backend": "ufw"}, RUNNING, ACTIVE, UFW_OPS, None),
    "ufw asked, inactive": ({"backend": "ufw"}, None, INACTIVE, [], "firewall: ufw is inactive"),
    "ufw policy kept": ({"ufw_forward_policy": "keep"}, None, ACTIVE, UFW_OPS[1:], None),
    "ufw policy allow": ({"ufw_forward_policy": "allow"}, None, ACTIVE, [("ufw.default_forward_policy", {"policy": "allow"})] + UFW_OPS[1:], None),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_backend_selection(monkeypatch, case):
    overrides, firewalld, ufw, expected, noop = CASES[case]
    calls, noops = run(monkeypatch, FirewallSettings(**overrides), firewalld, ufw)
    assert calls == expected
    if noop:
        assert noop in noops


def test_extra_interfaces_and_subnets_appended_once(monkeypatch):
    settings = FirewallSettings(extra_interfaces=["br-ci", "docker0"], extra_subnets=["10.99.0.0/16", "172.17.0.0/16"])
    calls, _ = run(monkeypatch, settings, RUNNING, ACTIVE)
    interfaces = [kw["interface"] for op, kw in calls if op == "firewalld.zone_interface"]
    sources = [kw.get("source") or kw["bridge"] for op, kw in calls if op == "ufw.route_allow"]
    assert interfaces == ["docker0", "sbx-int0", "sbx-egr0", "br-ci"]
    assert sources == ["172.17.0.0/16", "172.30.1.0/24", "10.99.0.0/16", "docker0", "sbx-int0", "sbx-egr0", "br-ci"]


def test_other_zone_than_dockers_is_warned_about(monkeypatch, caplog):
    with caplog.at_level(logging.WARNING, logger="pyinfra"):
        calls, _ = run(monkeypatch, FirewallSettings(firewalld_zone="trusted"), RUNNING, None)
    assert calls[0] == ("firewalld.zone", {"zone": "trusted", "target": "ACCEPT"})
    assert "Docker >= 20.10 fails to start while docker0 is bound to another zone" in caplog.text


def test_no_warning_without_dockers_zone(monkeypatch, caplog):
    no_docker_zone = {**RUNNING, "permanent": {"trusted": {}}}
    with caplog.at_level(logging.WARNING, logger="pyinfra"):
        run(monkeypatch, FirewallSettings(firewalld_zone="trusted"), no_docker_zone, None)
    assert caplog.text == ""


def test_settings_reject_bad_zone_name():
    with pytest.raises(ValueError):
        FirewallSettings(firewalld_zone="no spaces or; semicolons")
