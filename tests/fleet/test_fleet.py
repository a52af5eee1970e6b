"""Rollout and drift end to end on the fleet scenario's five test hosts (molecule test -s fleet).

In order, each step building on the last (pytest -x):
  1. rollout (canary 1, then a batch of 4, host checks after each): every host done
  2. drift: all clean, exit 0
  3. drift injected by hand on one light host (a daemon.json key, a sysctl, the INPUT guard's rules)
     and on the full host (proxy container removed, its image's :latest tag removed): exactly those
     hosts and keys reported, exit 3
  4. one host's dockerd made unable to restart: the rollout (canary 1, batches of 2) stops after
     that host's batch, the last batch untouched, exit 1
  5. after the fix (dockerd left stopped) the same rollout completes (done hosts report no
     change), drift is clean
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sandbox_host.fleet import output

REPO = Path(__file__).resolve().parents[2]
INVENTORY = "molecule/fleet/inventory.py"
MARKERS = "not (mutates or firewalld or ufw or gvisor or corporate_proxy or vm)"
SSH = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"]

pytestmark = pytest.mark.skipif("MOLECULE_INSTANCE_CONFIG" not in os.environ, reason="needs the fleet scenario")


@pytest.fixture(scope="module")
def hosts() -> list[dict]:
    with open(os.environ["MOLECULE_INSTANCE_CONFIG"]) as handle:
        found = sorted(yaml.safe_load(handle), key=lambda i: i["instance"])
    assert len(found) >= 5, "the fleet scenario has five hosts"
    return found


def sandbox_host(*args) -> tuple[int, dict]:
    done = subprocess.run([str(Path(sys.executable).with_name("sandbox-host")), *args, "--json"],
                          cwd=REPO, capture_output=True, text=True)
    sys.stderr.write(done.stderr[-3000:])
    return done.returncode, output.read(done.stdout)


def on(host: dict, command: str) -> str:
    """Run a command on a test host over SSH, as an admin would by hand."""
    done = subprocess.run(["ssh", *SSH, "-i", host["identity_file"], f"root@{host['address']}", command],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{command}: {done.stderr}"
    return done.stdout


def by_name(report: dict) -> dict[str, dict]:
    return {h["name"]: h for h in report["hosts"]}


def drifted_keys(entry: dict) -> set[str]:
    return {d["key"] for d in entry["drifted"]}


def test_rollout_converges_the_fleet(hosts):
    code, report = sandbox_host("rollout", INVENTORY, "--canary", "1", "--batch", "4", "--markers", MARKERS)
    assert report["summary"] == {"done": len(hosts), "failed": 0, "untouched": 0}, report
    assert code == 0
    assert [h["stage"] for h in report["hosts"]] == ["canary"] + ["batch 1"] * (len(hosts) - 1)


def test_drift_is_clean_after_the_rollout(hosts):
    code, report = sandbox_host("drift", INVENTORY)
    assert [h["status"] for h in report["hosts"]] == ["clean"] * len(hosts), report
    assert code == 0


def test_drift_names_the_host_and_the_keys(hosts):
    full, light = hosts[0], hosts[2]
    on(light, "sed -i 's/\"icc\": false/\"icc\": true/' /etc/docker/daemon.json")
    on(light, "sysctl -w net.ipv4.tcp_keepalive_time=7000")
    on(light, "iptables -F SANDBOX-INPUT")  # the guard chain's rules gone (the jump stays)
    on(full, "docker rm -f sandbox-egress-proxy && docker rmi sandbox-host-egress-proxy:latest")

    code, report = sandbox_host("drift", INVENTORY)
    assert code == 3, report
    found = by_name(report)
    assert {h["name"] for h in report["hosts"] if h["status"] == "drift"} == {full["address"], light["address"]}
    assert {"docker_daemon.icc", "host_network.tcp_keepalive_time", "sandbox_network.guard_host_input"} \
        == drifted_keys(found[light["address"]])
    assert {"egress_proxy.image", "egress_proxy.container_name"} <= drifted_keys(found[full["address"]])
    # The restart would follow the daemon.json repair, and is not drift of its own.
    assert any("Restart dockerd" in op for op in found[light["address"]]["would_follow"])
    assert not any("restart" in k for k in drifted_keys(found[light["address"]]))


def test_rollout_stops_after_the_failed_batch(hosts):
    broken = hosts[1]
    # A change that needs a restart, and a dockerd that cannot start again.
    on(broken, "sed -i 's/\"icc\": false/\"icc\": true/' /etc/docker/daemon.json && chmod -x /usr/sbin/dockerd")
    code, report = sandbox_host("rollout", INVENTORY, "--canary", "1", "--batch", "2", "--markers", MARKERS)
    assert code == 1
    found = by_name(report)
    assert found[broken["address"]]["status"] == "failed", report
    assert found[hosts[0]["address"]]["status"] == "done"  # the canary repaired the proxy
    assert found[hosts[2]["address"]]["status"] == "done"  # same batch as the broken host
    assert [found[h["address"]]["status"] for h in hosts[3:]] == ["untouched"] * len(hosts[3:])
    assert report["stopped"].startswith("batch 1 failed")
    # Untouched means untouched: the later hosts still have what they had (no deploy ran there).
    assert by_name(sandbox_host("drift", INVENTORY)[1])[hosts[3]["address"]]["status"] == "clean"


def test_rerun_after_the_fix_completes_and_drift_is_clean(hosts):
    broken = hosts[1]
    # The fix: dockerd can run again, but is left stopped (socket too), so the rollout plans this
    # host with dockerd down, in one batch with a healthy host: the deploy starts dockerd after
    # its configuration and plans the Docker steps at run time, for this host alone.
    on(broken, "chmod +x /usr/sbin/dockerd && systemctl stop docker.socket docker.service; "
               "systemctl reset-failed docker.service docker.socket; true")
    assert on(broken, "systemctl is-active docker.service || true").strip() != "active"
    code, report = sandbox_host("rollout", INVENTORY, "--canary", "1", "--batch", "2", "--markers", MARKERS)
    assert report["summary"] == {"done": len(hosts), "failed": 0, "untouched": 0}, report
    assert code == 0
    found = by_name(report)
    # Hosts already done report no changes; the fixed one was converged again.
    assert [found[h["address"]]["changed"] for h in hosts if h is not broken] == [0] * (len(hosts) - 1)
    assert found[broken["address"]]["changed"] > 0
    code, report = sandbox_host("drift", INVENTORY)
    assert (code, report["summary"]["clean"]) == (0, len(hosts)), report
