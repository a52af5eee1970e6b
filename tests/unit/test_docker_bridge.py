"""docker0 against daemon.json (roles/docker_daemon/bridge.py): what is pending, who may be stopped."""

from sandbox_host.roles.common.labels import AGENT_LABEL, PROBE_LABELS, SPEC_LABEL
from sandbox_host.roles.docker_daemon import bridge

# `docker network inspect bridge` of Docker 20.10 (trimmed) with daemon.json mtu 1400, icc false.
BRIDGE = {
    "Name": "bridge",
    "IPAM": {"Config": [{"Subnet": "172.17.0.0/16", "Gateway": "172.17.0.1"}]},
    "Options": {"com.docker.network.bridge.enable_icc": "false", "com.docker.network.driver.mtu": "1400",
                "com.docker.network.bridge.name": "docker0"},
}


def test_nothing_pending_when_docker0_matches():
    assert bridge.pending({"mtu": 1400, "icc": False, "ipv6": False}, BRIDGE) == {}


def test_each_bridge_key_that_differs_is_named_with_both_values():
    pending = bridge.pending({"mtu": 1300, "icc": True, "fixed-cidr": "172.17.1.0/24"}, BRIDGE)
    assert pending == {"mtu": ("1400", "1300"), "icc": ("false", "true")}  # IPRange not shown: never pending
    assert bridge.describe(pending) == "icc false (daemon.json: true), mtu 1400 (daemon.json: 1300)"


def test_fixed_cidr_is_read_from_the_ip_range():
    network = {**BRIDGE, "IPAM": {"Config": [{"Subnet": "172.17.0.0/16", "IPRange": "172.17.0.0/24"}]}}
    assert bridge.pending({"fixed-cidr": "172.17.1.0/24"}, network) == {"fixed-cidr": ("172.17.0.0/24", "172.17.1.0/24")}


def test_unmanaged_keys_and_missing_bridge_are_never_pending():
    assert bridge.pending({"mtu": None}, BRIDGE) == {}
    assert bridge.pending({"mtu": 1300}, None) == {}  # dockerd down, or "bridge": "none"
    assert bridge.pending({"mtu": 1300}, {"Name": "bridge", "Options": {}}) == {}


def container(name, running=True, labels=None):
    return {"Name": f"/{name}", "State": {"Running": running}, "Config": {"Labels": labels}}


def test_the_restart_leaves_running_what_the_project_does_not_recreate():
    assert bridge.left_running([
        container("sandbox-egress-proxy", labels={SPEC_LABEL: "abc"}),
        container("probe", labels={PROBE_LABELS[0]: "1"}),
        container("agent-1", labels={AGENT_LABEL[0]: AGENT_LABEL[1]}),
        container("users-own-db"),
        container("stopped-one", running=False),
    ]) == ["agent-1", "users-own-db"]


def test_the_restart_checks_the_options_docker0_shows():
    assert bridge.expected_options({"mtu": 1400, "icc": False, "ipv6": False}) == [
        "com.docker.network.driver.mtu=1400", "com.docker.network.bridge.enable_icc=false"]
    assert bridge.expected_options({"mtu": None}) == []
