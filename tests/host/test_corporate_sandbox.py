"""The sandbox behind the corporate proxy (issue 11): the egress proxy reaches the outside only
through the lab's Squid, for allowed names only, with credentials of its own; the agent trusts
the corporate CA Squid re-signs TLS with.

Runs in the corporate-proxy scenario (molecule/corporate-proxy, lab.yml): the test host sits on
an internal network whose only way out is the lab's Squid (Basic auth, TLS inspection); the
registry (HTTPS, spliced) and the TLS server (HTTPS, re-signed) stand in for allowed servers.

- A bare client on the sandbox's internal network (the base image, bash only) asks the egress
  proxy for a CONNECT tunnel, then speaks plain HTTP into it: the registry's Go TLS server
  answers "Client sent an HTTP request to an HTTPS server", so the bytes reached it. The lab
  Squid's access log shows the tunnel, from the test host, as the egress proxy's account; a
  denied name is refused by the egress proxy and never shows there.
- The agent itself (`agent-sandbox run`): Node's https, curl and git reach the TLS server through
  egress proxy -> corporate proxy, and see a certificate the corporate CA signed (the only CA the
  deploy was told to trust: images.extra_ca_certificates). Without that CA the same request fails.
- The egress proxy's upstream password is in no image layer, no container's configuration, no
  agent environment and no deploy output.
"""

import base64
import json
import os
import shlex
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml

from conftest import FAKE_KEY


def _lab():
    scenario = os.environ.get("MOLECULE_SCENARIO_DIRECTORY")
    path = Path(scenario, "lab.yml") if scenario else None
    if not (path and path.is_file()):
        return None
    prefix = os.environ.get("SANDBOX_HOST_TEST_PREFIX") or "sbx"
    return yaml.safe_load(path.read_text().replace("{{ lab_prefix }}", prefix))


LAB = _lab()
pytestmark = [
    pytest.mark.corporate_proxy,
    pytest.mark.skipif(LAB is None, reason="needs the corporate-proxy scenario's lab (molecule/corporate-proxy/lab.yml)"),
]


@pytest.fixture(scope="module")
def sandbox(host, settings):
    if not (settings.egress_proxy.enabled and settings.egress_proxy.upstream_proxy):
        pytest.skip("the egress proxy has no upstream in this scenario")
    return settings


def squid_log() -> list[str]:
    done = subprocess.run(["docker", "exec", LAB["squid_container"], "cat", "/var/log/squid/access.log"],
                          capture_output=True, text=True, check=True)
    return done.stdout.splitlines()


def through_egress_proxy(host, settings, target: str) -> str:
    """A client on the internal network: CONNECT ``target`` via the egress proxy, then one HTTP
    request into the tunnel; returns what came back (bounded)."""
    net = settings.sandbox_network
    script = (
        f"exec 3<>/dev/tcp/{net.proxy_ip}/{net.proxy_port} || exit 9; "
        f"printf 'CONNECT {target} HTTP/1.1\\r\\nHost: {target}\\r\\n\\r\\n' >&3; "
        "sleep 2; printf 'GET /v2/ HTTP/1.0\\r\\n\\r\\n' >&3; timeout 10 cat <&3"
    )
    name = f"sbxtest-corp-client-{uuid.uuid4().hex[:8]}"
    out = host.run(
        f"timeout 60 docker run --rm --name {name} --network {net.internal_network} "
        f"{settings.images.base_image} bash -c {json.dumps(script)}"
    )
    return out.stdout


def test_allowed_name_goes_through_the_corporate_proxy(host, sandbox):
    target = f"{LAB['registry_name']}:{LAB['registry_port']}"
    before = len(squid_log())
    reply = through_egress_proxy(host, sandbox, target)
    assert "200" in reply.splitlines()[0], reply
    assert "Client sent an HTTP request to an HTTPS server" in reply, reply
    new = squid_log()[before:]
    tunnels = [line for line in new if f"CONNECT {target}" in line]
    assert tunnels, new
    # From the test host (the egress proxy's traffic leaves by the host's corp address).
    addresses = set(host.check_output("hostname -I").split())
    assert any(line.split()[2] in addresses for line in tunnels), (tunnels, addresses)


def test_denied_name_never_reaches_the_corporate_proxy(host, sandbox):
    before = len(squid_log())
    reply = through_egress_proxy(host, sandbox, f"denied.corp.test:{LAB['registry_port']}")
    assert "403" in reply.splitlines()[0], reply
    assert not [line for line in squid_log()[before:] if "denied.corp.test" in line]


def test_egress_proxy_logs_both_decisions(host, sandbox):
    logs = host.check_output(f"docker logs {sandbox.egress_proxy.container_name} 2>/dev/null")
    entries = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    hosts = {(e["host"], e["status"]) for e in entries}
    assert (LAB["registry_name"], 200) in hosts, entries[-5:]
    assert ("denied.corp.test", 403) in hosts, entries[-5:]


