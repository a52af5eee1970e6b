"""dockerd behind a corporate HTTP proxy (issue 4): the registry is reachable only through it.

Runs in the corporate-proxy Molecule scenario, whose lab (molecule/corporate-proxy/lab.yml)
puts the test host on an internal network with Squid, and the registry on another network
behind Squid. Skipped anywhere else.

    molecule test -s corporate-proxy
"""

import os
import subprocess
from pathlib import Path

import pytest
import yaml


def _lab():
    scenario = os.environ.get("MOLECULE_SCENARIO_DIRECTORY")
    path = Path(scenario, "lab.yml") if scenario else None
    return yaml.safe_load(path.read_text()) if path and path.is_file() else None


LAB = _lab()
pytestmark = [
    pytest.mark.corporate_proxy,
    pytest.mark.skipif(LAB is None, reason="needs the corporate-proxy scenario's lab (molecule/corporate-proxy/lab.yml)"),
]

if LAB:
    REGISTRY = f"{LAB['registry_name']}:{LAB['registry_port']}"
    PROBE = f"{REGISTRY}/{LAB['probe_repository']}:{LAB['probe_tag']}"
    MANIFEST_URL = f"http://{REGISTRY}/v2/{LAB['probe_repository']}/manifests/"
# A direct pull tries HTTPS then HTTP, each until dockerd's 30 s dial timeout: bound it above that.
PULL_TIMEOUT = 150


@pytest.fixture(scope="module")
def proxy(settings):
    if not settings.docker_proxy.http_proxy:
        pytest.skip("the scenario's settings give dockerd no proxy")
    return settings.docker_proxy.http_proxy


@pytest.fixture(scope="module")
def host_addresses(host):
    return set(host.check_output("hostname -I").split())


def squid_log() -> list[list[str]]:
    """Squid's access log (native format), one list of fields per request."""
    out = subprocess.run(
        ["docker", "exec", LAB["squid_container"], "cat", "/var/log/squid/access.log"],
        capture_output=True, text=True, check=True,
    ).stdout
    return [line.split() for line in out.splitlines() if line.strip()]


def manifest_requests(lines, clients):
    """(result code, URL) of each request for the probe's manifest from one of ``clients``."""
    # native format: time elapsed client code/status bytes method URL ...
    return [(f[3], f[6]) for f in lines if f[2] in clients and f[6].startswith(MANIFEST_URL)]


def remove_probe(host):
    if host.run(f"docker image inspect {PROBE}").rc == 0:
        host.check_output(f"docker rmi {PROBE}")


def pull(host):
    return host.run(f"timeout {PULL_TIMEOUT} docker pull {PROBE}")


def test_registry_answers_through_the_proxy_and_not_directly(host, proxy):
    direct = host.run(f"curl --noproxy '*' -sS -m 5 -o /dev/null http://{LAB['registry_ip']}:{LAB['registry_port']}/v2/")
    # 28: timed out (Docker drops what the internal bridge forwards); 7: refused. Not DNS, not HTTP.
    assert direct.rc in (7, 28), direct.stderr
    by_name = host.run(f"curl --noproxy '*' -sS -m 5 -o /dev/null http://{REGISTRY}/v2/")
    assert by_name.rc in (7, 28), by_name.stderr
    # The same request through the proxy: the registry is up, only the direct path is closed.
    status = host.check_output(f"curl -sS -m 10 -x {proxy} -o /dev/null -w '%{{http_code}}' http://{REGISTRY}/v2/")
    assert status == "200"


def test_pull_goes_through_the_proxy(host, proxy, host_addresses):
    remove_probe(host)
    before = len(squid_log())
    done = pull(host)
    assert done.rc == 0, done.stderr
    label = host.check_output(f"docker image inspect --format '{{{{index .Config.Labels \"{LAB['probe_label']}\"}}}}' {PROBE}")
    assert label == "corporate-proxy"
    requests = manifest_requests(squid_log()[before:], host_addresses)
    assert requests and all(code.endswith("/200") for code, _ in requests), requests


@pytest.mark.mutates
def test_without_the_dropin_pull_fails_and_works_again_with_it(host, proxy, host_addresses, converge, tmp_path):
    # A group_vars layer that unsets the proxy: the deploy removes the drop-in and restarts dockerd.
    (tmp_path / "all.yml").write_text("docker_proxy:\n  http_proxy: null\n  https_proxy: null\n")
    rc, changed, stderr = converge(extra_group_vars=tmp_path)
    try:
        assert rc == 0, stderr
        assert any("Remove dockerd's proxy drop-in" in op for op in changed), changed
        assert "HTTP_PROXY" not in host.check_output("systemctl show docker --property Environment")

        remove_probe(host)
        before = len(squid_log())
        done = pull(host)
        assert done.rc != 0, "pulled without the proxy: the registry is reachable directly"
        assert done.rc != 124, f"docker pull still hung after {PULL_TIMEOUT}s"
        # dockerd went for the registry directly (its name resolves) and timed out: the route is
        # blocked, the failure is not a lookup or an HTTP error.
        error = done.stderr.lower()
        assert f"http://{REGISTRY}/v2/" in error and ("timeout" in error or "deadline exceeded" in error), done.stderr
        assert "no such host" not in done.stderr
        assert host.run(f"docker image inspect {PROBE}").rc != 0
        assert manifest_requests(squid_log()[before:], host_addresses) == []
    finally:
        rc, changed, stderr = converge()
    assert rc == 0, stderr
    assert any("Write dockerd's proxy drop-in" in op for op in changed), changed

    before = len(squid_log())
    done = pull(host)
    assert done.rc == 0, done.stderr
    assert manifest_requests(squid_log()[before:], host_addresses)
