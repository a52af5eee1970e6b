"""Kernel network settings: one file under /etc/sysctl.d, applied live with `sysctl -p FILE`;
TCP MSS clamping of the Docker and sandbox bridges (mss.py)."""

from io import StringIO

from pyinfra import host
from pyinfra.api import StringCommand, deploy, operation
from pyinfra.facts.server import Sysctl
from pyinfra.operations import files

from sandbox_host.roles.host_network.mss import mss_clamping
from sandbox_host.roles.host_network.settings import HostNetworkSettings

IPV6_KEYS = ("net.ipv6.conf.all.disable_ipv6", "net.ipv6.conf.default.disable_ipv6")


def wanted_sysctls(settings: HostNetworkSettings) -> dict[str, int | str]:
    values: dict[str, int | str] = {
        "net.ipv4.ip_forward": int(settings.ip_forward),
        "net.ipv4.tcp_keepalive_time": settings.tcp_keepalive_time,
        "net.ipv4.tcp_keepalive_intvl": settings.tcp_keepalive_intvl,
        "net.ipv4.tcp_keepalive_probes": settings.tcp_keepalive_probes,
    }
    for key in IPV6_KEYS:
        values[key] = int(settings.disable_ipv6)
    values.update(settings.extra)
    return values


def render(values: dict) -> str:
    body = "".join(f"{key} = {value}\n" for key, value in values.items())
    return "# Managed by sandbox-host (group_vars: host_network). Edits are overwritten.\n" + body


def _same(live, wanted) -> bool:
    if isinstance(live, list):
        return [str(v) for v in live] == str(wanted).split()
    return str(live) == str(wanted)


@operation()
def apply_file(path: str, values: dict):
    """`sysctl -p path` when a live value differs from the file (only this file: never --system)."""
    live = host.get_fact(Sysctl, keys=list(values))
    differing = [key for key, value in values.items() if not _same(live.get(key), value)]
    if differing:
        yield StringCommand("sysctl", "-p", path)
    else:
        host.noop(f"live sysctls match {path}")


@deploy("Host network")
def host_network(settings: HostNetworkSettings, bridges: list[str] | None = None):
    """Sysctls, then MSS clamping of forwarded connections from/to ``bridges`` (docker0 and the
    sandbox's; Docker's br-* networks are always included)."""
    values = wanted_sysctls(settings)
    if not host.get_fact(Sysctl, keys=list(IPV6_KEYS)):
        # A kernel without IPv6 (ipv6.disable=1) has no such keys: there is nothing to turn off,
        # and `sysctl -p` would fail on them.
        values = {k: v for k, v in values.items() if k not in IPV6_KEYS}
    persisted = files.put(
        name=f"Persist network sysctls in {settings.sysctl_file}",
        src=StringIO(render(values)),
        dest=settings.sysctl_file,
        user="root",
        group="root",
        mode="644",
    )
    applied = apply_file(name="Apply network sysctls now", path=settings.sysctl_file, values=values)
    clamping = mss_clamping(settings, bridges if bridges is not None else ["docker0"])
    return persisted, applied, *clamping
