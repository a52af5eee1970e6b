"""diagnose rules on hand-made reports: each known cause is recognised and named, with the seed's
fix and the group_vars key; a healthy host has no finding; compare puts the cause first."""

import copy
import json

import pytest

from sandbox_host.diagnose import compare, report, rules
from sandbox_host.diagnose.cli import main

DOCKER_FILTER_RULES = [
    {"chain": "FORWARD", "jump": "DOCKER-USER"},
    {"chain": "FORWARD", "jump": "DOCKER-ISOLATION-STAGE-1"},
    {"chain": "FORWARD", "extras": ["--ctstate", "-m", "RELATED,ESTABLISHED", "conntrack"], "jump": "ACCEPT", "out_interface": "docker0"},
    {"chain": "FORWARD", "jump": "DOCKER", "out_interface": "docker0"},
    {"chain": "FORWARD", "in_interface": "docker0", "jump": "ACCEPT", "not_out_interface": "docker0"},
    {"chain": "FORWARD", "in_interface": "docker0", "jump": "ACCEPT", "out_interface": "docker0"},
    {"chain": "DOCKER-ISOLATION-STAGE-1", "in_interface": "docker0", "jump": "DOCKER-ISOLATION-STAGE-2", "not_out_interface": "docker0"},
    {"chain": "DOCKER-ISOLATION-STAGE-1", "jump": "RETURN"},
    {"chain": "DOCKER-ISOLATION-STAGE-2", "jump": "DROP", "out_interface": "docker0"},
    {"chain": "DOCKER-ISOLATION-STAGE-2", "jump": "RETURN"},
    {"chain": "DOCKER-USER", "jump": "RETURN"},
]
FILTER_CHAINS = {"DOCKER": "-", "DOCKER-ISOLATION-STAGE-1": "-", "DOCKER-ISOLATION-STAGE-2": "-", "DOCKER-USER": "-",
                 "FORWARD": "DROP", "INPUT": "ACCEPT", "OUTPUT": "ACCEPT"}


