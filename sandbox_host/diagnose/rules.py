"""Known causes of the agent's hangs, 60 s timeouts and ECONNRESET (seeds 000 and 001), one
function per cause, named after it. Each reads a report (sandbox_host/diagnose/gather.py) and returns
Findings (empty when the cause is absent or the report cannot tell)."""

from __future__ import annotations

import ipaddress
import json
import re

from sandbox_host.diagnose import forwarding
from sandbox_host.diagnose import rules_mtu
from sandbox_host.diagnose.findings import Finding, ordered
from sandbox_host.roles.common.facts import docker_time

SEED_IPV6 = "seed 000 §1 (IPv6 connectivity timeout)"
SEED_001 = "seed 001 §{} ({})"


# -- report accessors --------------------------------------------------------------------------

def _get(report: dict, *path, default=None):
    value = report
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return default
        value = value[key]
    return value


def _uplink(report: dict) -> str | None:
    route = _get(report, "network", "default_route_v4") or {}
    return route.get("interface")


def _links(report: dict) -> dict:
    return _get(report, "network", "links", default={}) or {}


def _docker_ok(report: dict) -> bool:
    return _get(report, "docker", "status") == "ok"


def _bridge_networks(report: dict) -> list[dict]:
    """Docker bridge networks whose containers are meant to reach outside (not --internal)."""
    nets = _get(report, "docker", "networks", default=[]) or []
    return [n for n in nets if n.get("driver") == "bridge" and not n.get("internal") and n.get("bridge")]


def _v4_subnets(net: dict) -> list[str]:
    out = []
    for subnet in net.get("subnets") or []:
        try:
            if ipaddress.ip_network(subnet, strict=False).version == 4:
                out.append(subnet)
        except ValueError:
            continue
    return out


def _daemon_json(report: dict) -> dict:
    return _get(report, "daemon_json", "content", default={}) or {}


def _proxy_values(env: dict) -> dict[str, str]:
    """{'http_proxy': ..., 'https_proxy': ..., 'no_proxy': ...} from an env dict, either case."""
    out = {}
    for key, value in (env or {}).items():
        lower = key.lower()
        if lower in ("http_proxy", "https_proxy", "no_proxy") and value and lower not in out:
            out[lower] = value
    return out


def _without_userinfo(url: str | None) -> str | None:
    """Docker masks proxy credentials as xxxxx:xxxxx@, the report as user:***@: compare the rest."""
    return re.sub(r"//[^/@]*@", "//", url) if url else None


def _daemon_proxy(report: dict) -> dict[str, str]:
    """What dockerd runs with: `docker info` (the live daemon), else its systemd environment."""
    info = _get(report, "docker", "info", default={}) or {}
    live = {k: info.get(v) for k, v in (("http_proxy", "HttpProxy"), ("https_proxy", "HttpsProxy"), ("no_proxy", "NoProxy")) if info.get(v)}
    return live or _proxy_values(_get(report, "docker_unit", "environment", default={}))


# -- rules -------------------------------------------------------------------------------------

# daemon.json combinations dockerd refuses to start with: (keys and values, why).
REFUSED_COMBINATIONS = [
    ({"iptables": False, "icc": False}, "dockerd cannot stop inter-container traffic (icc: false) without managing iptables"),
    ({"bridge": "none", "fixed-cidr": None}, "fixed-cidr needs a default bridge (bridge: none has none)"),
    ({"bridge": "none", "bip": None}, "bip sets the default bridge's address; bridge: none has no default bridge"),
]


def _present(content: dict, key: str, value) -> bool:
    return key in content and (value is None or content[key] == value)


def dockerd_refusal(report: dict) -> dict:
    """Why dockerd does not start: its own error lines, `dockerd --validate`, and the daemon.json
    keys they name (or a known combination of keys it refuses)."""
    dockerd = _get(report, "dockerd", default={}) or {}
    content = _daemon_json(report)
    errors = list(dockerd.get("errors") or [])
    validate = dockerd.get("validate") or {}
    if validate.get("status") == "failed":
        errors.append("dockerd --validate: " + (validate.get("output") or "").strip())
    text = "\n".join(errors).lower()
    # "Config.icc", "--iptables=false", "icc:": the key, not a longer name that contains it.
    named = sorted(key for key in content if re.search(rf"(?:^|[^\w-]|--){re.escape(key.lower())}(?![\w-])", text))
    combos = [(sorted(keys), why) for keys, why in REFUSED_COMBINATIONS
              if all(_present(content, key, value) for key, value in keys.items())]
    for keys, _ in combos:
        named = sorted(set(named) | set(keys))
    return {"errors": errors[-5:], "keys": named, "combinations": [why for _, why in combos],
            "log_source": dockerd.get("log_source")}


def _remove_keys_command(path: str, keys: list[str]) -> str:
    """One command that drops keys from daemon.json (python3 is on every host the deploy supports)."""
    return (f"sudo python3 -c 'import json,sys; p=sys.argv[1]; c=json.load(open(p)); [c.pop(k, None) for k in sys.argv[2:]]; "
            f"open(p, \"w\").write(json.dumps(c, indent=2, sort_keys=True) + \"\\n\")' {path} {' '.join(keys)}")


DAEMON_JSON = "/etc/docker/daemon.json"


def docker_daemon_unreachable(report: dict) -> list[Finding]:
    status = _get(report, "docker", "status")
    invalid = _get(report, "daemon_json", "status") == "invalid"
    if status != "unreachable" and not invalid:
        return []
    why = dockerd_refusal(report)
    if invalid:
        reason = f"{DAEMON_JSON} is not valid JSON ({_get(report, 'daemon_json', 'error')})"
    elif why["keys"]:
        reason = f"{DAEMON_JSON} key(s) {', '.join(why['keys'])}: " + ("; ".join(why["combinations"]) or "named in dockerd's error")
    elif why["errors"]:
        reason = "dockerd's error: " + why["errors"][-1][-200:]
    else:
        reason = "no error in dockerd's log" + ("" if why["log_source"] not in (None, "none") else " (no log found)")
    fix = []
    if why["keys"] and not invalid:
        # Keys named by the error (or refused together) that the project does not manage are removed;
        # managed ones come back right from the deploy.
        fix.append(_remove_keys_command(DAEMON_JSON, [k for k in why["keys"] if k not in MANAGED_DAEMON_KEYS] or why["keys"])
                   + " && sudo systemctl restart docker")
    fix += ["python3 -m json.tool /etc/docker/daemon.json",
            "journalctl -u docker -n 30 --no-pager   (no systemd: tail -n 30 /var/log/docker.log)",
            "or run the deploy: it writes daemon.json first, then starts dockerd, and names what still stops it"]
    return [Finding(
        id="docker_daemon_unreachable",
        title=f"dockerd does not answer: {reason}" if status == "unreachable" else f"dockerd will not start: {reason}",
        severity="high", likelihood=99,
        why="No container starts, so nothing the agent does can work; dockerd refuses to start with an invalid "
            "daemon.json or a combination of settings it cannot apply.",
        evidence={"docker.status": status, "docker.server_errors": _get(report, "docker", "server_errors"),
                  "dockerd errors": why["errors"], "daemon.json keys named": why["keys"],
                  "refused combinations": why["combinations"], "log source": why["log_source"],
                  "daemon_json": _get(report, "daemon_json")},
        fix=fix,
        permanent={"docker_daemon.extra": {k: "the value you need (managed keys are written before dockerd starts)"
                                           for k in why["keys"]} or "manage daemon.json keys through group_vars",
                   "docker_engine.start": True},
        seed=SEED_001.format(6, "Docker bridge network corruption"),
    )]