def test_no_direct_way_out_of_the_egress_network(host, sandbox):
    """The proxy's own network reaches the registry only through Squid: a direct connection fails."""
    net = sandbox.sandbox_network
    out = host.run(
        f"timeout 30 docker run --rm --network {net.egress_network} {sandbox.images.base_image} "
        f"timeout 8 bash -c 'exec 3<>/dev/tcp/{LAB['registry_ip']}/{LAB['registry_port']}'"
    )
    assert out.rc != 0


# The egress proxy's account at the corporate proxy (lab.yml proxy_accounts, URL-encoded in the
# scenario's group_vars), written out.
EGRESS_USER = "egress@corp"
EGRESS_PASSWORD = 'eg"re$$ s#w0rd'
EGRESS_PASSWORD_FORMS = (EGRESS_PASSWORD, "eg%22re$$%20s%23w0rd", "eg%22re%24%24%20s%23w0rd",
                         base64.b64encode(f"{EGRESS_USER}:{EGRESS_PASSWORD}".encode()).decode())
CORPORATE_CA = "sandbox-host corporate-proxy TLS inspection CA"
PROJECT = "/srv/sandbox-host-corporate-project"


@pytest.fixture(scope="module")
def agent(host, sandbox):
    if not (sandbox.agent.enabled and sandbox.launcher.enabled):
        pytest.skip("no agent image or launcher in this scenario")
    host.check_output(f"mkdir -p {PROJECT} && chown 1000:1000 {PROJECT}")
    return sandbox


def in_sandbox(host, script: str):
    """``script`` (sh) inside the sandbox, started as a user starts it (API key in the launcher's
    environment only)."""
    return host.run(f"ANTHROPIC_API_KEY={FAKE_KEY} timeout 180 agent-sandbox run {PROJECT} -- sh -c {shlex.quote(script)}")


def squid_requests(before: int, client_addresses: set[str]) -> list[list[str]]:
    """Squid's native log lines since ``before`` from the test host, split: time elapsed client
    code/status bytes method URL user hierarchy type."""
    return [line.split() for line in squid_log()[before:]
            if line.split() and line.split()[2] in client_addresses]


# Node: a CONNECT tunnel through $HTTPS_PROXY (Node's https does not read it), then https.get in
# it; prints status, the issuer's CN, the page. CA trust is Node's own (NODE_EXTRA_CA_CERTS).
NODE_GET = r"""
const http = require('http'), https = require('https');
const proxy = new URL(process.env.HTTPS_PROXY), target = process.argv[1];
http.request({host: proxy.hostname, port: proxy.port, method: 'CONNECT', path: target + ':443'})
  .on('connect', (res, socket) => {
    if (res.statusCode !== 200) { console.log('CONNECT ' + res.statusCode); process.exit(2); }
    https.get({host: target, path: process.argv[2], socket, agent: false}, (r) => {
      let body = ''; r.on('data', (d) => body += d);
      r.on('end', () => console.log(r.statusCode, '|', r.socket.getPeerCertificate().issuer.CN, '|', body.trim()));
    }).on('error', (e) => { console.log('TLS ' + (e.code || e.message)); process.exit(3); });
  }).on('error', (e) => { console.log('PROXY ' + e.message); process.exit(4); }).end();
"""


def node_get(host, path: str, without_ca: bool = False):
    unset = "unset NODE_EXTRA_CA_CERTS; " if without_ca else ""
    return in_sandbox(host, f"{unset}node -e {shlex.quote(NODE_GET)} {LAB['tls_server_name']} {path}")


def test_agent_node_reaches_the_tls_server_through_both_proxies(host, agent):
    addresses = set(host.check_output("hostname -I").split())
    before = len(squid_log())
    done = node_get(host, LAB["tls_server_page"])
    assert done.rc == 0, (done.stdout, done.stderr)
    # Re-signed by the corporate proxy: the agent saw the corporate CA, not the lab (origin) CA.
    assert done.stdout.strip().splitlines()[-1] == f"200 | {CORPORATE_CA} | {LAB['tls_server_page_text']}", done.stdout
    requests = squid_requests(before, addresses)
    name = LAB["tls_server_name"]
    # The tunnel (Squid 5 logs a CONNECT it bumps as NONE_NONE/200, one it splices as
    # TCP_TUNNEL/200) and the request Squid read out of it, both as the egress proxy's account.
    assert [r[3] for r in requests if r[5] == "CONNECT" and r[6] == f"{name}:443"] == ["NONE_NONE/200"], requests
    assert [r[3] for r in requests if r[5] == "GET" and r[6] == f"https://{name}{LAB['tls_server_page']}"] == ["TCP_MISS/200"], requests
    assert {r[7] for r in requests} == {EGRESS_USER}, requests


def test_agent_node_fails_without_the_corporate_ca(host, agent):
    done = node_get(host, LAB["tls_server_page"], without_ca=True)
    assert done.rc == 3, (done.stdout, done.stderr)
    assert done.stdout.strip().splitlines()[-1] in ("TLS UNABLE_TO_VERIFY_LEAF_SIGNATURE", "TLS SELF_SIGNED_CERT_IN_CHAIN",
                                                    "TLS UNABLE_TO_GET_ISSUER_CERT_LOCALLY"), done.stdout


