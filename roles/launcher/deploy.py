"""launcher: install agent-sandbox, its configuration and the agent image's rebuild context."""

from __future__ import annotations

import io
import posixpath
from pathlib import Path

from pyinfra.api import deploy
from pyinfra.operations import files

from roles.agent import context
from roles.agent.deploy import agent_ids
from roles.launcher.config import launcher_config, render

SCRIPT = Path(__file__).with_name("agent_sandbox.py")


@deploy("Launcher")
def launcher(settings):
    """
    Install ``agent-sandbox`` (``launcher.install_path``), its configuration
    (``launcher.config_path``: image, networks, proxy, run policy; no secrets) and a tar of the agent
    image's build context (``launcher.build_context_dir``) for ``agent-sandbox update``.
    ``settings`` is the HostConfig. Returns the operations whose change matters.
    """
    launcher_settings = settings.launcher
    if not launcher_settings.enabled:
        return ()
    uid, gid = agent_ids(settings.agent)
    installed = files.put(
        name=f"agent-sandbox installed at {launcher_settings.install_path}",
        src=str(SCRIPT),
        dest=launcher_settings.install_path,
        mode="755",
        user="root",
        group="root",
    )
    files.directory(
        name="Launcher configuration directory",
        path=posixpath.dirname(launcher_settings.config_path),
        mode="755",
    )
    configured = files.put(
        name=f"Launcher configuration {launcher_settings.config_path}",
        src=io.StringIO(render(launcher_config(settings, uid, gid))),
        dest=launcher_settings.config_path,
        mode="644",
        user="root",
        group="root",
    )
    files.directory(name="Agent image rebuild context directory", path=launcher_settings.build_context_dir, mode="755")
    tar = context.context_tar(context.full_context(settings.agent, settings.images, uid, gid))
    rebuild_context = files.put(
        name="Agent image rebuild context",
        src=io.BytesIO(tar),
        dest=f"{launcher_settings.build_context_dir}/context.tar",
        mode="644",
        user="root",
        group="root",
    )
    return installed, configured, rebuild_context