# Keys the docker_daemon role writes (roles/docker_daemon/daemon_json.py): the deploy repairs these.
MANAGED_DAEMON_KEYS = {"ipv6", "log-driver", "live-restore", "userland-proxy", "no-new-privileges", "icc", "log-opts",
                       "dns", "mtu", "fixed-cidr", "default-address-pools", "runtimes", "default-runtime"}

# daemon.json keys (and dockerd flags) that switch off a part of Docker's networking the sandbox needs.
NETWORKING_OFF = {
    "iptables": (False, "Docker adds no FORWARD accepts and no NAT: containers cannot get out"),
    "ip-masq": (False, "no MASQUERADE: container packets leave with private addresses and get no answer"),
    "ip-forward": (False, "Docker does not turn on IPv4 forwarding: after a reboot or sysctl reset containers are cut off"),
    "bridge": ("none", "no default bridge (docker0): containers on the default network have no network"),
}


def docker_networking_disabled(report: dict) -> list[Finding]:
    content = _daemon_json(report)
    cmdline = _get(report, "dockerd", "cmdline") or ""
    off = {}
    for key, (value, effect) in NETWORKING_OFF.items():
        flag = re.search(rf"--{key}[= ](\S+)", cmdline)
        if key in content and content[key] == value:
            off[key] = (f"{DAEMON_JSON}: \"{key}\": {json.dumps(value)}", effect)
        elif flag and flag.group(1).lower() == str(value).lower():
            off[key] = (f"dockerd command line: --{key}={flag.group(1)}", effect)
    if not off:
        return []
    in_file = [key for key, (where, _) in off.items() if where.startswith(DAEMON_JSON)]
    return [Finding(
        id="docker_networking_disabled",
        title="dockerd runs with its networking switched off: " + ", ".join(where for where, _ in off.values()),
        severity="high", likelihood=96,
        why="; ".join(effect for _, effect in off.values()) + ". The FORWARD, NAT and forwarding findings that may follow "
            "are its consequences.",
        evidence={"settings": {key: where for key, (where, _) in off.items()}, "dockerd command line": cmdline or None},
        fix=([_remove_keys_command(DAEMON_JSON, in_file) + " && sudo systemctl restart docker"] if in_file else [])
        + [f"remove --{key} from dockerd's command line (systemctl cat docker; a drop-in's ExecStart)"
           for key, (where, _) in off.items() if not where.startswith(DAEMON_JSON)],
        permanent={"docker_daemon.extra": f"must not set {', '.join(off)} (leave Docker's defaults)"},
        seed=SEED_001.format(6, "Docker networking details"),
    )]


def ip_forward_disabled(report: dict) -> list[Finding]:
    value = _get(report, "sysctl", "net.ipv4.ip_forward")
    if value != 0:
        return []
    return [Finding(
        id="ip_forward_disabled",
        title="IPv4 forwarding is off: containers cannot reach anything outside the host",
        severity="high", likelihood=97,
        why="Every packet from a bridge to the uplink is routed by the host; with forwarding off it is dropped and connections hang until they time out.",
        evidence={"sysctl.net.ipv4.ip_forward": value, "docker.info.IPv4Forwarding": _get(report, "docker", "info", "IPv4Forwarding")},
        fix=["sudo sysctl -w net.ipv4.ip_forward=1"],
        permanent={"host_network.ip_forward": True},
        seed=SEED_001.format(3, "IP forwarding disabled"),
    )]


def _forward_verdicts(report: dict):
    """(network, bridge, subnet, direction, verdict) for every outbound Docker bridge."""
    iptables = _get(report, "iptables", default={}) or {}
    uplink = _uplink(report)
    if iptables.get("status") != "ok" or not uplink:
        return
    for net in _bridge_networks(report):
        for subnet in _v4_subnets(net)[:1]:
            for direction, verdict in forwarding.bridge_paths(iptables, net["bridge"], subnet, uplink).items():
                if verdict is not None:
                    yield net, subnet, direction, verdict


def forward_policy_drop_without_docker_rules(report: dict) -> list[Finding]:
    found = []
    for net, subnet, direction, verdict in _forward_verdicts(report):
        if verdict.verdict == "ACCEPT" or not verdict.by_policy:
            continue
        bridge, uplink = net["bridge"], _uplink(report)
        found.append(Finding(
            id="forward_policy_drop_without_docker_rules",
            title=f"FORWARD policy {verdict.verdict} and no rule accepts {bridge}'s {direction} traffic",
            severity="high", likelihood=95,
            why="Docker sets FORWARD to DROP and accepts its bridges with its own rules; without them (flushed by a firewall reload, or Docker's iptables management off) every container connection is dropped.",
            evidence={"network": net["name"], "bridge": bridge, "uplink": uplink, "direction": direction,
                      "iptables.filter.FORWARD policy": _get(report, "iptables", "filter", "chains", "FORWARD"),
                      "daemon_json.iptables": _daemon_json(report).get("iptables"),
                      "rules skipped (not modelled)": [forwarding.rule_text(r) for r in verdict.unmodelled]},
            fix=[f"sudo iptables -A FORWARD -i {bridge} -o {uplink} -j ACCEPT",
                 f"sudo iptables -A FORWARD -i {uplink} -o {bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
                 "or let Docker recreate its rules: sudo systemctl restart docker"],
            permanent={"firewall.manage": True, "firewall.backend": "auto",
                       "docker_daemon.extra.iptables": "leave unset (true): Docker must manage its rules"},
            seed=SEED_001.format(2, "Firewall blocking container traffic"),
        ))
    return _dedupe(found)


def firewall_rule_drops_bridge(report: dict) -> list[Finding]:
    found = []
    for net, subnet, direction, verdict in _forward_verdicts(report):
        if verdict.verdict == "ACCEPT" or verdict.by_policy:
            continue
        rule = forwarding.rule_text(verdict.rule)
        found.append(Finding(
            id="firewall_rule_drops_bridge",
            title=f"an iptables rule in {verdict.chain} {verdict.verdict}s {net['bridge']}'s {direction} traffic",
            severity="high", likelihood=94,
            why="A firewall rule placed before Docker's accepts the bridge's traffic drops it: connections from containers hang (DROP) or reset (REJECT).",
            evidence={"network": net["name"], "bridge": net["bridge"], "direction": direction, "rule": rule,
                      "ufw": _get(report, "ufw", "status"), "firewalld": _get(report, "firewalld", "status")},
            fix=[f"sudo iptables -D {rule.removeprefix('-A ')}" if forwarding.exact(verdict.rule) else
                 f"sudo iptables -L {verdict.chain} -n --line-numbers; sudo iptables -D {verdict.chain} <number of the rule above>",
                 f"ufw: sudo ufw allow from {subnet}" if _get(report, "ufw", "status") == "active" else
                 f"firewalld: sudo firewall-cmd --permanent --zone=trusted --add-interface={net['bridge']} && sudo firewall-cmd --reload"],
            permanent={"firewall.manage": True, "firewall.backend": "auto",
                       "firewall.extra_interfaces": "add bridges the deploy does not know about"},
            seed=SEED_001.format(2, "Firewall blocking container traffic"),
        ))
    return _dedupe(found)


