"""The classes of breakage issue 13 found diagnose blind to: each recognised on a hand-made report
(rule named first, with file/key/fix), a report file that is not a report refused (exit 2), and
compare ranking real causes above "looked on one host only"."""

import json

import pytest

from sandbox_host import exitcodes
from sandbox_host.diagnose import compare, procnet, rules, schema
from sandbox_host.diagnose.cli import main
from sandbox_host.diagnose.facts.docker import DockerdState, DockerDropins
from test_diagnose_rules import healthy


def ids(report):
    return [f.id for f in rules.run_rules(report)]


def sandbox_network(r, subnet="172.30.0.0/24"):
    r["docker"]["networks"].append({"name": "sandbox-internal", "driver": "bridge", "bridge": "sbx-int0", "internal": True,
                                    "ipv6": False, "subnets": [subnet], "mtu": 1500, "masquerade": True, "containers": 1})
    r["network"]["routes"].append({"dst": subnet, "interface": "sbx-int0", "gateway": None, "metric": 0})


# -- routes ----------------------------------------------------------------------------------------

def test_every_route_is_parsed_not_only_the_default():
    lines = ["Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT",
             "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0",
             "tun0\t00001EAC\t00000000\t0001\t0\t0\t50\t0000FFFF\t0\t0\t0"]
    assert procnet.routes_v4(lines) == [
        {"dst": "default", "interface": "eth0", "gateway": "192.0.2.1", "metric": 0},
        {"dst": "172.30.0.0/16", "interface": "tun0", "gateway": None, "metric": 50}]


@pytest.mark.parametrize("route", ["172.30.0.0/16", "172.30.0.0/25", "172.30.0.7/32"])
def test_route_through_another_interface_overlapping_a_docker_network_is_named_first(route):
    r = healthy()
    sandbox_network(r)
    assert ids(r) == []
    r["network"]["routes"].append({"dst": route, "interface": "tun0", "gateway": "10.8.0.1", "metric": 50})
    found = rules.run_rules(r)
    assert found[0].id == "route_overlaps_docker_network"
    assert found[0].evidence["network"] == "sandbox-internal" and found[0].evidence["interface"] == "tun0"
    assert found[0].fix[0] == f"sudo ip route del {route} dev tun0"
    assert "sandbox_network.internal_subnet" in found[0].permanent


def test_route_overlap_is_a_compare_difference_above_noise():
    working, broken = healthy(), healthy()
    broken["network"]["routes"].append({"dst": "172.17.5.0/24", "interface": "wg0", "gateway": None, "metric": 0})
    diffs = compare.differences(broken, working)
    assert diffs[0]["key"] == "routes overlapping Docker networks", diffs


# -- dockerd does not start: why -------------------------------------------------------------------

def dockerd_down(r, errors, content):
    r["docker"] = {"status": "unreachable", "server_errors": "Cannot connect to the Docker daemon"}
    r["daemon_json"]["content"] = content
    r["dockerd"] = {"status": "ok", "cmdline": None, "validate": {"status": "unavailable"}, "log_source": "journal",
                    "log": errors, "errors": errors}


def test_dead_dockerd_names_the_daemon_json_combination_with_file_and_key():
    r = healthy()
    dockerd_down(r, ['failed to start daemon: Error initializing network controller: ...'],
                 {"iptables": False, "icc": False, "log-driver": "json-file"})
    top = rules.run_rules(r)[0]
    assert top.id == "docker_daemon_unreachable"
    assert "/etc/docker/daemon.json key(s) icc, iptables" in top.title
    assert "inter-container" in top.title
    # The fix removes the unmanaged key (icc is managed: the deploy writes it back right).
    assert top.fix[0].endswith("/etc/docker/daemon.json iptables && sudo systemctl restart docker")


def test_dead_dockerd_names_keys_in_dockerds_flag_spelling():
    r = healthy()
    dockerd_down(r, ["failed to start daemon: You specified --iptables=false with --icc=false. ICC=false uses iptables to "
                     "function. Please set --icc or --iptables to true."], {"iptables": False, "icc": False, "iptables-x": 1})
    assert rules.run_rules(r)[0].evidence["daemon.json keys named"] == ["icc", "iptables"]


def test_dead_dockerd_names_keys_its_error_mentions():
    r = healthy()
    dockerd_down(r, ['unable to configure the Docker daemon with file /etc/docker/daemon.json: the following directives '
                     'don\'t match any configuration option: log-levle'], {"log-levle": "debug"})
    top = rules.run_rules(r)[0]
    assert top.evidence["daemon.json keys named"] == ["log-levle"] and "log-levle" in top.title


