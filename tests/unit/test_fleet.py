"""Fleet tools' logic: inventory specs, stages, op -> group_vars key, drift entries, reports."""

import json

import pytest

from sandbox_host import exitcodes
from sandbox_host.fleet import drift, keys, output, rollout
from sandbox_host.inventory import InventoryError, load
from sandbox_host.fleet.plan import HostPlan, PlannedOp

# Names the deploy planned on a fleet test host (sandbox-host drift on an unconverged host).
PLANNED_NAMES = [
    "Docker engine | Install Docker (distro): docker.io",
    "Docker engine | Run docker (systemd)",
    "Host network | Persist network sysctls in /etc/sysctl.d/90-sandbox-host.conf",
    "Host network | Apply network sysctls now",
    "Docker daemon config | Merge managed settings into /etc/docker/daemon.json",
    "Docker daemon proxy | Remove dockerd's proxy drop-in",
    "Docker daemon restart | Restart dockerd (config changed), roll back if it does not come back",
    "Images: base image | Base image sandbox-host-base:bookworm present",
    "Sandbox networks | Internal network sandbox-internal (sbx-int0)",
    "Sandbox networks | Egress network sandbox-egress (sbx-egr0)",
    "Sandbox networks | IPv4: sbx-int0 cannot reach host services",
    "Sandbox networks | Boot-time guard script /usr/local/sbin/sandbox-host-input-guard",
    "Sandbox networks | Enable sandbox-host-input-guard.service at boot",
    "Egress proxy | Image sandbox-host-egress-proxy built",
    "Egress proxy | Container sandbox-egress-proxy at 172.30.0.2:3128",
    "Firewall | Bind docker0 to firewalld zone docker",
    "gVisor runtime | Install runsc (distro)",
    "Agent image | Agent image sandbox-agent (Claude Code 2.1.331) built",
    "Launcher | Launcher configuration /etc/agent-sandbox/config.json",
    "Launcher | agent-sandbox installed at /usr/local/bin/agent-sandbox",
]


@pytest.mark.parametrize("name", PLANNED_NAMES)
def test_every_planned_operation_has_a_key(name):
    assert keys.key_of(name)


def test_keys_name_the_right_setting():
    assert keys.key_of(PLANNED_NAMES[10]) == "sandbox_network.guard_host_input"
    assert keys.key_of(PLANNED_NAMES[13]) == "egress_proxy.image"
    assert keys.key_of(PLANNED_NAMES[14]) == "egress_proxy.container_name"
    assert keys.key_of("Something else | x") is None


@pytest.mark.parametrize("name", [
    "Egress proxy | No upstream peer: /etc/sandbox-host/egress-proxy/upstream-peer.conf absent",
    "Egress proxy | Folder of /etc/sandbox-host/egress-proxy/upstream-peer.conf (root only)",
    "Egress proxy | Upstream peer in /etc/sandbox-host/egress-proxy/upstream-peer.conf (root only)",
])
def test_upstream_peer_operations_name_their_setting(name):
    assert keys.key_of(name) == "egress_proxy.upstream_peer_file"


def test_daemon_json_differences_name_only_the_changed_key():
    managed = {"mtu": 1400, "icc": False, "log-opts": {"max-size": "10m"}}
    current = json.dumps({"mtu": 1500, "icc": False, "log-opts": {"max-size": "10m", "other": "x"}, "debug": True})
    assert keys.daemon_json_differences(current, managed) == ["docker_daemon.mtu (mtu: 1500 != 1400)"]
    assert keys.daemon_json_differences(current.replace("1500", "1400"), managed) == []
    assert keys.daemon_json_differences("{not json", managed) == ["docker_daemon.path (not valid JSON on the host)"]
    assert keys.daemon_json_differences(None, {"x-extra": 1}) == ["docker_daemon.extra.x-extra (x-extra: absent != 1)"]


def test_sysctl_differences():
    wanted = {"net.ipv4.ip_forward": 1, "net.ipv4.tcp_keepalive_time": 60}
    assert keys.sysctl_differences({"net.ipv4.ip_forward": 1, "net.ipv4.tcp_keepalive_time": 60}, wanted) == []
    assert keys.sysctl_differences({"net.ipv4.ip_forward": 0, "net.ipv4.tcp_keepalive_time": 60}, wanted) == [
        "host_network.ip_forward (net.ipv4.ip_forward: 0 != 1)"]


def _plan(*ops, details=None):
    return HostPlan("h1", ["all"], ops=list(ops), details=details or {})


def test_a_conditional_restart_alone_is_not_drift():
    restart = PlannedOp([PLANNED_NAMES[6]], will_change=True, conditional=True)
    entry = drift.host_entry(_plan(restart, PlannedOp([PLANNED_NAMES[0]], False, False)))
    assert entry["status"] == "clean" and entry["drifted"] == [] and entry["would_follow"] == []


def test_drift_entries_take_the_exact_key_and_list_what_would_follow():
    config = PlannedOp([PLANNED_NAMES[4]], will_change=True, conditional=False)
    restart = PlannedOp([PLANNED_NAMES[6]], will_change=True, conditional=True)
    guard = PlannedOp([PLANNED_NAMES[10]], will_change=True, conditional=False)
    entry = drift.host_entry(_plan(config, restart, guard, details={PLANNED_NAMES[4]: ["docker_daemon.mtu (mtu)"]}))
    assert entry["status"] == "drift"
    assert [d["key"] for d in entry["drifted"]] == ["docker_daemon.mtu", "sandbox_network.guard_host_input"]
    assert entry["would_follow"] == [PLANNED_NAMES[6]]