def nftables_forward_drop(report: dict) -> list[Finding]:
    chains = _get(report, "nftables", "forward_chains", default=[]) or []
    bridges = [n["bridge"] for n in _bridge_networks(report)] or ["docker0"]
    found = []
    for chain in chains:
        # iptables-nft's own chains are judged by the iptables walker (the same rules, parsed).
        if chain["table"] == "filter" and chain["family"] in ("ip", "ip6") and chain["chain"] == "FORWARD":
            continue
        missing = [b for b in bridges if chain.get("policy") == "drop" and b not in chain.get("accepts_interfaces", [])]
        if not missing:
            continue
        found.append(Finding(
            id="nftables_forward_drop",
            title=f"nftables chain {chain['family']} {chain['table']} {chain['chain']} drops forwarded traffic of {', '.join(missing)}",
            severity="high", likelihood=90,
            why="Every base chain on the forward hook must accept a packet; a drop policy in a table Docker does not manage (firewalld's, a hand-written inet filter) drops container traffic even when Docker's iptables rules accept it.",
            evidence={"chain": chain, "bridges not accepted": missing},
            fix=[f"sudo nft insert rule {chain['family']} {chain['table']} {chain['chain']} iifname {b} accept" for b in missing]
            + [f"sudo nft insert rule {chain['family']} {chain['table']} {chain['chain']} oifname {b} ct state established,related accept" for b in missing],
            permanent={"firewall.manage": True, "firewall.backend": "auto"},
            seed=SEED_001.format(2, "Firewall blocking container traffic"),
        ))
    return found


def _masquerade_rules(report: dict) -> list[dict]:
    rules = _get(report, "iptables", "nat", "rules", default=[]) or []
    return [r for r in rules if r.get("chain") == "POSTROUTING" and r.get("jump") in ("MASQUERADE", "SNAT")]


def masquerade_coverage(report: dict):
    """(network, subnet, NATed?) for every outbound Docker bridge subnet that Docker masquerades."""
    if _get(report, "iptables", "status") != "ok" or not _uplink(report):
        return
    masq = _masquerade_rules(report)
    for net in _bridge_networks(report):
        if not net.get("masquerade", True):
            continue
        for subnet in _v4_subnets(net):
            sample = str(next(ipaddress.ip_network(subnet, strict=False).hosts()) + 1)
            packet = forwarding.Packet(net["bridge"], _uplink(report), sample, forwarding.OUTSIDE, "NEW")
            yield net, subnet, any(forwarding.matches(r, packet) for r in masq)


def nat_masquerade_missing(report: dict) -> list[Finding]:
    found = []
    masq = _masquerade_rules(report)
    for net, subnet, covered in masquerade_coverage(report):
        if covered:
            continue
        found.append(Finding(
            id="nat_masquerade_missing",
            title=f"no MASQUERADE for {net['name']} ({subnet}): replies to containers never come back",
            severity="high", likelihood=88,
            why="Without NAT, container packets leave with a private source address the internet cannot answer; connections hang in SYN-SENT.",
            evidence={"network": net["name"], "subnet": subnet, "nat POSTROUTING rules": [forwarding.rule_text(r) for r in masq],
                      "daemon_json.iptables": _daemon_json(report).get("iptables"), "daemon_json.ip-masq": _daemon_json(report).get("ip-masq")},
            fix=[f"sudo iptables -t nat -A POSTROUTING -s {subnet} ! -o {net['bridge']} -j MASQUERADE",
                 "or let Docker recreate its rules: sudo systemctl restart docker"],
            permanent={"docker_daemon.extra": "must not set iptables: false or ip-masq: false"},
            seed=SEED_001.format(6, "Docker networking details: IP masquerading rules"),
        ))
    return found


def mtu_larger_than_path(report: dict) -> list[Finding]:
    uplink = _uplink(report)
    links = _links(report)
    if not uplink or uplink not in links:
        return []
    path_mtu = links[uplink]["mtu"]
    sizes = {}
    for net in _get(report, "docker", "networks", default=[]) or []:
        if net.get("driver") == "bridge" and not net.get("internal"):
            # Docker gives veths the network's MTU option, else 1500 (daemon.json mtu: docker0 only).
            fallback = _daemon_json(report).get("mtu") if net["name"] == "bridge" else None
            sizes[f"docker network {net['name']} ({net.get('bridge')})"] = net.get("mtu") or fallback or 1500
    for name in _get(report, "options", "bridges", default=[]) or []:
        # An idle bridge keeps the MTU it was created with; once ports join it takes their
        # smallest. Only a bridge with ports tells what containers send.
        ports = [link for link in links.values() if link.get("master") == name]
        if name in links and ports:
            sizes.setdefault(f"link {name}", links[name]["mtu"])
    container_eth = _get(report, "container", "links", "eth0", "mtu")
    if container_eth:
        sizes["probe container eth0"] = container_eth
    too_big = {where: mtu for where, mtu in sizes.items() if mtu and mtu > path_mtu}
    if not too_big:
        return []
    return [Finding(
        id="mtu_larger_than_path",
        title=f"containers send {max(too_big.values())}-byte packets but {uplink} carries only {path_mtu}",
        severity="high", likelihood=85,
        why="Small packets (DNS, TLS hello) pass, large ones (the request body, TLS records) are dropped when PMTU discovery is blocked: requests hang after the first exchanges, typically on VPN/overlay uplinks (1450, 1400).",
        evidence={"uplink": uplink, "uplink mtu": path_mtu, "larger than the uplink": too_big,
                  "daemon_json.mtu": _daemon_json(report).get("mtu")},
        fix=[f'/etc/docker/daemon.json: {{"mtu": {path_mtu}}}, then: sudo systemctl restart docker',
             f"user-defined networks: recreate with -o com.docker.network.driver.mtu={path_mtu} (the sandbox's follow docker_daemon.mtu)"],
        permanent={"docker_daemon.mtu": path_mtu},
        seed=SEED_001.format(4, "MTU mismatch"),
        notes=["daemon.json's mtu applies to the default bridge only; user-defined networks take the network option."],
    )]


