"""egress_proxy.upstream_proxy: allowed names go through the corporate proxy (cache_peer parent,
never_direct); refused names never get there; credentials never reach squid.conf (the image):
the cache_peer line lives in the upstream peer file, mounted at run time."""

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
    settings = EgressProxySettings(upstream_proxy="http://proxy.corp.example:8080")
    lines = squid.render(settings, 3128, "172.30.0.0/24").splitlines()
    assert "include /etc/squid/upstream-peer.conf" in lines
    assert not [line for line in lines if line.startswith("cache_peer ")]
    assert lines.index("include /etc/squid/upstream-peer.conf") < lines.index("cache_peer_access upstream allow allowed_domains")
    assert lines.index("cache_peer_access upstream allow allowed_domains") < lines.index("cache_peer_access upstream deny all")
    assert "never_direct allow all" in lines
    # Refusals come first: denied/unlisted names are answered 403 before any forwarding decision.
    assert lines.index("http_access deny all") < lines.index("never_direct allow all")
    # Every decision is still logged as JSON.
    assert "access_log stdio:/dev/stdout logformat=sandbox_json" in lines
    assert squid.peer_conf(settings).splitlines()[1:] == [
        "cache_peer proxy.corp.example parent 8080 0 no-query no-digest no-netdb-exchange default name=upstream"]


def test_credentials_go_into_the_peer_file_only_encoded_for_squid():
    # The user's @ arrives URL-encoded (%40), as in docker_proxy; `$`, `#`, `"` and a space
    # (encoded) must reach Squid as data, never as squid.conf syntax or a ${macro}.
    settings = EgressProxySettings(upstream_proxy='http://egress%40corp:pa$$ w0rd#"x@proxy.corp.example:8080'
                                   .replace(" ", "%20").replace("#", "%23").replace('"', "%22"))
    peer = squid.peer_conf(settings).splitlines()[1]
    assert peer == ("cache_peer proxy.corp.example parent 8080 0 no-query no-digest no-netdb-exchange default "
                    "name=upstream login=egress%40corp:pa%24%24%20w0rd%23%22x")
    text = squid.render(settings, 3128, "172.30.0.0/24")
    assert "pa$$" not in text and "w0rd" not in text and "egress%40corp" not in text and "egress@corp" not in text


def test_peer_file_mounted_only_with_an_upstream():
    from sandbox_host.roles.egress_proxy.deploy import run_args
    settings = EgressProxySettings(upstream_proxy="http://u:p@proxy.corp.example:8080")
    assert run_args(settings)[0] == ("--mount=type=bind,source=/etc/sandbox-host/egress-proxy/upstream-peer.conf,"
                                     "target=/etc/squid/upstream-peer.conf,readonly")
    assert not [arg for arg in run_args(EgressProxySettings()) if arg.startswith("--mount")]
    assert not [arg for arg in run_args(settings) if "u:p" in arg]


def test_dockerfile_checks_the_config_with_a_stand_in_peer():
    with_peer = squid.dockerfile_variables(EgressProxySettings(upstream_proxy="http://u:p@proxy.corp.example:8080"), 3128)
    assert with_peer["peer_placeholder"].startswith("cache_peer 127.0.0.1 parent 3128 0")
    assert "u:p" not in str(with_peer)
    assert squid.dockerfile_variables(EgressProxySettings(), 3128)["peer_placeholder"] == ""


def test_empty_allowlist_needs_no_peer():
    settings = EgressProxySettings(upstream_proxy="http://proxy.corp.example:8080", allowed_domains=[])
    assert "cache_peer" not in squid.render(settings, 3128, "172.30.0.0/24")
    assert squid.peer_conf(settings) is None


@pytest.mark.parametrize("url, why", [
    ("http://:secret@proxy.corp.example:8080", "name a user"),
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
    settings = EgressProxySettings(upstream_proxy="http://u%40corp:pa$$w0rd@proxy.corp.example:8080")
    peer = tmp_path / "peer.conf"
    peer.write_text(squid.peer_conf(settings))
    path = tmp_path / "squid.conf"
    path.write_text(conf(upstream_proxy="http://proxy.corp.example:8080").replace(squid.PEER_CONF, str(peer)))
    subprocess.run(["squid", "-k", "parse", "-f", str(path)], check=True, capture_output=True)
