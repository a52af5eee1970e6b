"""Proxy variables a host's users and services see: the login environment pyinfra's shell gets and
/etc/environment (what PAM gives every session). Passwords in proxy URLs are masked."""

from __future__ import annotations

from pyinfra.api import FactBase

from sandbox_host.diagnose.facts._util import redact_env

_NAMES = ("http_proxy", "https_proxy", "no_proxy", "all_proxy")


class ProxyEnvironment(FactBase):
    @staticmethod
    def default():
        return {"shell": {}, "etc_environment": {}}

    def command(self):
        return (
            "echo '##shell'; env | grep -i -E '^(http|https|no|all)_proxy=' ; "
            "echo '##etc_environment'; grep -i -E '^[[:space:]]*(export[[:space:]]+)?(http|https|no|all)_proxy=' "
            "/etc/environment 2>/dev/null; true"
        )

    def process(self, output):
        result = self.default()
        current = None
        for line in output:
            if line in ("##shell", "##etc_environment"):
                current = line[2:]
                continue
            key, sep, value = line.strip().removeprefix("export ").partition("=")
            if current and sep and key.lower() in _NAMES:
                result[current][key] = value.strip().strip("'\"")
        return {section: redact_env(values) for section, values in result.items()}


class Identity(FactBase):
    """Who the fact commands run as, by uid (not $USER, which `docker exec` and cron leave
    unset): {"uid": int|None, "user": str|None}."""

    @staticmethod
    def default():
        return {"uid": None, "user": None}

    def command(self):
        return "id -u 2>/dev/null; id -un 2>/dev/null; true"

    def process(self, output):
        lines = [line.strip() for line in output if line.strip()]
        uid = int(lines[0]) if lines and lines[0].isdigit() else None
        return {"uid": uid, "user": lines[1] if len(lines) > 1 else None}
