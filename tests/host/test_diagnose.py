"""diagnose on a real (test) host: break it on purpose, one known cause at a time, and check that
the diagnosis names that cause first; then apply the finding's own fix (its command, or its
group_vars key through the deploy) and check the finding is gone. A healthy host has none.

Needs a Molecule test host (MOLECULE_INSTANCE_CONFIG; the `converge` fixture skips otherwise).
Traffic stays inside the test host: names resolve through a DNS responder the test starts on the
test host itself, and the egress proxy's probe target is a TCP listener the test starts there too
(PROBE_NAME:443, the test host's own address). The proxy resolves through Docker's embedded DNS,
which forwards to the nameservers of the test host's resolv.conf *as they were when the proxy
container started* (measured on Docker 20.10: a running container keeps the old upstream), so the
proxy is restarted whenever the test points resolv.conf at the responder: otherwise its lookup of
PROBE_NAME would go to the test host's real upstream resolver.
"""

import ipaddress
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from conftest import REPO, write_file
from sandbox_host.diagnose import rules
from sandbox_host.roles.egress_proxy.settings import EgressProxySettings

pytestmark = pytest.mark.mutates

INVENTORY = REPO / "molecule/shared/inventory.py"
PROBE_IMAGE = os.environ.get("SANDBOX_HOST_DIAGNOSE_PROBE_IMAGE", "sandbox-host-base:bookworm")
PROBE_NAME = "probe.sandbox.test"
PROXY = "http://proxy.sandbox.test:3128"  # never contacted: dockerd only uses it to pull
# What the sandbox's egress proxy is asked to CONNECT to: the test's own listener, on the port the
# proxy allows by default (egress_proxy.allowed_connect_ports).
PROBE_PORT = 443
PROXY_TARGET = f"{PROBE_NAME}:{PROBE_PORT}"
PROXY_CONTAINER = EgressProxySettings.model_fields["container_name"].default
# The proxy as this module converges it: only the probe's name is allowed, and it may resolve to a
# private address. That check is on purpose off here: the only server the tests may contact is one
# they start, and every such server has a private (Docker bridge) address; the check itself is
# tested on real containers in tests/integration/test_egress_proxy.py. Layered under every
# converge of this module; the scenario's own settings come back when the module ends.
PROXY_OVERLAY = {"egress_proxy.allowed_domains": [PROBE_NAME], "egress_proxy.deny_private_destinations": False}

# A DNS responder for one name (A record = the address it listens on), NXDOMAIN otherwise. It binds
# that one address: a resolver drops replies that come from another address than the one it asked.
DNS_RESPONDER = r'''
import socket, struct, sys
name, address = sys.argv[1].lower(), sys.argv[2]
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind((address, 53))
while True:
    data, peer = sock.recvfrom(512)
    if len(data) < 17:
        continue
    labels, i = [], 12
    while i < len(data) and data[i]:
        labels.append(data[i + 1:i + 1 + data[i]].decode(errors="replace"))
        i += 1 + data[i]
    qtype = struct.unpack(">H", data[i + 1:i + 3])[0] if i + 3 <= len(data) else 0
    hit = ".".join(labels).lower() == name
    answer = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 30, 4) + socket.inet_aton(address) if hit and qtype == 1 else b""
    header = struct.pack(">HHHHHH", struct.unpack(">H", data[:2])[0], 0x8180 | (0 if hit else 3), 1, 1 if answer else 0, 0, 0)
    sock.sendto(header + data[12:i + 5] + answer, peer)
'''

# The proxy probe's target: accepts connections and holds each until the client goes (Squid
# answers CONNECT with 200 once its connection to the target is up).
TARGET_SERVER = r'''
import socketserver, sys

class Hold(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(30)
        try:
            while self.request.recv(4096):
                pass
        except OSError:
            pass

socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer.daemon_threads = True
socketserver.ThreadingTCPServer((sys.argv[1], int(sys.argv[2])), Hold).serve_forever()
'''


def _instances():
    with open(os.environ["MOLECULE_INSTANCE_CONFIG"]) as handle:
        return yaml.safe_load(handle) or []


