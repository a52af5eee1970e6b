"""egress_proxy.upstream_proxy: allowed names go through the corporate proxy (cache_peer parent,
never_direct); refused names never get there; credentials never reach squid.conf (the image)."""

import shutil
import subprocess

import pytest
from pydantic import ValidationError

from sandbox_host.roles.egress_proxy import squid
from sandbox_host.roles.egress_proxy.settings import EgressProxySettings


def conf(**settings):
    return squid.render(EgressProxySettings(**settings), 3128, "172.30.0.0/24")


def test_no_upstream_no_peer():
    text = conf()
    assert "cache_peer" not in text and "never_direct" not in text


def test_upstream_becomes_the_only_way_out_for_allowed_names():
    text = conf(upstream_proxy="http://proxy.corp.example:8080")
    lines = text.splitlines()
    assert "cache_peer proxy.corp.example parent 8080 0 no-query no-digest no-netdb-exchange default name=upstream" in lines
    assert lines.index("cache_peer_access upstream allow allowed_domains") < lines.index("cache_peer_access upstream deny all")
    assert "never_direct allow all" in lines
    # Refusals come first: denied/unlisted names are answered 403 before any forwarding decision.
    assert lines.index("http_access deny all") < lines.index("never_direct allow all")
    # Every decision is still logged as JSON.
    assert "access_log stdio:/dev/stdout logformat=sandbox_json" in lines


def test_ipv6_upstream():
    text = conf(upstream_proxy="http://[fd00::1]:3128")
    assert "cache_peer fd00::1 parent 3128 0" in text


def test_empty_allowlist_needs_no_peer():
    assert "cache_peer" not in conf(upstream_proxy="http://proxy.corp.example:8080", allowed_domains=[])


@pytest.mark.parametrize("url, why", [
    ("http://user:secret@proxy.corp.example:8080", "credentials"),
    ("https://proxy.corp.example:8443", "http://"),
    ("socks5://proxy.corp.example:1080", "http://"),
    ("http://proxy.corp.example:8080/path", "only scheme, host and port"),
    ("http://proxy corp:8080", "U\\+0020"),
    ("http://proxy.corp.example:8080\ncache_peer evil parent 1 0", "."),
])
def test_bad_upstreams_are_refused(url, why):
    with pytest.raises(ValidationError, match=why):
        EgressProxySettings(upstream_proxy=url)


@pytest.mark.skipif(not shutil.which("squid"), reason="squid is not installed here")
def test_squid_parses_it(tmp_path):
    path = tmp_path / "squid.conf"
    path.write_text(conf(upstream_proxy="http://proxy.corp.example:8080"))
    subprocess.run(["squid", "-k", "parse", "-f", str(path)], check=True, capture_output=True)
