"""A fleet of CI runners over SSH; settings: group_vars/ci_runners.yml.

Hosts come, without editing this file, from (first match wins):
  SANDBOX_HOST_RUNNERS       comma/space separated: "runner1 ci@runner2:2222"
  SANDBOX_HOST_RUNNERS_FILE  a file with one host per line (# comments allowed)
  inventories/ci_runners.txt the same format, kept next to this file
"""

import os
import re
from pathlib import Path

_HOST = re.compile(r"^(?:(?P<user>[^@\s]+)@)?(?P<host>[^:\s]+)(?::(?P<port>\d+))?$")


def _entries():
    listed = os.environ.get("SANDBOX_HOST_RUNNERS")
    if listed:
        return listed.replace(",", " ").split()
    path = Path(os.environ.get("SANDBOX_HOST_RUNNERS_FILE", Path(__file__).with_name("ci_runners.txt")))
    if not path.exists():
        return []
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def _host(entry):
    match = _HOST.match(entry)
    if not match:
        raise ValueError(f"ci_runners inventory: cannot parse host entry {entry!r} (want [user@]host[:port])")
    data = {"ssh_user": match["user"]} if match["user"] else {}
    if match["port"]:
        data["ssh_port"] = int(match["port"])
    return match["host"], data


ci_runners = [_host(entry) for entry in _entries()]
