"""The egress proxy on this machine's Docker, grouped by threat: what must pass, what must be
refused, what is logged, how the container is confined, and that deploys are idempotent.

Converges @local with test-only names (tests/integration/sandbox_egress_harness.py). The "outside" is a
web server container the test starts on the egress network; nothing else is contacted.
"""

import json

import pytest

import sandbox_egress_harness as h

pytestmark = [pytest.mark.host, pytest.mark.skipif(h.docker_ready() is not None, reason=str(h.docker_ready()))]

PROXY_URL = f"http://{h.PROXY_IP}:{h.PROXY_PORT}"


@pytest.fixture(scope="module")
def env(request, tmp_path_factory):
    h.skip_unless_local(request.config)
    with h.exclusive():
        yield from _converge(tmp_path_factory)


def _converge(tmp_path_factory):
    h.teardown()
    try:
        group_vars = h.write_group_vars(tmp_path_factory.mktemp("gv"))
        first = h.deploy(group_vars)
        assert not h.failed(first), first["stderr"][-4000:]
        second = h.deploy(group_vars)
        web_ip = h.start_web_and_clients()
        yield {"first": first, "second": second, "web_ip": web_ip, "tmp": tmp_path_factory}
    finally:
        h.teardown()


def via_proxy(*curl_args):
    """(HTTP status, body) of a request from the internal network's client through the proxy."""
    run = h.sh("docker", "exec", h.CLIENT, "curl", "-s", "-m", "5", "-x", PROXY_URL,
               "-w", "\n%{http_code} %{http_connect}", *curl_args, check=False)
    body, _, codes = run.stdout.rpartition("\n")
    status, connect = codes.split()
    # A refused CONNECT (-p) leaves http_code at 000; the proxy's answer is in http_connect.
    return (connect if status == "000" else status), body


def proxy_log():
    """The proxy's access log: stdout of the container, one JSON object per line."""
    out = h.sh("docker", "logs", h.PROXY).stdout  # stdout only: Squid's own messages are on stderr
    return [json.loads(line) for line in out.splitlines() if line.strip()]


# Idempotence and the container's shape


def test_second_run_changes_nothing(env):
    assert not h.failed(env["second"]), env["second"]["stderr"][-3000:]
    assert env["second"]["results"]["totals"]["success"] == 0, h.changed(env["second"])


