"""What a Mac has: which Docker, whether Colima's VM runs, Docker's runtimes, the keychain entry."""

from __future__ import annotations

import json
import shlex

from pyinfra.api import FactBase

KEYCHAIN_SERVICE = "Claude Code-credentials"


class DockerProviders(FactBase):
    """Names of what is installed: docker_desktop, colima, docker_cli, brew."""

    def command(self) -> str:
        return (
            "test -d /Applications/Docker.app && echo docker_desktop; "
            "command -v colima >/dev/null 2>&1 && echo colima; "
            "command -v docker >/dev/null 2>&1 && echo docker_cli; "
            "command -v brew >/dev/null 2>&1 && echo brew; true"
        )

    def process(self, output):
        known = {"docker_desktop", "colima", "docker_cli", "brew"}
        return sorted({line.strip() for line in output if line.strip() in known})


class ColimaRunning(FactBase):
    """Whether the Colima profile's VM is running (`colima status` exits non-zero otherwise)."""

    def command(self, profile: str) -> str:
        return f"colima status --profile {shlex.quote(profile)} >/dev/null 2>&1 && echo running || echo stopped"

    def process(self, output):
        return "running" in [line.strip() for line in output]


class DockerRuntimes(FactBase):
    """Runtimes registered with the Docker daemon the CLI talks to ([] when it does not answer)."""

    def command(self) -> str:
        return "docker info --format '{{json .Runtimes}}' 2>/dev/null || true"

    def process(self, output):
        text = "\n".join(output).strip()
        try:
            runtimes = json.loads(text) if text else {}
        except json.JSONDecodeError:
            return []
        return sorted(runtimes) if isinstance(runtimes, dict) else []


class KeychainHasCredentials(FactBase):
    """Whether the login keychain holds Claude Code's OAuth entry. Presence only: without -w,
    and with the output discarded, the secret never reaches pyinfra (the launcher reads it at run
    time and hands it to the container on stdin)."""

    def command(self) -> str:
        service = shlex.quote(KEYCHAIN_SERVICE)
        return f"security find-generic-password -s {service} >/dev/null 2>&1 && echo present || echo absent"

    def process(self, output):
        return "present" in [line.strip() for line in output]
