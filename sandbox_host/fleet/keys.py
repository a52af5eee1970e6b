"""Which group_vars key each operation of the deploy realises, and, where one operation owns
several keys (daemon.json, the sysctl file), which of them differ on the host.

Operation names are "<deploy> | <operation>" (the roles' @deploy and name= strings). The table is
checked by tests/unit/test_fleet.py against names the deploy planned on a test host.
"""

from __future__ import annotations

import json
import re

from pyinfra.facts.docker import DockerNetwork
from pyinfra.facts.files import FileContents
from pyinfra.facts.server import Sysctl

from sandbox_host.roles.docker_daemon import daemon_json
from sandbox_host.roles.docker_daemon.deploy import detect_mtu
from sandbox_host.roles.host_network.deploy import IPV6_KEYS, wanted_sysctls
from sandbox_host.roles.sandbox_network import operations as network_ops

# (regular expression on the operation's name, group_vars key), first match wins.
OPERATION_KEYS: list[tuple[str, str]] = [
    (r"^Docker engine \| Install Docker", "docker_engine.source"),
    (r"^Docker engine \|", "docker_engine.start"),
    (r"^Host network \| Persist network sysctls", "host_network.sysctl_file"),
    (r"^Host network \| Apply network sysctls", "host_network"),
    (r"^Firewall \|", "firewall"),
    (r"^gVisor runtime \|", "gvisor.source"),
    (r"^Docker daemon config \|", "docker_daemon"),
    (r"^Docker daemon proxy \|", "docker_proxy"),
    (r"^Docker daemon restart \| Apply daemon.json to docker0", "docker_daemon.mtu/icc/fixed_cidr (docker0)"),
    (r"^Docker daemon restart \|", "docker_daemon.restart_timeout"),
    (r"^Images: base image \|", "images.base_image"),
    (r"Smoke run under runsc", "gvisor.runtime_name"),
    (r"^Sandbox networks \| Internal network", "sandbox_network.internal_network"),
    (r"^Sandbox networks \| Egress network", "sandbox_network.egress_network"),
    (r"^Sandbox networks \| IPv\d: .* cannot reach host services", "sandbox_network.guard_host_input"),
    (r"^Sandbox networks \| Boot-time guard script", "sandbox_network.guard_script"),
    (r"^Sandbox networks \|", "sandbox_network.guard_host_input"),
    (r"^Egress proxy \| Image", "egress_proxy.image"),
    (r"^Egress proxy \| (No upstream peer|Folder of|Upstream peer)", "egress_proxy.upstream_peer_file"),
    (r"^Egress proxy \| Container", "egress_proxy.container_name"),
    (r"^Agent image \|", "agent.image_name"),
    (r"^Launcher \| agent-sandbox installed", "launcher.install_path"),
    (r"^Launcher \| Launcher configuration", "launcher.config_path"),
    (r"^Launcher \|", "launcher.build_context_dir"),
]

# daemon.json key -> the group_vars key it comes from (extra keys: docker_daemon.extra.<key>).
DAEMON_JSON_KEYS = {
    "ipv6": "docker_daemon.ipv6",
    "log-driver": "docker_daemon.log_driver",
    "log-opts": "docker_daemon.log_max_size/log_max_file",
    "live-restore": "docker_daemon.live_restore",
    "userland-proxy": "docker_daemon.userland_proxy",
    "no-new-privileges": "docker_daemon.no_new_privileges",
    "icc": "docker_daemon.icc",
    "dns": "docker_daemon.dns",
    "mtu": "docker_daemon.mtu",
    "fixed-cidr": "docker_daemon.fixed_cidr",
    "default-address-pools": "docker_daemon.default_address_pools",
    "runtimes": "gvisor (runtime registration)",
    "default-runtime": "gvisor.default_runtime",
}

# What differs in a sandbox network (roles/sandbox_network/operations.differing) -> the key that sets it.
NETWORK_KEYS = {
    "internal": {"bridge name": "sandbox_network.internal_bridge", "subnets": "sandbox_network.internal_subnet",
                 "IP range": "sandbox_network.dynamic_ip_range", "gateway": "sandbox_network.internal_subnet"},
    "egress": {"bridge name": "sandbox_network.egress_bridge", "subnets": "sandbox_network.egress_subnet"},
}

