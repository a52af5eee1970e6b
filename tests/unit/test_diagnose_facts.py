"""diagnose facts: commands stay read-only and exit 0, outputs (captured from real hosts) parse to
the report's shape, and a missing tool reads as "absent" instead of failing the host."""

import socket
import subprocess
import threading
from pathlib import Path

import pytest

from sandbox_host.diagnose import forwarding, gather, procnet
from sandbox_host.diagnose.facts import ABSENT, docker, environment, network, probes
from sandbox_host.roles.firewall import facts as firewall_facts

# /proc/net/route and /proc/net/ipv6_route as captured on this project's dev machine.
ROUTE = """Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
eth0	00000000	010200C0	0003	0	0	0	00000000	0	0	0
docker0	000011AC	00000000	0001	0	0	0	0000FFFF	0	0	0
eth0	000200C0	00000000	0001	0	0	0	00FFFFFF	0	0	0""".splitlines()
IPV6_ROUTE_WITH_DEFAULT = [
    "fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0",
    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000001 00000000 00000003     eth0",
    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo",
]
# No IPv6 default route: the kernel lists an unreachable ::/0 on lo, which is not a route.
IPV6_ROUTE_NONE = IPV6_ROUTE_WITH_DEFAULT[2:]
IF_INET6 = [
    "fd000000000000000000000000000002 04 40 00 80     eth0",
    "fe8000000000000000fc00fffe000001 04 40 20 80     eth0",
    "20010db8000000000000000000000002 04 40 00 80     eth0",
    "00000000000000000000000000000001 01 80 10 80       lo",
]


def test_default_routes_from_proc():
    assert procnet.default_route_v4(ROUTE) == {"interface": "eth0", "gateway": "192.0.2.1", "metric": 0}
    assert procnet.default_route_v6(IPV6_ROUTE_WITH_DEFAULT) == {"interface": "eth0", "gateway": "fd00::1", "metric": 1024}
    assert procnet.default_route_v6(IPV6_ROUTE_NONE) is None


def test_ipv6_address_kinds():
    kinds = [(a["address"], a["kind"]) for a in procnet.ipv6_addresses(IF_INET6)]
    assert kinds == [("fd00::2", "ula"), ("fe80::fc:ff:fe00:1", "link"), ("2001:db8::2", "global"), ("::1", "loopback")]


def test_network_state_fact_parses_its_own_sections():
    fact = network.NetworkState()
    output = (["##route"] + ROUTE + ["##ipv6_route"] + IPV6_ROUTE_NONE + ["##if_inet6"] + IF_INET6
              + ["##disable_ipv6", "0", "##links", "eth0 1400 up -", "docker0 1500 up -", "veth1 1500 up docker0"])
    state = fact.process(output)
    assert state["default_route_v4"]["interface"] == "eth0"
    assert state["default_route_v6"] is None and state["ipv6_disabled"] is False
    assert state["links"]["eth0"]["mtu"] == 1400
    assert state["links"]["veth1"]["master"] == "docker0"
    # Read from /proc and /sys only: no iproute2 on minimal hosts and images.
    assert "ip " not in fact.command()


def test_resolve_ok_failed_and_timeout():
    fact = network.Resolve()
    ok = fact.process(["160.79.104.10   STREAM api.anthropic.com", "160.79.104.10   DGRAM", "2607:6bc0::10 STREAM", "##RC=0"])
    assert ok == {"status": "ok", "addresses": ["160.79.104.10", "2607:6bc0::10"]}
    assert fact.process(["##RC=2"]) == {"status": "failed", "addresses": [], "error": "not found"}
    assert fact.process(["##RC=124"])["error"] == "timed out"
    assert fact.process([ABSENT]) == {"status": "absent"}


def test_refuses_shell_metacharacters_in_names():
    with pytest.raises(ValueError):
        network.Resolve().command("api.anthropic.com; rm -rf /")


def test_daemon_json_states():
    fact = docker.DaemonJson()
    assert fact.process(['{"mtu": 1450, "ipv6": false}']) == {"status": "ok", "content": {"mtu": 1450, "ipv6": False}}
    assert fact.process([ABSENT]) == {"status": "absent"}
    assert fact.process(['{"mtu": 1450,']) ["status"] == "invalid"