def test_proxy_container_is_confined(env):
    c = h.inspect("container", h.PROXY)
    assert c["State"]["Running"]
    assert c["Config"]["User"] == "proxy"
    assert c["HostConfig"]["CapDrop"] == ["ALL"] and not c["HostConfig"]["CapAdd"]
    assert "no-new-privileges" in c["HostConfig"]["SecurityOpt"]
    assert c["HostConfig"]["ReadonlyRootfs"] is True
    assert c["HostConfig"]["Privileged"] is False
    assert c["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    assert c["Image"] == h.inspect("image", f"{h.PROXY_IMAGE}:latest")["Id"]
    # Squid's processes run as the proxy user (uid 13), not root.
    top = h.sh("docker", "top", h.PROXY, "-o", "pid,uid,comm").stdout.splitlines()[1:]
    assert top and all(line.split()[1] == "13" for line in top), top


def test_proxy_sits_on_both_networks_at_the_fixed_ip(env):
    nets = h.inspect("container", h.PROXY)["NetworkSettings"]["Networks"]
    assert set(nets) == {h.INTERNAL, h.EGRESS}
    assert nets[h.INTERNAL]["IPAddress"] == h.PROXY_IP


def test_squid_starts_without_ipv6_in_its_namespace(env):
    # Docker turns IPv6 off in containers on non-IPv6 networks: the proxy runs anyway, IPv4 only.
    logs = h.sh("docker", "logs", h.PROXY).stderr
    assert "non-functional IPv6" in logs
    assert f"Accepting HTTP Socket connections at conn2 local=0.0.0.0:{h.PROXY_PORT}" in logs
    assert "FATAL" not in logs


def test_clients_over_ipv6_are_answered_where_ipv6_exists(env):
    """Seed 004: a client that reaches Squid over ::1 must find the port open."""
    name = "sbxtest-proxy-v6"
    h.remove_containers(name)
    h.sh("docker", "run", "-d", "--name", name, "--network", "none", "--read-only", "--tmpfs", "/tmp",
         "--cap-drop", "ALL", "--sysctl", "net.ipv6.conf.all.disable_ipv6=0",
         "--sysctl", "net.ipv6.conf.lo.disable_ipv6=0", f"{h.PROXY_IMAGE}:latest")
    try:
        answers = {}
        for address in ("::1", "127.0.0.1"):
            # Bounded retries while Squid starts.
            for _ in range(20):
                run = h.sh("docker", "exec", name, "bash", "-c",
                           f"exec 3<>/dev/tcp/{address}/{h.PROXY_PORT} && "
                           "printf 'GET http://x.sbx.test/ HTTP/1.0\\r\\n\\r\\n' >&3 && head -1 <&3", check=False)
                if run.returncode == 0:
                    break
                h.sh("sleep", "0.25")
            answers[address] = run.stdout.strip()
        # Both answered (403: loopback is not the sandbox's subnet, which is the point here).
        assert answers == {"::1": "HTTP/1.1 403 Forbidden", "127.0.0.1": "HTTP/1.1 403 Forbidden"}
    finally:
        h.remove_containers(name)


# What must pass


def test_allowed_name_over_plain_http(env):
    assert via_proxy(f"http://{h.ALLOWED}/") == ("200", "allowed-ok\n")


def test_allowed_name_through_connect_443(env):
    # -p: CONNECT allowed.sbx.test:443, then plain HTTP inside the tunnel (the test server speaks
    # plain HTTP on 443; the tunnel is what is under test).
    assert via_proxy("-p", f"http://{h.ALLOWED}:443/") == ("200", "allowed-ok\n")


def test_wildcard_allows_subdomains(env):
    assert via_proxy(f"http://{h.WILDCARD_HIT}/")[0] == "200"


# What must be refused


def test_name_not_on_the_allowlist_is_denied_and_logged(env):
    status, _ = via_proxy(f"http://{h.NOT_LISTED}/")
    assert status == "403"
    line = [e for e in proxy_log() if e["host"] == h.NOT_LISTED][-1]
    assert line["decision"] == "TCP_DENIED" and line["status"] == 403
    assert line["method"] == "GET" and line["client"].startswith("172.30.250.")
    assert set(line) == {"time", "client", "host", "port", "method", "status", "decision", "bytes"}


def test_denied_wins_over_allowed_wildcard(env):
    assert via_proxy(f"http://{h.DENIED_IN_WILDCARD}/")[0] == "403"
    assert via_proxy("-p", f"http://{h.DENIED_IN_WILDCARD}:443/")[0] == "403"


def test_raw_ip_is_refused(env):
    web_ip = env["web_ip"]
    assert via_proxy(f"http://{web_ip}/")[0] == "403"
    assert via_proxy("-p", f"http://{web_ip}:443/")[0] == "403"
    # Integer form of the same address.
    a, b, c, d = (int(x) for x in web_ip.split("."))
    assert via_proxy(f"http://{(a << 24) + (b << 16) + (c << 8) + d}/")[0] == "403"


def test_connect_to_other_ports_is_refused(env):
    assert via_proxy("-p", f"http://{h.ALLOWED}:80/")[0] == "403"
    assert via_proxy("-p", f"http://{h.ALLOWED}:22/")[0] == "403"


def test_plain_http_to_other_ports_is_refused(env):
    assert via_proxy(f"http://{h.ALLOWED}:443/")[0] == "403"


def test_no_way_around_the_proxy(env):
    # The web server is reachable from its own network ...
    ok = h.sh("docker", "exec", h.OUTSIDE_CLIENT, "curl", "-s", "-m", "3", f"http://{env['web_ip']}/", check=False)
    assert ok.stdout == "allowed-ok\n"
    # ... not from the internal one, directly.
    direct = h.sh("docker", "exec", h.CLIENT, "curl", "-s", "-m", "3", f"http://{env['web_ip']}/", check=False)
    assert direct.returncode != 0 and direct.stdout == ""


def test_only_the_internal_network_may_use_the_proxy(env):
    egress_ip = h.inspect("container", h.PROXY)["NetworkSettings"]["Networks"][h.EGRESS]["IPAddress"]
    run = h.sh("docker", "exec", h.OUTSIDE_CLIENT, "curl", "-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}",
               "-x", f"http://{egress_ip}:{h.PROXY_PORT}", f"http://{h.ALLOWED}/", check=False)
    assert run.stdout == "403"


# Logging


def test_every_log_line_is_json_even_for_hostile_requests(env):
    for request in ('GET http://a"b.sbx.test/ HTTP/1.0', 'CONNECT a\\"b:443 HTTP/1.0', 'garbage"\\'):
        h.sh("docker", "exec", h.CLIENT, "sh", "-c",
             f"printf '%s\\r\\n\\r\\n' '{request}' | busybox nc -w 3 {h.PROXY_IP} {h.PROXY_PORT}", check=False)
    entries = proxy_log()  # raises on any line that is not JSON
    assert any(e["host"] == 'a"b.sbx.test' for e in entries)


def test_allowed_name_resolving_to_a_private_address_is_refused(env):
    """The default deny_private_destinations: allowed.sbx.test resolves to the web server's
    private address (DNS rebinding, metadata service, the host at the egress bridge's IP)."""
    default = h.write_group_vars(
        env["tmp"].mktemp("gv-private"), {"egress_proxy": {**h.SETTINGS["egress_proxy"], "deny_private_destinations": True}}
    )
    try:
        result = h.deploy(default)
        assert not h.failed(result), result["stderr"][-3000:]
        statuses = []
        for _ in range(40):  # the recreated proxy takes a moment to listen; bounded
            statuses = [via_proxy(f"http://{h.ALLOWED}/")[0], via_proxy("-p", f"http://{h.ALLOWED}:443/")[0]]
            if "000" not in statuses:
                break
            h.sh("sleep", "0.25")
        assert statuses == ["403", "403"]
        line = [e for e in proxy_log() if e["host"] == h.ALLOWED][-1]
        assert line["decision"] == "TCP_DENIED"
    finally:
        # Back to the module's settings for the tests that follow.
        back = h.deploy(h.write_group_vars(env["tmp"].mktemp("gv-back")))
        assert not h.failed(back)


# Changes


def test_allowlist_change_recreates_the_proxy_and_takes_effect(env):
    before = h.inspect("container", h.PROXY)["Id"]
    assert via_proxy(f"http://{h.NOT_LISTED}/")[0] == "403"
    more = h.write_group_vars(
        env["tmp"].mktemp("gv-more"),
        {"egress_proxy": {**h.SETTINGS["egress_proxy"], "allowed_domains": [h.ALLOWED, "*.wild.sbx.test", h.NOT_LISTED]}},
    )
    result = h.deploy(more)
    assert not h.failed(result), result["stderr"][-3000:]
    assert any("Container" in name for name in h.changed(result))
    assert h.inspect("container", h.PROXY)["Id"] != before
    for _ in range(40):  # Squid takes a moment to listen; bounded
        if via_proxy(f"http://{h.NOT_LISTED}/")[0] == "200":
            break
        h.sh("sleep", "0.25")
    assert via_proxy(f"http://{h.NOT_LISTED}/")[0] == "200"
