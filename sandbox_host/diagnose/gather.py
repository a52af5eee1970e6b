"""Collect one host's diagnosis report from pyinfra facts (read-only) and write it as JSON.

Two ways in, one collector (``gather_host``):
  sandbox-host diagnose gather INVENTORY --out reports/   (pyinfra API: connect, gather, write)
  pyinfra INVENTORY deploys/diagnose.py                       (pyinfra CLI: same report, per host)
"""

from __future__ import annotations

import json
import re
import time
from urllib.parse import urlsplit
from datetime import datetime, timezone
from pathlib import Path

from pyinfra.facts import docker as docker_facts
from pyinfra.facts import iptables as iptables_facts
from pyinfra.facts import server

from sandbox_host.diagnose.facts import docker as daemon_facts
from sandbox_host.diagnose.facts import environment, network, probes
from sandbox_host.diagnose.facts._util import quote
from sandbox_host.roles.common.facts import DockerdStartedAt
from sandbox_host.roles.firewall import facts as firewall_facts
from sandbox_host.roles.gvisor import facts as gvisor_facts
from sandbox_host.diagnose.options import ProbeOptions
from sandbox_host.diagnose.schema import SCHEMA, Report
from sandbox_host.roles.gvisor import runtime_check


SYSCTL_KEYS = (
    "net.ipv4.ip_forward",
    "net.ipv6.conf.all.disable_ipv6",
    "net.ipv6.conf.default.disable_ipv6",
    "net.ipv6.conf.all.forwarding",
    "net.bridge.bridge-nf-call-iptables",
)

# The parts of `docker info` that bear on the symptoms; the rest is noise in a diff.
DOCKER_INFO_KEYS = (
    "ServerVersion", "DefaultRuntime", "CgroupDriver", "CgroupVersion", "Driver", "HttpProxy",
    "HttpsProxy", "NoProxy", "IPv4Forwarding", "KernelVersion", "OperatingSystem", "SecurityOptions",
    "Warnings", "ServerErrors",
)


