"""Chains of ours kept as firewalld permanent direct rules (its reloads flush iptables): the
operation writes exactly the chain the role's script makes, leaves others' direct rules alone,
and does nothing without a running firewalld. On a real host: tests/host/test_firewall_converged.py
reloads firewalld and finds the guard and the MSS chain back."""

from pyinfra.facts.server import Which

from sandbox_host.roles.common import firewalld_direct as fd

from fakehost import run_operation

GUARD = [
    "-N SANDBOX-INPUT",
    "-A SANDBOX-INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
    "-A SANDBOX-INPUT -j DROP",
    "-A INPUT -i sbx-int0 -j SANDBOX-INPUT",
]
ARGS = {"table": "filter", "chain": "SANDBOX-INPUT", "rules": GUARD}
ADD = "firewall-cmd --permanent --direct --add-"
REMOVE = "firewall-cmd --permanent --direct --remove-"
# What `firewall-cmd --permanent --direct --get-all-rules` prints once the guard is kept (IPv4).
KEPT_V4 = [
    "ipv4 filter SANDBOX-INPUT 0 -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
    "ipv4 filter SANDBOX-INPUT 1 -j DROP",
    "ipv4 filter INPUT 0 -i sbx-int0 -j SANDBOX-INPUT",
]
OTHERS = ["ipv4 filter INPUT 0 -p igmp -j ACCEPT"]


def facts(output, ip6tables=True):
    state = fd.FirewalldDirect().process(output)
    return {(fd.FirewalldDirect,): state, (Which, "iptables"): "/usr/sbin/iptables",
            (Which, "ip6tables"): "/usr/sbin/ip6tables" if ip6tables else None}


def test_no_firewalld_running_is_nothing_to_do():
    commands, noops = run_operation(fd.keep_through_reloads, facts([]), **ARGS)
    assert commands == [] and "firewalld is not running" in noops[0]


def test_an_empty_direct_config_gets_the_chain_for_both_families():
    commands, _ = run_operation(fd.keep_through_reloads, facts(["@chains", "@rules"]), **ARGS)
    assert commands == [
        f"{ADD}chain ipv4 filter SANDBOX-INPUT",
        f"{ADD}chain ipv6 filter SANDBOX-INPUT",
        f"{ADD}rule ipv4 filter INPUT 0 -i sbx-int0 -j SANDBOX-INPUT",
        f"{ADD}rule ipv4 filter SANDBOX-INPUT 0 -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
        f"{ADD}rule ipv4 filter SANDBOX-INPUT 1 -j DROP",
        f"{ADD}rule ipv6 filter INPUT 0 -i sbx-int0 -j SANDBOX-INPUT",
        f"{ADD}rule ipv6 filter SANDBOX-INPUT 0 -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
        f"{ADD}rule ipv6 filter SANDBOX-INPUT 1 -j DROP",
    ]


def test_kept_chain_changes_nothing_and_others_rules_are_not_ours():
    output = ["@chains", "ipv4 filter SANDBOX-INPUT", "@rules", *KEPT_V4, *OTHERS]
    commands, noops = run_operation(fd.keep_through_reloads, facts(output, ip6tables=False), **ARGS)
    assert commands == [] and "keeps filter chain SANDBOX-INPUT" in noops[0]


def test_a_changed_rule_is_replaced_and_a_stale_jump_removed():
    output = ["@chains", "ipv4 filter SANDBOX-INPUT", "@rules", *KEPT_V4[:2],
              "ipv4 filter INPUT 0 -i old-br -j SANDBOX-INPUT", *OTHERS]
    commands, _ = run_operation(fd.keep_through_reloads, facts(output, ip6tables=False), **ARGS)
    assert commands == [
        f"{REMOVE}rule ipv4 filter INPUT 0 -i old-br -j SANDBOX-INPUT",
        f"{ADD}rule ipv4 filter INPUT 0 -i sbx-int0 -j SANDBOX-INPUT",
    ]


def test_no_rules_removes_ours_rules_first():
    output = ["@chains", "ipv4 filter SANDBOX-INPUT", "@rules", *KEPT_V4, *OTHERS]
    commands, _ = run_operation(fd.keep_through_reloads, facts(output, ip6tables=False),
                                table="filter", chain="SANDBOX-INPUT", rules=[])
    assert commands == [
        f"{REMOVE}rule ipv4 filter INPUT 0 -i sbx-int0 -j SANDBOX-INPUT",
        f"{REMOVE}rule ipv4 filter SANDBOX-INPUT 0 -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
        f"{REMOVE}rule ipv4 filter SANDBOX-INPUT 1 -j DROP",
        f"{REMOVE}chain ipv4 filter SANDBOX-INPUT",
    ]


def test_mss_rules_map_one_to_one():
    rules = ["-N SANDBOX-MSS", "-A FORWARD -j SANDBOX-MSS",
             "-A SANDBOX-MSS -i docker0 -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu"]
    chains, entries = fd.wanted("mangle", rules, ["ipv4"])
    assert chains == {("ipv4", "mangle", "SANDBOX-MSS")}
    assert entries == {
        ("ipv4", "mangle", "FORWARD", 0, "-j SANDBOX-MSS"),
        ("ipv4", "mangle", "SANDBOX-MSS", 0, "-i docker0 -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu"),
    }