def test_agent_curl_trusts_the_corporate_ca(host, agent):
    url = f"https://{LAB['tls_server_name']}{LAB['tls_server_page']}"
    done = in_sandbox(host, f"curl -sS -m 30 -w '\n%{{http_code}}\n' {url}; "
                            f"curl -sS -v -m 30 -o /dev/null {url} 2>&1 | grep -m1 'issuer:'")
    assert done.rc == 0, (done.stdout, done.stderr)
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert lines[:2] == [LAB["tls_server_page_text"], "200"], done.stdout
    assert CORPORATE_CA in lines[2], done.stdout


def test_agent_git_clones_over_https_through_both_proxies(host, agent):
    url = f"https://{LAB['tls_server_name']}{LAB['tls_server_repo']}"
    done = in_sandbox(host, f"git ls-remote {url} && git clone -q {url} /tmp/repo && git -C /tmp/repo log -1 --format=%s")
    assert done.rc == 0, (done.stdout, done.stderr)
    lines = done.stdout.strip().splitlines()
    assert lines[-1] == "corporate-proxy lab", done.stdout
    assert any(line.endswith("\trefs/heads/main") for line in lines), done.stdout


def test_agent_denied_name_stays_at_the_egress_proxy(host, agent):
    addresses = set(host.check_output("hostname -I").split())
    before = len(squid_log())
    done = in_sandbox(host, f"curl -sS -m 30 -o /dev/null -w '%{{http_connect}}' https://{LAB['denied_name']}/ ; echo \" rc=$?\"")
    # curl reports the proxy's refusal of the CONNECT: 403, exit 56.
    assert done.stdout.strip() == "403 rc=56", (done.stdout, done.stderr)
    assert not [r for r in squid_requests(before, addresses) if LAB["denied_name"] in r[6]]


def test_upstream_password_is_in_no_image_container_or_environment(host, agent):
    proxy = agent.egress_proxy
    peer_file = proxy.upstream_peer_file
    found = {
        "proxy image history": host.check_output(f"docker history --no-trunc {proxy.image}:latest"),
        "proxy image config": host.check_output(f"docker image inspect {proxy.image}:latest"),
        "proxy container": host.check_output(f"docker container inspect {proxy.container_name}"),
        "peer file in the image": host.check_output(
            f"docker run --rm --entrypoint cat {proxy.image}:latest /etc/squid/upstream-peer.conf"),
        "squid.conf in the image": host.check_output(
            f"docker run --rm --entrypoint cat {proxy.image}:latest /etc/squid/squid.conf"),
        "agent image": host.check_output(f"docker image inspect {agent.agent.image_name}:latest"),
        "agent environment": in_sandbox(host, "cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n'").stdout,
        "launcher config": host.check_output(f"cat {agent.launcher.config_path}"),
    }
    leaks = [where for where, text in found.items() for form in EGRESS_PASSWORD_FORMS if form in text]
    assert leaks == []
    assert found["peer file in the image"] == ""
    assert "HTTPS_PROXY=" in found["agent environment"]
    # The running proxy reads it from the host: a file only root can reach.
    mounted = host.check_output(f"docker exec {proxy.container_name} cat /etc/squid/upstream-peer.conf")
    assert "login=egress%40corp:eg%22re%24%24%20s%23w0rd" in mounted
    folder = host.file(os.path.dirname(peer_file))
    assert (folder.user, folder.group, folder.mode) == ("root", "root", 0o700)


@pytest.mark.mutates
def test_new_upstream_password_restarts_the_proxy_and_is_never_printed(host, sandbox, converge, tmp_path):
    """A password the corporate proxy does not know: the deploy restarts the egress proxy with
    it (the container's spec is unchanged), allowed requests now fail at the corporate proxy;
    the right one back, they work again. Neither password shows in the deploy's output."""
    wrong = "http://egress%40corp:not-the-password@10.213.2.20:3128"
    assert sandbox.egress_proxy.upstream_proxy != wrong
    (tmp_path / "all.yml").write_text(f"egress_proxy:\n  upstream_proxy: {wrong}\n")
    target = f"{LAB['registry_name']}:{LAB['registry_port']}"
    rc, changed, stderr = converge(extra_group_vars=tmp_path)
    outputs = [stderr]
    try:
        assert rc == 0, stderr
        assert any("restarted: its upstream peer changed" in op for op in changed), changed
        reply = through_egress_proxy(host, sandbox, target)
        assert "Client sent an HTTP request to an HTTPS server" not in reply, reply
    finally:
        rc, changed, stderr = converge()
        outputs.append(stderr)
    assert rc == 0, stderr
    assert any("restarted: its upstream peer changed" in op for op in changed), changed
    assert "Client sent an HTTP request to an HTTPS server" in through_egress_proxy(host, sandbox, target)
    assert not [form for form in (*EGRESS_PASSWORD_FORMS, "not-the-password") for text in outputs if form in text]