def _fact(host, cls, *args, **kwargs):
    """A fact that never fails the host: a broken host is exactly what we are here to report on."""
    try:
        return host.get_fact(cls, *args, _ignore_errors=True, **kwargs)
    except Exception as exc:  # a fact that cannot be processed is evidence too, not a crash
        return {"status": "error", "error": f"{type(exc).__name__}: {exc}"[:300]}


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        items = [_json_safe(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set) else items
    return value


def _docker(host) -> dict:
    if not _fact(host, server.Which, "docker"):
        return {"status": "absent"}
    result = {"status": "ok", "client": _fact(host, docker_facts.DockerVersion)}
    info = _fact(host, docker_facts.DockerSystemInfo)
    if not isinstance(info, dict) or not info.get("ServerVersion"):
        # The client is there but dockerd does not answer (or not to us): nothing below can be read.
        answer = _fact(host, daemon_facts.DockerServerAnswer)
        result["status"] = "permission denied" if answer.get("status") == "permission denied" else "unreachable"
        server_errors = info.get("ServerErrors") if isinstance(info, dict) else None
        result["server_errors"] = server_errors or answer.get("error")
        return result
    result["info"] = {key: info.get(key) for key in DOCKER_INFO_KEYS}
    result["info"]["Runtimes"] = {name: (rt or {}).get("path") for name, rt in (info.get("Runtimes") or {}).items()}
    nets = _fact(host, docker_facts.DockerNetworks) or []
    result["networks"] = [_network_summary(n) for n in nets if isinstance(n, dict)]
    return result


def _network_summary(net: dict) -> dict:
    options = net.get("Options") or {}
    configs = (net.get("IPAM") or {}).get("Config") or []
    bridge = options.get("com.docker.network.bridge.name")
    if not bridge and net.get("Driver") == "bridge":
        bridge = "br-" + net.get("Id", "")[:12]  # Docker's name for user bridges with no name set
    mtu = options.get("com.docker.network.driver.mtu")
    return {
        "name": net.get("Name"),
        "driver": net.get("Driver"),
        "bridge": bridge,
        "internal": bool(net.get("Internal")),
        "ipv6": bool(net.get("EnableIPv6")),
        "subnets": [c.get("Subnet") for c in configs if c.get("Subnet")],
        "mtu": int(mtu) if mtu and str(mtu).isdigit() else None,
        "masquerade": options.get("com.docker.network.bridge.enable_ip_masquerade", "true") == "true",
        "containers": len(net.get("Containers") or {}),
    }


def _sysctl(host) -> dict:
    values = _fact(host, server.Sysctl, keys=list(SYSCTL_KEYS)) or {}
    if not isinstance(values, dict) or not values:
        values = _fact(host, network.ProcSys, keys=SYSCTL_KEYS) or {}
    return {key: values.get(key) for key in SYSCTL_KEYS}


def _iptables(host) -> dict:
    if not _fact(host, server.Which, "iptables-save"):
        # Debian keeps it in /usr/sbin, which is not on a normal user's PATH.
        installed = any(_fact(host, server.Command, f"test -x {d}/iptables-save && echo yes || true") == "yes"
                        for d in ("/usr/sbin", "/sbin"))
        return {"status": "not on PATH" if installed else "absent"}
    result = {"status": "ok"}
    for table in ("filter", "nat"):
        result[table] = {
            "chains": _fact(host, iptables_facts.IptablesChains, table=table) or {},
            "rules": _json_safe(_fact(host, iptables_facts.IptablesRules, table=table) or []),
        }
    if not result["filter"]["chains"]:
        # iptables-save printed nothing: not root, or no iptables tables (pure nftables host).
        result["status"] = "empty"
    return result


def firewalld_summary(state, bridges) -> dict:
    """The firewall role's FirewalldState, reduced to what the rules read: the zone each bridge
    is in at runtime (an unbound interface falls in the default zone) and each zone's target."""
    if not isinstance(state, dict):
        return {"status": "absent"}
    if state.get("error"):
        return {"status": "error", "error": state["error"]}
    if not state.get("running"):
        return {"status": "not running"}
    runtime = state.get("runtime") or {}
    bound = {iface: zone for zone, conf in runtime.items() for iface in conf.get("interfaces") or []}
    zones = {bridge: bound.get(bridge) or state.get("default_zone") for bridge in bridges}
    return {
        "status": "running",
        "default_zone": state.get("default_zone"),
        "zones": zones,
        "bound": {bridge: bridge in bound for bridge in bridges},
        "zone_targets": {zone: conf.get("target") for zone, conf in runtime.items() if zone in zones.values()},
    }


_UFW_POLICY = {"DROP": "deny", "REJECT": "reject", "ACCEPT": "allow"}


def ufw_summary(status) -> dict:
    """The firewall role's UfwStatus as {status, defaults: {routed: deny|reject|allow}, rules}."""
    if not isinstance(status, dict):
        return {"status": "absent"}
    if status.get("error"):
        return {"status": "error", "error": status["error"]}
    policies = status.get("policies") or {}
    rules = [
        " ".join(str(x) for x in (("route:" if r["route"] else "") + r["action"], r["proto"], "from", r["src"], "to",
                                  r["dst"], "in", r.get("interface_in") or "any", "out", r.get("interface_out") or "any"))
        for r in status.get("rules") or []
    ]
    return {
        "status": "active" if status.get("active") else "inactive",
        "defaults": {name: _UFW_POLICY.get(policies[key], policies[key].lower())
                     for name, key in (("incoming", "input"), ("outgoing", "output"), ("routed", "forward")) if key in policies},
        "rules": rules,
    }


def _system(host) -> dict:
    os_release = _fact(host, server.OsRelease) or {}
    return {
        "kernel": _fact(host, server.Kernel),
        "kernel_version": _fact(host, server.KernelVersion),
        "os": {key: os_release.get(key) for key in ("id", "version_id", "pretty_name")} if isinstance(os_release, dict) else {},
    }


def gather_host(host, options: ProbeOptions) -> dict:
    """Everything the rules need about one host, as plain JSON-able data."""
    started = time.monotonic()
    report = {
        "schema": SCHEMA,
        "host": host.name,
        "gathered_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "options": options.as_dict(),
        # By uid, not $USER: `docker exec` and cron run as root with $USER unset.
        "connection": {**_fact(host, environment.Identity), "sudo": bool(host.state.config.SUDO)},
        "system": _system(host),
        "sysctl": _sysctl(host),
        "network": _fact(host, network.NetworkState),
        "dns": {
            "resolv_conf": _fact(host, network.ResolvConf),
            # systemd-resolved's upstreams, behind its 127.0.0.53 stub (which containers cannot use).
            "upstream_resolv_conf": _fact(host, network.ResolvConf, path=UPSTREAM_RESOLV_CONF),
            "resolve": _fact(host, network.Resolve, options.resolve_name),
        },
        "proxy_env": _fact(host, environment.ProxyEnvironment),
        "docker": _docker(host),
        "daemon_json": _fact(host, daemon_facts.DaemonJson),
        "docker_unit": _fact(host, daemon_facts.DockerUnitEnvironment),
        "docker_dropins": _fact(host, daemon_facts.DockerDropins),
        "iptables": _iptables(host),
        "nftables": _fact(host, network.NftForwardChains),
        "firewalld": firewalld_summary(_fact(host, firewall_facts.FirewalldState), options.bridges),
        "ufw": ufw_summary(_fact(host, firewall_facts.UfwStatus)),
    }
    report["dockerd"] = _fact(host, daemon_facts.DockerdState, answering=report["docker"]["status"] in ("ok", "permission denied"))
    if isinstance(report["dockerd"], dict):
        report["dockerd"]["started_at"] = _fact(host, DockerdStartedAt)
    report["daemon_proxy_reach"] = _proxy_reach(host, report)
    runtimes = ((report["docker"].get("info") or {}).get("Runtimes")) or {}
    runsc_path = runtimes.get(options.runsc_runtime) or "runsc"
    report["runsc"] = {"version": _fact(host, daemon_facts.RunscVersion, path=runsc_path), "registered": options.runsc_runtime in runtimes}
    if report["runsc"]["version"].get("status") == "ok":
        # The gvisor role's check for gVisor issue 10704 (old runsc, kernel >= ~6.7).
        report["runsc"]["network_bug"] = _fact(host, gvisor_facts.RunscNetworkBug)
    docker_ok = report["docker"]["status"] == "ok"
    if options.container_probes and docker_ok:
        report["container"] = _fact(
            host, probes.ContainerProbe, options.probe_image, options.resolve_name, timeout=options.probe_timeout
        )
        report["runsc"]["smoke"] = (
            _fact(host, daemon_facts.RuntimeSmoke, options.runsc_runtime, options.probe_image, timeout=options.probe_timeout + 40)
            if options.runsc_runtime in runtimes
            else {"status": "not registered"}
        )
        report["runsc"]["operations"] = (
            _runtime_operations(host, options) if report["runsc"]["smoke"].get("status") == "ok" else {"status": "skipped"})
        report["sandbox_proxy"] = _fact(
            host, probes.SandboxProxyProbe, options.probe_image, options.sandbox_network, options.proxy_ip,
            options.proxy_port, options.proxy_target, timeout=options.probe_timeout,
        )
        if report["sandbox_proxy"].get("status") == "ok":
            # A proxy running since before dockerd's last start resolves through a stale mapping.
            report["sandbox_proxy"]["container"] = _fact(host, probes.ProxyContainerStarted, options.sandbox_network,
                                                         options.proxy_ip)
    else:
        skipped = {"status": "skipped", "reason": "docker not running" if not docker_ok else "container probes off"}
        report["container"] = dict(skipped)
        report["runsc"]["smoke"] = dict(skipped)
        report["runsc"]["operations"] = dict(skipped)
        report["sandbox_proxy"] = dict(skipped)
    report["runsc"]["recorded_check"] = _recorded_check(host, options)
    report["duration_s"] = round(time.monotonic() - started, 2)
    # The one schema explain and compare load with: a gather that breaks it fails here, not there.
    return Report.model_validate(_json_safe(report)).dump()


UPSTREAM_RESOLV_CONF = "/run/systemd/resolve/resolv.conf"


def proxy_targets(report: dict) -> list[str]:
    """host:port of every proxy dockerd is given (live `docker info`, else its unit's environment)."""
    from sandbox_host.diagnose.rules import _daemon_proxy  # the rules' own reading of it

    targets = []
    for key in ("http_proxy", "https_proxy"):
        url = _daemon_proxy(report).get(key)
        if not url:
            continue
        parts = urlsplit(url if "//" in url else f"http://{url}")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            continue
        if parts.hostname and f"{parts.hostname}:{port}" not in targets:
            targets.append(f"{parts.hostname}:{port}")
    return targets


def _proxy_reach(host, report: dict) -> dict:
    targets = proxy_targets(report)
    if not targets:
        return {"status": "no proxy"}
    return {"status": "ok", "targets": _fact(host, daemon_facts.TcpReach, targets=targets, seconds=3)}


def _runtime_operations(host, options: ProbeOptions) -> dict:
    """The gvisor role's agent-operations check (ls -la, stat, git status, node, fork storm)."""
    found = _fact(host, gvisor_facts.RuntimeOperations, options.runsc_runtime, options.probe_image,
                  timeout=options.probe_timeout + 60)
    if not isinstance(found, dict) or "started" not in found:
        return {"status": "error", "error": str(found)[:300]}
    return {"status": "ok" if found["ok"] else "failed", **found, "runtime": options.runsc_runtime, "image": options.probe_image}


def _recorded_check(host, options: ProbeOptions) -> dict:
    """What the deploy recorded for the launcher (gvisor.runtime_check_file)."""
    lines = _fact(host, server.Command, f"cat {quote(options.runtime_check_file)} 2>/dev/null || echo '##ABSENT##'")
    if not isinstance(lines, str) or lines.strip() == "##ABSENT##":
        return {"status": "absent"}
    try:
        check = runtime_check.load(lines)
    except ValueError as exc:
        return {"status": "invalid", "error": str(exc)[:300]}
    return {"status": "ok" if check.ok else "failed", **check.model_dump(by_alias=True)}


def report_filename(host_name: str) -> str:
    """reports/<host>.json; '@docker/abc' and 'user@host:22' become safe file names."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", host_name).strip("_") + ".json"


def write_report(report: dict, out_dir: str | Path) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / report_filename(report["host"])
    path.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    return path
