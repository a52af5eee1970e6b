"""launcher: install agent-sandbox, its configuration and the agent image's rebuild context."""

from __future__ import annotations

import io
import posixpath
from pathlib import Path

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.server import Kernel
from pyinfra.operations import files

from sandbox_host.roles.agent import context
from sandbox_host.roles.agent.deploy import agent_ids
from sandbox_host.roles.launcher.config import LauncherSections, launcher_config, render

SCRIPT = Path(__file__).with_name("agent_sandbox.py")


@deploy("Launcher")
def launcher(sections: LauncherSections):
    """
    Install ``agent-sandbox`` (``launcher.install_path``), its configuration
    (``launcher.config_path``: image, networks, proxy, run policy; no secrets) and a tar of the agent
    image's build context (``launcher.build_context_dir``) for ``agent-sandbox update``.
    Returns the operations whose change matters.
    """
    launcher_settings = sections.launcher
    if not launcher_settings.enabled:
        return ()
    uid, gid = agent_ids(sections.agent)
    # macOS has no group "root": its root-owned system files belong to wheel.
    group = "wheel" if host.get_fact(Kernel) == "Darwin" else "root"
    installed = files.put(
        name=f"agent-sandbox installed at {launcher_settings.install_path}",
        src=str(SCRIPT),
        dest=launcher_settings.install_path,
        mode="755",
        user="root",
        group=group,
    )
    files.directory(
        name="Launcher configuration directory",
        path=posixpath.dirname(launcher_settings.config_path),
        mode="755",
    )
    configured = files.put(
        name=f"Launcher configuration {launcher_settings.config_path}",
        src=io.StringIO(render(launcher_config(sections, uid, gid))),
        dest=launcher_settings.config_path,
        mode="644",
        user="root",
        group=group,
    )
    files.directory(name="Agent image rebuild context directory", path=launcher_settings.build_context_dir, mode="755")
    tar = context.context_tar(context.full_context(sections.agent, sections.images, uid, gid))
    rebuild_context = files.put(
        name="Agent image rebuild context",
        src=io.BytesIO(tar),
        dest=f"{launcher_settings.build_context_dir}/context.tar",
        mode="644",
        user="root",
        group=group,
    )
    return installed, configured, rebuild_context
