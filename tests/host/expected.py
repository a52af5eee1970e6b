"""What a converged host must show, written out from the settings (which setting feeds which
key or variable) rather than computed by the roles under test. Shared by the checks of a
converged host and those after a reboot (test_reboot_persistence.py)."""

# What Docker uses when daemon.json names no MTU.
DOCKER_DEFAULT_MTU = 1500
IPV6_KEYS = ("net.ipv6.conf.all.disable_ipv6", "net.ipv6.conf.default.disable_ipv6")
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")


def wanted_sysctls(host, settings):
    s = settings.host_network
    values = {
        "net.ipv4.ip_forward": 1 if s.ip_forward else 0,
        "net.ipv4.tcp_keepalive_time": s.tcp_keepalive_time,
        "net.ipv4.tcp_keepalive_intvl": s.tcp_keepalive_intvl,
        "net.ipv4.tcp_keepalive_probes": s.tcp_keepalive_probes,
    }
    # A kernel without IPv6 has no such keys: nothing to persist or turn off.
    if host.file("/proc/sys/net/ipv6").exists:
        values.update({key: 1 if s.disable_ipv6 else 0 for key in IPV6_KEYS})
    return {**values, **s.extra}


def expected_mtu(host, settings) -> int:
    """The MTU docker0 and the sandbox networks get: docker_daemon.mtu; with ``auto`` the MTU of
    the test host's default-route interface (test hosts have no tunnel), read here without the
    detection code under test; unmanaged: Docker's default."""
    mtu = settings.docker_daemon.mtu
    if mtu == "auto":
        device = host.check_output("ip -4 route show default").split(" dev ", 1)[1].split()[0]
        return int(host.check_output(f"cat /sys/class/net/{device}/mtu"))
    return mtu or DOCKER_DEFAULT_MTU


def wanted_daemon_keys(d, mtu: int):
    """daemon.json keys and values the settings ``d`` (docker_daemon) ask for; ``mtu``: expected_mtu."""
    keys = {"ipv6": d.ipv6, "log-driver": d.log_driver, "live-restore": d.live_restore,
            "userland-proxy": d.userland_proxy, "no-new-privileges": d.no_new_privileges, "icc": d.icc}
    if d.dns:
        keys["dns"] = list(d.dns)
    if d.mtu is not None:
        keys["mtu"] = mtu
    if d.fixed_cidr:
        keys["fixed-cidr"] = d.fixed_cidr
    if d.default_address_pools:
        keys["default-address-pools"] = [{"base": p.base, "size": p.size} for p in d.default_address_pools]
    return {**keys, **d.extra}


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
    """docker.service's Environment= assignments as systemd has them. `systemctl show` quotes
    words the way a POSIX shell reads them ("...", with \\$ \\" \\\\ escaped): a shell unquotes them."""
    words = host.check_output('eval "set -- $(systemctl show docker --property Environment --value)" && printf "%s\\n" "$@"')
    return words.splitlines()