def healthy():
    """A Debian host as this project leaves it: Docker's rules in place, IPv6 off, MTUs aligned."""
    return {
        "schema": "sandbox-host.diagnose/2",
        "host": "good",
        "gathered_at": "2026-11-24T22:00:00+00:00",
        "duration_s": 12.5,
        "connection": {"uid": 0, "user": "root", "sudo": False},
        "options": {"bridges": ["docker0", "sbx-int0", "sbx-egr0"], "probe_image": "sandbox-host-base:bookworm",
                    "resolve_name": "api.anthropic.com", "proxy_ip": "172.30.0.2", "proxy_port": 3128,
                    "proxy_target": "api.anthropic.com:443", "runsc_runtime": "runsc", "sandbox_network": "sandbox-internal"},
        "system": {"kernel": "Linux", "kernel_version": "6.1.0-18-amd64", "os": {"id": "debian", "version_id": "12", "pretty_name": "Debian GNU/Linux 12 (bookworm)"}},
        "sysctl": {"net.ipv4.ip_forward": 1, "net.ipv6.conf.all.disable_ipv6": 1, "net.ipv6.conf.default.disable_ipv6": 1,
                   "net.ipv6.conf.all.forwarding": 0, "net.bridge.bridge-nf-call-iptables": 1},
        "network": {
            "default_route_v4": {"interface": "eth0", "gateway": "192.0.2.1", "metric": 0},
            "default_route_v6": None,
            "ipv6_disabled": True,
            "ipv6_addresses": [],
            "routes": [{"dst": "default", "interface": "eth0", "gateway": "192.0.2.1", "metric": 0},
                       {"dst": "192.0.2.0/24", "interface": "eth0", "gateway": None, "metric": 0},
                       {"dst": "172.17.0.0/16", "interface": "docker0", "gateway": None, "metric": 0}],
            "links": {"eth0": {"mtu": 1500, "state": "up", "master": None}, "docker0": {"mtu": 1500, "state": "up", "master": None},
                      "lo": {"mtu": 65536, "state": "unknown", "master": None}},
        },
        "dns": {"resolv_conf": {"status": "ok", "nameservers": ["192.0.2.53"], "search": [], "options": []},
                "upstream_resolv_conf": {"status": "absent"},
                "resolve": {"status": "ok", "addresses": ["160.79.104.10"]}},
        "proxy_env": {"shell": {}, "etc_environment": {}},
        "docker": {"status": "ok", "client": "Docker version 24.0.7",
                   "info": {"ServerVersion": "24.0.7", "DefaultRuntime": "runc", "CgroupDriver": "systemd", "CgroupVersion": "2",
                            "Driver": "overlay2", "HttpProxy": "", "HttpsProxy": "", "NoProxy": "", "IPv4Forwarding": True,
                            "Runtimes": {"runc": "runc", "runsc": "/usr/bin/runsc"}},
                   "networks": [{"name": "bridge", "driver": "bridge", "bridge": "docker0", "internal": False, "ipv6": False,
                                 "subnets": ["172.17.0.0/16"], "mtu": 1500, "masquerade": True, "containers": 0},
                                {"name": "host", "driver": "host", "bridge": None, "internal": False, "ipv6": False, "subnets": [],
                                 "mtu": None, "masquerade": True, "containers": 0}]},
        "daemon_json": {"status": "ok", "content": {"log-driver": "json-file", "ipv6": False}},
        "docker_unit": {"status": "ok", "load_state": "loaded", "active_state": "active", "environment": {}, "dropins": []},
        "docker_dropins": [],
        "dockerd": {"status": "ok", "cmdline": "/usr/sbin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock",
                    "validate": {"status": "unavailable"}},
        "daemon_proxy_reach": {"status": "no proxy"},
        "iptables": {"status": "ok", "filter": {"chains": dict(FILTER_CHAINS), "rules": copy.deepcopy(DOCKER_FILTER_RULES)},
                     "nat": {"chains": {"POSTROUTING": "ACCEPT", "PREROUTING": "ACCEPT", "DOCKER": "-"},
                             "rules": [{"chain": "POSTROUTING", "jump": "MASQUERADE", "not_out_interface": "docker0", "source": "172.17.0.0/16"}]}},
        "nftables": {"status": "ok", "forward_chains": [{"family": "ip", "table": "filter", "chain": "FORWARD", "policy": "drop",
                                                         "priority": 0, "rules": 6, "accepts_interfaces": ["docker0"]}]},
        "firewalld": {"status": "absent"},
        "ufw": {"status": "absent"},
        "runsc": {"version": {"status": "ok", "version": "release-20240807.0", "release_date": "2024-08-07"}, "registered": True,
                  "smoke": {"status": "ok"},
                  "operations": {"status": "ok", "runtime": "runsc", "image": "sandbox-host-base:bookworm", "started": True,
                                 "passed": ["ls -la", "stat", "fork storm (40 processes)"], "failed": {},
                                 "skipped": {"git status": "git is not in the image"}, "ok": True},
                  "recorded_check": {"status": "absent"}},
        "container": {"status": "ok", "resolv_conf": {"nameservers": ["192.0.2.53"], "search": [], "options": []},
                      "resolve": {"status": "ok", "addresses": ["160.79.104.10"]},
                      "default_route_v4": {"interface": "eth0", "gateway": "172.17.0.1", "metric": 0}, "default_route_v6": None,
                      "ipv6_disabled": True, "ipv6_addresses": [], "links": {"eth0": {"mtu": 1500, "state": "up", "master": None}}},
        "sandbox_proxy": {"status": "ok", "proxy_reachable": True, "connect_status": 200, "connect_reply": "HTTP/1.1 200 Connection established"},
    }


def ids(report_data):
    return [f.id for f in rules.run_rules(report_data)]


def test_healthy_host_has_no_finding():
    assert rules.run_rules(healthy()) == []


def test_healthy_host_without_docker_extras_has_no_finding():
    # No firewall tools, no systemd, no sandbox: "absent" everywhere is not a problem by itself.
    r = healthy()
    r["docker_unit"] = {"status": "unavailable"}
    r["nftables"] = {"status": "absent"}
    r["sandbox_proxy"] = {"status": "absent"}
    r["runsc"] = {"version": {"status": "absent"}, "registered": False, "smoke": {"status": "not registered"}}
    assert rules.run_rules(r) == []


# -- one broken host per cause: (mutation, expected top finding id, expected group_vars key) ------

def ip_forward_off(r):
    r["sysctl"]["net.ipv4.ip_forward"] = 0


def forward_rules_flushed(r):
    r["iptables"]["filter"]["rules"] = []


def forward_drop_rule_for_bridge(r):
    r["iptables"]["filter"]["rules"].insert(-1, {"chain": "DOCKER-USER", "in_interface": "docker0", "jump": "DROP"})


