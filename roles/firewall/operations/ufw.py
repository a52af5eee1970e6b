"""UFW operations: routed-traffic rules and the default forward policy.

Each yields nothing when the host already matches. Rules are compared with what UFW persisted
(/etc/ufw/user*.rules), so they hold whether UFW is active or not and survive `ufw reload`.
"""

from __future__ import annotations

import ipaddress
import re
import shlex

from pyinfra import host
from pyinfra.api import OperationValueError, operation

from sandbox_host.roles.firewall.facts import DockerBridges, UfwStatus

# ufw's word for a policy -> the value it writes to /etc/default/ufw
POLICIES = {"allow": "ACCEPT", "deny": "DROP", "reject": "REJECT"}
_COMMENT = re.compile(r"^[A-Za-z0-9 _.,:/()-]{0,64}$")


def _status():
    status = host.get_fact(UfwStatus)
    if status is None:
        host.noop("ufw is not installed")
    return status


def _network(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None


def _is_route_allow_from(rule: dict, source) -> bool:
    """The rule `ufw route allow from <source>` writes: any protocol, port, destination, interface."""
    wanted_dst = "0.0.0.0/0" if source.version == 4 else "::/0"
    return (
        rule["route"]
        and rule["action"] == "allow"
        and rule["direction"] == "in"
        and not rule["log"]
        and not rule["apps"]
        and not rule["interface_in"]
        and not rule["interface_out"]
        and (rule["proto"], rule["dport"], rule["sport"]) == ("any", "any", "any")
        and rule["dst"] == wanted_dst
        and _network(rule["src"]) == source
    )


@operation()
def route_allow(source: str | None = None, bridge: str | None = None, comment: str | None = "sandbox-host"):
    """Allow routed (forwarded) traffic from a subnet: `ufw route allow from <subnet>`.

    + source: network in CIDR form (IPv4 or IPv6)
    + bridge: instead of source, a Docker bridge interface (docker0, sbx-egr0): its network's
      subnets as Docker reports them when the operation runs, so a Docker installed earlier in
      the same deploy counts. Internal networks are skipped: they must not route.
    + comment: stored with the rule so `ufw status` tells who added it

    Only forwarded traffic is allowed: the rule lands in ufw-user-forward, never in the INPUT
    chains, so no port of the host itself is opened.
    """
    if (source is None) == (bridge is None):
        raise OperationValueError("ufw.route_allow needs exactly one of source or bridge")
    if comment is not None and not _COMMENT.match(comment):
        raise OperationValueError(f"invalid ufw rule comment: {comment!r}")
    if source is not None:
        network = _network(source)
        if network is None:
            raise OperationValueError(f"invalid subnet for ufw route allow: {source!r}")
        networks = [network]
    else:
        info = host.get_fact(DockerBridges).get(bridge)
        if info is None:
            host.noop(f"{bridge} is not a Docker bridge network")
            return
        if info["internal"]:
            host.noop(f"{bridge} is an internal network: not routed")
            return
        networks = [network for network in map(_network, info["subnets"]) if network is not None]
    status = _status()
    if status is None:
        return
    suffix = f" comment {shlex.quote(comment)}" if comment else ""
    missing = [n for n in networks if not any(_is_route_allow_from(rule, n) for rule in status["rules"])]
    for network in missing:
        yield f"ufw route allow from {network}{suffix}"
    if not missing:
        host.noop(f"ufw routes traffic from {', '.join(map(str, networks))}")


@operation()
def default_forward_policy(policy: str = "deny"):
    """Set UFW's default policy for routed traffic (DEFAULT_FORWARD_POLICY in /etc/default/ufw).

    + policy: allow, deny or reject (written as ACCEPT, DROP, REJECT); `ufw default` rewrites
      the file and, when UFW is active, reloads it
    """
    if policy not in POLICIES:
        raise OperationValueError(f"invalid ufw forward policy: {policy!r} (one of {sorted(POLICIES)})")
    status = _status()
    if status is None:
        return
    if status["policies"].get("forward") == POLICIES[policy]:
        host.noop(f"ufw routed policy is {policy}")
        return
    yield f"ufw default {policy} routed"
