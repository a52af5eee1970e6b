from sandbox_host.roles.host_network.deploy import IPV6_KEYS, wanted_sysctls


def test_sysctl_file_persists_the_settings(host, settings):
    f = host.file(settings.host_network.sysctl_file)
    assert f.user == "root" and f.mode == 0o644
    for key, value in wanted_sysctls(settings.host_network).items():
        if key in IPV6_KEYS and not host.file("/proc/sys/net/ipv6").exists:
            continue
        assert f"{key} = {value}" in f.content_string


def test_live_values_match(host, settings):
    for key, value in wanted_sysctls(settings.host_network).items():
        if key in IPV6_KEYS and not host.file("/proc/sys/net/ipv6").exists:
            continue
        assert str(host.sysctl(key)) == str(value), key


def test_forwarding_on(host):
    assert host.sysctl("net.ipv4.ip_forward") == 1


def test_ipv6_off_when_configured(host, settings):
    if settings.host_network.disable_ipv6:
        assert host.run("ip -6 addr show scope global").stdout.strip() == ""