def container_dns_failing(report: dict) -> list[Finding]:
    host = _get(report, "dns", "resolve", default={}) or {}
    container = _get(report, "container", default={}) or {}
    resolve = container.get("resolve") or {}
    if host.get("status") != "ok" or container.get("status") != "ok" or resolve.get("status") == "ok":
        return []
    host_ns = (_get(report, "dns", "resolv_conf", "nameservers", default=[]) or [])
    if host_ns and all(_loopback(ns) for ns in host_ns) and not _daemon_json(report).get("dns"):
        return []  # loopback_stub_resolver names this cause, with the stub's upstreams as the fix
    # Never the resolvers the containers are already failing with (Docker's public fallback).
    usable = usable_resolvers(report)
    name = _get(report, "options", "resolve_name")
    return [Finding(
        id="container_dns_failing",
        title=f"containers cannot resolve {name} while the host can",
        severity="high", likelihood=92,
        why="The agent cannot reach an API it cannot resolve; a slow or unreachable resolver also makes every new connection wait for the DNS timeout.",
        evidence={"name": name, "host addresses": host.get("addresses"), "host nameservers": host_ns,
                  "container nameservers": _get(container, "resolv_conf", "nameservers"),
                  "container error": resolve.get("error"), "daemon_json.dns": _daemon_json(report).get("dns")},
        fix=[f"docker run --rm {_get(report, 'options', 'probe_image')} getent ahosts {name}",
             f'/etc/docker/daemon.json: {{"dns": {json.dumps(usable)}}}, then: sudo systemctl restart docker' if usable else
             "the host's resolvers are the ones failing in containers: ask the network for resolvers containers may use"],
        permanent={"docker_daemon.dns": usable or "resolvers that answer containers on this network"},
        seed=SEED_001.format(1, "DNS resolution failure"),
    )]


def host_dns_failing(report: dict) -> list[Finding]:
    host = _get(report, "dns", "resolve", default={}) or {}
    if host.get("status") != "failed":
        return []
    name = _get(report, "options", "resolve_name")
    return [Finding(
        id="host_dns_failing",
        title=f"the host itself cannot resolve {name}",
        severity="high", likelihood=80,
        why="Containers inherit the host's resolvers; fix the host's DNS first.",
        evidence={"name": name, "error": host.get("error"), "host nameservers": _get(report, "dns", "resolv_conf", "nameservers")},
        fix=[f"getent ahosts {name}", "check /etc/resolv.conf and the resolver it names"],
        permanent={"docker_daemon.dns": "resolvers that work from this network (containers only)"},
        seed=SEED_001.format(1, "DNS resolution failure"),
    )]


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _upstreams(report: dict) -> list[str]:
    """The host's real resolvers: resolv.conf's, or behind a loopback stub, systemd-resolved's."""
    host_ns = _get(report, "dns", "resolv_conf", "nameservers", default=[]) or []
    upstream = _get(report, "dns", "upstream_resolv_conf", "nameservers", default=[]) or []
    return [ns for ns in [*host_ns, *upstream] if not _loopback(ns)]


def usable_resolvers(report: dict) -> list[str]:
    """Resolvers worth suggesting for containers: the host's real upstreams, never a loopback
    stub and never one the containers are already failing with."""
    failing = set(_get(report, "container", "resolv_conf", "nameservers", default=[]) or [])
    if _get(report, "container", "resolve", "status") == "ok":
        failing = set()
    return [ns for ns in dict.fromkeys(_upstreams(report)) if ns not in failing]


def loopback_stub_resolver(report: dict) -> list[Finding]:
    host_ns = _get(report, "dns", "resolv_conf", "nameservers", default=[]) or []
    daemon_dns = _daemon_json(report).get("dns")
    if not host_ns or not all(_loopback(ns) for ns in host_ns) or daemon_dns:
        return []
    container = _get(report, "container", default={}) or {}
    failing = container.get("status") == "ok" and (container.get("resolve") or {}).get("status") != "ok"
    upstreams = usable_resolvers(report)
    return [Finding(
        id="loopback_stub_resolver",
        title=f"the host resolves through a loopback stub ({', '.join(host_ns)}) that containers cannot use"
              + (": containers cannot resolve" if failing else ""),
        severity="high" if failing else "low", likelihood=94 if failing else 35,
        why="A container has its own loopback: 127.x in the host's resolv.conf means nothing there, so Docker gives "
            "containers public resolvers (8.8.8.8, 8.8.4.4) instead, which corporate networks often block; "
            "the host's real resolvers sit behind the stub.",
        evidence={"host nameservers": host_ns, "stub's upstreams (/run/systemd/resolve/resolv.conf)":
                  _get(report, "dns", "upstream_resolv_conf", "nameservers"),
                  "container nameservers": _get(container, "resolv_conf", "nameservers"),
                  "container resolve": (container.get("resolve") or {}).get("status"), "daemon_json.dns": daemon_dns},
        fix=[f'/etc/docker/daemon.json: {{"dns": {json.dumps(upstreams)}}}, then: sudo systemctl restart docker' if upstreams else
             "find the stub's upstream resolvers (resolvectl status) and put them in /etc/docker/daemon.json's dns"],
        permanent={"docker_daemon.dns": upstreams or "the resolvers behind the stub (resolvectl status)"},
        seed=SEED_001.format(1, "DNS resolution failure"),
    )]


def _docker_subnets(report: dict):
    for net in _get(report, "docker", "networks", default=[]) or []:
        for subnet in net.get("subnets") or []:
            try:
                yield net, ipaddress.ip_network(subnet, strict=False)
            except ValueError:
                continue


def route_overlaps(report: dict) -> list[dict]:
    """Host routes through another interface that overlap a Docker network's subnet."""
    bridges = {net.get("bridge") for net in _get(report, "docker", "networks", default=[]) or []}
    found = []
    for route in _get(report, "network", "routes", default=[]) or []:
        if route.get("dst") in (None, "default"):
            continue
        try:
            theirs = ipaddress.ip_network(route["dst"], strict=False)
        except ValueError:
            continue
        if theirs.is_link_local or theirs.is_loopback:
            continue
        for net, subnet in _docker_subnets(report):
            if route.get("interface") == net.get("bridge") or subnet.version != theirs.version or not subnet.overlaps(theirs):
                continue
            # A Docker bridge's own route for its own subnet is not a clash with another network's
            # (Docker never hands out overlapping subnets itself).
            if route.get("interface") in bridges and theirs == subnet:
                continue
            found.append({"network": net.get("name"), "subnet": str(subnet), "route": str(theirs),
                          "interface": route.get("interface"), "gateway": route.get("gateway")})
    return found


