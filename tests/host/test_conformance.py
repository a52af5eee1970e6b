"""The conformance timer on a test host (roles/conformance), and `sandbox-host report` on it.

The scenario's group_vars run the self-check every 30 s. A healthy host passes; one managed
setting (a daemon.json key) and one egress guard (the INPUT guard's jump) broken by hand make the
timer's next run report exactly those, the unit fail and the report fail the host with the
evidence; the deploy repairs both and the next run passes again. Traffic stays on the test host:
the probes aim at its proxy, the proxy's own egress-side address and a listener the check opens.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import jsonschema
import pytest

from conftest import REPO, write_file

SCHEMA = json.loads((REPO / "roles/conformance/files/result.schema.json").read_text())
INVENTORY = REPO / "molecule/shared/inventory.py"
# The checks one broken daemon.json key and one removed INPUT-guard jump must fail: the file
# check, the guard check, and the probe that reaches a host service through the missing guard.
BROKEN = ["daemon_json", "input_guard", "probe_host_services_unreachable"]


@pytest.fixture(scope="module")
def conf(settings):
    if not settings.conformance.enabled:
        pytest.skip("conformance is off in this scenario")
    return settings.conformance


def _unit(conf):
    return conf.program.rsplit("/", 1)[-1]


def _result(host, conf):
    text = host.run(f"cat {conf.result_path}").stdout
    return json.loads(text) if text.strip() else None


def _epoch(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp()


def next_result(host, conf, after: float, timeout: float = 150) -> dict:
    """The first result of a run the timer started after ``after`` (the host's clock)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _result(host, conf)
        if found and _epoch(found["started"]) > after:
            return found
        time.sleep(3)
    pytest.fail(f"no run of the timer after {after} within {timeout}s (interval {conf.interval})")


def host_now(host) -> float:
    return float(host.check_output("date +%s"))


def report(*args):
    done = subprocess.run([sys.executable, "-m", "sandbox_host", "report", str(INVENTORY), *args],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout, done.stderr


def test_timer_runs_and_host_passes(host, conf):
    unit = _unit(conf)
    assert host.service(f"{unit}.timer").is_enabled
    assert host.check_output(f"systemctl is-active {unit}.timer") == "active"
    # A run of the last 90 s will do (the scenario's interval is 30 s): no need to wait for one.
    result = next_result(host, conf, after=host_now(host) - 90)
    jsonschema.validate(result, SCHEMA)
    assert result["status"] == "pass", json.dumps([c for c in result["checks"] if c["status"] == "fail"], indent=1)
    statuses = {c["id"]: c["status"] for c in result["checks"]}
    # No allowed_probe_target here: the only probe that needs outside traffic is skipped.
    assert [k for k, v in statuses.items() if v == "skip"] == ["probe_proxy_allows_target"]
    assert host.run(f"systemctl is-failed {unit}.service").stdout.strip() != "failed"
    journal = host.check_output(f"journalctl -u {unit}.service -o cat --no-pager | grep '^sandbox-host conformance ' | tail -n 1")
    assert journal.startswith("sandbox-host conformance PASS: 14 checks"), journal
    prom = host.file(f"{conf.textfile_dir}/sandbox-host-conformance.prom").content_string
    assert "sandbox_host_conformance_ok 1" in prom
    assert 'sandbox_host_conformance_check{check="probe_direct_tcp_blocked"} 1' in prom


def test_report_passes_a_conforming_host(host, conf, settings):
    next_result(host, conf, after=host_now(host) - 90)
    code, out, err = report("--json")
    assert code == 0, out + err
    (record,) = json.loads(out)["hosts"]
    assert record["status"] == "pass" and record["conformance"]["status"] == "pass"
    assert record["docker_version"] and record["kernel"] and record["os"]
    assert record["policy_current"] is True
    assert {i["id"]: i["status"] for i in record["cis"]}["icc"] == "pass"


@pytest.mark.mutates
def test_drift_is_reported_then_repaired(host, conf, settings, converge):
    unit = _unit(conf)
    path, net = settings.docker_daemon.path, settings.sandbox_network
    daemon = json.loads(host.file(path).content_string)
    daemon["icc"] = True  # a managed setting, edited by hand (no restart)
    write_file(host, path, json.dumps(daemon, indent=2, sort_keys=True) + "\n")
    host.check_output(f"iptables -w -D INPUT -i {net.internal_bridge} -j {net.guard_chain}")  # an egress guard
    broken_at = host_now(host)

    result = next_result(host, conf, after=broken_at)
    jsonschema.validate(result, SCHEMA)
    assert result["failed"] == BROKEN
    evidence = {c["id"]: c["evidence"] for c in result["checks"]}
    assert evidence["daemon_json"] == "icc: file has true, declared false"
    assert f"INPUT has no jump from {net.internal_bridge} to {net.guard_chain}" in evidence["input_guard"]
    assert "connected to a host service" in evidence["probe_host_services_unreachable"]
    assert host.run(f"systemctl is-failed {unit}.service").stdout.strip() == "failed"
    assert f"{unit}.service" in host.check_output("systemctl list-units --failed --plain --no-legend")
    prom = host.file(f"{conf.textfile_dir}/sandbox-host-conformance.prom").content_string
    assert 'sandbox_host_conformance_check{check="input_guard"} 0' in prom

    code, out, err = report("--json")
    assert code == 3, out + err
    (record,) = json.loads(out)["hosts"]
    assert record["status"] == "fail"
    assert "conformance daemon_json: icc: file has true, declared false" in record["reasons"]
    assert [f["id"] for f in record["conformance"]["failed"]] == BROKEN
    code, table, _ = report()
    assert code == 3 and "FAIL conformance input_guard:" in table

    code, changed, err = converge()
    assert code == 0, err
    assert any("daemon.json" in op for op in changed) and any("cannot reach host services" in op for op in changed), changed
    repaired_at = host_now(host)
    result = next_result(host, conf, after=repaired_at)
    assert result["status"] == "pass", result["failed"]
    assert host.run(f"systemctl is-failed {unit}.service").stdout.strip() != "failed"
    code, out, err = report("--json")
    assert code == 0, out + err