def test_unit_environment_parses_quoted_values_and_masks_passwords():
    fact = docker.DockerUnitEnvironment()
    out = fact.process([
        'Environment=HTTP_PROXY=http://user:s3cret@proxy:3128 "NO_PROXY=localhost,127.0.0.1" HTTPS_PROXY=http://proxy:3128 '
        'REGISTRY_TOKEN=abc123',
        "DropInPaths=/etc/systemd/system/docker.service.d/http-proxy.conf",
        "LoadState=loaded", "ActiveState=active",
    ])
    assert out["environment"] == {"HTTP_PROXY": "http://user:***@proxy:3128", "NO_PROXY": "localhost,127.0.0.1",
                                  "HTTPS_PROXY": "http://proxy:3128"}
    assert out["other_variables"] == ["REGISTRY_TOKEN"] and "abc123" not in str(out)
    assert out["dropins"] == ["/etc/systemd/system/docker.service.d/http-proxy.conf"]
    no_systemd = fact.process(["System has not been booted with systemd as init system (PID 1). Can't operate.", "##FAILED##"])
    assert no_systemd["status"] == "unavailable"
    assert fact.process([ABSENT]) == {"status": "absent"}


def test_proxy_environment_masks_passwords():
    out = environment.ProxyEnvironment().process(
        ["##shell", "https_proxy=http://bob:pw@proxy:8080", "##etc_environment", 'export HTTP_PROXY="http://proxy:3128"']
    )
    assert out == {"shell": {"https_proxy": "http://bob:***@proxy:8080"}, "etc_environment": {"HTTP_PROXY": "http://proxy:3128"}}


@pytest.mark.parametrize("line, date", [
    ("runsc version 0.0~20221219.0", "2022-12-19"),
    ("runsc version release-20240807.0", "2024-08-07"),
])
def test_runsc_release_date(line, date):
    assert docker.RunscVersion().process([line, "spec: 1.0.2-dev"])["release_date"] == date


def test_runtime_smoke_outcomes():
    fact = docker.RuntimeSmoke()
    assert fact.process(["##RC=0", ""]) == {"status": "ok"}
    failed = fact.process(["##RC=125", "docker: Error response from daemon: OCI runtime create failed: "
                           "cannot run with network enabled in root network namespace: unknown."])
    assert failed["status"] == "failed" and "root network namespace" in failed["error"]
    assert fact.process(["##NOIMAGE##"]) == {"status": "no-image"}
    assert "--pull never" in fact.command("runsc", "sandbox-host-base:bookworm")


def test_container_probe_parses_what_the_container_saw():
    out = probes.ContainerProbe().process(
        ["##resolv", "nameserver 10.255.255.53", "##getent", "127.0.0.1       STREAM localhost", "##resolve_rc", "0",
         "##route"] + ROUTE[:2] + ["##ipv6_route", "##if_inet6", "##disable_ipv6", "1", "##links", "eth0 1450 up -",
                                   "lo 65536 unknown -", "##docker_rc", "0"]
    )
    assert out["status"] == "ok"
    assert out["resolve"] == {"status": "ok", "addresses": ["127.0.0.1"]}
    assert out["resolv_conf"]["nameservers"] == ["10.255.255.53"]
    assert out["ipv6_disabled"] is True and out["links"]["eth0"]["mtu"] == 1450


def test_container_probe_dns_timeout_and_docker_failures():
    fact = probes.ContainerProbe()
    hung = fact.process(["##resolv", "nameserver 172.17.0.1", "##getent", "##resolve_rc", "124", "##links", "eth0 1500 up -", "##docker_rc", "0"])
    assert hung["resolve"] == {"status": "failed", "addresses": [], "error": "timed out"}
    assert fact.process(["##NOIMAGE##"]) == {"status": "no-image"}
    assert fact.process(["##docker_rc", "124"]) == {"status": "timed out"}
    failed = fact.process(["docker: Error response from daemon: failed to create endpoint", "##docker_rc", "125"])
    assert failed["status"] == "failed" and "failed to create endpoint" in failed["error"]
    assert "--pull never" in fact.command("img:tag", "api.anthropic.com")


def test_sandbox_proxy_probe():
    fact = probes.SandboxProxyProbe()
    assert fact.process([ABSENT]) == {"status": "absent"}
    ok = fact.process(["##connect", "ok", "##status", "HTTP/1.1 200 Connection established", "##docker_rc", "0"])
    assert ok == {"status": "ok", "proxy_reachable": True, "connect_status": 200, "connect_reply": "HTTP/1.1 200 Connection established"}
    refused = fact.process(["bash: connect: Connection refused", "##connect", "failed", "##docker_rc", "0"])
    assert refused["proxy_reachable"] is False and refused["connect_status"] is None


FIREWALL_FIXTURES = Path(__file__).parent / "fixtures" / "firewall"


def _captured(fact, name):
    # Outputs captured by the firewall role on real firewalld/UFW test hosts (see its README).
    return fact.process((FIREWALL_FIXTURES / name).read_text().splitlines())