def route_overlaps_docker_network(report: dict) -> list[Finding]:
    found = []
    for clash in route_overlaps(report):
        route, subnet = ipaddress.ip_network(clash["route"]), ipaddress.ip_network(clash["subnet"])
        wins = "the route (more specific): the host sends container traffic to " + clash["interface"] \
            if route.prefixlen > subnet.prefixlen else f"the Docker network: containers cannot reach {clash['route']} through {clash['interface']}"
        bridge = next((n.get("bridge") for n in _get(report, "docker", "networks", default=[]) or [] if n.get("name") == clash["network"]), None)
        sandbox = bridge in (_get(report, "options", "bridges", default=[]) or [])[1:]
        found.append(Finding(
            id="route_overlaps_docker_network",
            title=f"route {clash['route']} via {clash['interface']} overlaps Docker network {clash['network']} ({clash['subnet']})",
            severity="high", likelihood=89,
            why=f"Two routes claim the same addresses and the kernel picks the most specific one, here {wins}. "
                "Classic after a VPN or a new interface: \"containers cannot reach X\".",
            evidence=clash,
            fix=[f"sudo ip route del {clash['route']} dev {clash['interface']}",
                 f"or move the Docker network off {clash['route']}: " + (
                     "sandbox_network.*_subnet in group_vars, then the deploy recreates it" if sandbox else
                     f"docker network rm {clash['network']} and recreate it on another subnet (docker_daemon.default_address_pools)")],
            permanent={"sandbox_network.internal_subnet" if sandbox else "docker_daemon.default_address_pools":
                       f"a subnet that does not overlap {clash['route']}"},
            notes=["Delete the route only if nothing needs it (a VPN may); otherwise move the Docker network."],
            seed=SEED_001.format(6, "Docker bridge network corruption: subnet conflicts"),
        ))
    return found


def daemon_proxy_unreachable(report: dict) -> list[Finding]:
    reach = _get(report, "daemon_proxy_reach", default={}) or {}
    dead = {target: verdict for target, verdict in (reach.get("targets") or {}).items() if verdict != "ok"}
    if reach.get("status") != "ok" or not dead or not isinstance(reach.get("targets"), dict):
        return []
    setters = [d["path"] for d in _dropins(report) if any(k.lower().endswith("_proxy") for k in d.get("environment", {}))]
    foreign = [d["path"] for d in _dropins(report) if not d.get("owned") and d["path"] in setters]
    return [Finding(
        id="daemon_proxy_unreachable",
        title=f"dockerd's proxy {', '.join(dead)} does not accept connections" + (f" (set by {', '.join(foreign)})" if foreign else ""),
        severity="high", likelihood=78,
        why="dockerd sends every pull and build through its proxy: with the proxy down or mistyped they hang until "
            "they time out, while NO_PROXY and everything else look right.",
        evidence={"tcp connect (3 s)": dead, "daemon proxy": _daemon_proxy(report), "drop-ins setting it": setters,
                  "drop-ins not written by the deploy": foreign},
        fix=([f"sudo rm {path} && sudo systemctl daemon-reload && sudo systemctl restart docker" for path in foreign]
             or ["correct the proxy in the drop-in, then: sudo systemctl daemon-reload && sudo systemctl restart docker"]),
        permanent={"docker_proxy.http_proxy": "a proxy this host reaches", "docker_proxy.https_proxy": "the same"},
        seed=SEED_001.format(5, "Proxy configuration issues"),
    )]


def _dropins(report: dict) -> list[dict]:
    value = _get(report, "docker_dropins", default=[])
    return value if isinstance(value, list) else []


def dockerd_dropin_not_owned(report: dict) -> list[Finding]:
    foreign = [d for d in _dropins(report) if not d.get("owned")
               and any(k.lower().endswith("_proxy") for k in d.get("environment", {}))]
    if not foreign or daemon_proxy_unreachable(report):
        return []  # an unreachable proxy from such a drop-in is named by that finding already
    return [Finding(
        id="dockerd_dropin_not_owned",
        title="docker.service drop-ins not written by the deploy set dockerd's proxy: " + ", ".join(d["path"] for d in foreign),
        severity="medium", likelihood=50,
        why="systemd applies drop-ins in file-name order and a later one wins: these override (or add to) what "
            "docker_proxy writes, so group_vars no longer decide dockerd's proxy.",
        evidence={d["path"]: d.get("environment") for d in foreign},
        fix=[f"sudo rm {d['path']}" for d in foreign] + ["sudo systemctl daemon-reload && sudo systemctl restart docker"],
        permanent={"docker_proxy.http_proxy": "the proxy those files set", "docker_proxy.https_proxy": "likewise"},
        seed=SEED_001.format(5, "Proxy configuration issues"),
    )]


def runtime_fails_agent_operations(report: dict) -> list[Finding]:
    runsc = _get(report, "runsc", default={}) or {}
    live, recorded = runsc.get("operations") or {}, runsc.get("recorded_check") or {}
    # The recorded check matters while the runtime is registered: the launcher reads it then.
    recorded_counts = recorded.get("status") == "failed" and runsc.get("registered")
    source = live if live.get("status") == "failed" else recorded if recorded_counts else None
    if not source or not source.get("failed"):
        return []
    gvisor_source = _get(report, "options", "gvisor_source")
    statx = any("Invalid argument" in why for why in source["failed"].values())
    permanent = {"agent.use_gvisor": "false to run under runc knowingly (or agent.require_gvisor: true to refuse)"}
    if statx:
        permanent["gvisor.source"] = ("gvisor_repo where the host reaches gVisor's repository (the distro's runsc lacks statx)"
                                      if gvisor_source == "distro" else "keep; upgrade the runsc package")
    return [Finding(
        id="runtime_fails_agent_operations",
        title=f"runtime {source.get('runtime')} fails what agents do: {', '.join(source['failed'])}",
        severity="high", likelihood=75,
        why="The agent runs `ls -la`, `stat`, git and node constantly; under this runtime they fail"
            + (" with \"Invalid argument\" (no statx(2) in this runsc)" if statx else "")
            + ". The launcher falls back to runc (warning) or refuses with agent.require_gvisor.",
        evidence={"failed": source["failed"], "passed": source.get("passed"), "not tried": source.get("skipped"),
                  "checked": "now (container probe)" if source is live else "by the deploy (gvisor.runtime_check_file)",
                  "runsc version": (runsc.get("version") or {}).get("version")},
        fix=[f"docker run --rm --runtime={source.get('runtime')} {source.get('image')} sh -c 'ls -la /; stat /etc/hostname'",
             "sudo apt-get install --only-upgrade runsc   (or gVisor's repository), then run the deploy (it re-checks)"],
        permanent=permanent,
        seed="issue 13 (Debian's runsc lacks statx: ls -la and stat fail in the sandbox)",
    )]


def _has_v6_route(report: dict) -> bool:
    return bool(_get(report, "network", "default_route_v6"))