@pytest.fixture(scope="module")
def probe_host(host, converge, tmp_path_factory):
    """The test host, converged with PROXY_OVERLAY, with the probe image loaded, a DNS responder
    for PROBE_NAME and the proxy probe's target listening; the scenario's own settings after."""
    converge_probe_world(converge, tmp_path_factory.mktemp("probe-world"))
    instance = _instances()[0]
    address = instance["address"]
    if host.run(f"docker image inspect {PROBE_IMAGE}").rc != 0:
        # The test host reaches no registry: hand it the image the way the sandbox roles do.
        save = subprocess.Popen(["docker", "save", PROBE_IMAGE], stdout=subprocess.PIPE)
        subprocess.run(["docker", "exec", "-i", instance["instance"], "docker", "load"], stdin=save.stdout, check=True,
                       capture_output=True)
        save.wait()
    UPLINK["mtu"] = host.file("/sys/class/net/eth0/mtu").content_string.strip()
    write_file(host, "/run/sbx-diag-dns.py", DNS_RESPONDER)
    RESOLV["host"] = host.file("/etc/resolv.conf").content_string
    RESOLV["probe"] = f"nameserver {address}\n"
    write_file(host, "/run/sbx-diag-target.py", TARGET_SERVER)
    host.run("systemctl stop sbx-diag-dns sbx-diag-target; systemctl reset-failed sbx-diag-dns sbx-diag-target")
    host.check_output(f"systemd-run --unit sbx-diag-dns python3 /run/sbx-diag-dns.py {PROBE_NAME} {address}")
    host.check_output(f"systemd-run --unit sbx-diag-target python3 /run/sbx-diag-target.py {address} {PROBE_PORT}")
    write_file(host, "/etc/resolv.conf", RESOLV["probe"])
    restart_proxy(host)
    yield host
    write_file(host, "/etc/resolv.conf", RESOLV["host"])
    host.run("systemctl stop sbx-diag-dns sbx-diag-target")
    # Back to the scenario's own settings (allowlist included) for the test files that follow;
    # the proxy is recreated there, so it resolves through the test host's resolver again.
    code, _, err = converge()
    assert code == 0, err


RESOLV = {}
UPLINK = {}


def resolver(which):
    """A step that points the test host at its own resolver (apt needs the mirror) or the probe's."""
    return lambda host: write_file(host, "/etc/resolv.conf", RESOLV[which])


def restart_proxy(host):
    """Restart the egress proxy so its DNS upstream is the test host's resolv.conf as it is now."""
    host.check_output(f"docker restart {PROXY_CONTAINER}")


def converge_probe_world(converge, tmp_path, settings: dict | None = None):
    """Converge with PROXY_OVERLAY plus `settings` (dotted group_vars keys)."""
    code, _, err = converge(extra_group_vars=group_vars_overlay(tmp_path, {**PROXY_OVERLAY, **(settings or {})}))
    assert code == 0, err


