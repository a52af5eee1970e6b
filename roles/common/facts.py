"""Facts several roles need."""

import re
from datetime import datetime
from pathlib import Path

from pyinfra.api import FactBase

from sandbox_host.roles.common import scripts

FILES = Path(__file__).parent / "files"


class InitSystem(FactBase):
    """The init system actually running as PID 1: "systemd", "sysvinit" or "other".

    pyinfra's server.service picks systemd whenever systemctl is installed, which is wrong in
    containers, WSL and CI machines that have the binary but not systemd as PID 1.
    """

    def command(self):
        return "cat /proc/1/comm 2>/dev/null; test -d /run/systemd/system && echo systemd-booted || true"

    def process(self, output):
        lines = [line.strip() for line in output]
        if "systemd-booted" in lines or (lines and lines[0] == "systemd"):
            return "systemd"
        return "sysvinit" if lines and lines[0] in ("init", "sh", "bash", "tini", "dumb-init") else "other"


class DockerResponds(FactBase):
    """True when the Docker daemon answers on its socket."""

    def command(self):
        return "docker version --format '{{.Server.Version}}' >/dev/null 2>&1 && echo yes || echo no"

    def process(self, output):
        return bool(output) and output[0].strip() == "yes"


class DockerdStartedAt(FactBase):
    """When the running dockerd started (seconds since the epoch), or None (files/dockerd-started.sh)."""

    def command(self):
        return scripts.command(FILES / "dockerd-started.sh")

    def process(self, output):
        text = "".join(output).strip()
        return int(text) if text.isdigit() else None


def docker_time(text: str | None) -> int | None:
    """Docker's RFC 3339 times (nanoseconds, "Z") in whole seconds since the epoch; None if not one."""
    match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)$", text or "")
    if not match:
        return None
    return int(datetime.fromisoformat(match[1] + match[2].replace("Z", "+00:00")).timestamp())
