"""`sandbox-host report`: CIS daemon items, a host's verdict from its facts, exit codes, outputs."""

from __future__ import annotations

import datetime
import json

import pytest

from sandbox_host import cli, exitcodes
from sandbox_host.config.schema import HostConfig
from sandbox_host.report import cis, result, summary
from sandbox_host.report.cli import exit_code
from sandbox_host.report.facts import DockerInfo, RunscVersion
from sandbox_host.roles.conformance import declared
from sandbox_host.roles.docker_daemon import daemon_json

NOW = datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.timezone.utc)
INFO = {"ServerVersion": "20.10.24", "DefaultRuntime": "runc", "LoggingDriver": "json-file", "Driver": "overlay2",
        "LiveRestoreEnabled": True, "ExperimentalBuild": False, "SecurityOptions": ["name=seccomp,profile=default"],
        "RegistryConfig": {"InsecureRegistryCIDRs": ["127.0.0.0/8"]}}


def project_daemon_json(**overrides):
    settings = HostConfig.model_validate({"docker_daemon": overrides}).docker_daemon
    return daemon_json.managed_options(settings)


def by_id(items):
    return {item["id"]: item for item in items}


def test_cis_items_on_the_projects_defaults():
    items = by_id(cis.evaluate(project_daemon_json(), INFO))
    assert {k for k, v in items.items() if v["status"] == "pass"} == {
        "icc", "log_level", "iptables", "insecure_registries", "storage_driver", "log_driver", "live_restore",
        "seccomp", "experimental", "no_new_privileges"}
    # What the project leaves to the operator, each with its reason.
    assert items["userland_proxy"]["reason"] == "userland-proxy is true"
    assert items["default_ulimits"]["status"] == "warn"
    assert "gVisor" in items["userns_remap"]["reason"]
    assert all(set(i) == {"id", "cis", "title", "status", "reason"} for i in items.values())


@pytest.mark.parametrize("conf, info, item, status, reason", [
    ({"icc": True}, {}, "icc", "warn", "daemon.json icc is true"),
    ({}, {}, "icc", "warn", "daemon.json icc is true (default)"),
    ({"log-level": "debug"}, {}, "log_level", "warn", "log-level is debug"),
    ({"iptables": False}, {}, "iptables", "warn", "iptables is false: Docker's isolation rules are gone"),
    ({"insecure-registries": ["reg:5000"]}, {}, "insecure_registries", "warn", "insecure registries: reg:5000"),
    ({}, {"Driver": "aufs"}, "storage_driver", "warn", "storage driver aufs"),
    ({"default-ulimits": {"nofile": {"Soft": 1024, "Hard": 2048}}}, {}, "default_ulimits", "pass", "default-ulimits: nofile"),
    ({"userns-remap": "default"}, {}, "userns_remap", "pass", "userns-remap is default"),
    ({"log-driver": "json-file"}, {}, "log_driver", "warn", "log-driver json-file, no max-size: logs grow without bound"),
    ({}, {"LoggingDriver": "json-file"}, "log_driver", "warn",
     "log-driver json-file, no max-size: logs grow without bound (Docker's default, not configured)"),
    ({"log-driver": "journald"}, {}, "log_driver", "pass", "log-driver journald"),
    ({}, {"LiveRestoreEnabled": False}, "live_restore", "warn", "live restore is off"),
    ({"userland-proxy": False}, {}, "userland_proxy", "pass", "userland-proxy is false"),
    ({}, {"SecurityOptions": ["name=apparmor"]}, "seccomp", "warn", "no seccomp in docker info's security options"),
    ({}, {"ExperimentalBuild": True}, "experimental", "warn", "experimental is on"),
    ({"no-new-privileges": False}, {}, "no_new_privileges", "warn", "daemon.json no-new-privileges is false"),
])
def test_cis_item(conf, info, item, status, reason):
    found = by_id(cis.evaluate(conf, info))[item]
    assert (found["status"], found["reason"]) == (status, reason)


def conformance_result(status="pass", finished="2026-11-30T11:55:00+00:00", failed=()):
    checks = [{"id": "daemon_json", "group": "host", "status": "fail" if "daemon_json" in failed else "pass",
               "evidence": "icc: file has true, declared false" if "daemon_json" in failed else "ok"}]
    return json.dumps({"schema": result.SCHEMA, "version": 1, "host": "h", "started": finished, "finished": finished,
                       "duration_seconds": 3.2, "status": status, "failed": list(failed), "checks": checks})


