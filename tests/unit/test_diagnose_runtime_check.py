"""The runtime check the deploy records (roles/gvisor/runtime_check.py) and what the launcher
decides from it; the deploy's warnings about drop-ins it does not own."""

import json

import pytest

from sandbox_host.config.schema import HostConfig
from sandbox_host.roles.docker_proxy.warnings import DockerDropinProxyLines, foreign_dropin_warnings
from sandbox_host.roles.gvisor import runtime_check
from sandbox_host.roles.launcher import agent_sandbox as sandbox
from sandbox_host.roles.launcher.config import launcher_config

STATX = "ls: cannot access '/tmp/x': Invalid argument"
RUNSC_OUTPUT = ["ok fork storm (40 processes)", f"fail ls -la: {STATX}", "fail stat: stat: cannot statx 'file.txt': Invalid argument",
                "skip git status: git is not in the image", "skip node file read: node is not in the image"]


def test_script_lines_become_a_typed_check():
    check = runtime_check.parse("runsc", "img", RUNSC_OUTPUT, 0)
    assert check.started and not check.ok
    assert list(check.failed) == ["ls -la", "stat"] and check.passed == ["fork storm (40 processes)"]
    assert runtime_check.load(check.as_json()) == check


def test_a_container_that_never_started_is_not_a_pass():
    check = runtime_check.parse("runsc", "img", ["docker: Error response from daemon: unknown runtime"], 125)
    assert not check.started and not check.ok and "unknown runtime" in check.error


@pytest.mark.parametrize("text", ["[]", "{}", '{"schema": "other/1"}', "not json"])
def test_a_state_file_that_is_not_a_check_is_refused(text):
    with pytest.raises(ValueError, match="runtime-check/1"):
        runtime_check.load(text)


def test_the_deploys_warning_names_the_failed_operations_and_advice_that_fits_the_source():
    check = runtime_check.parse("runsc", "img", RUNSC_OUTPUT, 0)
    distro = runtime_check.warning(check, "distro")
    assert "`ls -la`" in distro and "`stat`" in distro and "gvisor.source: gvisor_repo" in distro
    assert "git status (git is not in the image)" in distro
    assert "gvisor_repo" not in runtime_check.warning(check, "gvisor_repo")
    assert runtime_check.warning(runtime_check.parse("runc", "img", ["ok ls -la", "ok stat"], 0)) is None


class FakeDocker:
    def out(self, args, check=True):
        return '{"runc": {}, "runsc": {}}'


def cfg(tmp_path, check=None, **overrides):
    base = launcher_config(HostConfig().launcher_sections(), 1000, 1000)
    base["runtime_check"] = str(tmp_path / "runtime-check.json")
    if check is not None:
        (tmp_path / "runtime-check.json").write_text(check if isinstance(check, str) else check.as_json())
    base.update(overrides)
    return base


def test_launcher_uses_gvisor_when_the_recorded_check_passed_or_there_is_none(tmp_path):
    passing = runtime_check.parse("runsc", "img", ["ok ls -la", "ok stat", "ok fork storm (40 processes)"], 0)
    assert sandbox.choose_runtime(FakeDocker(), cfg(tmp_path)) == "runsc"
    assert sandbox.choose_runtime(FakeDocker(), cfg(tmp_path, passing)) == "runsc"


def test_launcher_falls_back_to_runc_with_a_warning_naming_the_failed_operations(tmp_path):
    failing = runtime_check.parse("runsc", "img", RUNSC_OUTPUT, 0)
    warnings = []
    assert sandbox.choose_runtime(FakeDocker(), cfg(tmp_path, failing), warn=warnings.append) is None
    assert "ls -la" in warnings[0] and "runs under runc" in warnings[0]


def test_launcher_refuses_with_require_gvisor(tmp_path):
    failing = runtime_check.parse("runsc", "img", RUNSC_OUTPUT, 0)
    with pytest.raises(sandbox.LauncherError, match="require_gvisor is set"):
        sandbox.choose_runtime(FakeDocker(), cfg(tmp_path, failing, require_gvisor=True))


def test_launcher_ignores_a_check_of_another_runtime_or_a_broken_file(tmp_path, capsys):
    other = runtime_check.parse("kata", "img", RUNSC_OUTPUT, 0)
    assert sandbox.choose_runtime(FakeDocker(), cfg(tmp_path, other)) == "runsc"
    assert sandbox.choose_runtime(FakeDocker(), cfg(tmp_path, json.dumps({"schema": "x"}))) == "runsc"
    assert "is not a sandbox-host.runtime-check/1 file" in capsys.readouterr().err


def test_launcher_config_points_at_the_check_only_with_gvisor():
    assert launcher_config(HostConfig().launcher_sections(), 1, 1)["runtime_check"] == "/var/lib/sandbox-host/runtime-check.json"
    without = HostConfig.model_validate({"gvisor": {"enabled": False}}).launcher_sections()
    assert launcher_config(without, 1, 1)["runtime_check"] is None


def test_doctor_bounds_name_resolution_inside_the_sandbox():
    seen = []

    class Docker:
        def run(self, args, check=True, timeout=None, **_):
            seen.append((args, timeout))
            import subprocess
            return subprocess.CompletedProcess(args, 1, b"", b"")

        def out(self, args, check=True):
            return ""

    sandbox.doctor_checks(Docker(), launcher_config(HostConfig().launcher_sections(), 1, 1), "sbx",
                          {"allowed_url": "https://a.test", "denied_url": "https://b.test", "dns_name": "c.test", "timeout": 10})
    (getent,) = [(a, t) for a, t in seen if "getent" in a]
    assert getent[0][getent[0].index("timeout") + 1] == str(sandbox.DNS_TIMEOUT) and "RES_OPTIONS=timeout:1 attempts:1" in getent[0]
    assert getent[1] <= sandbox.DNS_TIMEOUT + 30
    # The probe without the proxy resolves the name itself: same resolver options.
    (direct,) = [a for a, _ in seen if "--noproxy" in a]
    assert direct[:4] == ["exec", "--env", "RES_OPTIONS=timeout:1 attempts:1", "sbx"]
    assert [a[:2] for a, _ in seen if "curl" in a and "--noproxy" not in a] == [["exec", "sbx"], ["exec", "sbx"]]


def test_dropins_the_deploy_does_not_own_are_warned_about():
    found = DockerDropinProxyLines().process(["##/etc/systemd/system/docker.service.d/zz-proxy.conf", "HTTP_PROXY", "https_proxy",
                                              "##/etc/systemd/system/docker.service.d/10-limits.conf"])
    messages = foreign_dropin_warnings(found, "/etc/systemd/system/docker.service.d/http-proxy.conf")
    assert "10-limits.conf is not written by sandbox-host (no proxy settings" in messages[0]
    assert "zz-proxy.conf is not written by sandbox-host and sets HTTP_PROXY, HTTPS_PROXY" in messages[1]
    assert foreign_dropin_warnings({"/x/http-proxy.conf": ["HTTP_PROXY"]}, "/x/http-proxy.conf") == []
