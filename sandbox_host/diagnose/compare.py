"""Compare a broken host's report with a working host's (seed 001: "run it on both and compare").

Two outputs, both ordered by how likely they explain hangs, timeouts and resets:
  findings    the rules run on the broken report; a cause the working host shares explains
              little, so it sinks below the causes only the broken host has;
  differences the facts that matter (SIGNALS), where the hosts disagree. Raw diffs of everything
              drown the cause in noise (veth names, container counts, timestamps).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sandbox_host.diagnose import rules


@dataclass(frozen=True)
class Signal:
    key: str
    weight: int  # 0-100: how likely a difference here explains the symptom
    why: str
    read: Callable[[dict], object]


def _get(report, *path):
    return rules._get(report, *path)


# Keyed by network name and without bridge names or subnets: user networks get other bridge
# names (br-<id>) and subnets on every host, which is not a difference that matters.
def _forward_verdicts(report: dict) -> dict:
    return {
        f"{net['name']} {direction}": verdict.verdict + (" (chain policy)" if verdict.by_policy else f" (rule in {verdict.chain})")
        for net, _, direction, verdict in rules._forward_verdicts(report)
    }


def _uplink_mtu(report: dict):
    uplink = rules._uplink(report)
    return {"interface": uplink, "mtu": (rules._links(report).get(uplink) or {}).get("mtu")} if uplink else None


def _bridge_mtus(report: dict) -> dict:
    links = rules._links(report)
    return {name: links[name]["mtu"] for name in _get(report, "options", "bridges") or [] if name in links}


def _masquerade(report: dict) -> dict:
    return {net["name"]: covered for net, _, covered in rules.masquerade_coverage(report)}


def _daemon_json_key(key: str) -> Callable[[dict], object]:
    return lambda report: rules._daemon_json(report).get(key)


def _container_ipv6(report: dict):
    c = _get(report, "container") or {}
    if c.get("status") != "ok":
        return None
    return {"disabled": c.get("ipv6_disabled"), "default_route": bool(c.get("default_route_v6")),
            "addresses": sorted(a["kind"] for a in c.get("ipv6_addresses") or [] if a["kind"] != "loopback")}


def _host_ipv6(report: dict):
    return {"disabled": _get(report, "sysctl", "net.ipv6.conf.all.disable_ipv6"),
            "default_route": bool(_get(report, "network", "default_route_v6")),
            "addresses": sorted({a["kind"] for a in _get(report, "network", "ipv6_addresses") or [] if a["kind"] not in ("loopback", "link")})}


def _proxy(section: str) -> Callable[[dict], object]:
    return lambda report: rules._proxy_values(_get(report, "proxy_env", section) or {}) or None


def _nft_forward(report: dict):
    chains = _get(report, "nftables", "forward_chains") or []
    return sorted(f"{c['family']} {c['table']} {c['chain']} policy {c['policy']}" for c in chains) or None


def _ufw(report: dict):
    ufw = _get(report, "ufw") or {}
    return {"status": ufw.get("status"), "routed": (ufw.get("defaults") or {}).get("routed")} if ufw.get("status") != "absent" else "absent"


def _firewalld(report: dict):
    fw = _get(report, "firewalld") or {}
    return {"status": fw.get("status"), "zones": fw.get("zones")} if fw.get("status") != "absent" else "absent"


def _networking_keys(report: dict):
    content = rules._daemon_json(report)
    return {k: content[k] for k in (*rules.NETWORKING_OFF, "icc") if k in content} or None


SIGNALS = [
    Signal("docker.status", 99, "dockerd must answer before anything else matters", lambda r: _get(r, "docker", "status")),
    Signal("dockerd refuses to start", 98, "dockerd's own error names what stops it",
           lambda r: rules.dockerd_refusal(r)["keys"] or None if _get(r, "docker", "status") != "ok" else None),
    Signal("daemon_json networking keys", 96, "iptables/ip-masq/ip-forward/bridge switch off Docker's networking",
           _networking_keys),
    Signal("routes overlapping Docker networks", 89, "a route through another interface claims container addresses",
           lambda r: sorted(f"{c['route']} via {c['interface']} / {c['network']}" for c in rules.route_overlaps(r)) or None),
    Signal("dockerd proxy reachable", 78, "a dead proxy hangs every pull and build",
           lambda r: (_get(r, "daemon_proxy_reach") or {}).get("targets")),
    Signal("drop-ins not written by the deploy", 60, "they override docker_proxy's drop-in",
           lambda r: sorted(d["path"] for d in rules._dropins(r) if not d.get("owned")) or None),
    Signal("runtime agent operations", 75, "ls -la, stat, git, node, fork under the sandbox's runtime",
           lambda r: sorted(((_get(r, "runsc", "operations") or {}).get("failed") or {})) or (_get(r, "runsc", "operations") or {}).get("status")),
    Signal("sandbox_proxy", 96, "the agent's only way out is the egress proxy",
           lambda r: {k: (_get(r, "sandbox_proxy") or {}).get(k) for k in ("status", "proxy_reachable", "connect_status")}),
    Signal("sysctl.net.ipv4.ip_forward", 97, "containers reach the network only through forwarding (seed 001 §3)",
           lambda r: _get(r, "sysctl", "net.ipv4.ip_forward")),
    Signal("iptables FORWARD verdict per bridge", 95, "what happens to a container's connection in FORWARD (seed 001 §2)", _forward_verdicts),
    Signal("iptables.filter.FORWARD policy", 70, "a DROP policy matters when Docker's accepts are gone (seed 001 §2)",
           lambda r: _get(r, "iptables", "filter", "chains", "FORWARD")),
    Signal("container IPv6", 93, "IPv6 in containers without a route hangs the agent (seed 000 §1)", _container_ipv6),
    Signal("container DNS", 92, "containers must resolve the API (seed 001 §1)",
           lambda r: {"status": (_get(r, "container", "resolve") or {}).get("status"), "error": (_get(r, "container", "resolve") or {}).get("error")}),
    Signal("nftables forward chains", 90, "a drop in any forward-hook chain is final (seed 001 §2)", _nft_forward),
    Signal("NAT per Docker network", 88, "container traffic must be NATed to get answers", _masquerade),
    Signal("uplink MTU", 85, "the path's MTU bounds what containers may send (seed 001 §4)", _uplink_mtu),
    Signal("bridge MTUs", 84, "bridges larger than the uplink drop large packets (seed 001 §4)", _bridge_mtus),
    Signal("daemon_json.mtu", 83, "the default bridge's MTU (seed 001 §4)", _daemon_json_key("mtu")),
    Signal("firewalld", 85, "firewalld zones can reject bridge traffic (seed 001 §2)", _firewalld),
    Signal("ufw", 80, "UFW's routed policy can drop bridge traffic (seed 001 §2)", _ufw),
    Signal("host IPv6", 75, "half-working IPv6 makes clients try AAAA first (seed 000 §1)", _host_ipv6),
    Signal("daemon_json.ipv6", 75, "IPv6 on the default bridge (seed 000 §1)", _daemon_json_key("ipv6")),
    Signal("docker daemon proxy", 72, "dockerd needs its own proxy settings (seed 001 §5)", rules._daemon_proxy),
    Signal("docker unit drop-ins", 65, "where dockerd's proxy settings come from (seed 001 §5)", lambda r: _get(r, "docker_unit", "dropins")),
    Signal("host proxy environment", 60, "a host behind a proxy needs it everywhere (seed 001 §5)", _proxy("etc_environment")),
    Signal("daemon_json.dns", 70, "resolvers containers use (seed 001 §1)", _daemon_json_key("dns")),
    Signal("container nameservers", 68, "the resolvers containers actually get (seed 001 §1)", lambda r: _get(r, "container", "resolv_conf", "nameservers")),
    Signal("host DNS", 66, "the host must resolve the API too", lambda r: (_get(r, "dns", "resolve") or {}).get("status")),
    Signal("host nameservers", 50, "different resolvers (seed 001 'compare': DNS configuration)", lambda r: _get(r, "dns", "resolv_conf", "nameservers")),
    Signal("runsc smoke run", 80, "the sandbox runs under runsc", lambda r: (_get(r, "runsc", "smoke") or {}).get("status")),
    Signal("runsc version", 55, "old runsc releases break on newer kernels", lambda r: (_get(r, "runsc", "version") or {}).get("version")),
    Signal("kernel version", 45, "a kernel update changes network behaviour (seed 001 §7)", lambda r: _get(r, "system", "kernel_version")),
    Signal("docker version", 40, "Docker updates change bridge defaults (seed 001 §7)", lambda r: (_get(r, "docker", "info") or {}).get("ServerVersion")),
    Signal("docker default runtime", 40, "which runtime containers get", lambda r: (_get(r, "docker", "info") or {}).get("DefaultRuntime")),
    Signal("daemon.json", 50, "any other daemon.json difference (seed 001 'compare': daemon.json)",
           lambda r: {k: v for k, v in rules._daemon_json(r).items()
                      if k not in ("mtu", "dns", "ipv6", *rules.NETWORKING_OFF, "icc")} or None),
    Signal("os", 20, "distribution", lambda r: (_get(r, "system", "os") or {}).get("pretty_name")),
]


# What a fact says when it did not look: a difference between two of these (or between one of
# these and a value) tells which host was checked, not what is wrong with it.
NOT_OBSERVED = {"absent", "skipped", "not registered", "no-image", "unavailable", "not on PATH", "empty", "no proxy",
                "error", "timed out"}
NOISE_WEIGHT = 10


def not_observed(value) -> bool:
    """A status that says "not looked at". None is a value (a daemon.json key that is not set)."""
    if isinstance(value, str):
        return value in NOT_OBSERVED
    if isinstance(value, dict):
        return value.get("status") in NOT_OBSERVED
    return False


def differences(broken: dict, working: dict) -> list[dict]:
    out = []
    for signal in SIGNALS:
        b, w = signal.read(broken), signal.read(working)
        if b == w:
            continue
        weight, why = signal.weight, signal.why
        if not_observed(b) and not_observed(w):
            continue  # "skipped" here, "absent" there: neither host was looked at
        if (not_observed(b) or not_observed(w)) and signal.key != "docker.status":
            # Looked at on one host only: worth listing, never above a real difference.
            weight, why = min(weight, NOISE_WEIGHT), why + " (checked on one host only)"
        out.append({"key": signal.key, "weight": weight, "broken": b, "working": w, "why": why})
    return sorted(out, key=lambda d: -d["weight"])


def compare(broken: dict, working: dict) -> dict:
    on_working = {(f.id, f.title) for f in rules.run_rules(working)}
    items = []
    for finding in rules.run_rules(broken):
        shared = (finding.id, finding.title) in on_working
        items.append({"finding": finding, "only_on_broken": not shared})
    # Causes the working host shares cannot explain why only the broken one fails.
    items.sort(key=lambda i: (not i["only_on_broken"], -i["finding"].likelihood, i["finding"].id))
    return {"broken": broken.get("host"), "working": working.get("host"), "findings": items,
            "differences": differences(broken, working)}
