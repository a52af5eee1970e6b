"""The proxy dockerd uses for pulls and builds (not the sandbox's egress proxy)."""

from io import StringIO

from pyinfra.api import deploy
from pyinfra.operations import files

from sandbox_host.roles.docker_proxy.settings import DockerProxySettings

# Hosts without systemd: Debian's /etc/init.d/docker sources this file.
SYSVINIT_DEFAULTS = "/etc/default/docker"
MARKER = "# {mark} sandbox-host docker_proxy"


def environment(settings: DockerProxySettings) -> dict[str, str]:
    """The variables dockerd gets, upper case (dockerd reads both cases; one is enough)."""
    env = {}
    if settings.http_proxy:
        env["HTTP_PROXY"] = settings.http_proxy
    if settings.https_proxy:
        env["HTTPS_PROXY"] = settings.https_proxy
    if env and settings.no_proxy:
        env["NO_PROXY"] = ",".join(settings.no_proxy)
    return env


def render_dropin(env: dict[str, str]) -> str:
    lines = ["# Managed by sandbox-host (group_vars: docker_proxy). Edits are overwritten.", "[Service]"]
    lines += [f'Environment="{key}={value}"' for key, value in env.items()]
    return "\n".join(lines) + "\n"


@deploy("Docker daemon proxy")
def docker_proxy(settings: DockerProxySettings, init: str):
    """Write (or remove, when no proxy is set) dockerd's proxy environment.

    systemd hosts: a drop-in (daemon-reload happens in the restart step); other hosts: a
    managed block in /etc/default/docker. Returns the operation whose change needs a restart.
    Proxy URLs can carry credentials: the content is uploaded, never printed.
    """
    env = environment(settings)
    if init != "systemd":
        return files.block(
            name=f"{'Set' if env else 'Remove'} dockerd's proxy in {SYSVINIT_DEFAULTS}",
            path=SYSVINIT_DEFAULTS,
            content="\n".join(f'export {key}="{value}"' for key, value in env.items()),
            marker=MARKER,
            present=bool(env),
            try_prevent_shell_expansion=True,
        )
    if not env:
        return files.file(name="Remove dockerd's proxy drop-in", path=settings.dropin_path, present=False)
    return files.put(
        name="Write dockerd's proxy drop-in",
        src=StringIO(render_dropin(env)),
        dest=settings.dropin_path,
        user="root",
        group="root",
        mode="644",
    )
