"""Read-only facts the report needs beyond pyinfra's own (server.OsRelease, server.KernelVersion,
files.FileContents)."""

from __future__ import annotations

import json

from pyinfra.api import FactBase


class DockerInfo(FactBase):
    """`docker info` as a dict; None when Docker is missing or does not answer."""

    def command(self):
        return "docker info --format '{{json .}}' 2>/dev/null || true"

    def requires_command(self):
        return "docker"

    def process(self, output):
        try:
            info = json.loads("\n".join(output))
        except json.JSONDecodeError:
            return None
        return info if isinstance(info, dict) and info.get("ServerVersion") else None


class RunscVersion(FactBase):
    """The first line of `runsc --version` (its release), or None without runsc."""

    def command(self):
        return "runsc --version 2>/dev/null | head -n 1 || true"

    def requires_command(self):
        return "runsc"

    def process(self, output):
        return output[0].strip() if output and output[0].strip() else None
