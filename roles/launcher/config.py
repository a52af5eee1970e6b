"""The launcher's configuration file (/etc/agent-sandbox/config.json), from the host's settings.

Everything agent-sandbox needs at run time, resolved here so the launcher (stdlib only, no
pydantic) reads plain JSON. Never holds a secret.
"""

from __future__ import annotations

import json


def launcher_config(settings, uid: int, gid: int) -> dict:
    """``settings`` is the HostConfig; uid/gid those the agent image was built with."""
    agent, launcher, network = settings.agent, settings.launcher, settings.sandbox_network
    use_gvisor = agent.use_gvisor and settings.gvisor.enabled
    return {
        "image": f"{agent.image_name}:latest",
        "build_context": f"{launcher.build_context_dir}/context.tar",
        "container_name": launcher.container_name,
        "network": network.internal_network,
        "proxy": {
            "ip": network.proxy_ip,
            "port": network.proxy_port,
            "container": launcher.proxy_container or settings.egress_proxy.container_name,
        },
        "proxy_log": {"decision_field": launcher.proxy_log_decision_field},
        "no_proxy": list(launcher.no_proxy),
        "runtime": settings.gvisor.runtime_name if use_gvisor else None,
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
    return json.dumps(config, indent=2, sort_keys=True) + "\n"