def ipv6_enabled_without_route(report: dict) -> list[Finding]:
    findings = []
    host_route = _has_v6_route(report)
    forwarding_v6 = _get(report, "sysctl", "net.ipv6.conf.all.forwarding")
    container = _get(report, "container", default={}) or {}
    v6_nets = [n["name"] for n in _get(report, "docker", "networks", default=[]) or [] if n.get("ipv6")]
    common = dict(
        fix=["container: --sysctl net.ipv6.conf.all.disable_ipv6=1 --sysctl net.ipv6.conf.default.disable_ipv6=1",
             "host-wide: sudo sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1",
             "agent: NODE_OPTIONS=--dns-result-order=ipv4first"],
        permanent={"host_network.disable_ipv6": True, "docker_daemon.ipv6": False},
        seed=SEED_IPV6,
    )
    container_v6 = container.get("status") == "ok" and container.get("ipv6_disabled") is False and (
        container.get("default_route_v6") or any(a["kind"] in ("global", "ula") for a in container.get("ipv6_addresses") or [])
    )
    if (container_v6 or v6_nets or _daemon_json(report).get("ipv6")) and (not host_route or forwarding_v6 == 0):
        findings.append(Finding(
            id="ipv6_enabled_without_route",
            title="containers have IPv6 but the host cannot route it",
            severity="high", likelihood=93,
            why="The API name has AAAA records; a container with an IPv6 address tries them first and its packets go nowhere: requests hang ~60 s before falling back or timing out, often after 1-2 good requests.",
            evidence={"host default IPv6 route": _get(report, "network", "default_route_v6"),
                      "sysctl.net.ipv6.conf.all.forwarding": forwarding_v6, "docker networks with IPv6": v6_nets,
                      "daemon_json.ipv6": _daemon_json(report).get("ipv6"),
                      "container ipv6_disabled": container.get("ipv6_disabled"),
                      "container IPv6 addresses": [a["address"] for a in container.get("ipv6_addresses") or [] if a["kind"] != "loopback"],
                      "container default IPv6 route": container.get("default_route_v6")},
            **common,
        ))
    host_v6 = [a for a in _get(report, "network", "ipv6_addresses", default=[]) or [] if a["kind"] in ("global", "ula")]
    if _get(report, "sysctl", "net.ipv6.conf.all.disable_ipv6") == 0 and host_v6 and not host_route:
        findings.append(Finding(
            id="ipv6_enabled_without_route",
            title="the host has IPv6 addresses but no IPv6 default route",
            severity="medium", likelihood=70,
            why="Resolvers return AAAA records that cannot be reached from here; host-network containers and tools that try IPv6 first stall or fail before falling back to IPv4.",
            evidence={"sysctl.net.ipv6.conf.all.disable_ipv6": 0, "host IPv6 addresses": [f"{a['address']}/{a['prefix']} ({a['interface']})" for a in host_v6],
                      "host default IPv6 route": None},
            **common,
        ))
    return findings


def daemon_proxy_missing(report: dict) -> list[Finding]:
    env = _get(report, "proxy_env", default={}) or {}
    host_proxy = _proxy_values(env.get("etc_environment")) or _proxy_values(env.get("shell"))
    if not (host_proxy.get("http_proxy") or host_proxy.get("https_proxy")) or not _docker_ok(report):
        return []
    daemon = _daemon_proxy(report)
    if daemon.get("http_proxy") or daemon.get("https_proxy"):
        return []
    unit = _get(report, "docker_unit", default={}) or {}
    http = host_proxy.get("http_proxy") or host_proxy.get("https_proxy")
    https = host_proxy.get("https_proxy") or http
    return [Finding(
        id="daemon_proxy_missing",
        title="the host reaches the internet through a proxy but dockerd has none",
        severity="medium", likelihood=65,
        why="dockerd does not read the login environment: pulls and builds hang or fail, and containers that rely on the daemon's proxy settings cannot get out.",
        evidence={"host proxy (masked)": host_proxy, "docker info proxy": {k: v for k, v in daemon.items()},
                  "docker unit drop-ins": unit.get("dropins"), "docker unit status": unit.get("status")},
        fix=["/etc/systemd/system/docker.service.d/http-proxy.conf:",
             f'  [Service]\n  Environment="HTTP_PROXY={http}"\n  Environment="HTTPS_PROXY={https}"\n  Environment="NO_PROXY=localhost,127.0.0.1"',
             "sudo systemctl daemon-reload && sudo systemctl restart docker"],
        permanent={"docker_proxy.http_proxy": http, "docker_proxy.https_proxy": https, "docker_proxy.no_proxy": ["localhost", "127.0.0.1", "::1"]},
        seed=SEED_001.format(5, "Proxy configuration issues"),
    )]


def daemon_proxy_not_applied(report: dict) -> list[Finding]:
    unit = _proxy_values(_get(report, "docker_unit", "environment", default={}))
    info = _get(report, "docker", "info", default={}) or {}
    live = {k: info.get(v) or None for k, v in (("http_proxy", "HttpProxy"), ("https_proxy", "HttpsProxy"))}
    if not _docker_ok(report) or _get(report, "docker_unit", "status") != "ok":
        return []
    differs = {k: {"unit": unit.get(k), "running dockerd": live[k]} for k in live
               if _without_userinfo(unit.get(k)) != _without_userinfo(live[k])}
    if not differs:
        return []
    return [Finding(
        id="daemon_proxy_not_applied",
        title="dockerd runs with other proxy settings than its systemd unit declares",
        severity="medium", likelihood=60,
        why="The drop-in was changed without restarting dockerd (or vice versa): the daemon uses a stale or missing proxy.",
        evidence=differs,
        fix=["sudo systemctl daemon-reload && sudo systemctl restart docker"],
        permanent={"docker_proxy.http_proxy": unit.get("http_proxy"), "docker_proxy.https_proxy": unit.get("https_proxy")},
        seed=SEED_001.format(5, "Proxy configuration issues"),
    )]


def daemon_no_proxy_incomplete(report: dict) -> list[Finding]:
    daemon = _daemon_proxy(report)
    if not (daemon.get("http_proxy") or daemon.get("https_proxy")):
        return []
    entries = [e.strip() for e in re.split(r"[,\s]+", daemon.get("no_proxy") or "") if e.strip()]
    missing = [e for e in ("localhost", "127.0.0.1") if e not in entries]
    if not missing:
        return []
    return [Finding(
        id="daemon_no_proxy_incomplete",
        title=f"dockerd's NO_PROXY lacks {', '.join(missing)}",
        severity="medium", likelihood=45,
        why="Local registries and services are then sent to the proxy, which cannot reach them: pulls and builds hang.",
        evidence={"NO_PROXY": daemon.get("no_proxy") or None},
        fix=['add to the drop-in: Environment="NO_PROXY=localhost,127.0.0.1,<local registries>"',
             "sudo systemctl daemon-reload && sudo systemctl restart docker"],
        permanent={"docker_proxy.no_proxy": sorted(set(entries) | {"localhost", "127.0.0.1", "::1"})},
        seed=SEED_001.format(5, "Proxy configuration issues"),
    )]


