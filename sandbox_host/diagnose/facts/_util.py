"""Helpers shared by the diagnose facts."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from sandbox_host.diagnose.facts import ABSENT

_NAME = re.compile(r"^[A-Za-z0-9._:/@+-]{1,253}$")


def name(value: str) -> str:
    """A value that names something (image, host, network, path), refusing anything odd."""
    if not _NAME.match(str(value)):
        raise ValueError(f"refusing unexpected characters in {value!r}")
    return str(value)


def quote(value: str) -> str:
    """Shell-quote a value that names something (image, host, network, path): refuse anything odd."""
    return shlex.quote(name(value))


def guard(tool: str, command: str) -> str:
    """Run command when tool exists, print the ABSENT marker otherwise; always exit 0."""
    return f"if command -v {tool} >/dev/null 2>&1; then {{ {command} ; }} 2>&1; else echo '{ABSENT}'; fi; true"


def is_absent(output: list[str]) -> bool:
    return bool(output) and output[0].strip() == ABSENT


def redact_url(value: str) -> str:
    """Drop the password from proxy URLs (http://user:secret@proxy:3128): reports get shared."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return value
    if parts.password is None:
        return value
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def redact_env(env: dict[str, str]) -> dict[str, str]:
    return {key: redact_url(value) if "proxy" in key.lower() else value for key, value in env.items()}


_FILES = Path(__file__).resolve().parent.parent / "files"


def script(name: str, *args) -> str:
    """Run sandbox_host/diagnose/files/NAME (a linted shell file) with quoted args."""
    text = (_FILES / name).read_text()
    interpreter = "bash" if text.startswith("#!/bin/bash") else "sh"
    return " ".join([interpreter, "-c", shlex.quote(text), shlex.quote(name), *(shlex.quote(str(a)) for a in args)])


_USERINFO = re.compile(r"(//[^/@:\s]*:)[^@/\s]*@")


def redact_text(text: str) -> str:
    """Mask passwords in any URL inside free text (log lines, drop-in lines)."""
    return _USERINFO.sub(r"\1***@", text)