def mtu_vpn_uplink(r):
    r["network"]["links"]["eth0"]["mtu"] = 1450
    r["container"]["links"]["eth0"]["mtu"] = 1500


def container_dns_broken(r):
    r["container"]["resolve"] = {"status": "failed", "addresses": [], "error": "timed out"}


def ipv6_in_containers_no_route(r):
    r["sysctl"]["net.ipv6.conf.all.disable_ipv6"] = 0
    r["daemon_json"]["content"]["ipv6"] = True
    r["docker"]["networks"][0]["ipv6"] = True
    r["container"]["ipv6_disabled"] = False
    r["container"]["ipv6_addresses"] = [{"interface": "eth0", "address": "fd00:dead::2", "prefix": 64, "kind": "ula"}]
    r["container"]["default_route_v6"] = {"interface": "eth0", "gateway": "fd00:dead::1", "metric": 1024}


def ipv6_on_host_no_route(r):
    r["sysctl"]["net.ipv6.conf.all.disable_ipv6"] = 0
    r["network"]["ipv6_addresses"] = [{"interface": "eth0", "address": "2001:db8::2", "prefix": 64, "kind": "global"}]


def proxy_dropin_removed(r):
    r["proxy_env"]["etc_environment"] = {"HTTP_PROXY": "http://proxy.corp.example:3128", "HTTPS_PROXY": "http://proxy.corp.example:3128"}


def no_proxy_missing_localhost(r):
    r["docker"]["info"].update(HttpProxy="http://proxy.corp.example:3128", HttpsProxy="http://proxy.corp.example:3128", NoProxy="registry.local")
    r["docker_unit"]["environment"] = {"HTTP_PROXY": "http://proxy.corp.example:3128", "HTTPS_PROXY": "http://proxy.corp.example:3128", "NO_PROXY": "registry.local"}


def proxy_dropin_not_applied(r):
    r["docker_unit"]["environment"] = {"HTTP_PROXY": "http://new.corp.example:3128", "HTTPS_PROXY": "http://new.corp.example:3128",
                                       "NO_PROXY": "localhost,127.0.0.1"}
    r["docker"]["info"].update(HttpProxy="http://old.corp.example:3128", HttpsProxy="http://old.corp.example:3128", NoProxy="localhost,127.0.0.1")


def firewalld_public_zone(r):
    r["firewalld"] = {"status": "running", "zones": {"docker0": "public"}, "zone_targets": {"public": "default"}}


def ufw_routed_deny_without_docker_rules(r):
    r["ufw"] = {"status": "active", "defaults": {"incoming": "deny", "outgoing": "allow", "routed": "deny"}, "rules": []}
    r["iptables"]["filter"]["rules"] = [{"chain": "FORWARD", "jump": "ufw-before-forward"}]
    r["iptables"]["filter"]["chains"]["ufw-before-forward"] = "-"


def nft_inet_filter_drop(r):
    r["nftables"]["forward_chains"].append({"family": "inet", "table": "filter", "chain": "forward", "policy": "drop",
                                            "priority": 0, "rules": 1, "accepts_interfaces": []})


def masquerade_removed(r):
    r["iptables"]["nat"]["rules"] = []


def old_runsc(r):
    r["runsc"]["version"] = {"status": "ok", "version": "0.0~20221219.0", "release_date": "2022-12-19"}
    r["runsc"]["smoke"] = {"status": "failed", "exit_code": 125, "error": "docker: Error response from daemon: OCI runtime "
                           "create failed: cannot run with network enabled in root network namespace: unknown."}


def dockerd_down(r):
    r["docker"] = {"status": "unreachable", "client": "Docker version 24.0.7", "server_errors": ["Cannot connect to the Docker daemon"]}


def sandbox_proxy_denies(r):
    r["sandbox_proxy"].update(connect_status=403, connect_reply="HTTP/1.1 403 Forbidden")


def sandbox_proxy_outlived_dockerd(r):
    """dockerd restarted (live-restore) under a running proxy: CONNECT gets no answer."""
    r["sandbox_proxy"].update(connect_status=None, connect_reply=None,
                              container={"name": "sandbox-egress-proxy", "started_at": "2026-11-30T18:34:27.5Z"})
    r["dockerd"]["started_at"] = 1796063667 + 60


