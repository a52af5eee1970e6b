"""host_network MSS clamping: the operation runs the script only when the live mangle rules
differ from what the script makes; the script and expected_rules agree (checked on a real
namespace by tests/host/test_path_mtu.py and Molecule's idempotence)."""

import shutil
import subprocess

import pytest

from sandbox_host.roles.host_network import mss
from sandbox_host.roles.host_network.facts import MangleRules
from sandbox_host.roles.host_network.settings import HostNetworkSettings

from fakehost import run_operation

BRIDGES = ["docker0", "sbx-egr0", "br-+"]
ARGS = {"script": "/usr/local/sbin/sandbox-host-mss-clamp", "chain": "SANDBOX-MSS", "bridges": BRIDGES}
POLICIES = ["-P PREROUTING ACCEPT", "-P INPUT ACCEPT", "-P FORWARD ACCEPT", "-P OUTPUT ACCEPT", "-P POSTROUTING ACCEPT"]
SCRIPT_RUN = "/usr/local/sbin/sandbox-host-mss-clamp SANDBOX-MSS pmtu docker0 sbx-egr0 br-+"


def facts(v4, v6=None):
    return {(MangleRules, 4): v4, (MangleRules, 6): v6}


def test_empty_mangle_runs_the_script():
    commands, _ = run_operation(mss.clamp, facts(POLICIES, POLICIES), mode="pmtu", **ARGS)
    assert commands == [SCRIPT_RUN]


def test_matching_rules_change_nothing():
    live = POLICIES + mss.expected_rules("SANDBOX-MSS", "pmtu", BRIDGES)
    commands, noops = run_operation(mss.clamp, facts(live, live), mode="pmtu", **ARGS)
    assert commands == [] and "in place" in noops[0]


def test_ipv6_drift_alone_runs_the_script():
    live = POLICIES + mss.expected_rules("SANDBOX-MSS", "pmtu", BRIDGES)
    commands, _ = run_operation(mss.clamp, facts(live, POLICIES), mode="pmtu", **ARGS)
    assert commands == [SCRIPT_RUN]


def test_fixed_mss_and_a_changed_mode_rewrite_the_chain():
    live = POLICIES + mss.expected_rules("SANDBOX-MSS", "pmtu", BRIDGES)
    commands, _ = run_operation(mss.clamp, facts(live), mode="1360", **ARGS)
    assert commands == [SCRIPT_RUN.replace("pmtu", "1360")]
    assert "-A SANDBOX-MSS -i docker0 -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1360" in \
        mss.expected_rules("SANDBOX-MSS", "1360", BRIDGES)


def test_off_removes_a_leftover_chain_and_is_quiet_without_one():
    live = POLICIES + mss.expected_rules("SANDBOX-MSS", "pmtu", BRIDGES)
    commands, _ = run_operation(mss.clamp, facts(live), mode="off", **ARGS)
    assert commands == [SCRIPT_RUN.replace("pmtu", "off")]
    commands, noops = run_operation(mss.clamp, facts(POLICIES), mode="off", **ARGS)
    assert commands == [] and "off" in noops[0]


def test_a_stray_jump_into_our_chain_is_drift():
    live = POLICIES + mss.expected_rules("SANDBOX-MSS", "pmtu", BRIDGES) + ["-A FORWARD -j SANDBOX-MSS"]
    commands, _ = run_operation(mss.clamp, facts(live), mode="pmtu", **ARGS)
    assert commands == [SCRIPT_RUN]


@pytest.mark.parametrize("value, ok", [("pmtu", True), ("off", True), (1360, True), (100, False), ("auto", False)])
def test_setting_values(value, ok):
    if ok:
        assert HostNetworkSettings(mss_clamping=value).mss_clamping == value
    else:
        with pytest.raises(ValueError):
            HostNetworkSettings(mss_clamping=value)


def test_script_is_shellcheck_clean_and_refuses_bad_modes():
    if shutil.which("shellcheck"):
        subprocess.run(["shellcheck", str(mss.SCRIPT)], check=True)
    done = subprocess.run(["sh", str(mss.SCRIPT), "SANDBOX-MSS", "12x", "docker0"], capture_output=True, text=True)
    assert done.returncode == 2 and "MODE must be" in done.stderr
