"""Facts the sandbox networks are checked against: the host's routes and its iptables rules."""

from __future__ import annotations

import json

from pyinfra.api import FactBase


class Routes(FactBase):
    """Routes of the main table, IPv4 and IPv6, as ``[{"dst": "172.17.0.0/16", "dev": "docker0"}]``.

    ``dst`` is "default", a CIDR, or a bare address (a host route).
    """

    default = list

    def requires_command(self) -> str:
        return "ip"

    def command(self) -> str:
        # One JSON array per family; a host without IPv6 answers the second with an error.
        return "ip -j -4 route show; ip -j -6 route show 2>/dev/null || echo '[]'"

    def process(self, output):
        routes = []
        for line in output:
            if line.strip():
                routes += [{"dst": r.get("dst", ""), "dev": r.get("dev", "")} for r in json.loads(line)]
        return routes


class FilterRules(FactBase):
    """``iptables -S`` (filter table, every chain) as lines; ``version=6`` for ip6tables.

    None when the tool is not installed: a host without ip6tables has nothing to guard there.
    """

    def requires_command(self, version: int = 4) -> str:
        return "iptables" if version == 4 else "ip6tables"

    def command(self, version: int = 4) -> str:
        return f"{'iptables' if version == 4 else 'ip6tables'} -w -S"

    def process(self, output):
        return [line.strip() for line in output if line.strip()]
