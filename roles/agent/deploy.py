"""agent: build the agent image (Claude Code on Node, non-root user, entrypoint) on the host."""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import OperationError, deploy

from sandbox_host.roles.agent import context
from sandbox_host.roles.agent.facts import UserIds
from sandbox_host.roles.agent.settings import AgentSettings
from sandbox_host.roles.images import deploy as images
from sandbox_host.roles.images import operations as image_ops
from sandbox_host.roles.images.settings import ImagesSettings


def agent_ids(agent: AgentSettings) -> tuple[int, int]:
    """UID/GID the agent user gets: agent.uid/gid, else agent.host_user's on this host, else 1000.

    A host_user that does not exist stops the run: silently falling back to 1000 would give the
    agent files its owner cannot edit.
    """
    host_ids = None
    if agent.uid is None and agent.host_user:
        host_ids = host.get_fact(UserIds, user=agent.host_user)
        if host_ids is None:
            raise OperationError(f"agent.host_user: no account {agent.host_user!r} on {host.name}")
    return context.resolve_ids(agent, host_ids)


def check_offline_tarballs(agent: AgentSettings) -> None:
    """agent.offline's tarballs against their integrity (OperationError naming key and file);
    each file is read once per process however often this is asked."""
    context.check_offline_tarballs(agent, image_ops.file_sha512)


@deploy("Agent image")
def agent_image(agent: AgentSettings, image_settings: ImagesSettings):
    """
    Build the agent image ``<agent.image_name>:c-<content hash>`` (alias ``:latest``) on
    ``images.base_image``: Node (npm package or the base's), the pinned Claude Code, git, ripgrep,
    jq, curl, the extra CA certificates, a non-root user with the host user's UID/GID and the
    entrypoint. Nothing runs when an image of the same content exists. The base image must be
    present (``images.base_image`` first). With ``agent.offline`` the tarballs are checked against
    their integrity here, uploaded with the context and installed with no registry.
    """
    uid, gid = agent_ids(agent)
    check_offline_tarballs(agent)
    offline = agent.offline
    return images.build(
        image_settings,
        agent.image_name,
        context.dockerfile(agent, image_settings, uid, gid),
        files=context.context_files(),
        local_files=context.offline_files(agent),
        network=offline.build_network if offline and offline.build_network != "default" else None,
        name=f"Agent image {agent.image_name} (Claude Code {agent.claude_code_version}"
             f"{', from local tarballs' if offline else ''}) built",
    )