def firewalld_bridge_not_trusted(report: dict) -> list[Finding]:
    fw = _get(report, "firewalld", default={}) or {}
    if fw.get("status") != "running":
        return []
    bridges = [n["bridge"] for n in _bridge_networks(report)] or ["docker0"]
    found = []
    for bridge in bridges:
        zone = (fw.get("zones") or {}).get(bridge)
        target = (fw.get("zone_targets") or {}).get(zone) if zone else None
        if target == "ACCEPT":
            continue
        found.append(Finding(
            id="firewalld_bridge_not_trusted",
            title=f"firewalld: {bridge} is in zone {zone or '(none)'} (target {target or 'default'}), which does not pass its traffic",
            severity="high", likelihood=85,
            why="firewalld's zones are evaluated in nftables besides Docker's rules; forwarded traffic of a bridge in a zone whose target is not ACCEPT is rejected.",
            evidence={"bridge": bridge, "zone": zone, "bound explicitly": (fw.get("bound") or {}).get(bridge),
                      "zone target": target, "default zone": fw.get("default_zone")},
            # Runtime and permanent, no --reload: a reload unbinds docker0, which dockerd binds at runtime only.
            fix=[f"sudo firewall-cmd --zone=docker --change-interface={bridge} && sudo firewall-cmd --permanent --zone=docker --change-interface={bridge}",
                 "(seed 001 says zone trusted; Docker >= 20.10 refuses to start with docker0 outside its own "
                 "`docker` zone: ZONE_CONFLICT)"],
            permanent={"firewall.manage": True, "firewall.backend": "firewalld", "firewall.firewalld_zone": "docker"},
            seed=SEED_001.format(2, "Firewall blocking container traffic"),
        ))
    return found


def ufw_routed_traffic_denied(report: dict) -> list[Finding]:
    ufw = _get(report, "ufw", default={}) or {}
    if ufw.get("status") != "active" or (ufw.get("defaults") or {}).get("routed") not in ("deny", "reject"):
        return []
    subnets = [s for n in _bridge_networks(report) for s in _v4_subnets(n)] or ["172.17.0.0/16"]
    routed = [r for r in ufw.get("rules") or [] if r.startswith("route:allow")]
    missing = [s for s in subnets if not any(f"from {s} " in r for r in routed)]
    if not missing:
        return []
    # Docker's FORWARD rules usually sit before UFW's chains: if the walker says the bridge's
    # traffic is accepted, UFW's routed policy is not what drops it.
    accepted = all(v.verdict == "ACCEPT" for _, _, _, v in _forward_verdicts(report))
    return [Finding(
        id="ufw_routed_traffic_denied",
        title=f"UFW denies routed traffic and has no rule for {', '.join(missing)}",
        severity="low" if accepted else "high", likelihood=30 if accepted else 84,
        why="UFW's routed policy applies to everything a container sends out; when Docker's own accepts are missing or placed after UFW's chains, container traffic is dropped.",
        evidence={"ufw defaults": ufw.get("defaults"), "docker subnets without a rule": missing,
                  "iptables verdict for the bridges": "ACCEPT (Docker's rules come first)" if accepted else "not ACCEPT"},
        fix=[f"sudo ufw route allow from {s}" for s in missing] + [f"(seed 001: sudo ufw allow from {missing[0]}; that opens the host's own ports, route allow is what forwarding needs)"],
        permanent={"firewall.manage": True, "firewall.backend": "ufw", "firewall.ufw_forward_policy": "deny",
                   "firewall.extra_subnets": "subnets the deploy does not know about"},
        seed=SEED_001.format(2, "Firewall blocking container traffic"),
    )]


_NETNS_BUG = "cannot run with network enabled in root network namespace"


def old_runsc_on_new_kernel(report: dict) -> list[Finding]:
    runsc = _get(report, "runsc", default={}) or {}
    version, smoke, bug = runsc.get("version") or {}, runsc.get("smoke") or {}, runsc.get("network_bug") or {}
    error = smoke.get("error") or ""
    name = _get(report, "options", "runsc_runtime") or "runsc"
    args = ((_daemon_json(report).get("runtimes") or {}).get(name) or {}).get("runtimeArgs") or []
    workaround = any(a in ("--network=host", "--network=none") for a in args)
    failing = _NETNS_BUG in error
    # Smoke run not done (probes off) but the runtime is registered without the workaround.
    predicted = smoke.get("status") != "ok" and not failing and bug.get("affected") and runsc.get("registered") and not workaround
    if not (failing or predicted):
        return []
    kernel = _get(report, "system", "kernel_version") or ""
    return [Finding(
        id="old_runsc_on_new_kernel",
        title=f"runsc {version.get('version')} cannot start networked containers on kernel {kernel}",
        severity="high", likelihood=90 if failing else 80,
        why="runsc releases before August 2024 think every network namespace is the root one on kernels since ~6.7 "
            "(gVisor issue 10704) and refuse to start networked containers: the sandbox never starts.",
        evidence={"runsc version": version.get("version"), "release date": version.get("release_date"), "kernel": kernel,
                  "smoke run error": error[-300:] or None, "network_bug": bug or None, f"daemon.json runtimes.{name}.runtimeArgs": args},
        fix=[f'/etc/docker/daemon.json: runtimes.{name}.runtimeArgs: ["--network=host"], then: sudo systemctl restart docker',
             "or install a runsc released in August 2024 or later"
             + (" (group_vars chose gvisor.source: distro; gvisor_repo where the host reaches gVisor's repository)"
                if _get(report, "options", "gvisor_source") == "distro" else ": sudo apt-get install --only-upgrade runsc")],
        permanent={"gvisor.network_bug_workaround": "auto"},
        seed="gVisor issue 10704 (Debian 12's runsc 20221219 on kernels >= 6.7)",
    )]


def runsc_fails_to_start(report: dict) -> list[Finding]:
    smoke = _get(report, "runsc", "smoke", default={}) or {}
    if smoke.get("status") not in ("failed", "timed out") or _NETNS_BUG in (smoke.get("error") or ""):
        return []
    return [Finding(
        id="runsc_fails_to_start",
        title="a container does not start with the gVisor runtime",
        severity="medium", likelihood=65,
        why="The sandbox runs under runsc; if no runsc container starts, the agent never runs.",
        evidence={"smoke run": smoke, "runsc version": _get(report, "runsc", "version")},
        fix=[f"docker run --rm --runtime={_get(report, 'options', 'runsc_runtime')} {_get(report, 'options', 'probe_image')} true",
             "runsc --version; journalctl -u docker"],
        permanent={"gvisor.platform": "ptrace (when systrap/kvm is unavailable)",
                   **({"gvisor.source": "gvisor_repo"} if _get(report, "options", "gvisor_source") == "distro" else {})},
        seed="seed 002: container won't start with gVisor",
    )]


