"""Facts about the host firewall front ends pyinfra has none for: firewalld and UFW.

Both report `None` when the tool is not installed (requires_command), so a deploy can tell
"absent" from "installed but stopped/inactive" from "running".
"""

from __future__ import annotations

import re
from pathlib import Path

from pyinfra.api import FactBase

from sandbox_host.roles.common import scripts

FILES = Path(__file__).parent / "files"
# Section markers the fact commands print between the outputs they collect (the firewalld ones
# are printed by files/firewalld-state.sh).
_RUNTIME = "## runtime"
_PERMANENT = "## permanent"
_TUPLES = "## user rules"
_DEFAULTS = "## defaults"


def parse_zones(lines: list[str]) -> dict[str, dict]:
    """Parse `firewall-cmd [--permanent] --list-all-zones` into {zone: {target, interfaces, sources}}.

    A zone starts at an unindented line ("trusted", "docker (active)", "public (default, active)");
    its settings are indented "key: value" lines. Multi-line values (rich rules, one per line after
    a tab) and unknown keys are ignored: only what the role decides on is kept.
    """
    zones: dict[str, dict] = {}
    current = None
    for line in lines:
        if not line.strip():
            continue
        if line.startswith("\t"):
            continue  # a rich rule, one per line after "rich rules:"
        if not line[0].isspace():
            name = line.split()[0]
            current = zones.setdefault(name, {"target": None, "interfaces": [], "sources": []})
            continue
        if current is None:
            continue
        key, sep, value = line.strip().partition(":")
        if not sep:
            continue
        if key == "target":
            current["target"] = value.strip()
        elif key in ("interfaces", "sources"):
            current[key] = value.split()
    return zones


class FirewalldState(FactBase):
    """firewalld's state: None when firewall-cmd is absent, else

    {"running": bool, "default_zone": str | None,
     "runtime": {zone: {"target", "interfaces", "sources"}}, "permanent": {... same ...}}

    Zones are only listed while firewalld runs: firewall-cmd talks to the daemon over D-Bus.
    """

    def requires_command(self) -> str:
        return "firewall-cmd"

    def command(self) -> str:
        return scripts.command(FILES / "firewalld-state.sh")

    def process(self, output: list[str]) -> dict:
        state = {"running": False, "default_zone": None, "runtime": {}, "permanent": {}}
        section = None
        sections: dict[str, list[str]] = {_RUNTIME: [], _PERMANENT: []}
        for line in output:
            if line in sections:
                section = line
            elif section:
                sections[section].append(line)
            elif line.startswith("state:"):
                state["running"] = line.split(":", 1)[1].strip() == "running"
            elif line.startswith("default:"):
                state["default_zone"] = line.split(":", 1)[1].strip() or None
        state["runtime"] = parse_zones(sections[_RUNTIME])
        state["permanent"] = parse_zones(sections[_PERMANENT])
        return state


# A persisted UFW rule, as ufw writes it to /etc/ufw/user.rules and user6.rules:
#   ### tuple ### [route:]action proto dport dst sport src [dapp sapp] direction [comment=<hex>]
# action may carry a log suffix (allow_log); direction is in/out, optionally with interfaces
# (in_docker0, in_eth0!out_eth1); dapp/sapp are application profile names ("OpenSSH", "-").
_POLICY = re.compile(r"^DEFAULT_(INPUT|OUTPUT|FORWARD)_POLICY=\"?(\w+)\"?")


def parse_tuple(line: str) -> dict | None:
    """One persisted UFW rule (a `### tuple ###` line) as a dict; None if it is not one."""
    text = line.strip()
    if not text.startswith("### tuple ###"):
        return None
    fields = text[len("### tuple ###") :].split()
    comment = None
    if fields and fields[-1].startswith("comment="):
        comment = fields.pop()[len("comment=") :]
        try:
            comment = bytes.fromhex(comment).decode()
        except ValueError:
            pass
    if len(fields) not in (7, 9):
        return None
    action, proto, dport, dst, sport, src = fields[:6]
    route = action.startswith("route:")
    action, _, log = action.removeprefix("route:").partition("_")
    interfaces = dict(part.partition("_")[::2] for part in fields[-1].split("!"))
    direction = fields[-1].split("!")[0].partition("_")[0]
    if direction not in ("in", "out"):
        return None
    return {
        "route": route,
        "action": action,
        "log": log or None,
        "proto": proto,
        "dport": dport,
        "dst": dst,
        "sport": sport,
        "src": src,
        "apps": tuple(fields[6:8]) if len(fields) == 9 else None,
        "direction": direction,
        "interface_in": interfaces.get("in") or None,
        "interface_out": interfaces.get("out") or None,
        "comment": comment,
    }


class UfwStatus(FactBase):
    """UFW's state: None when ufw is absent, else

    {"active": bool, "policies": {"input"|"output"|"forward": "DROP"|"ACCEPT"|"REJECT"},
     "rules": [parse_tuple dicts, IPv4 and IPv6]}

    Rules and policies come from the files UFW persists (user.rules/user6.rules tuples and
    /etc/default/ufw), not from `ufw status` tables: they are what survives `ufw reload`, they
    read the same whether UFW is active or not, and they are not translated.
    """

    def requires_command(self) -> str:
        return "ufw"

    def command(self) -> str:
        return (
            "LC_ALL=C ufw status | head -n 1; "
            f"echo '{_TUPLES}'; cat /etc/ufw/user.rules /etc/ufw/user6.rules 2>/dev/null | grep '^### tuple' || true; "
            f"echo '{_DEFAULTS}'; grep -E '^DEFAULT_[A-Z]+_POLICY=' /etc/default/ufw || true"
        )

    def process(self, output: list[str]) -> dict:
        status = {"active": False, "policies": {}, "rules": []}
        for line in output:
            if line.startswith("Status:"):
                status["active"] = line.split(":", 1)[1].strip() == "active"
            elif line.startswith("### tuple ###"):
                rule = parse_tuple(line)
                if rule:
                    status["rules"].append(rule)
            elif match := _POLICY.match(line):
                status["policies"][match[1].lower()] = match[2].upper()
        return status


class DockerBridges(FactBase):
    """Docker's bridge networks by bridge interface: {bridge: {"network", "internal", "subnets"}}.

    Empty when docker is absent or its daemon does not answer (a fresh host mid-deploy), never an
    error. A network without the com.docker.network.bridge.name option gets Docker's own bridge
    name, br-<first 12 characters of its id>.
    """

    def requires_command(self) -> str:
        return "docker"

    @staticmethod
    def default() -> dict:
        return {}

    def command(self) -> str:
        template = (
            '{{.Id}}|{{.Name}}|{{.Internal}}|{{index .Options "com.docker.network.bridge.name"}}|'
            "{{range .IPAM.Config}}{{.Subnet}} {{end}}"
        )
        return (
            "docker network ls -q --filter driver=bridge 2>/dev/null | while read -r id; do "
            f"docker network inspect -f '{template}' \"$id\" 2>/dev/null; done; true"
        )

    def process(self, output: list[str]) -> dict:
        bridges = {}
        for line in output:
            fields = line.split("|")
            if len(fields) != 5:
                continue
            net_id, name, internal, bridge, subnets = fields
            if not bridge or bridge == "<no value>":
                bridge = f"br-{net_id[:12]}"
            bridges[bridge] = {"network": name, "internal": internal == "true", "subnets": subnets.split()}
        return bridges