def test_dockerd_state_fact_keeps_error_lines_and_masks_passwords():
    state = DockerdState().process([
        "##cmdline", "##validate", "##validate_rc", "unavailable", "##log",
        'time="x" level=info msg="Starting up"',
        'time="x" level=error msg="proxy http://bob:hunter2@proxy:3128 refused"',
        "failed to start daemon: Error initializing network controller", "##log_source", "journal"])
    assert state["log_source"] == "journal" and len(state["errors"]) == 2
    assert "hunter2" not in json.dumps(state)


# -- networking switched off ------------------------------------------------------------------------

@pytest.mark.parametrize("key,value", [("iptables", False), ("ip-masq", False), ("bridge", "none"), ("ip-forward", False)])
def test_daemon_settings_that_switch_off_networking_are_named_first(key, value):
    r = healthy()
    r["daemon_json"]["content"][key] = value
    found = rules.run_rules(r)
    assert found[0].id == "docker_networking_disabled", [f.id for f in found]
    assert f'"{key}"' in found[0].title and found[0].fix[0].endswith(f"{key} && sudo systemctl restart docker")


def test_networking_switched_off_on_dockerd_command_line():
    r = healthy()
    r["dockerd"]["cmdline"] = "/usr/sbin/dockerd -H fd:// --iptables=false"
    top = rules.run_rules(r)[0]
    assert top.id == "docker_networking_disabled" and "--iptables=false" in top.title


# -- DNS: loopback stub ---------------------------------------------------------------------------

def stub(r, container_ok):
    r["dns"]["resolv_conf"]["nameservers"] = ["127.0.0.53"]
    r["dns"]["upstream_resolv_conf"] = {"status": "ok", "nameservers": ["10.1.2.3", "10.1.2.4"], "search": [], "options": []}
    r["container"]["resolv_conf"]["nameservers"] = ["8.8.8.8", "8.8.4.4"]
    if not container_ok:
        r["container"]["resolve"] = {"status": "failed", "addresses": [], "error": "timed out"}


def test_loopback_stub_with_failing_containers_points_docker_at_the_real_upstreams():
    r = healthy()
    stub(r, container_ok=False)
    found = rules.run_rules(r)
    assert [f.id for f in found] == ["loopback_stub_resolver"]
    assert found[0].permanent == {"docker_daemon.dns": ["10.1.2.3", "10.1.2.4"]}
    assert "8.8.8.8" not in json.dumps(found[0].fix) and "127.0.0.53" not in json.dumps(found[0].fix)


def test_loopback_stub_that_works_today_is_a_low_warning():
    r = healthy()
    stub(r, container_ok=True)
    (finding,) = rules.run_rules(r)
    assert finding.id == "loopback_stub_resolver" and finding.severity == "low"


def test_container_dns_fix_never_suggests_the_resolvers_containers_fail_with():
    r = healthy()
    r["daemon_json"]["content"]["dns"] = ["192.0.2.53"]
    r["container"]["resolv_conf"]["nameservers"] = ["192.0.2.53"]
    r["container"]["resolve"] = {"status": "failed", "addresses": [], "error": "timed out"}
    (finding,) = [f for f in rules.run_rules(r) if f.id == "container_dns_failing"]
    assert "192.0.2.53" not in json.dumps(finding.fix) and "8.8.8.8" not in json.dumps(finding.fix)


# -- dockerd's proxy ------------------------------------------------------------------------------

def proxied(r, verdict, owned):
    r["docker"]["info"].update(HttpProxy="http://proxy.corp:3128", HttpsProxy="http://proxy.corp:3128",
                               NoProxy="localhost,127.0.0.1")
    r["docker_unit"]["environment"] = {"HTTP_PROXY": "http://proxy.corp:3128", "HTTPS_PROXY": "http://proxy.corp:3128",
                                       "NO_PROXY": "localhost,127.0.0.1"}
    r["docker_dropins"] = [{"path": "/etc/systemd/system/docker.service.d/zz-proxy.conf", "owned": owned,
                            "environment": {"HTTP_PROXY": "http://proxy.corp:3128"}}]
    r["daemon_proxy_reach"] = {"status": "ok", "targets": {"proxy.corp:3128": verdict}}


def test_dead_daemon_proxy_is_named_with_the_dropin_that_sets_it():
    r = healthy()
    proxied(r, "timed out", owned=False)
    found = rules.run_rules(r)
    assert [f.id for f in found] == ["daemon_proxy_unreachable"]
    assert "zz-proxy.conf" in found[0].title
    assert found[0].fix[0].startswith("sudo rm /etc/systemd/system/docker.service.d/zz-proxy.conf")


def test_foreign_dropin_setting_a_working_proxy_is_named():
    r = healthy()
    proxied(r, "ok", owned=False)
    assert ids(r) == ["dockerd_dropin_not_owned"]
    proxied(r, "ok", owned=True)
    assert ids(r) == []


