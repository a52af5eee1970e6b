"""Facts the images role decides from."""

from __future__ import annotations

import shlex

from pyinfra.api import FactBase


class ResolvedV4(FactBase):
    """The first IPv4 address the host resolves ``hostname`` to (/etc/hosts, then DNS), or None."""

    def requires_command(self, hostname: str) -> str:
        return "getent"

    def command(self, hostname: str) -> str:
        return f"getent ahostsv4 {shlex.quote(hostname)} | head -n 1 || true"

    def process(self, output):
        words = " ".join(output).split()
        return words[0] if words else None