def test_unreachable_hosts_make_exit_1_before_drift_3():
    report = {"summary": {"clean": 1, "drift": 1, "unreachable": 1, "failed": 0}}
    assert drift.exit_code(report) == exitcodes.FAILED
    report["summary"]["unreachable"] = 0
    assert drift.exit_code(report) == exitcodes.FOUND
    report["summary"]["drift"] = 0
    assert drift.exit_code(report) == exitcodes.OK


def test_stages_canary_then_batches():
    hosts = [f"h{i}" for i in range(1, 7)]
    assert rollout.stages(hosts, 1, 2) == [("canary", ["h1"]), ("batch 1", ["h2", "h3"]),
                                           ("batch 2", ["h4", "h5"]), ("batch 3", ["h6"])]
    assert rollout.stages(hosts, 0, 4) == [("batch 1", hosts[:4]), ("batch 2", hosts[4:])]
    with pytest.raises(ValueError):
        rollout.stages(hosts, 1, 0)


def test_inventory_file_groups_and_batches(tmp_path):
    inv = tmp_path / "runners.py"
    inv.write_text("a = [('h1', {'ssh_port': 2222}), 'h2']\nb = ['h2', 'h3']\n_private = ['x']\n")
    fleet = load(str(inv))
    assert fleet.hosts == ["h1", "h2", "h3"]
    hosts = {h.name: h for h in fleet.inventory(["h1", "h2"])}
    assert set(hosts) == {"h1", "h2"}
    assert set(hosts["h2"].groups) == {"a", "b", "runners"}
    assert hosts["h1"].data.ssh_port == 2222
    assert [h.name for h in load("h7,h8").inventory()] == ["h7", "h8"]


@pytest.mark.parametrize("spec", ["/nonexistent/inv.py", "", ","])
def test_bad_inventory_is_an_input_error(spec):
    with pytest.raises(InventoryError):
        load(spec)


def test_reports_are_checked_on_both_sides():
    report = {"schema": output.DRIFT_SCHEMA, "hosts": [{"name": "h", "status": "drift",
              "drifted": [{"key": "docker_daemon.mtu", "operation": "x", "details": []}]}]}
    assert output.read(json.dumps(report)) == report
    report["hosts"][0]["status"] = "weird"
    with pytest.raises(output.ReportError):
        output.read(json.dumps(report))
    with pytest.raises(output.ReportError):
        output.read(json.dumps({"schema": "sandbox-host.drift/0"}))
    with pytest.raises(output.ReportError):
        output.check_rollout({"schema": output.ROLLOUT_SCHEMA, "hosts": [{"name": "h", "status": "maybe"}]})


def test_nodelay_is_set_on_the_ssh_socket_only():
    import socket
    from types import SimpleNamespace

    from sandbox_host.ssh_nodelay import set_nodelay

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        transport = SimpleNamespace(sock=sock)
        host = SimpleNamespace(connector=SimpleNamespace(client=SimpleNamespace(get_transport=lambda: transport)))
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
        assert set_nodelay(host) is True
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    assert set_nodelay(SimpleNamespace(connector=SimpleNamespace())) is False  # @local: no SSH client


def test_network_drift_names_the_keys_behind_each_difference():
    from pyinfra.facts.docker import DockerNetwork

    from fakehost import fake_host
    from sandbox_host.config.schema import HostConfig

    settings = HostConfig(docker_daemon={"mtu": 1450})
    # The internal network as the deploy made it before the dynamic range, with Docker's MTU.
    before = {"Name": "sandbox-internal", "Driver": "bridge", "Internal": True, "EnableIPv6": False,
              "Options": {"com.docker.network.bridge.name": "sbx-int0", "com.docker.network.driver.mtu": "1500"},
              "IPAM": {"Config": [{"Subnet": "172.30.0.0/24"}]}}
    with fake_host({(DockerNetwork, "sandbox-internal"): [before], (DockerNetwork, "sandbox-egress"): []}) as host:
        internal = keys.details(host, settings, PLANNED_NAMES[8])
        egress = keys.details(host, settings, PLANNED_NAMES[9])
    assert internal == [
        'sandbox_network.dynamic_ip_range (IP range: null != "172.30.0.64/26")',
        'docker_daemon.mtu (MTU: "1500" != "1450")',
        'sandbox_network.internal_subnet (gateway: null != "172.30.0.1")',
    ]
    assert egress == ["sandbox_network.egress_network (sandbox-egress: absent != present)"]
    entry = drift.host_entry(_plan(PlannedOp([PLANNED_NAMES[8]], will_change=True, conditional=False),
                                   details={PLANNED_NAMES[8]: internal}))
    assert [(d["key"], d["details"]) for d in entry["drifted"]] == [
        ("sandbox_network.dynamic_ip_range", ['IP range: null != "172.30.0.64/26"']),
        ("docker_daemon.mtu", ['MTU: "1500" != "1450"']),
        ("sandbox_network.internal_subnet", ['gateway: null != "172.30.0.1"']),
    ]
