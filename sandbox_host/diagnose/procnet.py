"""Parse the kernel's own network tables (/proc/net/*, /sys/class/net): the same text on a host and
inside a minimal container image, so no ip/iproute2 is needed anywhere the probe runs."""

from __future__ import annotations

import ipaddress
import socket
import struct


def default_route_v4(route_lines: list[str]) -> dict | None:
    """The IPv4 default route from /proc/net/route (lowest metric wins)."""
    best = None
    for line in route_lines[1:]:
        cols = line.split()
        if len(cols) < 8 or cols[1] != "00000000" or cols[7] != "00000000":
            continue
        metric = int(cols[6])
        gateway = socket.inet_ntoa(struct.pack("<L", int(cols[2], 16)))
        if best is None or metric < best["metric"]:
            best = {"interface": cols[0], "gateway": gateway, "metric": metric}
    return best


def routes_v4(route_lines: list[str]) -> list[dict]:
    """Every IPv4 route from /proc/net/route (not only the default): a VPN's or another
    interface's route that overlaps a Docker subnet is a classic "containers cannot reach X"."""
    out = []
    for line in route_lines[1:]:
        cols = line.split()
        if len(cols) < 8:
            continue
        try:
            dest = socket.inet_ntoa(struct.pack("<L", int(cols[1], 16)))
            mask = socket.inet_ntoa(struct.pack("<L", int(cols[7], 16)))
            gateway = socket.inet_ntoa(struct.pack("<L", int(cols[2], 16)))
            network = ipaddress.ip_network(f"{dest}/{mask}", strict=False)
        except (ValueError, struct.error):
            continue
        out.append({"dst": "default" if network.prefixlen == 0 else str(network), "interface": cols[0],
                    "gateway": None if gateway == "0.0.0.0" else gateway, "metric": int(cols[6])})
    return out


def routes_v6(ipv6_route_lines: list[str]) -> list[dict]:
    """Every IPv6 route from /proc/net/ipv6_route except the kernel's own (lo, multicast, local)."""
    out = []
    for line in ipv6_route_lines:
        cols = line.split()
        if len(cols) < 10 or cols[9] == "lo":
            continue
        try:
            network = ipaddress.IPv6Network(f"{_v6(cols[0])}/{int(cols[1], 16)}", strict=False)
        except ValueError:
            continue
        if network.is_multicast or network.is_link_local:
            continue
        out.append({"dst": "default" if network.prefixlen == 0 else str(network), "interface": cols[9],
                    "gateway": None if int(cols[4], 16) == 0 else _v6(cols[4]), "metric": int(cols[5], 16)})
    return out


def _v6(hex32: str) -> str:
    return str(ipaddress.IPv6Address(bytes.fromhex(hex32)))


def default_route_v6(ipv6_route_lines: list[str]) -> dict | None:
    """The IPv6 default route from /proc/net/ipv6_route; the kernel lists unreachable '::/0' on lo
    when there is none, which is not a route."""
    for line in ipv6_route_lines:
        cols = line.split()
        if len(cols) < 10 or cols[0] != "0" * 32 or cols[1] != "00" or cols[9] == "lo":
            continue
        flags = int(cols[8], 16)
        if flags & 0x0200:  # RTF_REJECT
            continue
        return {"interface": cols[9], "gateway": _v6(cols[4]), "metric": int(cols[5], 16)}
    return None


def ipv6_addresses(if_inet6_lines: list[str]) -> list[dict]:
    """Addresses from /proc/net/if_inet6 with their kind: global, ula, link, loopback."""
    addresses = []
    for line in if_inet6_lines:
        cols = line.split()
        if len(cols) < 6:
            continue
        address = ipaddress.IPv6Address(bytes.fromhex(cols[0]))
        if address.is_loopback:
            kind = "loopback"
        elif address.is_link_local:
            kind = "link"
        elif address in ipaddress.IPv6Network("fc00::/7"):
            kind = "ula"
        else:
            kind = "global"
        addresses.append({"interface": cols[5], "address": str(address), "prefix": int(cols[2], 16), "kind": kind})
    return addresses


def links(lines: list[str]) -> dict[str, dict]:
    """'name mtu operstate master' lines (written by the fact's shell loop over /sys/class/net)."""
    result = {}
    for line in lines:
        cols = line.split()
        if len(cols) < 2 or not cols[1].isdigit():
            continue
        master = cols[3] if len(cols) > 3 and cols[3] != "-" else None
        result[cols[0]] = {"mtu": int(cols[1]), "state": cols[2] if len(cols) > 2 else None, "master": master}
    return result


# The sections above are printed by sandbox_host/diagnose/files/net-sections.sh.
def split_sections(lines: list[str]) -> dict[str, list[str]]:
    """Split '##name' delimited output into {name: lines}."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in lines:
        if line.startswith("##") and " " not in line.strip():
            current = line.strip()[2:]
            sections.setdefault(current, [])
        elif current is not None:
            sections[current].append(line)
    return sections


def network_state(sections: dict[str, list[str]]) -> dict:
    """The namespace's routes, IPv6 state and links, from split_sections() output."""
    disabled = "".join(sections.get("disable_ipv6", [])).strip()
    return {
        "default_route_v4": default_route_v4(sections.get("route", [])),
        "default_route_v6": default_route_v6(sections.get("ipv6_route", [])),
        "routes": routes_v4(sections.get("route", [])) + routes_v6(sections.get("ipv6_route", [])),
        "ipv6_disabled": None if disabled == "" else disabled == "1",
        "ipv6_addresses": ipv6_addresses(sections.get("if_inet6", [])),
        "links": links(sections.get("links", [])),
    }


def resolv_conf(lines: list[str]) -> dict:
    nameservers, search, options = [], [], []
    for line in lines:
        cols = line.split("#", 1)[0].split()
        if len(cols) < 2:
            continue
        if cols[0] == "nameserver":
            nameservers.append(cols[1])
        elif cols[0] in ("search", "domain"):
            search.extend(cols[1:])
        elif cols[0] == "options":
            options.extend(cols[1:])
    return {"nameservers": nameservers, "search": search, "options": options}


def getent_ahosts(lines: list[str]) -> list[str]:
    """Unique addresses from `getent ahosts` output, in the resolver's order."""
    seen: dict[str, None] = {}
    for line in lines:
        cols = line.split()
        if cols:
            try:
                seen[str(ipaddress.ip_address(cols[0]))] = None
            except ValueError:
                continue
    return list(seen)
