"""`agent-sandbox doctor` in a sandbox whose DNS is blocked (queries dropped, not refused): it
reports the blocked name and the direct probe stopped at DNS, in a bounded time (printed, not
asserted: the issue measured 26 s before doctor bounded its lookups).

The sandbox's resolver is pointed at the test host's own docker0 address (a launcher configuration
copy with dns_servers), where an INPUT rule drops port 53: no query leaves the test host. Every
URL is a name under .test that the proxy refuses before any lookup.
"""

import json
import time

import pytest

from conftest import FAKE_KEY, write_file

pytestmark = [pytest.mark.mutates, pytest.mark.usefixtures("whole_sandbox")]

CONFIG = "/run/sbx-doctor-dns-blocked.json"
PROJECT = "/srv/sandbox-host-doctor-project"
TARGETS = ["--allowed-url", "https://doctor-allowed.sandbox.test/", "--denied-url", "https://doctor-denied.sandbox.test/",
           "--dns-name", "doctor-dns.sandbox.test"]


@pytest.fixture
def dns_blocked_sandbox(host, settings):
    """The long-lived sandbox, started with a resolver whose port 53 drops everything."""
    resolver = [a for a in host.interface("docker0").addresses if ":" not in a][0]
    config = json.loads(host.file(settings.launcher.config_path).content_string)
    config["dns_servers"] = [resolver]
    write_file(host, CONFIG, json.dumps(config))
    drops = [f"INPUT -d {resolver} -p {proto} --dport 53 -j DROP" for proto in ("udp", "tcp")]
    for rule in drops:
        host.check_output(f"iptables -w -I {rule}")
    host.check_output(f"mkdir -p {PROJECT}")
    try:
        started = host.run(f"ANTHROPIC_API_KEY={FAKE_KEY} agent-sandbox --config {CONFIG} start {PROJECT}")
        assert started.rc == 0, started.stderr
        yield settings.launcher.container_name
    finally:
        host.run(f"agent-sandbox --config {CONFIG} stop")
        for rule in drops:
            host.run(f"iptables -w -D {rule}")
        host.run(f"rm -f {CONFIG}")


def test_doctor_reports_blocked_dns_in_seconds(host, dns_blocked_sandbox):
    started = time.monotonic()
    done = host.run(f"agent-sandbox --config {CONFIG} doctor --json " + " ".join(TARGETS))
    seconds = time.monotonic() - started
    findings = {f["check"]: f for f in json.loads(done.stdout)}
    print(f"agent-sandbox doctor with DNS blocked: {seconds:.1f} s (exit {done.rc})")
    assert findings["dns_contained"]["result"] == "pass"
    assert findings["dns_contained"]["evidence"] == ("doctor-dns.sandbox.test does not resolve inside the sandbox "
                                                     "(the proxy resolves names)")
    assert findings["direct_blocked"]["result"] == "pass"
    assert "(stopped at DNS;" in findings["direct_blocked"]["evidence"], findings["direct_blocked"]
    # The proxy path does not depend on the sandbox's DNS: still refused and reached as usual.
    assert findings["proxy_reachable"]["result"] == "pass"
    assert findings["denied_refused"]["result"] == "pass"
    # What doctor bounds: a lookup without the resolver options waits out glibc's retries.
    started = time.monotonic()
    unbounded = host.run(f"docker exec {dns_blocked_sandbox} timeout 60 getent hosts doctor-dns.sandbox.test")
    print(f"getent in the sandbox without doctor's resolver options: {time.monotonic() - started:.1f} s "
          f"(exit {unbounded.rc})")
    assert unbounded.rc == 2  # not found (glibc gave up), not cut by the 60 s timeout (124)