def sandbox_proxy_down(r):
    r["sandbox_proxy"].update(proxy_reachable=False, connect_status=None, connect_reply=None)


CAUSES = [
    (ip_forward_off, "ip_forward_disabled", "host_network.ip_forward"),
    (forward_rules_flushed, "forward_policy_drop_without_docker_rules", "firewall.manage"),
    (forward_drop_rule_for_bridge, "firewall_rule_drops_bridge", "firewall.manage"),
    (mtu_vpn_uplink, "mtu_larger_than_path", "docker_daemon.mtu"),
    (container_dns_broken, "container_dns_failing", "docker_daemon.dns"),
    (ipv6_in_containers_no_route, "ipv6_enabled_without_route", "host_network.disable_ipv6"),
    (ipv6_on_host_no_route, "ipv6_enabled_without_route", "host_network.disable_ipv6"),
    (proxy_dropin_removed, "daemon_proxy_missing", "docker_proxy.http_proxy"),
    (no_proxy_missing_localhost, "daemon_no_proxy_incomplete", "docker_proxy.no_proxy"),
    (proxy_dropin_not_applied, "daemon_proxy_not_applied", "docker_proxy.http_proxy"),
    (firewalld_public_zone, "firewalld_bridge_not_trusted", "firewall.backend"),
    (ufw_routed_deny_without_docker_rules, "forward_policy_drop_without_docker_rules", "firewall.manage"),
    (nft_inet_filter_drop, "nftables_forward_drop", "firewall.manage"),
    (masquerade_removed, "nat_masquerade_missing", "docker_daemon.extra"),
    (old_runsc, "old_runsc_on_new_kernel", "gvisor.network_bug_workaround"),
    (dockerd_down, "docker_daemon_unreachable", "docker_engine.start"),
    (sandbox_proxy_denies, "sandbox_proxy_cannot_reach_target", "egress_proxy"),
    (sandbox_proxy_down, "sandbox_proxy_unreachable", "sandbox_network.proxy_ip"),
    (sandbox_proxy_outlived_dockerd, "sandbox_proxy_older_than_dockerd", "egress_proxy.container_name"),
]


@pytest.mark.parametrize("connect_status", [200, 403, 503])
def test_a_proxy_older_than_dockerd_that_answers_is_no_finding(connect_status):
    r = healthy()
    sandbox_proxy_outlived_dockerd(r)
    r["sandbox_proxy"]["connect_status"] = connect_status
    assert "sandbox_proxy_older_than_dockerd" not in [f.id for f in rules.run_rules(r)]


def test_a_proxy_older_than_dockerd_is_not_blamed_when_no_container_resolves():
    r = healthy()
    sandbox_proxy_outlived_dockerd(r)
    container_dns_broken(r)
    assert [f.id for f in rules.run_rules(r)][:1] == ["container_dns_failing"]


def test_a_proxy_started_after_dockerd_is_not_blamed():
    r = healthy()
    sandbox_proxy_outlived_dockerd(r)
    r["dockerd"]["started_at"] = 1796063667
    assert [f.id for f in rules.run_rules(r)][:1] == ["sandbox_proxy_cannot_reach_target"]


@pytest.mark.parametrize("breaks, cause, key", CAUSES, ids=[c[0].__name__ for c in CAUSES])
def test_each_cause_is_the_top_finding(breaks, cause, key):
    r = healthy()
    breaks(r)
    found = rules.run_rules(r)
    assert found, f"{breaks.__name__}: no finding"
    top = found[0]
    assert top.id == cause
    assert key in top.permanent
    assert top.fix and top.evidence and top.seed


def test_ufw_routed_deny_alone_is_low_when_dockers_rules_accept():
    r = healthy()
    r["ufw"] = {"status": "active", "defaults": {"routed": "deny"}, "rules": []}
    found = rules.run_rules(r)
    assert [(f.id, f.severity) for f in found] == [("ufw_routed_traffic_denied", "low")]


def test_mtu_fix_names_the_uplink_mtu():
    r = healthy()
    mtu_vpn_uplink(r)
    finding = rules.run_rules(r)[0]
    assert finding.permanent == {"docker_daemon.mtu": 1450}
    assert finding.evidence["uplink mtu"] == 1450


def test_mtu_smaller_bridge_is_fine():
    r = healthy()
    r["network"]["links"]["eth0"]["mtu"] = 1450
    r["network"]["links"]["docker0"]["mtu"] = 1450
    r["docker"]["networks"][0]["mtu"] = 1450
    r["container"]["links"]["eth0"]["mtu"] = 1450
    assert rules.run_rules(r) == []


