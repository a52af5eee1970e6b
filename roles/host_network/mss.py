"""TCP MSS clamping for forwarded connections of the Docker and sandbox bridges.

One mangle chain of ours, jumped from mangle FORWARD, made by one script (files/mss-clamp.sh)
that both the deploy and the boot unit run: the rules exist in one place. The operation here
only decides whether the live rules differ from what the script makes.
"""

from __future__ import annotations

import posixpath
import shlex
from pathlib import Path

from pyinfra import host
from pyinfra.api import OperationError, StringCommand, operation
from pyinfra.facts.files import Directory
from pyinfra.operations import files

from sandbox_host.roles.common import firewalld_direct, templating
from sandbox_host.roles.common.units import boot_unit
from sandbox_host.roles.host_network.facts import MangleRules
from sandbox_host.roles.host_network.settings import HostNetworkSettings

HERE = Path(__file__).parent
SCRIPT = HERE / "files" / "mss-clamp.sh"
# Docker names the bridge of each user-defined network br-<id>; `+` is iptables' wildcard.
DOCKER_NETWORK_BRIDGES = "br-+"


def mode(settings: HostNetworkSettings) -> str:
    return str(settings.mss_clamping)


def expected_rules(chain: str, mode: str, bridges: list[str]) -> list[str]:
    """The chain's rules and the FORWARD jump as ``iptables -t mangle -S`` prints what the script
    makes (empty for ``off``)."""
    if mode == "off":
        return []
    target = "--clamp-mss-to-pmtu" if mode == "pmtu" else f"--set-mss {mode}"
    rules = [f"-N {chain}", f"-A FORWARD -j {chain}"]
    for bridge in bridges:
        for direction in ("-i", "-o"):
            rules.append(f"-A {chain} {direction} {bridge} -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS {target}")
    return rules


def ours(rules: list[str], chain: str) -> list[str]:
    """The live rules that belong to ``chain``: its definition, its rules, jumps into it."""
    return [r for r in rules if r == f"-N {chain}" or r.startswith(f"-A {chain} ") or r.endswith(f" -j {chain}")]


def script_command(script: str, chain: str, mode: str, bridges: list[str]) -> str:
    return shlex.join([script, chain, mode, *bridges])


@operation()
def clamp(script: str, chain: str, mode: str, bridges: list[str]):
    """
    Run ``script`` when the live mangle rules (IPv4, and IPv6 where ip6tables exists) differ
    from what it makes; nothing otherwise.
    """
    wanted = expected_rules(chain, mode, bridges)
    differing = []
    for version in (4, 6):
        live = host.get_fact(MangleRules, version=version)
        if live is None:
            if version == 4 and mode != "off":
                raise OperationError("iptables is not installed: cannot clamp TCP MSS (host_network.mss_clamping)")
            continue
        if sorted(ours(live, chain)) != sorted(wanted):
            differing.append(f"IPv{version}")
    if differing:
        yield StringCommand(script_command(script, chain, mode, bridges))
    else:
        host.noop(f"MSS clamping ({mode}) of {', '.join(bridges)} is in place" if mode != "off"
                  else "MSS clamping is off and no chain of ours is left")


def mss_clamping(settings: HostNetworkSettings, bridges: list[str]) -> list:
    """Install the script (and its boot unit under systemd), then make the rules match; with
    firewalld running, the chain is also one of its permanent direct rules (its reloads flush
    iptables: roles/common/firewalld_direct.py)."""
    bridges = [*bridges, DOCKER_NETWORK_BRIDGES]
    script = files.put(
        name=f"MSS clamping script {settings.mss_script}",
        src=str(SCRIPT),
        dest=settings.mss_script,
        user="root",
        group="root",
        mode="755",
    )
    metas = [script]
    if host.get_fact(Directory, path="/run/systemd/system"):
        unit_name = f"{posixpath.basename(settings.mss_script)}.service"
        command = script_command(settings.mss_script, settings.mss_chain, mode(settings), bridges)
        text = templating.render(HERE / "templates", "mss-clamp.service.j2", bridges=bridges, command=command)
        metas += boot_unit("MSS clamping", unit_name, text)
    metas.append(clamp(
        name=f"TCP MSS clamping ({mode(settings)}) in mangle chain {settings.mss_chain}",
        script=settings.mss_script, chain=settings.mss_chain, mode=mode(settings), bridges=bridges,
    ))
    metas.append(firewalld_direct.keep_through_reloads(
        name=f"MSS clamping chain {settings.mss_chain} kept through firewalld reloads",
        table="mangle", chain=settings.mss_chain, rules=expected_rules(settings.mss_chain, mode(settings), bridges),
    ))
    return metas
