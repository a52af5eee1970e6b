"""dockerd's proxy environment: what the running dockerd has is exactly the settings' values, and
nothing (no drop-in, no variable) when no proxy is set. Default scenario: the off state;
corporate-proxy and vm: a proxy (corporate-proxy's carries credentials that need escaping)."""

import shlex

import pytest

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")


def wanted_environment(proxy):
    """Written out here, not taken from the role: each setting and the variable dockerd reads."""
    wanted = {"HTTP_PROXY": proxy.http_proxy, "HTTPS_PROXY": proxy.https_proxy}
    wanted = {key: value for key, value in wanted.items() if value}
    if wanted and proxy.no_proxy:
        wanted["NO_PROXY"] = ",".join(proxy.no_proxy)
    return wanted


def dockerd_environment(host):
    pid = host.check_output("systemctl show docker --property MainPID --value")
    assert pid not in ("", "0"), "dockerd is not running"
    assignments = host.check_output(f"cat /proc/{pid}/environ").split("\0")
    return dict(line.split("=", 1) for line in assignments if line.split("=", 1)[0] in PROXY_VARIABLES)


def unit_environment(host):
    # systemd quotes (shell style) the words that need it: shlex reads them back.
    shown = host.check_output("systemctl show docker --property Environment --value")
    return dict(word.split("=", 1) for word in shlex.split(shown) if word.split("=", 1)[0] in PROXY_VARIABLES)


@pytest.fixture(scope="module")
def wanted(settings):
    return wanted_environment(settings.docker_proxy)


def test_dropin_present_exactly_when_a_proxy_is_set(host, settings, wanted):
    dropin = host.file(settings.docker_proxy.dropin_path)
    if wanted:
        assert dropin.exists and dropin.user == "root" and dropin.mode == 0o644
        assert settings.docker_proxy.dropin_path in host.check_output("systemctl show docker --property DropInPaths")
    else:
        assert not dropin.exists


def test_systemd_has_the_exact_values(host, wanted):
    assert unit_environment(host) == wanted


def test_running_dockerd_has_the_exact_values(host, wanted):
    assert dockerd_environment(host) == wanted
