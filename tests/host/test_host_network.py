"""The network sysctls: persisted in their file and live, with the values written out here (which
setting feeds which key), not computed by the role."""

import pytest

from expected import wanted_sysctls as wanted
HEADER = "# Managed by sandbox-host (group_vars: host_network). Edits are overwritten.\n"


def test_sysctl_file_persists_the_settings(host, settings):
    f = host.file(settings.host_network.sysctl_file)
    assert f.user == "root" and f.mode == 0o644
    assert f.content_string == HEADER + "".join(f"{key} = {value}\n" for key, value in wanted(host, settings).items())


def test_live_values_match(host, settings):
    live = {key: str(host.sysctl(key)) for key in wanted(host, settings)}
    assert live == {key: str(value) for key, value in wanted(host, settings).items()}


def test_forwarding_on(host):
    assert host.sysctl("net.ipv4.ip_forward") == 1


def test_ipv6_as_configured(host, settings):
    if not host.file("/proc/sys/net/ipv6").exists:
        pytest.skip("this kernel has no IPv6")
    global_addresses = host.check_output("ip -6 -o addr show scope global")
    if settings.host_network.disable_ipv6:
        assert global_addresses == ""
        assert host.sysctl("net.ipv6.conf.all.disable_ipv6") == 1
    else:
        # Left on: the deploy wrote 0, and the host keeps its IPv6 stack (loopback's ::1 at least).
        assert host.sysctl("net.ipv6.conf.all.disable_ipv6") == 0
        assert "::1/128" in host.check_output("ip -6 -o addr show dev lo")
