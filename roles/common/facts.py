"""Facts several roles need."""

from pyinfra.api import FactBase


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