def test_dropin_fact_marks_owned_files_and_masks_values():
    found = DockerDropins().process([
        "##file /etc/systemd/system/docker.service.d/http-proxy.conf", "##owned",
        'Environment="HTTP_PROXY=http://u:secret@p:3128"',
        "##file /etc/systemd/system/docker.service.d/10-token.conf", 'Environment="TOKEN=abc"'])
    assert found[0]["owned"] and found[0]["environment"] == {"HTTP_PROXY": "http://u:***@p:3128"}
    assert not found[1]["owned"] and found[1]["environment"] == {"TOKEN": "(set)"}


# -- compare ranks causes above noise ---------------------------------------------------------------

def test_skipped_versus_absent_never_outranks_a_changed_daemon_json_key():
    working, broken = healthy(), healthy()
    broken["sandbox_proxy"] = {"status": "skipped", "reason": "container probes off"}
    working["sandbox_proxy"] = {"status": "absent"}
    broken["runsc"]["smoke"] = {"status": "skipped"}
    working["runsc"]["smoke"] = {"status": "not registered"}
    broken["daemon_json"]["content"]["default-ulimits"] = {"nofile": {"Hard": 64, "Soft": 64}}
    keys = [d["key"] for d in compare.differences(broken, working)]
    assert keys == ["daemon.json"], keys


def test_checked_on_one_host_only_sinks_below_real_differences():
    working, broken = healthy(), healthy()
    broken["sandbox_proxy"] = {"status": "skipped"}
    broken["daemon_json"]["content"]["mtu"] = 1400
    diffs = compare.differences(broken, working)
    assert [d["key"] for d in diffs] == ["daemon_json.mtu", "sandbox_proxy"]
    assert diffs[1]["weight"] == compare.NOISE_WEIGHT


# -- not checked: by uid ------------------------------------------------------------------------

def test_root_without_user_variable_gets_no_not_checked_note():
    r = healthy()
    r["connection"] = {"uid": 0, "user": None, "sudo": False}
    assert rules.not_checked(r) == []
    r["connection"] = {"uid": 1000, "user": None, "sudo": False}
    assert "without --sudo" in " ".join(rules.not_checked(r))


# -- the report's schema -------------------------------------------------------------------------

@pytest.mark.parametrize("content,message", [
    (b"{}", "not a report from `sandbox-host diagnose gather`"),
    (b"[1, 2]", "a JSON list, not a diagnose report"),
    (b"\xff\xfe{", "not UTF-8 text"),
    (b"{nope", "not JSON"),
    (json.dumps({"schema": "sandbox-host.diagnose/1", "host": "old"}).encode(), "gather again"),
    (json.dumps({**healthy(), "docker": "running"}).encode(), "docker"),
])
def test_a_file_that_is_not_a_report_is_refused_with_exit_2(tmp_path, capsys, content, message):
    path = tmp_path / "r.json"
    path.write_bytes(content)
    for command in (["explain", str(path)], ["compare", str(path), str(path)]):
        with pytest.raises(SystemExit) as done:
            main(command)
        assert done.value.code == exitcodes.USAGE
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and "no known cause" not in err


def test_the_schema_keeps_what_facts_add():
    data = healthy()
    data["docker_unit"]["extra_fact_key"] = 1
    assert schema.load(json.dumps(data).encode())["docker_unit"]["extra_fact_key"] == 1


# -- the runtime -----------------------------------------------------------------------------------

def failing_runtime(r, where="operations"):
    r["runsc"][where] = {"status": "failed", "runtime": "runsc", "image": "img", "started": True, "ok": False,
                         "passed": ["fork storm (40 processes)"], "skipped": {},
                         "failed": {"ls -la": "ls: cannot access '.': Invalid argument", "stat": "Invalid argument"}}


@pytest.mark.parametrize("where", ["operations", "recorded_check"])
def test_runtime_failing_agent_operations_is_named(where):
    r = healthy()
    r["options"]["gvisor_source"] = "distro"
    failing_runtime(r, where)
    (finding,) = rules.run_rules(r)
    assert finding.id == "runtime_fails_agent_operations" and "ls -la, stat" in finding.title
    assert "gvisor_repo where the host reaches" in finding.permanent["gvisor.source"]


def test_a_recorded_failure_of_a_runtime_no_longer_registered_is_not_a_finding():
    r = healthy()
    failing_runtime(r, "recorded_check")
    r["runsc"]["registered"] = False
    assert ids(r) == []


def test_old_runsc_advice_fits_the_hosts_source():
    r = healthy()
    r["runsc"]["smoke"] = {"status": "failed", "error": "cannot run with network enabled in root network namespace"}
    r["options"]["gvisor_source"] = "distro"
    (finding,) = rules.run_rules(r)
    assert "gvisor.source" not in finding.permanent and "group_vars chose gvisor.source: distro" in finding.fix[1]
    r["options"]["gvisor_source"] = "gvisor_repo"
    assert "--only-upgrade runsc" in rules.run_rules(r)[0].fix[1]
