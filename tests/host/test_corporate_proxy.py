"""dockerd behind a corporate HTTP proxy (issue 4): the registry is reachable only through it.

Runs in the corporate-proxy Molecule scenario, whose lab (molecule/corporate-proxy/lab.yml)
puts the test host on an internal network with Squid, and an HTTPS registry on another network
behind Squid. Skipped anywhere else.

    molecule test -s corporate-proxy
"""

import base64
import os
import re
import shlex
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pytest
import yaml

from expected import unit_environment


def _lab():
    scenario = os.environ.get("MOLECULE_SCENARIO_DIRECTORY")
    path = Path(scenario, "lab.yml") if scenario else None
    if not (path and path.is_file()):
        return None
    # The lab's Docker names carry the test prefix, as the plays render them.
    prefix = os.environ.get("SANDBOX_HOST_TEST_PREFIX") or "sbx"
    return yaml.safe_load(path.read_text().replace("{{ lab_prefix }}", prefix))


LAB = _lab()
pytestmark = [
    pytest.mark.corporate_proxy,
    pytest.mark.skipif(LAB is None, reason="needs the corporate-proxy scenario's lab (molecule/corporate-proxy/lab.yml)"),
]

if LAB:
    REGISTRY = f"{LAB['registry_name']}:{LAB['registry_port']}"
    PROBE = f"{REGISTRY}/{LAB['probe_repository']}:{LAB['probe_tag']}"
    # Where prepare put the lab CA; curl uses it as dockerd does.
    CA = f"/etc/docker/certs.d/{REGISTRY}/ca.crt"
    # The registry's access log: client - - [time] "METHOD /v2/<repo>/manifests/<ref> ..."
    MANIFEST_REQUEST = re.compile(rf'^(\S+) - - \[[^]]*\] "(?:GET|HEAD) /v2/{re.escape(LAB["probe_repository"])}/manifests/')
# The scenario's proxy (molecule/corporate-proxy/group_vars/all.yml), written out: a user name
# with a URL-encoded @ (systemd's specifier character) and a password with `$` (a shell's).
PROXY_URL = "http://lab%40corp:pa$$w0rd@proxy.corp.test:3128"
# What dockerd must send Squid for it: the decoded user and password, as HTTP Basic.
PROXY_AUTHORIZATION = "Basic " + base64.b64encode(b"lab@corp:pa$$w0rd").decode()
# A direct pull fails after dockerd's registry timeout (15 s measured); bound it well above that.
PULL_TIMEOUT = 150


@pytest.fixture(scope="module")
def proxy(settings):
    if not settings.docker_proxy.https_proxy:
        pytest.skip("the scenario's settings give dockerd no HTTPS proxy")
    return settings.docker_proxy.https_proxy


@pytest.fixture(scope="module")
def host_addresses(host):
    return set(host.check_output("hostname -I").split())


def container_output(*command) -> list[str]:
    """Lines a command run on this machine (docker exec/logs on a lab container) prints."""
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=True)
    return done.stdout.splitlines()


def squid_tunnels(clients, skip=0):
    """Result codes of Squid's CONNECTs to the registry from ``clients``, after ``skip`` lines."""
    lines = container_output("docker", "exec", LAB["squid_container"], "cat", "/var/log/squid/access.log")
    # native format: time elapsed client code/status bytes method URL ...
    fields = [line.split() for line in lines[skip:] if line.strip()]
    return len(lines), [f[3] for f in fields if f[2] in clients and f[5] == "CONNECT" and f[6] == REGISTRY]


def squid_credentials(clients, skip=0):
    """Proxy-Authorization header of each CONNECT to the registry from ``clients``, after ``skip`` lines."""
    lines = container_output("docker", "exec", LAB["squid_container"], "cat", "/var/log/squid/credentials.log")
    # credentials format (squid.conf.j2): client method URL header (two words: scheme, token)
    fields = [line.split(maxsplit=3) for line in lines[skip:] if line.strip()]
    # (Squid may %-encode a logged header's spaces.)
    return len(lines), [unquote(f[3]) for f in fields if f[0] in clients and f[1] == "CONNECT" and f[2] == REGISTRY]


def registry_manifest_clients(skip=0):
    """Client address of each request for the probe's manifest the registry served, after ``skip`` lines."""
    lines = container_output("docker", "logs", LAB["registry_container"])
    return len(lines), [m.group(1) for m in map(MANIFEST_REQUEST.match, lines[skip:]) if m]


def remove_probe(host):
    if host.run(f"docker image inspect {PROBE}").rc == 0:
        host.check_output(f"docker rmi {PROBE}")


def pull(host):
    return host.run(f"timeout {PULL_TIMEOUT} docker pull {PROBE}")


