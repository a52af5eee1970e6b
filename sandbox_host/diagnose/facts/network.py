"""Host network facts: routes, IPv6, links/MTU, DNS, nftables forward hooks."""

from __future__ import annotations

import json

from pyinfra.api import FactBase

from sandbox_host.diagnose import procnet
from sandbox_host.diagnose.facts import ABSENT, FILES
from sandbox_host.diagnose.facts._util import guard, is_absent, quote
from sandbox_host.roles.common import scripts


class NetworkState(FactBase):
    """Default routes (v4/v6), IPv6 addresses and whether IPv6 is disabled, every link's MTU and
    bridge master, read from /proc and /sys (no iproute2 needed)."""

    @staticmethod
    def default():
        return {}

    def command(self):
        return scripts.command(FILES / "net-sections.sh")

    def process(self, output):
        return procnet.network_state(procnet.split_sections(output))


class ProcSys(FactBase):
    """sysctl values read from /proc/sys directly: for users without /usr/sbin on PATH (where
    pyinfra's server.Sysctl finds no `sysctl`); network keys are readable by anyone."""

    @staticmethod
    def default():
        return {}

    def command(self, keys=()):
        reads = "; ".join(
            f"printf '%s=' {quote(key)}; cat /proc/sys/{quote(key.replace('.', '/'))} 2>/dev/null || echo" for key in keys
        )
        return reads + "; true"

    def process(self, output):
        values = {}
        for line in output:
            key, _, value = line.partition("=")
            if value.strip().lstrip("-").isdigit():
                values[key] = int(value)
        return values


class ResolvConf(FactBase):
    """Nameservers, search domains and options of a resolv.conf."""

    @staticmethod
    def default():
        return {"status": "absent"}

    def command(self, path="/etc/resolv.conf"):
        return f"if [ -r {quote(path)} ]; then cat {quote(path)}; else echo '{ABSENT}'; fi"

    def process(self, output):
        if is_absent(output):
            return self.default()
        return {"status": "ok", **procnet.resolv_conf(output)}


class Resolve(FactBase):
    """Resolve a name with the host's resolver (getent: /etc/hosts, then DNS), bounded in time.
    {"status": "ok"|"failed"|"absent", "addresses": [...]}"""

    @staticmethod
    def default():
        return {"status": "absent"}

    def command(self, lookup, timeout=10):
        return guard("getent", f"timeout {int(timeout)} getent ahosts {quote(lookup)}; echo \"##RC=$?\"")

    def process(self, output):
        if is_absent(output):
            return self.default()
        rc = next((int(line[5:]) for line in output if line.startswith("##RC=")), None)
        addresses = procnet.getent_ahosts([line for line in output if not line.startswith("##")])
        result = {"status": "ok" if rc == 0 and addresses else "failed", "addresses": addresses}
        if rc == 124:
            result["error"] = "timed out"
        elif rc != 0:
            result["error"] = "not found" if rc == 2 else f"getent exit {rc}"
        return result


class NftForwardChains(FactBase):
    """Base chains on the forward hook, across every nftables table (iptables-nft's own and
    others like firewalld's or a hand-written inet filter). A drop in any of them is final, and
    `iptables-save` does not show the non-iptables ones."""

    @staticmethod
    def default():
        return {"status": "absent"}

    def command(self):
        return guard("nft", "nft -j list ruleset || echo '##FAILED##'")

    def process(self, output):
        if is_absent(output):
            return self.default()
        text = "\n".join(output)
        try:
            items = json.loads(text).get("nftables", [])
        except (json.JSONDecodeError, AttributeError):
            return {"status": "unavailable", "error": text[-300:]}
        chains = {}
        for item in items:
            chain = item.get("chain")
            if chain and chain.get("hook") == "forward":
                key = (chain["family"], chain["table"], chain["name"])
                chains[key] = {
                    "family": chain["family"],
                    "table": chain["table"],
                    "chain": chain["name"],
                    "policy": chain.get("policy", "accept"),
                    "priority": chain.get("prio"),
                    "rules": 0,
                    "accepts_interfaces": [],
                }
        for item in items:
            rule = item.get("rule")
            key = rule and (rule["family"], rule["table"], rule["chain"])
            if key in chains:
                chains[key]["rules"] += 1
                text = json.dumps(rule.get("expr", []))
                if '"accept"' in text:
                    for expr in rule.get("expr", []):
                        match = expr.get("match") if isinstance(expr, dict) else None
                        if match and match.get("left", {}).get("meta", {}).get("key") in ("iifname", "oifname"):
                            right = match.get("right")
                            if isinstance(right, str) and right not in chains[key]["accepts_interfaces"]:
                                chains[key]["accepts_interfaces"].append(right)
        return {"status": "ok", "forward_chains": list(chains.values())}
