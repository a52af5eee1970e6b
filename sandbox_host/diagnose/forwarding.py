"""Where a packet from a Docker bridge ends up in the iptables filter FORWARD chain.

The FORWARD policy alone says little: Docker itself sets it to DROP and accepts its bridges with
rules of its own. What matters is the verdict for the bridge's traffic: walk FORWARD in order,
following jumps into user chains, for a new connection leaving the bridge and for its replies.
Rules whose matches this walker does not model (ipsets, ports, marks...) are skipped and listed,
so a verdict reached past them says so.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

# Flags whose meaning the walker models; any other flag makes a rule "unmodelled".
_KNOWN_FLAGS = {"-m", "--ctstate", "--state", "--comment", "conntrack", "state", "comment"}
_STATES = {"NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED", "DNAT", "SNAT"}
_BUILTIN = {"INPUT", "FORWARD", "OUTPUT", "PREROUTING", "POSTROUTING"}
# A public address standing for "the internet" (TEST-NET-3: never a real host).
OUTSIDE = "203.0.113.10"


@dataclass(frozen=True)
class Packet:
    in_if: str
    out_if: str
    src: str
    dst: str
    state: str  # NEW or ESTABLISHED
    protocol: str = "tcp"


@dataclass
class Verdict:
    verdict: str  # ACCEPT, DROP, REJECT
    chain: str
    rule: dict | None  # None: the chain's policy decided
    unmodelled: list[dict] = field(default_factory=list)

    @property
    def by_policy(self) -> bool:
        return self.rule is None


def _iface_match(pattern: str, name: str) -> bool:
    return name.startswith(pattern[:-1]) if pattern.endswith("+") else pattern == name


def _addr_match(cidr: str, address: str) -> bool:
    try:
        return ipaddress.ip_address(address) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False


def _extras(rule: dict) -> list[str]:
    return list(rule.get("extras") or [])


def _modelled(rule: dict) -> bool:
    flags = {token for token in _extras(rule) if token.startswith("-")}
    return flags <= _KNOWN_FLAGS


def _states(rule: dict) -> set[str] | None:
    extras = _extras(rule)
    if "--ctstate" not in extras and "--state" not in extras:
        return None
    found = set()
    for token in extras:
        parts = set(token.split(","))
        if parts and parts <= _STATES:
            found |= parts
    return found


def matches(rule: dict, packet: Packet) -> bool:
    checks = [
        ("in_interface", lambda v: _iface_match(v, packet.in_if)),
        ("out_interface", lambda v: _iface_match(v, packet.out_if)),
        ("source", lambda v: _addr_match(v, packet.src)),
        ("destination", lambda v: _addr_match(v, packet.dst)),
        ("protocol", lambda v: v in (packet.protocol, "all")),
    ]
    for key, check in checks:
        if key in rule and not check(rule[key]):
            return False
        if f"not_{key}" in rule and check(rule[f"not_{key}"]):
            return False
    states = _states(rule)
    return states is None or packet.state in states


def walk(rules: list[dict], policies: dict[str, str], packet: Packet, chain: str = "FORWARD",
         depth: int = 0, unmodelled: list[dict] | None = None) -> Verdict | None:
    """The verdict for packet from chain; None when a user chain returns without deciding.
    Rules skipped on the way (unmodelled matches) are collected into the verdict."""
    unmodelled = [] if unmodelled is None else unmodelled
    if depth > 16:  # a jump loop; iptables refuses them, a hand-made report might not
        return None
    for rule in (r for r in rules if r.get("chain") == chain):
        if not _modelled(rule):
            unmodelled.append(rule)
            continue
        if not matches(rule, packet):
            continue
        target = rule.get("jump")
        if target in ("ACCEPT", "DROP", "REJECT"):
            return Verdict(target, chain, rule, unmodelled)
        if target == "RETURN":
            return None if chain not in _BUILTIN else Verdict(policies.get(chain, "ACCEPT"), chain, None, unmodelled)
        if target in policies and target not in _BUILTIN:
            inner = walk(rules, policies, packet, target, depth + 1, unmodelled)
            if inner is not None:
                return inner
        # LOG, MARK, unknown targets: the packet goes on to the next rule.
    if chain in _BUILTIN:
        return Verdict(policies.get(chain, "ACCEPT"), chain, None, unmodelled)
    return None


def bridge_paths(iptables: dict, bridge: str, subnet: str, uplink: str) -> dict[str, Verdict]:
    """Verdicts for a container on bridge opening a connection out of uplink, and for the replies."""
    filter_table = iptables.get("filter") or {}
    rules, policies = filter_table.get("rules") or [], filter_table.get("chains") or {}
    container = str(next(ipaddress.ip_network(subnet, strict=False).hosts()) + 1)
    return {
        "outbound": walk(rules, policies, Packet(bridge, uplink, container, OUTSIDE, "NEW")),
        "replies": walk(rules, policies, Packet(uplink, bridge, OUTSIDE, container, "ESTABLISHED")),
    }


def rule_text(rule: dict | None) -> str:
    """Render a parsed rule back to iptables syntax, for evidence and fixes."""
    if rule is None:
        return "(chain policy)"
    parts = [f"-A {rule.get('chain')}"]
    for key, flag in (("protocol", "-p"), ("source", "-s"), ("destination", "-d"), ("in_interface", "-i"), ("out_interface", "-o")):
        if key in rule:
            parts.append(f"{flag} {rule[key]}")
        if f"not_{key}" in rule:
            parts.append(f"! {flag} {rule[f'not_{key}']}")
    parts += _render_extras(rule)
    if rule.get("jump"):
        parts.append(f"-j {rule['jump']}")
    return " ".join(parts)


def _render_extras(rule: dict) -> list[str]:
    """pyinfra parses match options into an unordered set; rebuild the ones the walker models."""
    extras = _extras(rule)
    if not extras:
        return []
    states = _states(rule)
    if states is not None and set(extras) <= _KNOWN_FLAGS | {",".join(sorted(states))} | {t for t in extras if set(t.split(",")) <= _STATES}:
        module = "conntrack --ctstate" if "--ctstate" in extras else "state --state"
        return [f"-m {module} {','.join(sorted(states))}"]
    return ["(matches: " + " ".join(extras) + ")"]


def exact(rule: dict) -> bool:
    """Whether rule_text() reproduces the rule exactly (usable in `iptables -D`)."""
    return not _extras(rule) or not rule_text(rule).count("(matches:")
