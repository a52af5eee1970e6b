"""Shell programs kept as files (roles/<role>/files/*.sh), run on a host with arguments.

The file's text travels as one quoted argument of ``sh -c`` (as pyinfra's own fact commands do),
so nothing is uploaded, nothing is left on the host, and Python never formats shell code: values
reach the program only as its positional arguments ($1, $2, ...). ``$0`` is the file's name, for
the program's own messages.
"""

from __future__ import annotations

import shlex
from pathlib import Path


def argv(script: Path, *args: str | int) -> list[str]:
    """``["sh", "-c", <text of script>, <name>, *args]``: a command list to nest in another's args.

    ``bash`` instead of ``sh`` when the file's first line asks for bash.
    """
    text = script.read_text()
    shell = "bash" if text.partition("\n")[0].endswith("bash") else "sh"
    return [shell, "-c", text, script.name, *(str(arg) for arg in args)]


def command(script: Path, *args: str | int) -> str:
    """The shell command line that runs ``script`` with ``args``, every part quoted."""
    return shlex.join(argv(script, *args))
