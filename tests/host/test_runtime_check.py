"""The runtime must work for what agents do (issue 13): the deploy's runtime check proves `ls -la`,
`stat`, `git status`, a node file read and a fork storm under the registered runtime, records the
result for the launcher, and warns (never fails) when operations fail. Both outcomes on real
hosts: Debian's 2022 runsc in the gvisor scenario fails statx (`ls -la`, `stat`); runc in every
scenario passes the same script."""

import json
import shlex
import subprocess
import sys

import pytest

from conftest import REPO
from sandbox_host.diagnose import rules
from sandbox_host.roles.gvisor import runtime_check
from sandbox_host.roles.gvisor.facts import RuntimeOperations

INVENTORY = REPO / "molecule/shared/inventory.py"


@pytest.fixture
def registered(settings):
    if not settings.gvisor.enabled:
        pytest.skip("gvisor.enabled is false in this scenario")
    return settings.gvisor


@pytest.fixture
def gvisor(host, registered):
    """The failing outcome's checks: this host's runsc must be one that fails (Debian 12's 2022
    release has no statx). A runsc that passes (Debian 13's 2024 release) is checked by
    test_a_passing_runsc_is_recorded_as_passing instead."""
    recorded = runtime_check.load(host.file(registered.runtime_check_file).content_string)
    if recorded.ok:
        pytest.skip(f"{registered.runtime_name} here passes the agent operations: the failing outcome is "
                    "proven with Debian 12's runsc (gvisor scenario)")
    return registered


def test_a_passing_runsc_is_recorded_as_passing(host, registered):
    recorded = runtime_check.load(host.file(registered.runtime_check_file).content_string)
    assert recorded.runtime == registered.runtime_name and recorded.started
    if not recorded.ok:
        pytest.skip(f"{registered.runtime_name} here fails {recorded.failed}: the failing outcome's tests apply")
    assert {"ls -la", "stat", "fork storm (40 processes)"} <= set(recorded.passed), recorded


def check_under(host, runtime, image) -> runtime_check.RuntimeCheck:
    """The fact's own command on the host, parsed by the fact (what the deploy and diagnose run)."""
    fact = RuntimeOperations()
    done = host.run(fact.command(runtime, image))
    result = fact.process(done.stdout.splitlines())
    return runtime_check.RuntimeCheck.model_validate({**{k: v for k, v in result.items() if k != "ok"},
                                                      "runtime": runtime, "image": image})


def test_runc_passes_the_agent_operations(host, settings):
    """The passing outcome, for real: the same script under runc."""
    check = check_under(host, "runc", settings.images.base_image)
    assert check.started and check.ok, check
    assert {"ls -la", "stat", "fork storm (40 processes)"} <= set(check.passed)
    # The base image has neither git nor node: skipped and said so, never counted as passed.
    assert set(check.skipped) | set(check.passed) >= {"git status", "node file read"}


def test_the_deploy_recorded_that_runsc_fails_statx(host, gvisor):
    recorded = runtime_check.load(host.file(gvisor.runtime_check_file).content_string)
    assert recorded.runtime == gvisor.runtime_name and recorded.started
    # Debian's runsc (2022) has no statx(2): what every `ls -la` of an agent runs into.
    assert {"ls -la", "stat"} <= set(recorded.failed), recorded
    assert "fork storm (40 processes)" in recorded.passed


def test_the_deploy_warns_and_does_not_fail(gvisor, converge):
    code, _, err = converge()
    assert code == 0, err
    assert f"runtime {gvisor.runtime_name} fails operations agents run all the time" in err
    assert "`ls -la`" in err and "gvisor_repo" in err  # source: distro here, so the advice names the alternative


def test_the_launcher_refuses_with_require_gvisor(host, settings, gvisor):
    config = json.loads(host.file(settings.launcher.config_path).content_string)
    config["require_gvisor"] = True
    host.check_output(f"echo {shlex.quote(json.dumps(config))} > /run/agent-sandbox-require.json")
    done = host.run("AGENT_SANDBOX_CONFIG=/run/agent-sandbox-require.json ANTHROPIC_API_KEY=sk-ant-test-never-real "
                    "agent-sandbox run /tmp -- true")
    host.run("rm -f /run/agent-sandbox-require.json")
    assert done.rc != 0
    assert "fails operations agents need" in done.stderr and "require_gvisor is set" in done.stderr, done.stderr


def test_diagnose_names_the_failing_runtime(host, settings, gvisor, tmp_path):
    out = tmp_path / "reports"
    done = subprocess.run([sys.executable, "-m", "sandbox_host.diagnose", "gather", str(INVENTORY), "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(next(out.glob("*.json")).read_text())
    found = {f.id: f for f in rules.run_rules(report)}
    finding = found["runtime_fails_agent_operations"]
    assert {"ls -la", "stat"} <= set(finding.evidence["failed"])
    assert "gvisor.source" in finding.permanent
