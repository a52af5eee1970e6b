"""firewalld and UFW state: which zone each bridge is in, UFW's routed policy and rules."""

from __future__ import annotations

import re

from pyinfra.api import FactBase

from roles.diagnose.facts._util import guard, is_absent, quote


class Firewalld(FactBase):
    """{"status": "absent"|"running"|"not running", "zones": {interface: zone or None},
    "zone_targets": {zone: target}}"""

    @staticmethod
    def default():
        return {"status": "absent"}

    def command(self, interfaces=("docker0",)):
        per_if = "; ".join(
            f"echo \"##if {quote(name)} $(firewall-cmd --get-zone-of-interface={quote(name)} 2>/dev/null || echo -)\""
            for name in interfaces
        )
        return guard(
            "firewall-cmd",
            "state=$(firewall-cmd --state 2>&1); echo \"##state $state\"; "
            "[ \"$state\" = running ] || exit 0; " + per_if + "; "
            "for z in $(firewall-cmd --get-active-zones | grep -v '^ '); do "
            "echo \"##target $z $(firewall-cmd --permanent --zone=$z --get-target 2>/dev/null || echo -)\"; done",
        )

    def process(self, output):
        if is_absent(output):
            return self.default()
        result = {"status": "not running", "zones": {}, "zone_targets": {}}
        for line in output:
            cols = line.split()
            if not cols:
                continue
            if cols[0] == "##state":
                result["status"] = "running" if cols[1:] == ["running"] else "not running"
            elif cols[0] == "##if" and len(cols) >= 3:
                result["zones"][cols[1]] = None if cols[2] in ("-", "no") else cols[2]
            elif cols[0] == "##target" and len(cols) >= 3:
                result["zone_targets"][cols[1]] = cols[2]
        return result


_DEFAULTS = re.compile(r"^Default:\s*(?P<body>.*)$")


class Ufw(FactBase):
    """`ufw status verbose`: {"status": "absent"|"active"|"inactive", "defaults": {"incoming":
    "deny", "outgoing": "allow", "routed": "disabled"}, "rules": [lines]}"""

    @staticmethod
    def default():
        return {"status": "absent"}

    def command(self):
        return guard("ufw", "ufw status verbose")

    def process(self, output):
        if is_absent(output):
            return self.default()
        result = {"status": "inactive", "defaults": {}, "rules": []}
        in_rules = False
        for line in output:
            if line.startswith("Status:"):
                result["status"] = line.split(":", 1)[1].strip()
            match = _DEFAULTS.match(line)
            if match:
                # "deny (incoming), allow (outgoing), disabled (routed)"
                for part in match["body"].split(","):
                    bits = part.strip().split()
                    if len(bits) == 2:
                        result["defaults"][bits[1].strip("()")] = bits[0]
            if line.startswith("--"):
                in_rules = True
            elif in_rules and line.strip():
                result["rules"].append(" ".join(line.split()))
        return result