def test_firewall_rule_evidence_shows_the_rule_and_its_removal():
    r = healthy()
    forward_drop_rule_for_bridge(r)
    finding = rules.run_rules(r)[0]
    assert finding.evidence["rule"] == "-A DOCKER-USER -i docker0 -j DROP"
    assert finding.fix[0] == "sudo iptables -D DOCKER-USER -i docker0 -j DROP"


def test_several_causes_are_ordered_by_likelihood():
    r = healthy()
    mtu_vpn_uplink(r)
    ip_forward_off(r)
    no_proxy_missing_localhost(r)
    assert ids(r) == ["ip_forward_disabled", "mtu_larger_than_path", "daemon_no_proxy_incomplete"]


def test_compare_puts_what_only_the_broken_host_has_first():
    working = healthy()
    mtu_vpn_uplink(working)  # both hosts share this: it cannot explain the difference
    broken = copy.deepcopy(working)
    broken["host"] = "bad"
    container_dns_broken(broken)
    broken["system"]["kernel_version"] = "6.8.0-1-amd64"
    result = compare.compare(broken, working)
    assert [(i["finding"].id, i["only_on_broken"]) for i in result["findings"]] == [
        ("container_dns_failing", True),
        ("mtu_larger_than_path", False),
    ]
    keys = [d["key"] for d in result["differences"]]
    assert keys == ["container DNS", "kernel version"]


def test_compare_differences_are_ordered_by_weight():
    working, broken = healthy(), healthy()
    broken["system"]["kernel_version"] = "6.8.0"
    broken["daemon_json"]["content"]["mtu"] = 1400
    ip_forward_off(broken)
    keys = [d["key"] for d in compare.differences(broken, working)]
    assert keys == ["sysctl.net.ipv4.ip_forward", "daemon_json.mtu", "kernel version"]


def test_identical_hosts_have_no_difference():
    assert compare.compare(healthy(), healthy()) == {"broken": "good", "working": "good", "findings": [], "differences": []}


def test_explain_cli_text_and_json(tmp_path, capsys):
    r = healthy()
    ip_forward_off(r)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(r))
    assert main(["explain", str(path)]) == 3
    text = capsys.readouterr().out
    assert "ip_forward_disabled" in text and "sudo sysctl -w net.ipv4.ip_forward=1" in text
    assert "host_network.ip_forward: true" in text
    assert main(["explain", str(path), "--json"]) == 3
    data = json.loads(capsys.readouterr().out)
    assert data["schema"] == report.JSON_SCHEMA
    assert data["findings"][0]["id"] == "ip_forward_disabled"
    assert data["findings"][0]["permanent"] == {"host_network.ip_forward": True}


def test_explain_cli_healthy_exits_zero(tmp_path, capsys):
    path = tmp_path / "good.json"
    path.write_text(json.dumps(healthy()))
    assert main(["explain", str(path)]) == 0
    assert "no known cause found" in capsys.readouterr().out


def test_compare_cli(tmp_path, capsys):
    working, broken = healthy(), healthy()
    broken["host"] = "bad"
    forward_rules_flushed(broken)
    (tmp_path / "w.json").write_text(json.dumps(working))
    (tmp_path / "b.json").write_text(json.dumps(broken))
    assert main(["compare", str(tmp_path / "b.json"), str(tmp_path / "w.json")]) == 3
    out = capsys.readouterr().out
    assert out.index("forward_policy_drop_without_docker_rules") < out.index("Differences that matter")
    assert main(["compare", str(tmp_path / "b.json"), str(tmp_path / "w.json"), "--json"]) == 3
    data = json.loads(capsys.readouterr().out)
    assert data["findings"][0]["only_on_broken"] is True
    assert data["differences"][0]["key"] == "iptables FORWARD verdict per bridge"


def test_idle_bridge_keeps_its_creation_mtu_without_a_finding():
    # docker0 with no port keeps 1500 after daemon.json mtu: 1450; containers get 1450.
    r = healthy()
    r["network"]["links"]["eth0"]["mtu"] = 1450
    r["docker"]["networks"][0]["mtu"] = 1450
    r["container"]["links"]["eth0"]["mtu"] = 1450
    assert rules.run_rules(r) == []
    r["network"]["links"]["veth0"] = {"mtu": 1500, "state": "up", "master": "docker0"}
    assert ids(r) == ["mtu_larger_than_path"]