def facts(**overrides):
    base = {"os": "Debian GNU/Linux 12 (bookworm)", "kernel": "6.1.0", "docker_info": INFO, "runsc": None,
            "daemon_json": json.dumps(project_daemon_json()), "declared": json.dumps({"policy_sha256": "a" * 64}),
            "result": conformance_result()}
    return {**base, **overrides}


def test_passing_host_record():
    record = summary.host_record("h1", facts(), NOW, max_age=3600, expected_policy_sha256="a" * 64)
    assert record["status"] == "pass" and record["reasons"] == []
    assert record["conformance"]["age_seconds"] == 300
    assert (record["docker_version"], record["default_runtime"], record["policy_current"]) == ("20.10.24", "runc", True)


def test_failed_conformance_fails_the_host_with_the_evidence():
    record = summary.host_record("h1", facts(result=conformance_result("fail", failed=["daemon_json"])), NOW, 3600)
    assert record["status"] == "fail"
    assert record["reasons"] == ["conformance daemon_json: icc: file has true, declared false"]
    assert record["conformance"]["failed"] == [{"id": "daemon_json", "evidence": "icc: file has true, declared false"}]


def test_stale_result_fails_the_host():
    record = summary.host_record("h1", facts(result=conformance_result(finished="2026-11-30T09:00:00+00:00")), NOW, 3600)
    assert record["status"] == "fail"
    assert "10800s old" in record["reasons"][0]


def test_installed_but_never_ran_fails_not_installed_does_not():
    assert summary.host_record("h1", facts(result=None), NOW, 3600)["status"] == "fail"
    record = summary.host_record("h1", facts(result=None, declared=None), NOW, 3600)
    assert record["status"] == "pass" and record["conformance"]["status"] == "missing"


def test_result_of_another_version_is_not_half_read():
    bad = json.loads(conformance_result())
    bad["version"] = 2
    record = summary.host_record("h1", facts(result=json.dumps(bad)), NOW, 3600)
    assert record["status"] == "fail" and "version 2" in record["reasons"][0]


def test_policy_hash_differs_from_group_vars():
    record = summary.host_record("h1", facts(), NOW, 3600, expected_policy_sha256=declared.policy_sha256(
        HostConfig.model_validate({"egress_proxy": {"allowed_domains": ["example.org"]}}).egress_proxy))
    assert record["policy_current"] is False
    assert "(old)" in summary.table(summary.document([record], NOW))


def test_exit_codes():
    ok = summary.host_record("a", facts(), NOW, 3600)
    failing = summary.host_record("b", facts(result=conformance_result("fail", failed=["daemon_json"])), NOW, 3600)
    gone = summary.unreachable("c", "connection failed")
    assert exit_code([ok]) == exitcodes.OK
    assert exit_code([ok, failing]) == exitcodes.FOUND
    assert exit_code([ok, failing, gone]) == exitcodes.FAILED


def test_table_and_json():
    records = [summary.host_record("b", facts(result=conformance_result("fail", failed=["daemon_json"])), NOW, 3600),
               summary.unreachable("a", "connection failed")]
    doc = summary.document(records, NOW)
    assert (doc["schema"], doc["version"], [r["host"] for r in doc["hosts"]]) == ("sandbox-host/report", 1, ["a", "b"])
    text = summary.table(doc)
    assert text.splitlines()[0].split()[:3] == ["HOST", "STATUS", "OS"]
    assert text.splitlines()[1].split()[:2] == ["a", "UNREACHABLE"]
    assert "  FAIL conformance daemon_json: icc: file has true, declared false" in text
    assert "  warn CIS 2.15 Disable the userland proxy: userland-proxy is true" in text
    json.dumps(doc)  # serialisable as is


def test_facts_parse_docker_and_runsc_output():
    assert DockerInfo().process([json.dumps(INFO)])["ServerVersion"] == "20.10.24"
    assert DockerInfo().process(["Cannot connect to the Docker daemon"]) is None
    assert RunscVersion().process(["runsc version release-20240807.0", "spec: 1.1.0"]) == "runsc version release-20240807.0"
    assert RunscVersion().process([]) is None


def test_report_is_a_subcommand():
    args = cli.build_parser().parse_args(["report", "inventories/ci_runners.py", "--json"])
    assert args.json and args.inventory == "inventories/ci_runners.py" and args.max_age == 3600
