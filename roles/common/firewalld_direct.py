"""iptables chains of ours that a firewalld reload must not take away.

Measured on Debian 12 (firewalld 1.3, nftables backend): `firewall-cmd --reload`, and firewalld's
start, flush every iptables table, and with them the INPUT guard of the sandbox's internal bridge
and the MSS clamping chain; Docker puts its own rules back (it listens for the reload), ours stayed
gone until the next converge or boot. What firewalld restores after a flush are its permanent
*direct* rules, which it applies through iptables in the form `iptables -S` prints. So with
firewalld running, each chain a role owns is also kept as permanent direct rules, exactly as the
role's own script makes it live: the live rules stay the role's, and a reload brings back the same
ones (the role's live-rule check then finds nothing to do).

Only the permanent configuration is written: a runtime direct rule would be a second copy of what
the role's script already made live.
"""

from __future__ import annotations

import shlex

from pyinfra import host
from pyinfra.api import FactBase, StringCommand, operation
from pyinfra.facts.server import Which

FAMILIES = {"ipv4": "iptables", "ipv6": "ip6tables"}

Chain = tuple[str, str, str]  # (ipv, table, chain)
Rule = tuple[str, str, str, int, str]  # (ipv, table, chain, priority, args)


class FirewalldDirect(FactBase):
    """firewalld's permanent direct chains and rules; None when firewalld is not running."""

    def requires_command(self) -> str:
        return "firewall-cmd"

    def command(self) -> str:
        return (
            "firewall-cmd --state >/dev/null 2>&1 || exit 0; "
            "echo '@chains'; firewall-cmd --permanent --direct --get-all-chains; "
            "echo '@rules'; firewall-cmd --permanent --direct --get-all-rules"
        )

    def process(self, output):
        if not output:
            return None
        chains: set[Chain] = set()
        rules: set[Rule] = set()
        section = None
        for line in output:
            if line in ("@chains", "@rules"):
                section = line
                continue
            words = line.split(None, 4)
            if section == "@chains" and len(words) == 3:
                chains.add((words[0], words[1], words[2]))
            elif section == "@rules" and len(words) >= 4:
                rules.add((words[0], words[1], words[2], int(words[3]), words[4] if len(words) > 4 else ""))
        return {"chains": chains, "rules": rules}


def wanted(table: str, rules: list[str], families: list[str]) -> tuple[set[Chain], set[Rule]]:
    """Direct chains and rules for ``rules`` (``iptables -S`` lines: ``-N CHAIN``, ``-A CHAIN ...``).

    Rules of one chain keep their order through priorities 0, 1, ...; a jump from a built-in
    chain gets priority 0 (firewalld puts direct rules ahead of everything else there)."""
    chains: set[Chain] = set()
    entries: set[Rule] = set()
    created = [shlex.split(line)[1] for line in rules if line.startswith("-N ")]
    for ipv in families:
        position: dict[str, int] = {}
        for line in rules:
            words = shlex.split(line)
            if words[0] == "-N":
                chains.add((ipv, table, words[1]))
            elif words[0] == "-A":
                chain = words[1]
                priority = position.get(chain, 0) if chain in created else 0
                position[chain] = priority + 1
                entries.add((ipv, table, chain, priority, " ".join(words[2:])))
    return chains, entries


def _ours(state: dict, table: str, chain: str) -> tuple[set[Chain], set[Rule]]:
    chains = {c for c in state["chains"] if c[1] == table and c[2] == chain}
    rules = {r for r in state["rules"] if r[1] == table and (r[2] == chain or r[4].endswith(f"-j {chain}"))}
    return chains, rules


def _direct(action: str, *parts: str | int) -> StringCommand:
    return StringCommand("firewall-cmd --permanent --direct", f"--{action}", *(shlex.quote(str(p)) for p in parts))


@operation()
def keep_through_reloads(table: str, chain: str, rules: list[str]):
    """
    Make firewalld's permanent direct rules for ``chain`` (in ``table``) exactly ``rules`` (the
    chain as ``iptables -S`` prints it, plus the built-in chains' jumps into it), for IPv4 and,
    where ip6tables exists, IPv6. Empty ``rules``: none of ours is left. Nothing to do without a
    running firewalld (its own start would not flush anything of ours that it does not know).
    """
    state = host.get_fact(FirewalldDirect)
    if state is None:
        host.noop(f"firewalld is not running: {chain} needs no direct rules")
        return
    families = [ipv for ipv, tool in FAMILIES.items() if host.get_fact(Which, command=tool)]
    want_chains, want_rules = wanted(table, rules, families)
    have_chains, have_rules = _ours(state, table, chain)
    if (want_chains, want_rules) == (have_chains, have_rules):
        host.noop(f"firewalld keeps {table} chain {chain} through reloads" if rules
                  else f"firewalld holds no direct rules for {chain}")
        return
    # Rules before chains on removal (a chain with rules cannot go), chains before rules on adding.
    for ipv, tbl, name, priority, args in sorted(have_rules - want_rules):
        yield _direct("remove-rule", ipv, tbl, name, priority, *shlex.split(args))
    for ipv, tbl, name in sorted(have_chains - want_chains):
        yield _direct("remove-chain", ipv, tbl, name)
    for ipv, tbl, name in sorted(want_chains - have_chains):
        yield _direct("add-chain", ipv, tbl, name)
    for ipv, tbl, name, priority, args in sorted(want_rules - have_rules):
        yield _direct("add-rule", ipv, tbl, name, priority, *shlex.split(args))