def test_firewalld_summary_from_a_real_host():
    state = _captured(firewall_facts.FirewalldState(), "firewalld-debian12-docker-zone.txt")
    summary = gather.firewalld_summary(state, ["docker0", "sbx-egr0"])
    assert summary["status"] == "running"
    assert summary["zones"]["docker0"] == "docker" and summary["zone_targets"]["docker"] == "ACCEPT"
    # An interface bound to no zone is in the default zone.
    assert summary["zones"]["sbx-egr0"] == "public" and summary["bound"]["sbx-egr0"] is False
    stopped = _captured(firewall_facts.FirewalldState(), "firewalld-debian12-stopped.txt")
    assert gather.firewalld_summary(stopped, ["docker0"]) == {"status": "not running"}
    assert gather.firewalld_summary(None, ["docker0"]) == {"status": "absent"}


def test_ufw_summary_from_a_real_host():
    summary = gather.ufw_summary(_captured(firewall_facts.UfwStatus(), "ufw-debian12-active-route-rules.txt"))
    assert summary["status"] == "active"
    assert summary["defaults"] == {"incoming": "deny", "outgoing": "allow", "routed": "deny"}
    assert "route:allow any from 172.18.0.0/16 to 0.0.0.0/0 in docker0 out any" in summary["rules"]
    inactive = gather.ufw_summary(_captured(firewall_facts.UfwStatus(), "ufw-debian12-inactive.txt"))
    assert inactive["status"] == "inactive"
    assert gather.ufw_summary(None) == {"status": "absent"}


def test_nft_forward_chains_from_json():
    ruleset = ('{"nftables": [{"metainfo": {"json_schema_version": 1}},'
               '{"table": {"family": "inet", "name": "filter", "handle": 1}},'
               '{"chain": {"family": "inet", "table": "filter", "name": "forward", "handle": 2, "type": "filter", "hook": "forward", "prio": 0, "policy": "drop"}},'
               '{"chain": {"family": "inet", "table": "filter", "name": "input", "handle": 3, "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}},'
               '{"rule": {"family": "inet", "table": "filter", "chain": "forward", "handle": 4, "expr": ['
               '{"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "docker0"}}, {"accept": null}]}}]}')
    out = network.NftForwardChains().process([ruleset])
    assert out == {"status": "ok", "forward_chains": [{"family": "inet", "table": "filter", "chain": "forward", "policy": "drop",
                                                       "priority": 0, "rules": 1, "accepts_interfaces": ["docker0"]}]}
    assert network.NftForwardChains().process(["Error: Operation not permitted", "##FAILED##"])["status"] == "unavailable"


def test_every_fact_command_exits_zero_when_its_tool_is_missing():
    # pyinfra fails a host whose fact exits non-zero; absent tools must read as "absent" instead.
    for command in (docker.DockerUnitEnvironment().command(), network.NftForwardChains().command(),
                    docker.RunscVersion().command(), probes.ContainerProbe().command("img", "example.org")):
        assert command.rstrip().endswith("true"), command
        assert ABSENT in command


# -- the FORWARD walker ------------------------------------------------------------------------

DOCKER = [
    {"chain": "FORWARD", "jump": "DOCKER-USER"},
    {"chain": "FORWARD", "jump": "DOCKER-ISOLATION-STAGE-1"},
    {"chain": "FORWARD", "extras": ["--ctstate", "-m", "RELATED,ESTABLISHED", "conntrack"], "jump": "ACCEPT", "out_interface": "docker0"},
    {"chain": "FORWARD", "in_interface": "docker0", "jump": "ACCEPT", "not_out_interface": "docker0"},
    {"chain": "DOCKER-ISOLATION-STAGE-1", "in_interface": "docker0", "jump": "DOCKER-ISOLATION-STAGE-2", "not_out_interface": "docker0"},
    {"chain": "DOCKER-ISOLATION-STAGE-1", "jump": "RETURN"},
    {"chain": "DOCKER-ISOLATION-STAGE-2", "jump": "DROP", "out_interface": "docker0"},
    {"chain": "DOCKER-ISOLATION-STAGE-2", "jump": "RETURN"},
    {"chain": "DOCKER-USER", "jump": "RETURN"},
]
CHAINS = {"FORWARD": "DROP", "DOCKER-USER": "-", "DOCKER-ISOLATION-STAGE-1": "-", "DOCKER-ISOLATION-STAGE-2": "-"}


def paths(rules):
    table = {"filter": {"rules": rules, "chains": CHAINS}}
    return {k: (v.verdict, forwarding.rule_text(v.rule)) for k, v in forwarding.bridge_paths(table, "docker0", "172.17.0.0/16", "eth0").items()}


