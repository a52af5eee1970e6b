"""The MTU of the host's path out, from `ip -j -d link show` and `ip -j route show table all`.

Pure functions (no pyinfra): tests/unit/test_path_mtu.py runs them over outputs captured on real
hosts. The path MTU is the smallest of:

- the MTU of each interface a default route leaves by (every routing table: wg-quick and
  OpenVPN put theirs in a table of their own or split it into 0.0.0.0/1 + 128.0.0.0/1);
- the MTU of each tunnel/VPN interface any route goes through (tun, tap, wireguard, ppp, GRE,
  IPIP/SIT, VTI/XFRM, VXLAN/Geneve, L2TP): containers reach what sits behind it through it;
- every `mtu` attribute set on a route (`ip route add ... mtu 1380`).

Docker's own interfaces never count: docker0, its br-<id> bridges, the bridges named in
``exclude`` (the sandbox's) and everything enslaved to them (the containers' veths). A smaller
MTU than needed costs a few percent of throughput; a larger one makes large requests hang
(seed 001, §4), so the smallest wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# `ip -d link` kinds (linkinfo.info_kind) and link types of tunnels and VPNs.
TUNNEL_KINDS = frozenset({
    "tun", "wireguard", "gre", "gretap", "ip6gre", "ip6gretap", "erspan", "ipip", "sit", "ip6tnl",
    "vti", "vti6", "xfrm", "vxlan", "geneve", "l2tp", "ppp", "ipsec", "bareudp", "amt",
})
TUNNEL_LINK_TYPES = frozenset({"none", "ppp", "gre", "gre6", "ipip", "sit", "tunnel", "tunnel6", "ip6gre"})
# Named like a tunnel, whatever the driver reports (e.g. a tap owned by a VPN client).
TUNNEL_NAMES = re.compile(r"^(tun|tap|wg|ppp|gre|gretap|vti|ipsec|ip6tnl|sit|vxlan|geneve|l2tp|tailscale|zt|nebula)")
DOCKER_NAMES = re.compile(r"^(docker0$|br-[0-9a-f]{12}$)")
# A default route, or OpenVPN's def1 split of it.
DEFAULTS = frozenset({"default", "0.0.0.0/1", "128.0.0.0/1", "::/1", "8000::/1"})
NON_UNICAST = frozenset({"local", "broadcast", "multicast", "anycast", "blackhole", "unreachable", "prohibit", "throw", "nat"})


@dataclass(frozen=True)
class PathMtu:
    """The answer: ``mtu`` (None when the host has no route out) and what each value came from."""

    mtu: int | None
    sources: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.mtu is None:
            return "no default route and no tunnel route: path MTU unknown"
        return f"path MTU {self.mtu} (" + "; ".join(self.sources) + ")"


def is_tunnel(link: dict) -> bool:
    kind = (link.get("linkinfo") or {}).get("info_kind")
    return (
        kind in TUNNEL_KINDS
        or link.get("link_type") in TUNNEL_LINK_TYPES
        or bool(TUNNEL_NAMES.match(link.get("ifname", "")))
    )


def docker_owned(links: dict[str, dict], exclude: tuple[str, ...] | list[str] = ()) -> set[str]:
    """Docker's bridges (and ``exclude``) and every interface enslaved to one of them."""
    bridges = {name for name in links if DOCKER_NAMES.match(name) or name in exclude}
    return bridges | {name for name, link in links.items() if link.get("master") in bridges}


def _route_mtu(route: dict) -> int | None:
    for metric in route.get("metrics") or []:
        if isinstance(metric, dict) and isinstance(metric.get("mtu"), int):
            return metric["mtu"]
    return None


def find(links: list[dict], routes: list[dict], exclude: tuple[str, ...] | list[str] = ()) -> PathMtu:
    """Smallest MTU on the ways out (see the module docstring); ``exclude``: more bridges to skip."""
    by_name = {link["ifname"]: link for link in links if "ifname" in link}
    skipped = docker_owned(by_name, exclude) | {"lo"}
    found: dict[str, tuple[int, str]] = {}  # interface or route -> (MTU, why it counts)
    for route in routes:
        if route.get("type", "unicast") in NON_UNICAST:
            continue
        dev = route.get("dev", "")
        if dev in skipped or dev not in by_name:
            continue
        table = route.get("table", "main")
        where = f"route {route.get('dst')}" + (f" table {table}" if table != "main" else "")
        if route.get("dst") in DEFAULTS:
            found.setdefault(dev, (by_name[dev]["mtu"], where.replace("route default", "default route")))
        elif is_tunnel(by_name[dev]):
            found.setdefault(dev, (by_name[dev]["mtu"], f"tunnel, {where}"))
        route_mtu = _route_mtu(route)
        if route_mtu:
            found.setdefault(f"{where} dev {dev}", (route_mtu, "route mtu attribute"))
    if not found:
        return PathMtu(None)
    ranked = sorted(found.items(), key=lambda item: item[1][0])
    return PathMtu(ranked[0][1][0], [f"{name} {mtu}: {why}" for name, (mtu, why) in ranked])
