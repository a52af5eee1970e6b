"""The launcher's configuration file (/etc/agent-sandbox/config.json), from the host's settings.

Everything agent-sandbox needs at run time, resolved here so the launcher (stdlib only, no
pydantic) reads plain JSON. Never holds a secret. The file is an API between two programs: it
carries agent-sandbox's CONFIG_VERSION, and what is written is checked with the launcher's own
check_config (the launcher checks it again when it reads it), so a deploy never installs a
configuration its launcher refuses.
"""

from __future__ import annotations

import json
from typing import NamedTuple

from sandbox_host.roles.agent.settings import AgentSettings
from sandbox_host.roles.egress_proxy.settings import EgressProxySettings
from sandbox_host.roles.gvisor.settings import GvisorSettings
from sandbox_host.roles.images.operations import CONTENT_TAG_HEX_DIGITS, CONTENT_TAG_PREFIX, HASH_LABEL
from sandbox_host.roles.images.settings import ImagesSettings
from sandbox_host.roles.launcher.agent_sandbox import CONFIG_VERSION, check_config
from sandbox_host.roles.launcher.settings import LauncherSettings
from sandbox_host.roles.sandbox_network.settings import SandboxNetworkSettings


class LauncherSections(NamedTuple):
    """The settings sections the launcher's configuration is made from."""

    launcher: LauncherSettings
    agent: AgentSettings
    images: ImagesSettings
    gvisor: GvisorSettings
    sandbox_network: SandboxNetworkSettings
    egress_proxy: EgressProxySettings


def launcher_config(sections: LauncherSections, uid: int, gid: int) -> dict:
    """uid/gid: those the agent image was built with."""
    agent, launcher, network, gvisor = sections.agent, sections.launcher, sections.sandbox_network, sections.gvisor
    use_gvisor = agent.use_gvisor and gvisor.enabled
    return {
        "version": CONFIG_VERSION,
        "image": f"{agent.image_name}:latest",
        # How the deploy labels and tags a content-addressed image: `update` keeps both.
        "image_naming": {"hash_label": HASH_LABEL, "tag_prefix": CONTENT_TAG_PREFIX,
                         "tag_hex_digits": CONTENT_TAG_HEX_DIGITS},
        "build_context": f"{launcher.build_context_dir}/context.tar",
        # A root-only file of proxy variables for builds (roles/images); the path, never the values.
        "build_proxy_env": sections.images.build_proxy_env,
        "container_name": launcher.container_name,
        "network": network.internal_network,
        "proxy": {
            "ip": network.proxy_ip,
            "port": network.proxy_port,
            "container": launcher.proxy_container or sections.egress_proxy.container_name,
        },
        "proxy_log": {"decision_field": launcher.proxy_log_decision_field},
        "no_proxy": list(launcher.no_proxy),
        "runtime": gvisor.runtime_name if use_gvisor else None,
        "require_gvisor": agent.require_gvisor,
        "limits": {"memory": agent.memory, "cpus": agent.cpus, "pids": agent.pids_limit,
                   "pids_gvisor": agent.gvisor_pids_limit},
        "read_only_root": agent.read_only_root,
        "tmpfs_size": agent.tmpfs_size,
        "disable_ipv6": agent.disable_ipv6,
        "dns_servers": list(agent.dns_servers),
        "state_volume": agent.state_volume,
        "user": {"name": agent.user, "home": f"/home/{agent.user}", "uid": uid, "gid": gid},
        "credentials_file": launcher.credentials_file,
        "gitconfig": launcher.gitconfig,
        "agent_command": list(launcher.agent_command),
        "doctor": launcher.doctor.model_dump(),
    }


def render(config: dict) -> str:
    check_config(config, "the launcher configuration the deploy would write")
    return json.dumps(config, indent=2, sort_keys=True) + "\n"