# sysctl -> host_network key.
SYSCTL_KEYS = {
    "net.ipv4.ip_forward": "host_network.ip_forward",
    "net.ipv4.tcp_keepalive_time": "host_network.tcp_keepalive_time",
    "net.ipv4.tcp_keepalive_intvl": "host_network.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes": "host_network.tcp_keepalive_probes",
    **{key: "host_network.disable_ipv6" for key in IPV6_KEYS},
}


def key_of(op_name: str) -> str | None:
    for pattern, key in OPERATION_KEYS:
        if re.search(pattern, op_name):
            return key
    return None


def daemon_json_differences(current_text: str | None, managed: dict) -> list[str]:
    """The managed daemon.json keys whose value on the host differs from the wanted one."""
    try:
        current = json.loads(current_text) if current_text and current_text.strip() else {}
    except json.JSONDecodeError:
        return ["docker_daemon.path (not valid JSON on the host)"]
    if not isinstance(current, dict):
        return ["docker_daemon.path (not a JSON object on the host)"]
    merged = daemon_json.merge(current, managed)
    keys = []
    for name in sorted(managed):
        if current.get(name) != merged.get(name):
            have = json.dumps(current[name]) if name in current else "absent"
            keys.append(DAEMON_JSON_KEYS.get(name, f"docker_daemon.extra.{name}")
                        + f" ({name}: {have} != {json.dumps(merged.get(name))})")
    return keys


def sysctl_differences(live: dict, wanted: dict) -> list[str]:
    keys = []
    for name, value in wanted.items():
        have = live.get(name)
        same = ([str(v) for v in have] == str(value).split()) if isinstance(have, list) else str(have) == str(value)
        if not same:
            keys.append(SYSCTL_KEYS.get(name, f"host_network.extra.{name}") + f" ({name}: {have} != {value})")
    return keys


def network_differences(host, settings, which: str) -> list[str]:
    """The keys behind a sandbox network that differs: what the network operation compares."""
    net = settings.sandbox_network
    internal = which == "internal"
    name = net.internal_network if internal else net.egress_network
    found = host.get_fact(DockerNetwork, object_id=name)
    if not found:
        return [f"sandbox_network.{which}_network ({name}: absent != present)"]
    mtu, _ = detect_mtu(settings.docker_daemon, bridges=[net.internal_bridge, net.egress_bridge])
    differing = network_ops.differing(
        found[0], net.internal_bridge if internal else net.egress_bridge,
        net.internal_subnet if internal else net.egress_subnet, internal, mtu,
        net.dynamic_range() if internal else None, net.bridge_ip() if internal else None,
    )
    keys = {"MTU": "docker_daemon.mtu", **NETWORK_KEYS[which]}

    def shown(value):  # one IPAM config per network: its value, not a list of one
        return json.dumps(value[0] if isinstance(value, list) and len(value) == 1 else value)

    return [f"{keys.get(what, f'sandbox_network.{which}_network')} ({what}: {shown(have)} != {shown(want)})"
            for what, (have, want) in differing.items()]


def details(host, settings, op_name: str) -> list[str] | None:
    """The exact keys behind a drifted operation that owns several, read from the facts the
    operation itself already gathered (pyinfra caches them: no extra command)."""
    if op_name.startswith("Docker daemon config |"):
        lines = host.get_fact(FileContents, path=settings.docker_daemon.path)
        text = "\n".join(lines) + "\n" if lines is not None else None
        managed = daemon_json.managed_options(settings.docker_daemon)
        if settings.gvisor.enabled:
            from sandbox_host.roles.gvisor.deploy import daemon_runtime_options

            managed.update(daemon_runtime_options(settings.gvisor)())
        return daemon_json_differences(text, managed)
    if op_name.startswith("Host network | Apply network sysctls"):
        wanted = wanted_sysctls(settings.host_network)
        live = host.get_fact(Sysctl, keys=list(IPV6_KEYS))
        if not live:
            wanted = {k: v for k, v in wanted.items() if k not in IPV6_KEYS}
        return sysctl_differences(host.get_fact(Sysctl, keys=list(wanted)), wanted)
    for which in ("internal", "egress"):
        if op_name.startswith(f"Sandbox networks | {which.capitalize()} network"):
            return network_differences(host, settings, which)
    return None
