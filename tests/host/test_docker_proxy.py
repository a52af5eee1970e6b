"""dockerd's proxy environment: what the running dockerd has is exactly the settings' values, and
nothing (no drop-in, no variable) when no proxy is set. Default scenario: the off state;
corporate-proxy and vm: a proxy (corporate-proxy's carries credentials that need escaping)."""

import pytest

from expected import PROXY_VARIABLES, dockerd_environment, unit_environment, wanted_environment


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
    assignments = [word.split("=", 1) for word in unit_environment(host)]
    assert {key: value for key, value in assignments if key in PROXY_VARIABLES} == wanted


def test_running_dockerd_has_the_exact_values(host, wanted):
    assert dockerd_environment(host) == wanted