def sandbox_proxy_unreachable(report: dict) -> list[Finding]:
    probe = _get(report, "sandbox_proxy", default={}) or {}
    if probe.get("status") in ("absent", "skipped", "no-image", None):
        return []
    opts = _get(report, "options", default={}) or {}
    target = f"{opts.get('proxy_ip')}:{opts.get('proxy_port')}"
    if probe.get("status") != "ok" or not probe.get("proxy_reachable"):
        return [Finding(
            id="sandbox_proxy_unreachable",
            title=f"the sandbox's egress proxy {target} does not accept connections from its network",
            # Below the host-wide causes (FORWARD drop, forwarding off...): they cut the agent off
            # from its proxy too, and then the proxy is the symptom, not the cause.
            severity="high", likelihood=90,
            why="The agent's only way out is the proxy: every API call hangs or is refused.",
            evidence={"probe": probe, "network": opts.get("sandbox_network")},
            fix=["docker ps --filter network=" + str(opts.get("sandbox_network")), "docker logs <proxy container>"],
            permanent={"sandbox_network.proxy_ip": opts.get("proxy_ip"), "sandbox_network.proxy_port": opts.get("proxy_port")},
            seed="seed 003 (proxy sidecar on an internal network)",
        )]
    code = probe.get("connect_status")
    if code == 200:
        return []
    return [Finding(
        id="sandbox_proxy_cannot_reach_target",
        title=f"the egress proxy answers CONNECT {opts.get('proxy_target')} with {probe.get('connect_reply') or 'nothing'}",
        severity="high", likelihood=91,
        why="403: the allowlist refuses the API host; 502/503/504 or no answer: the proxy itself cannot get out (its egress network's forwarding, NAT, DNS or MTU).",
        evidence={"probe": probe, "target": opts.get("proxy_target")},
        fix=["check the proxy's allowlist and logs: docker logs <proxy container>",
             "run the other rules' checks for the egress bridge (forwarding, NAT, MTU)"],
        permanent={"egress_proxy": "allowlist must contain the API host", "sandbox_network.egress_network": opts.get("sandbox_network")},
        seed="seed 003 / seed 004 (proxy egress)",
    )]


def sandbox_proxy_older_than_dockerd(report: dict) -> list[Finding]:
    """The egress proxy fails CONNECT and has run since before dockerd's last start: with
    live-restore it kept running through the restart, and its long-lived UDP socket to dockerd's
    embedded DNS (127.0.0.11) keeps a NAT mapping to the resolver's old port, so Squid's lookups
    hang (measured: no answer in 12 s, 20 s after the restart; a fresh `getent` in the same
    container answers). Named before sandbox_proxy_cannot_reach_target, which it explains."""
    probe = _get(report, "sandbox_proxy", default={}) or {}
    container = probe.get("container") if isinstance(probe.get("container"), dict) else None
    dockerd_started = _get(report, "dockerd", "started_at")
    # The symptom is no answer at all (Squid waits on its lookup); a 5xx answer means Squid's DNS works.
    if probe.get("status") != "ok" or probe.get("connect_status") is not None or not probe.get("proxy_reachable") \
            or not container:
        return []
    if _get(report, "container", "resolve", "status") not in (None, "ok"):
        return []  # a fresh container cannot resolve either: container_dns_failing explains both
    proxy_started = docker_time(container.get("started_at"))
    if not isinstance(dockerd_started, int) or proxy_started is None or proxy_started >= dockerd_started:
        return []
    name = container.get("name")
    return [Finding(
        id="sandbox_proxy_older_than_dockerd",
        title=f"the egress proxy {name} has run since before dockerd's last start, and CONNECT gets no answer",
        severity="high", likelihood=93,
        why="dockerd was restarted with live-restore while the proxy ran: Squid's DNS socket still goes to dockerd's "
            "embedded resolver under its old NAT mapping, so every lookup hangs and the agent's requests time out.",
        evidence={"probe": {k: v for k, v in probe.items() if k != "container"}, "proxy container": container,
                  "dockerd started (epoch s)": dockerd_started, "proxy started (epoch s)": proxy_started},
        fix=[f"sudo docker restart {name}"],
        permanent={"egress_proxy.container_name": name},
        seed="seed 003 (proxy sidecar on an internal network)",
        notes=["The deploy restarts a proxy that has run since before dockerd started, and stops and starts it "
               "around its own dockerd restarts."],
    )]


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """One finding per (id, bridge): the outbound and reply directions usually fail together."""
    seen, out = set(), []
    for finding in findings:
        key = (finding.id, finding.evidence.get("bridge"))
        if key not in seen:
            seen.add(key)
            out.append(finding)
    return out


RULES = [
    docker_daemon_unreachable,
    docker_networking_disabled,
    route_overlaps_docker_network,
    loopback_stub_resolver,
    daemon_proxy_unreachable,
    dockerd_dropin_not_owned,
    runtime_fails_agent_operations,
    ip_forward_disabled,
    forward_policy_drop_without_docker_rules,
    firewall_rule_drops_bridge,
    nftables_forward_drop,
    nat_masquerade_missing,
    mtu_larger_than_path,
    rules_mtu.mtu_larger_than_tunnel,
    rules_mtu.bridge_mtu_not_applied,
    container_dns_failing,
    host_dns_failing,
    ipv6_enabled_without_route,
    daemon_proxy_missing,
    daemon_proxy_not_applied,
    daemon_no_proxy_incomplete,
    firewalld_bridge_not_trusted,
    ufw_routed_traffic_denied,
    old_runsc_on_new_kernel,
    runsc_fails_to_start,
    sandbox_proxy_unreachable,
    sandbox_proxy_older_than_dockerd,
]


def not_checked(report: dict) -> list[str]:
    """What this report could not look at, so an empty finding list is not over-read."""
    notes = []
    docker = _get(report, "docker", "status")
    if docker == "permission denied":
        notes.append("docker permission denied (not root, not in the docker group? use --sudo): Docker networks, NAT, "
                     "container MTU and the container probes were not checked")
    elif docker != "ok":
        notes.append(f"docker {docker}: Docker networks, NAT, MTU of container networks and the container probes were not checked")
    for key, what in (("container", "container DNS, IPv6 and MTU as a container sees them"),
                      ("sandbox_proxy", "the egress proxy path")):
        status = _get(report, key, "status")
        if docker == "ok" and status not in ("ok", "absent"):
            extra = f" (image {_get(report, 'options', 'probe_image')} is not on the host; --probe-image)" if status == "no-image" else ""
            notes.append(f"{key} probe {status}{extra}: {what} not checked")
    connection = _get(report, "connection", default={}) or {}
    # By uid: $USER is unset under `docker exec` and cron, which is no reason to doubt a root gather.
    if connection.get("uid") not in (None, 0) and not connection.get("sudo"):
        notes.append(f"gathered as {connection.get('user')} without --sudo: root-only facts (iptables, nftables, "
                     "and tools in /usr/sbin) may be missing or read as absent")
    iptables = _get(report, "iptables", "status")
    if iptables == "not on PATH":
        notes.append("iptables-save is installed but not on this user's PATH (use --sudo): FORWARD and NAT were not checked")
    elif iptables == "empty":
        notes.append("iptables-save printed nothing (not root? use --sudo): FORWARD and NAT were not checked")
    elif iptables == "absent":
        notes.append("iptables-save absent: FORWARD and NAT were not checked")
    if _get(report, "nftables", "status") == "unavailable":
        notes.append("nft could not list the ruleset (not root? use --sudo): nftables forward chains were not checked")
    if _get(report, "docker_unit", "status") == "unavailable":
        notes.append("systemd is not running: dockerd's unit environment (proxy drop-ins) was read from `docker info` only")
    return notes


def run_rules(report: dict) -> list[Finding]:
    """Every rule's findings, most likely cause first."""
    findings = []
    for rule in RULES:
        findings.extend(rule(report))
    return ordered(findings)
