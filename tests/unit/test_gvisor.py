"""gVisor: which runsc has the root-netns bug, and what gets registered in daemon.json."""

import pytest

from sandbox_host.roles.gvisor.deploy import runtime_args
from sandbox_host.roles.gvisor.facts import RunscNetworkBug
from sandbox_host.roles.gvisor.settings import GvisorSettings

BOOKWORM = ["installed", "runsc version release-20221219.0", "spec: 1.0.2-dev", "rmem_visible"]
CURRENT = ["installed", "runsc version release-20251020.0", "rmem_visible"]
NOT_YET = ["absent", "  Candidate: 0.0~20221219.0-2+b3", "rmem_visible"]
OLD_KERNEL = ["installed", "runsc version release-20221219.0", "rmem_hidden"]
NOTHING = ["absent", "rmem_visible"]


@pytest.mark.parametrize(
    "output,release,affected",
    [(BOOKWORM, 20221219, True), (CURRENT, 20251020, False), (NOT_YET, 20221219, True),
     (OLD_KERNEL, 20221219, False), (NOTHING, None, False)],
    ids=["bookworm-runsc-new-kernel", "current-runsc", "apt-candidate", "old-kernel", "no-runsc-anywhere"],
)
def test_bug_detection(output, release, affected):
    fact = RunscNetworkBug().process(output)
    assert fact["release"] == release and fact["affected"] is affected


def test_workaround_applied_for_affected_runsc():
    args, notice = runtime_args(GvisorSettings(), RunscNetworkBug().process(BOOKWORM))
    assert args == ["--network=host"]
    assert "gVisor issue 10704" in notice


def test_no_workaround_when_not_affected_or_disabled():
    assert runtime_args(GvisorSettings(), RunscNetworkBug().process(CURRENT)) == ([], None)
    never = GvisorSettings(network_bug_workaround="never")
    assert runtime_args(never, RunscNetworkBug().process(BOOKWORM)) == ([], None)


def test_explicit_settings_win():
    settings = GvisorSettings(platform="ptrace", network="none", extra_runtime_args=["--debug"])
    args, notice = runtime_args(settings, RunscNetworkBug().process(BOOKWORM))
    assert args == ["--platform=ptrace", "--network=none", "--debug"] and notice is None