def gather(tmp_path, proxy_target=PROXY_TARGET) -> dict:
    """Gather the scenario's host with the CLI a user runs; return the report."""
    out = tmp_path / f"reports-{len(list(tmp_path.iterdir()))}"
    done = subprocess.run(
        [sys.executable, "-m", "sandbox_host.diagnose", "gather", str(INVENTORY), "--out", str(out),
         "--probe-image", PROBE_IMAGE, "--resolve-name", PROBE_NAME, "--proxy-target", proxy_target, "--probe-timeout", "10"],
        cwd=REPO, capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (report_file,) = out.glob("*.json")
    keep = os.environ.get("SANDBOX_HOST_DIAGNOSE_KEEP")  # a folder: keep every report (closing-note tables)
    if keep:
        test = os.environ.get("PYTEST_CURRENT_TEST", "report").split(" ")[0].split("::")[-1]
        Path(keep).mkdir(parents=True, exist_ok=True)
        (Path(keep) / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', test)}-{len(list(Path(keep).glob('*.json')))}.json").write_text(
            report_file.read_text())
    return json.loads(report_file.read_text())


def diagnose(tmp_path, **gather_args) -> list:
    """The rules' findings for a fresh report of the scenario's host."""
    return rules.run_rules(gather(tmp_path, **gather_args))


def group_vars_overlay(tmp_path, permanent: dict) -> Path:
    """The finding's `permanent` keys (docker_daemon.mtu: 1300 ...) as a group_vars folder."""
    data: dict = {}
    for dotted, value in permanent.items():
        section, key = dotted.split(".", 1)
        data.setdefault(section, {})[key] = value
    folder = tmp_path / "overlay"
    folder.mkdir(exist_ok=True)
    (folder / "all.yml").write_text(yaml.safe_dump(data))
    return folder


@dataclass
class Case:
    cause: str
    breaks: list[str]
    # "fix": run the fix commands (indexes) of every finding of the cause (one per bridge) on the
    # host; "deploy": converge with the first finding's permanent group_vars keys (those listed).
    repair: str
    uses: list = field(default_factory=list)
    before_repair: list = field(default_factory=list)  # what the repair itself asks for first
    cleanup: list = field(default_factory=list)
    setup: list = field(default_factory=list)  # steps that make the healthy starting point
    setup_overlay: dict = field(default_factory=dict)  # group_vars the healthy host is converged with
    after_setup: list = field(default_factory=list)
    marks: list = field(default_factory=list)  # pytest marks of the case (a known diagnose bug)


def edit_daemon_json(host, change):
    path = "/etc/docker/daemon.json"
    config = json.loads(host.file(path).content_string)
    change(config)
    write_file(host, path, json.dumps(config, indent=2, sort_keys=True) + "\n")


def drop_runsc_args(config):
    config["runtimes"]["runsc"].pop("runtimeArgs")


def set_daemon_dns(host, resolvers):
    """Hand-edit daemon.json's dns (an interface name stands for its IPv4 address)."""
    addresses = [r if r[0].isdigit() else [a for a in host.interface(r).addresses if ":" not in a][0] for r in resolvers]
    edit_daemon_json(host, lambda config: config.update(dns=addresses) if addresses else config.pop("dns", None))


def run(host, step):
    return step(host) if callable(step) else host.check_output(step)


SAVE = "iptables-save > /run/sbx-diag-iptables"
RESTORE = "iptables-restore < /run/sbx-diag-iptables"

# With FORWARD flushed and set to DROP the agent cannot reach its proxy either (br_netfilter
# sends bridged traffic through FORWARD): the cause must still be named before that symptom.

CASES = [
    Case("ip_forward_disabled", ["sysctl -w net.ipv4.ip_forward=0"], "deploy", ["host_network.ip_forward"]),
    Case("forward_policy_drop_without_docker_rules", [SAVE, "iptables -P FORWARD DROP", "iptables -F FORWARD"],
         "fix", [0, 1], cleanup=[RESTORE]),
    Case("firewall_rule_drops_bridge", ["iptables -I DOCKER-USER -i docker0 -j DROP"], "fix", [0]),
    Case("nat_masquerade_missing", [SAVE, "iptables -t nat -F POSTROUTING"], "fix", [0], cleanup=[RESTORE]),
    # The deploy recreates the sandbox networks with the new MTU and gets docker0 its new MTU
    # with the egress proxy (and gateways) running: with live-restore dockerd keeps docker0's old
    # settings while any container runs through the restart, so the deploy stops its own around it
    # (roles/docker_daemon/bridge.py; test_dockerd_restart.py). Both ways: the repair
    # (scenario MTU -> 1300) and the way back. The uplink gets back the MTU it had: the machine
    # running the tests may itself sit behind a smaller path MTU. The conformance timer keeps
    # running: its probe takes its address from the network's dynamic range, never the proxy's
    # (tests/host/test_sandbox_addresses.py).
    Case("mtu_larger_than_path", ["ip link set eth0 mtu 1300"], "deploy", ["docker_daemon.mtu"],
         cleanup=[lambda host: host.check_output(f"ip link set eth0 mtu {UPLINK['mtu']}")]),
    # Containers get a resolver where nothing answers (the test host's own docker0 address).
    Case("container_dns_failing", [lambda host: set_daemon_dns(host, ["docker0"]), "systemctl restart docker"],
         "deploy", ["docker_daemon.dns"], cleanup=[lambda host: set_daemon_dns(host, []), "systemctl restart docker"]),
    Case("ipv6_enabled_without_route",
         ["sysctl -w net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 net.ipv6.conf.eth0.disable_ipv6=0",
          "ip -6 addr add 2001:db8:5::2/64 dev eth0 nodad"],
         "deploy", ["host_network.disable_ipv6"]),
    # Each hand restart of dockerd below restarts the egress proxy too: with live-restore it would
    # keep running with a stale mapping to dockerd's DNS (sandbox_proxy_older_than_dockerd, a
    # cause of its own: tests/host/test_dockerd_restart.py, tests/unit/test_diagnose_rules.py).
    Case("daemon_proxy_missing",
         ["rm -f /etc/systemd/system/docker.service.d/http-proxy.conf", "systemctl daemon-reload", "systemctl restart docker",
          lambda host: restart_proxy(host)],
         "deploy", ["docker_proxy.http_proxy", "docker_proxy.https_proxy", "docker_proxy.no_proxy"],
         setup=[f"printf 'HTTP_PROXY={PROXY}\\nHTTPS_PROXY={PROXY}\\n' >> /etc/environment"],
         cleanup=["sed -i '/_PROXY=/d' /etc/environment"],
         setup_overlay={"docker_proxy.http_proxy": PROXY, "docker_proxy.https_proxy": PROXY}),
    # Debian's runsc (2022) on this kernel: the deploy registers it with the workaround; taking
    # the workaround out by hand makes every runsc container fail to start. The proxy is
    # restarted after the resolver switch in case the converge (re)started it meanwhile.
    Case("old_runsc_on_new_kernel", [lambda host: edit_daemon_json(host, drop_runsc_args), "systemctl restart docker",
                                     lambda host: restart_proxy(host)],
         "deploy", ["gvisor.network_bug_workaround"],
         cleanup=[lambda host: edit_daemon_json(host, lambda c: c.pop("runtimes", None)), "systemctl restart docker",
                  "apt-get -y -q purge runsc", "rm -f /var/lib/sandbox-host/runtime-check.json"],
         setup=[resolver("host")], after_setup=[resolver("probe"), restart_proxy],
         setup_overlay={"gvisor.enabled": True, "gvisor.smoke_image": PROBE_IMAGE}),
    # The agent's only way out is gone (the proxy container stopped, e.g. by hand or an OOM kill
    # without restart); the deploy starts a stopped proxy container again.
    Case("sandbox_proxy_unreachable", [f"docker stop {PROXY_CONTAINER}"],
         "deploy", ["sandbox_network.proxy_ip", "sandbox_network.proxy_port"]),
]


def test_healthy_host_has_no_finding(probe_host, tmp_path):
    report = gather(tmp_path)
    # The proxy probe ran and its CONNECT went through to the test's listener.
    assert report["sandbox_proxy"]["connect_status"] == 200, report["sandbox_proxy"]
    # What sandbox_proxy_older_than_dockerd compares: the proxy container's start and dockerd's.
    assert report["sandbox_proxy"]["container"]["name"] == PROXY_CONTAINER, report["sandbox_proxy"]
    assert isinstance(report["dockerd"]["started_at"], int), report["dockerd"]
    assert rules.run_rules(report) == []


def test_proxy_that_refuses_or_cannot_reach_the_target_is_named(probe_host, tmp_path):
    """403 (a name the allowlist does not hold) and 503 (the target is down) are both named first;
    the refused name is never looked up (Squid checks the allowlist before any DNS lookup)."""
    refused = diagnose(tmp_path, proxy_target=f"unlisted.sandbox.test:{PROBE_PORT}")
    assert [f.id for f in refused][:1] == ["sandbox_proxy_cannot_reach_target"], [f.id for f in refused]
    assert refused[0].evidence["probe"]["connect_status"] == 403

    probe_host.check_output("systemctl stop sbx-diag-target")
    try:
        down = diagnose(tmp_path)
        assert [f.id for f in down][:1] == ["sandbox_proxy_cannot_reach_target"], [f.id for f in down]
        assert down[0].evidence["probe"]["connect_status"] == 503
    finally:
        probe_host.check_output("systemctl reset-failed sbx-diag-target 2>/dev/null; systemd-run --unit sbx-diag-target "
                                f"python3 /run/sbx-diag-target.py {_instances()[0]['address']} {PROBE_PORT}")
    assert diagnose(tmp_path) == []


@pytest.mark.parametrize("case", [pytest.param(c, id=c.cause, marks=c.marks) for c in CASES])
def test_broken_host_names_the_cause_and_its_fix_removes_it(probe_host, converge, tmp_path, case):
    host = probe_host
    for step in case.setup:
        run(host, step)
    if case.setup_overlay:
        converge_probe_world(converge, tmp_path, case.setup_overlay)
    for step in case.after_setup:
        run(host, step)
    try:
        assert case.cause not in [f.id for f in diagnose(tmp_path)], "the cause is there before breaking the host"
        for step in case.breaks:
            run(host, step)

        found = diagnose(tmp_path)
        assert found, f"{case.cause}: nothing found"
        top = found[0]
        assert top.id == case.cause, [f.id for f in found]

        for step in case.before_repair:
            run(host, step)
        if case.repair == "fix":
            for finding in [f for f in found if f.id == case.cause]:
                for index in case.uses:
                    host.check_output(finding.fix[index].removeprefix("sudo ").replace("; sudo ", "; "))
        else:
            assert set(case.uses) <= set(top.permanent), top.permanent
            converge_probe_world(converge, tmp_path, {**case.setup_overlay, **{key: top.permanent[key] for key in case.uses}})
        assert case.cause not in [f.id for f in diagnose(tmp_path)]
    finally:
        for step in case.cleanup:
            run(host, step)
        # Back to the module's settings, so the next case starts from a healthy host.
        converge_probe_world(converge, tmp_path)


def test_non_root_user_gets_notes_not_false_findings_and_sudo_reads_everything(probe_host, tmp_path):
    host, instance = probe_host, _instances()[0]
    user = "sbxdiag"
    host.check_output(f"id {user} >/dev/null 2>&1 || useradd -m -s /bin/sh {user}")
    host.check_output(f"install -d -o {user} -m 700 /home/{user}/.ssh && install -o {user} -m 600 /root/.ssh/authorized_keys "
                      f"/home/{user}/.ssh/ && echo '{user} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/{user}")
    inventory = tmp_path / "user_inventory.py"
    inventory.write_text(
        f"hosts = [({instance['address']!r}, {{'ssh_user': {user!r}, 'ssh_key': {instance['identity_file']!r}, "
        "'ssh_strict_host_key_checking': 'no', 'ssh_known_hosts_file': '/dev/null'})]\n"
    )
    try:
        def gather(*extra):
            out = tmp_path / f"user{len(extra)}"
            done = subprocess.run([sys.executable, "-m", "sandbox_host.diagnose", "gather", str(inventory), "--out", str(out),
                                   "--probe-image", PROBE_IMAGE, "--resolve-name", PROBE_NAME, "--proxy-target", PROXY_TARGET,
                                   *extra], cwd=REPO, capture_output=True, text=True)
            assert done.returncode == 0, done.stdout + done.stderr
            return json.loads(next(out.glob("*.json")).read_text())

        plain = gather()
        assert plain["docker"]["status"] == "permission denied"
        assert plain["iptables"]["status"] == "not on PATH"
        assert plain["sysctl"]["net.ipv4.ip_forward"] == 1  # read from /proc/sys without sysctl on PATH
        assert rules.run_rules(plain) == []  # no dead-dockerd or FORWARD finding made up
        notes = " ".join(rules.not_checked(plain))
        assert "docker permission denied" in notes and "not on this user's PATH" in notes and f"gathered as {user}" in notes

        elevated = gather("--sudo")
        assert elevated["docker"]["status"] == "ok" and elevated["iptables"]["status"] == "ok"
        assert rules.run_rules(elevated) == [] and rules.not_checked(elevated) == []
    finally:
        host.run(f"rm -f /etc/sudoers.d/{user}; userdel -r {user}")


# -- issue 13: classes diagnose did not see, each broken for real, named first, repaired ----------

DROPIN_DIR = "/etc/systemd/system/docker.service.d"
FOREIGN_DROPIN = f"{DROPIN_DIR}/zz-proxy.conf"
DEAD_PROXY = "http://127.0.0.1:9"  # loopback, nothing listens: a proxy that is down


def top_ids(tmp_path, **gather_args):
    return [f.id for f in diagnose(tmp_path, **gather_args)]


def run_fix(host, finding, index=0):
    host.check_output(finding.fix[index].replace("sudo ", ""))


def test_route_overlapping_a_sandbox_network_is_named_and_the_deploy_warns(probe_host, converge, settings, tmp_path):
    """A route through another interface (a VPN's) over part of the sandbox's internal subnet."""
    host = probe_host
    subnet = ipaddress.ip_network(settings.sandbox_network.internal_subnet)
    part = next(subnet.subnets(new_prefix=subnet.prefixlen + 1))
    host.check_output(f"ip route add {part} dev eth0")
    try:
        found = diagnose(tmp_path)
        assert found and found[0].id == "route_overlaps_docker_network", [f.id for f in found]
        assert found[0].evidence["route"] == str(part) and found[0].evidence["interface"] == "eth0"
        # The deploy checks subnets at creation; it now also says so for a network that exists.
        code, _, err = converge(extra_group_vars=group_vars_overlay(tmp_path, PROXY_OVERLAY))
        assert code == 0, err
        assert f"overlaps host route {part} dev eth0" in err
        run_fix(host, found[0])
        assert "route_overlaps_docker_network" not in top_ids(tmp_path)
    finally:
        host.run(f"ip route del {part} dev eth0")


def test_dockerd_refusing_its_daemon_json_is_named_and_the_deploy_repairs_it(probe_host, converge, tmp_path):
    """Two breakages, one dead dockerd each: a managed key with a wrong type (the deploy writes it
    back, then starts dockerd) and an unmanaged key dockerd refuses with a managed one (iptables:
    false with icc: false: the deploy names file and key; the finding's own fix removes it)."""
    host = probe_host
    try:
        edit_daemon_json(host, lambda c: c.update(icc="no"))
        host.run("systemctl restart docker")
        found = diagnose(tmp_path)
        assert found[0].id == "docker_daemon_unreachable", [f.id for f in found]
        assert found[0].evidence["dockerd errors"], found[0].evidence
        assert "icc" in found[0].evidence["daemon.json keys named"], found[0].evidence
        code, _, err = converge(extra_group_vars=group_vars_overlay(tmp_path, PROXY_OVERLAY))
        assert code == 0, err
        assert "docker_daemon_unreachable" not in top_ids(tmp_path)

        edit_daemon_json(host, lambda c: c.update(iptables=False))
        host.run("systemctl restart docker")
        found = diagnose(tmp_path)
        assert found[0].id == "docker_daemon_unreachable", [f.id for f in found]
        assert "iptables" in found[0].title and "/etc/docker/daemon.json" in found[0].title, found[0].title
        code, _, err = converge(extra_group_vars=group_vars_overlay(tmp_path, PROXY_OVERLAY))
        assert code != 0
        assert '/etc/docker/daemon.json: "iptables": false with "icc": false' in err, err[-3000:]
        run_fix(host, found[0])
        assert "docker_daemon_unreachable" not in top_ids(tmp_path)
    finally:
        edit_daemon_json(host, lambda c: (c.pop("iptables", None), c.update(icc=False)))
        host.run("systemctl reset-failed docker; systemctl restart docker")
        converge_probe_world(converge, tmp_path)


def test_daemon_settings_that_switch_off_networking_are_named_while_dockerd_runs(probe_host, converge, tmp_path):
    host = probe_host
    try:
        edit_daemon_json(host, lambda c: c.update({"ip-masq": False, "ip-forward": False}))
        host.check_output("systemctl restart docker")
        found = diagnose(tmp_path)
        assert found[0].id == "docker_networking_disabled", [f.id for f in found]
        assert '"ip-masq": false' in found[0].title and '"ip-forward": false' in found[0].title
        run_fix(host, found[0])
        assert "docker_networking_disabled" not in top_ids(tmp_path)
    finally:
        edit_daemon_json(host, lambda c: (c.pop("ip-masq", None), c.pop("ip-forward", None)))
        converge_probe_world(converge, tmp_path)


def test_loopback_stub_resolver_is_named_and_its_upstreams_fix_container_dns(probe_host, converge, tmp_path):
    """systemd-resolved's arrangement: 127.0.0.53 in resolv.conf (a stub answering the host), the
    real upstream in /run/systemd/resolve/resolv.conf; Docker hands containers public resolvers,
    which this "corporate network" drops (inside the test host: nothing leaves it)."""
    host, address = probe_host, _instances()[0]["address"]
    block = [f"iptables -I DOCKER-USER -p {proto} --dport 53 ! -d {address} -j DROP" for proto in ("udp", "tcp")]
    try:
        host.check_output("systemctl reset-failed sbx-diag-stub 2>/dev/null; "
                          f"systemd-run --unit sbx-diag-stub python3 /run/sbx-diag-dns.py {PROBE_NAME} 127.0.0.53")
        host.check_output("mkdir -p /run/systemd/resolve")
        write_file(host, "/run/systemd/resolve/resolv.conf", RESOLV["probe"])
        write_file(host, "/etc/resolv.conf", "nameserver 127.0.0.53\n")
        for rule in block:
            host.check_output(rule)
        found = diagnose(tmp_path)
        assert found[0].id == "loopback_stub_resolver", [f.id for f in found]
        assert found[0].permanent == {"docker_daemon.dns": [address]}
        assert not any(ns in json.dumps(found[0].fix) for ns in ("8.8.8.8", "127.0.0.53"))
        converge_probe_world(converge, tmp_path, {"docker_daemon.dns": found[0].permanent["docker_daemon.dns"]})
        after = diagnose(tmp_path)
        assert "loopback_stub_resolver" not in [f.id for f in after] and "container_dns_failing" not in [f.id for f in after]
    finally:
        for rule in block:
            host.run(rule.replace(" -I ", " -D "))
        host.run("systemctl stop sbx-diag-stub; rm -f /run/systemd/resolve/resolv.conf")
        write_file(host, "/etc/resolv.conf", RESOLV["probe"])
        set_daemon_dns(host, [])
        host.check_output("systemctl restart docker")
        converge_probe_world(converge, tmp_path)
        restart_proxy(host)


def test_dead_proxy_in_a_foreign_dropin_is_named_and_the_deploy_warns(probe_host, converge, tmp_path):
    host = probe_host
    try:
        host.check_output(f"mkdir -p {DROPIN_DIR}")
        write_file(host, FOREIGN_DROPIN, f'[Service]\nEnvironment="HTTP_PROXY={DEAD_PROXY}" "HTTPS_PROXY={DEAD_PROXY}" '
                                         '"NO_PROXY=localhost,127.0.0.1"\n')
        host.check_output("systemctl daemon-reload && systemctl restart docker")
        # As after the other dockerd restarts of this file: the egress proxy's DNS upstream follows
        # the test host's resolv.conf as it is now (in the last full run its CONNECT probe failed
        # right after this restart and outranked the cause; the same open question as
        # daemon_proxy_missing's expected failure, issue 13).
        restart_proxy(host)
        found = diagnose(tmp_path)
        assert found[0].id == "daemon_proxy_unreachable", [f.id for f in found]
        assert FOREIGN_DROPIN in found[0].title
        code, _, err = converge(extra_group_vars=group_vars_overlay(tmp_path, PROXY_OVERLAY))
        assert code == 0, err
        assert f"{FOREIGN_DROPIN} is not written by sandbox-host and sets HTTP_PROXY, HTTPS_PROXY, NO_PROXY" in err
        run_fix(host, found[0])
        assert not {"daemon_proxy_unreachable", "dockerd_dropin_not_owned"} & set(top_ids(tmp_path))
    finally:
        host.run(f"rm -f {FOREIGN_DROPIN}; systemctl daemon-reload; systemctl restart docker")
        converge_probe_world(converge, tmp_path)


def test_root_gather_without_user_variable_claims_nothing_unchecked(probe_host, tmp_path):
    """`docker exec` (pyinfra's @docker connector) runs as root with $USER unset."""
    out = tmp_path / "exec"
    done = subprocess.run([sys.executable, "-m", "sandbox_host.diagnose", "gather", f"@docker/{_instances()[0]['instance']}",
                           "--out", str(out), "--no-container-probes"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(next(out.glob("*.json")).read_text())
    assert data["connection"]["uid"] == 0
    assert not [note for note in rules.not_checked(data) if "gathered as" in note]