def test_walker_accepts_dockers_own_rules():
    assert paths(DOCKER) == {
        "outbound": ("ACCEPT", "-A FORWARD -i docker0 ! -o docker0 -j ACCEPT"),
        "replies": ("ACCEPT", "-A FORWARD -o docker0 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"),
    }


def test_walker_policy_decides_when_rules_are_gone():
    assert paths([]) == {"outbound": ("DROP", "(chain policy)"), "replies": ("DROP", "(chain policy)")}


def test_walker_follows_jumps_to_a_drop_in_docker_user():
    rules = [{"chain": "DOCKER-USER", "in_interface": "docker+", "jump": "REJECT"}] + DOCKER
    assert paths(rules)["outbound"] == ("REJECT", "-A DOCKER-USER -i docker+ -j REJECT")
    assert paths(rules)["replies"][0] == "ACCEPT"


def test_walker_skips_rules_it_cannot_model_and_says_so():
    rules = [{"chain": "DOCKER-USER", "extras": ["--match-set", "-m", "blocked", "set", "dst"], "jump": "DROP"}] + DOCKER
    table = {"filter": {"rules": rules, "chains": CHAINS}}
    verdict = forwarding.bridge_paths(table, "docker0", "172.17.0.0/16", "eth0")["outbound"]
    assert verdict.verdict == "ACCEPT" and len(verdict.unmodelled) == 1
    assert not forwarding.exact(rules[0])


def test_docker_permission_denied_is_not_a_dead_daemon():
    fact = docker.DockerServerAnswer()
    denied = fact.process(["permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: "
                           "Get \"http://%2Fvar%2Frun%2Fdocker.sock/v1.24/version\": dial unix /var/run/docker.sock: connect: permission denied",
                           "##RC=1"])
    assert denied["status"] == "permission denied"
    down = fact.process(["Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?", "##RC=1"])
    assert down["status"] == "unreachable"
    assert fact.process(["24.0.7", "##RC=0"]) == {"status": "ok", "version": "24.0.7"}


def test_proc_sys_fallback_reads_values_without_sysctl():
    fact = network.ProcSys()
    assert fact.process(["net.ipv4.ip_forward=1", "net.ipv6.conf.all.disable_ipv6=", "net.bridge.bridge-nf-call-iptables="]) == {
        "net.ipv4.ip_forward": 1}
    assert "/proc/sys/net/ipv4/ip_forward" in fact.command(keys=("net.ipv4.ip_forward",))


# -- the facts' programs (sandbox_host/diagnose/files), run here with a fake docker client ------

FAKE_DOCKER = Path(__file__).parent / "fixtures" / "fake-docker"


def run_here(command: str) -> list[str]:
    """A fact's command as pyinfra runs it (sh -c), on this machine; `docker run` runs here too."""
    result = subprocess.run(["sh", "-c", command], env={"PATH": f"{FAKE_DOCKER}:/usr/bin:/bin"},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_network_state_program_reads_this_machine():
    state = network.NetworkState().process(run_here(network.NetworkState().command()))
    assert state["links"]["lo"]["mtu"] == 65536


def test_container_probe_programs_run_and_parse():
    fact = probes.ContainerProbe()
    out = fact.process(run_here(fact.command("sandbox-host-base:bookworm", "localhost", timeout=10)))
    assert out["status"] == "ok", out
    assert out["resolve"]["status"] == "ok" and "127.0.0.1" in out["resolve"]["addresses"]
    assert out["links"]["lo"]["mtu"] == 65536


def test_sandbox_proxy_probe_program_talks_to_a_proxy(tmp_path):
    # A one-shot "proxy" on loopback that answers any CONNECT with 403.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def answer():
        connection, _ = server.accept()
        with connection:
            request = b""
            while not request.endswith(b"\r\n\r\n"):
                chunk = connection.recv(1024)
                if not chunk:
                    return
                request += chunk
            connection.sendall(b"HTTP/1.1 403 Forbidden\r\n\r\n")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    fact = probes.SandboxProxyProbe()
    port = server.getsockname()[1]
    out = fact.process(run_here(fact.command("img", "sbx-int", "127.0.0.1", port, "example.org:443", timeout=8)))
    thread.join(10)
    server.close()
    assert out == {"status": "ok", "proxy_reachable": True, "connect_status": 403, "connect_reply": "HTTP/1.1 403 Forbidden"}


def test_runtime_smoke_program_runs():
    fact = docker.RuntimeSmoke()
    assert fact.process(run_here(fact.command("runsc", "sandbox-host-base:bookworm"))) == {"status": "ok"}