def test_firewall_front_ends_that_pass_dockers_bridges_are_fine():
    r = healthy()
    r["firewalld"] = {"status": "running", "default_zone": "public", "zones": {"docker0": "docker"},
                      "bound": {"docker0": True}, "zone_targets": {"docker": "ACCEPT"}}
    r["ufw"] = {"status": "active", "defaults": {"routed": "deny"},
                "rules": ["route:allow any from 172.17.0.0/16 to 0.0.0.0/0 in any out any"]}
    assert rules.run_rules(r) == []


def test_firewalld_fix_uses_dockers_zone_not_the_seeds_trusted():
    r = healthy()
    firewalld_public_zone(r)
    finding = rules.run_rules(r)[0]
    assert finding.fix[0].startswith("sudo firewall-cmd --zone=docker --change-interface=docker0")
    assert finding.permanent["firewall.firewalld_zone"] == "docker"


def test_what_could_not_be_checked_is_said():
    r = healthy()
    r["container"] = {"status": "no-image"}
    r["iptables"] = {"status": "empty"}
    notes = rules.not_checked(r)
    assert any("container probe no-image" in n and "--probe-image" in n for n in notes)
    assert any("not root? use --sudo" in n for n in notes)
    assert rules.not_checked(healthy()) == []
    assert "Not checked:" in report.findings_text(r, [])
    assert report.findings_json(r, [])["not_checked"] == notes


def test_proxy_credentials_masked_differently_are_not_a_difference():
    r = healthy()
    r["docker_unit"]["environment"] = {"HTTP_PROXY": "http://bob:***@proxy:3128", "HTTPS_PROXY": "http://bob:***@proxy:3128",
                                       "NO_PROXY": "localhost,127.0.0.1"}
    r["docker"]["info"].update(HttpProxy="http://xxxxx:xxxxx@proxy:3128", HttpsProxy="http://xxxxx:xxxxx@proxy:3128",
                               NoProxy="localhost,127.0.0.1")
    assert rules.run_rules(r) == []


def test_old_runsc_is_predicted_without_a_smoke_run_unless_the_workaround_is_registered():
    r = healthy()
    r["runsc"] = {"version": {"status": "ok", "version": "0.0~20221219.0", "release_date": "2022-12-19"}, "registered": True,
                  "smoke": {"status": "skipped"},
                  "network_bug": {"installed": True, "release": 20221219, "rmem_visible_in_netns": True, "affected": True}}
    r["daemon_json"]["content"]["runtimes"] = {"runsc": {"path": "/usr/bin/runsc"}}
    found = rules.run_rules(r)
    assert [(f.id, f.likelihood) for f in found] == [("old_runsc_on_new_kernel", 80)]
    r["daemon_json"]["content"]["runtimes"]["runsc"]["runtimeArgs"] = ["--network=host"]
    assert rules.run_rules(r) == []


def test_bridge_names_and_subnets_that_differ_per_host_are_not_differences():
    def with_user_network(bridge, subnet):
        r = healthy()
        r["docker"]["networks"].append({"name": "sandbox-egress", "driver": "bridge", "bridge": bridge, "internal": False,
                                        "ipv6": False, "subnets": [subnet], "mtu": None, "masquerade": True, "containers": 1})
        r["iptables"]["filter"]["rules"].insert(4, {"chain": "FORWARD", "in_interface": bridge, "jump": "ACCEPT", "not_out_interface": bridge})
        r["iptables"]["filter"]["rules"].insert(2, {"chain": "FORWARD", "extras": ["--ctstate", "-m", "RELATED,ESTABLISHED", "conntrack"],
                                                    "jump": "ACCEPT", "out_interface": bridge})
        r["iptables"]["nat"]["rules"].append({"chain": "POSTROUTING", "jump": "MASQUERADE", "not_out_interface": bridge, "source": subnet})
        return r

    a, b = with_user_network("br-0123456789ab", "172.19.0.0/16"), with_user_network("br-ba9876543210", "172.20.0.0/16")
    assert rules.run_rules(a) == [] and rules.run_rules(b) == []
    assert compare.differences(a, b) == []
    del b["iptables"]["nat"]["rules"][-1]
    assert [d["key"] for d in compare.differences(b, a)] == ["NAT per Docker network"]