def test_dockerd_has_the_exact_proxy_url(host, settings):
    assert settings.docker_proxy.http_proxy == settings.docker_proxy.https_proxy == PROXY_URL
    wanted = [f"HTTP_PROXY={PROXY_URL}", f"HTTPS_PROXY={PROXY_URL}", "NO_PROXY=localhost,127.0.0.1,::1"]
    # systemd's view of the unit ...
    assert unit_environment(host) == wanted
    # ... and the environment the running dockerd really has.
    pid = host.check_output("systemctl show docker --property MainPID --value")
    environ = host.check_output(f"cat /proc/{pid}/environ").split("\0")
    assert [line for line in environ if line.split("=", 1)[0] in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")] == wanted


def test_registry_answers_through_the_proxy_and_not_directly(host, proxy):
    # 28: timed out (Docker drops what the internal bridge forwards); 7: refused. Not DNS, not TLS.
    for url in (f"https://{LAB['registry_ip']}:{LAB['registry_port']}/v2/", f"https://{REGISTRY}/v2/"):
        direct = host.run(f"curl --noproxy '*' --cacert {CA} -sS -m 5 -o /dev/null {url}")
        assert direct.rc in (7, 28), (url, direct.rc, direct.stderr)
    # The same request through the proxy: the registry is up, only the direct path is closed.
    status = host.check_output(f"curl -x {shlex.quote(proxy)} --cacert {CA} -sS -m 10 -o /dev/null -w '%{{http_code}}' https://{REGISTRY}/v2/")
    assert status == "200"


def test_pull_goes_through_the_proxy(host, proxy, host_addresses):
    remove_probe(host)
    squid_before, _ = squid_tunnels(host_addresses)
    credentials_before, _ = squid_credentials(host_addresses)
    registry_before, _ = registry_manifest_clients()
    done = pull(host)
    assert done.rc == 0, done.stderr
    label = host.check_output(f"docker image inspect --format '{{{{index .Config.Labels \"{LAB['probe_label']}\"}}}}' {PROBE}")
    assert label == "corporate-proxy"
    # The test host opened tunnels through Squid, and the registry saw the pull come from Squid.
    _, tunnels = squid_tunnels(host_addresses, squid_before)
    assert tunnels and all(code == "TCP_TUNNEL/200" for code in tunnels), tunnels
    # dockerd sent the URL's credentials, decoded exactly (%40 -> @, $$ kept).
    _, sent = squid_credentials(host_addresses, credentials_before)
    assert sent and set(sent) == {PROXY_AUTHORIZATION}, sent
    _, clients = registry_manifest_clients(registry_before)
    assert clients and set(clients) == {LAB["squid_registry_ip"]}, clients


@pytest.mark.mutates
def test_without_the_dropin_pull_fails_and_works_again_with_it(host, proxy, host_addresses, converge, tmp_path):
    # A group_vars layer that unsets the proxy: the deploy removes the drop-in and restarts dockerd.
    (tmp_path / "all.yml").write_text("docker_proxy:\n  http_proxy: null\n  https_proxy: null\n")
    rc, changed, stderr = converge(extra_group_vars=tmp_path)
    try:
        assert rc == 0, stderr
        assert any("Remove dockerd's proxy drop-in" in op for op in changed), changed
        assert "HTTPS_PROXY" not in host.check_output("systemctl show docker --property Environment")

        remove_probe(host)
        squid_before, _ = squid_tunnels(host_addresses)
        registry_before, _ = registry_manifest_clients()
        done = pull(host)
        assert done.rc != 0, "pulled without the proxy: the registry is reachable directly"
        assert done.rc != 124, f"docker pull still hung after {PULL_TIMEOUT}s"
        # dockerd went for the registry directly (its name resolves) and timed out: the route is
        # blocked; the failure is not a name lookup, a certificate or an HTTP error.
        error = done.stderr.lower()
        assert f"https://{REGISTRY}/v2/" in error and ("timeout" in error or "deadline exceeded" in error), done.stderr
        assert "no such host" not in error and "certificate" not in error, done.stderr
        assert host.run(f"docker image inspect {PROBE}").rc != 0
        assert squid_tunnels(host_addresses, squid_before)[1] == []
        assert registry_manifest_clients(registry_before)[1] == []
    finally:
        rc, changed, stderr = converge()
    assert rc == 0, stderr
    assert any("Write dockerd's proxy drop-in" in op for op in changed), changed
    # The deploy that wrote the credentials printed none of them.
    assert "pa$$w0rd" not in stderr and "lab%40corp" not in stderr and "lab@corp" not in stderr

    registry_before, _ = registry_manifest_clients()
    done = pull(host)
    assert done.rc == 0, done.stderr
    assert registry_manifest_clients(registry_before)[1]
