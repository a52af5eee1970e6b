"""Facts the agent role reads from the host."""

from __future__ import annotations

import shlex

from pyinfra.api import FactBase


class UserIds(FactBase):
    """(uid, gid) of a host account, or None when the account does not exist."""

    def command(self, user: str) -> str:
        quoted = shlex.quote(user)
        return f"id -u {quoted} 2>/dev/null && id -g {quoted} 2>/dev/null || true"

    def process(self, output):
        lines = [line.strip() for line in output if line.strip()]
        if len(lines) != 2 or not all(line.isdigit() for line in lines):
            return None
        return int(lines[0]), int(lines[1])
