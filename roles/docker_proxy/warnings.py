"""Warnings about dockerd's proxy that the deploy cannot fix itself: drop-ins it does not own.

Kept apart from the drop-in rendering (deploy.py): this only reads and warns.
"""

from pathlib import Path

from pyinfra import host, logger
from pyinfra.api import FactBase

from sandbox_host.roles.common import scripts
from sandbox_host.roles.docker_proxy.settings import DockerProxySettings

FILES = Path(__file__).parent / "files"
DROPIN_DIRS = ("/etc/systemd/system/docker.service.d", "/run/systemd/system/docker.service.d")
OWNED_MARK = "Managed by sandbox-host"


class DockerDropinProxyLines(FactBase):
    """{path: [proxy-related lines]} of docker.service drop-ins that the deploy did not write
    (no "Managed by sandbox-host" header). Values are not kept, only variable names: proxy URLs
    can carry credentials and this ends up in the deploy's output."""

    @staticmethod
    def default():
        return {}

    def command(self):
        return scripts.command(FILES / "foreign-dropins.sh", OWNED_MARK, *DROPIN_DIRS)

    def process(self, output):
        found: dict[str, list[str]] = {}
        current = None
        for line in output:
            if line.startswith("##"):
                current = line[2:].strip()
                found[current] = []
            elif current and line.strip():
                name = line.strip().upper()
                if name not in found[current]:
                    found[current].append(name)
        return found


def foreign_dropin_warnings(found: dict[str, list[str]], owned_path: str) -> list[str]:
    """Messages for drop-ins the deploy does not own; those setting proxy variables override
    (or, sorted after ours, replace) what docker_proxy writes."""
    messages = []
    for path, names in sorted(found.items()):
        if path == owned_path:
            continue
        if names:
            messages.append(f"{path} is not written by sandbox-host and sets {', '.join(names)} for dockerd: it overrides "
                            "docker_proxy's settings (drop-ins apply in file-name order); remove it or move its values "
                            "into group_vars docker_proxy")
        else:
            messages.append(f"{path} is not written by sandbox-host (no proxy settings in it)")
    return messages


def warn_foreign_dropins(settings: DockerProxySettings, init: str) -> list[str]:
    """Warn (never fail) about docker.service drop-ins the deploy does not own. systemd only."""
    if init != "systemd":
        return []
    messages = foreign_dropin_warnings(host.get_fact(DockerDropinProxyLines), settings.dropin_path)
    for message in messages:
        logger.warning("%s%s", host.print_prefix, message)
    return messages
