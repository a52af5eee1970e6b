"""The proxy dockerd uses for pulls and builds (not the sandbox's egress proxy)."""

import posixpath

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.files import FileContents
from pyinfra.operations import files

from sandbox_host.roles.common.secret_file import secret_file
from sandbox_host.roles.docker_proxy.settings import DockerProxySettings

# Hosts without systemd: Debian's /etc/init.d/docker sources this file.
SYSVINIT_DEFAULTS = "/etc/default/docker"
BEGIN = "# BEGIN sandbox-host docker_proxy"
END = "# END sandbox-host docker_proxy"


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


def systemd_quoted(assignment: str) -> str:
    """One Environment= word that systemd reads back as exactly ``assignment`` (systemd.syntax).

    `%` starts a specifier (%h, %n...) anywhere in a unit file: `%%` is a literal one. Inside
    double quotes systemd un-escapes C-style: `\\` and `\"`. `$` is expanded only in Exec*= lines.
    """
    escaped = assignment.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
    return f'"{escaped}"'


def shell_quoted(value: str) -> str:
    """A single-quoted shell word: nothing inside is expanded (`$`, backslashes, quotes)."""
    return "'" + value.replace("'", "'\\''") + "'"


def render_dropin(env: dict[str, str]) -> str:
    lines = ["# Managed by sandbox-host (group_vars: docker_proxy). Edits are overwritten.", "[Service]"]
    lines += [f"Environment={systemd_quoted(f'{key}={value}')}" for key, value in env.items()]
    return "\n".join(lines) + "\n"


def render_defaults(existing: list[str] | None, env: dict[str, str]) -> str | None:
    """/etc/default/docker with our block replaced (or appended, or removed when ``env`` is empty).

    The file is sourced by the init script's shell: every value is single-quoted. Returns None
    when the file is absent and there is nothing to write.
    """
    lines = list(existing or [])
    if BEGIN in lines and END in lines[lines.index(BEGIN):]:
        start = lines.index(BEGIN)
        del lines[start : lines.index(END, start) + 1]
    if env:
        lines += [BEGIN, *(f"export {key}={shell_quoted(value)}" for key, value in env.items()), END]
    if existing is None and not env:
        return None
    return "\n".join(lines) + "\n" if lines else ""


@deploy("Docker daemon proxy")
def docker_proxy(settings: DockerProxySettings, init: str):
    """Write (or remove, when no proxy is set) dockerd's proxy environment.

    systemd hosts: a drop-in (daemon-reload happens in the restart step); other hosts: a
    managed block in /etc/default/docker. Returns the operation whose change needs a restart.
    Proxy URLs can carry credentials: the content is uploaded (never part of a command line)
    and never shown, not even by ``--diff`` (common/secret_file.py).
    """
    env = environment(settings)
    if init != "systemd":
        text = render_defaults(host.get_fact(FileContents, path=SYSVINIT_DEFAULTS), env)
        if text is None:
            return files.file(name=f"No proxy for dockerd in {SYSVINIT_DEFAULTS}", path=SYSVINIT_DEFAULTS,
                              present=False)
        return secret_file(
            name=f"{'Set' if env else 'Remove'} dockerd's proxy in {SYSVINIT_DEFAULTS}",
            content=text,
            dest=SYSVINIT_DEFAULTS,
            mode="644",
        )
    if not env:
        return files.file(name="Remove dockerd's proxy drop-in", path=settings.dropin_path, present=False)
    files.directory(name="Folder of dockerd's drop-ins", path=posixpath.dirname(settings.dropin_path))
    return secret_file(
        name="Write dockerd's proxy drop-in",
        content=render_dropin(env),
        dest=settings.dropin_path,
        mode="644",
    )
