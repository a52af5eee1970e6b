"""An inventory spec as a ``pyinfra.api.Inventory``, without pyinfra's CLI internals.

Accepted, like ``pyinfra INVENTORY``:
  inventories/ci_runners.py    a Python file; each module-level list (or (hosts, data) tuple) is a
                               group, and every host is also in a group named after the file
  host1,host2 / @local / @docker/NAME / @ssh/HOST   host names or pyinfra connector strings
"""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

from pyinfra.api import Inventory


class InventoryError(ValueError):
    """The spec cannot be read (exit 2: nothing was touched)."""


def _is_group(name: str, value: Any) -> bool:
    if name.startswith("_"):
        return False
    hosts = value[0] if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], dict) else value
    return isinstance(hosts, list) and all(isinstance(h, (str, tuple)) for h in hosts)


def _name(entry) -> str:
    return entry[0] if isinstance(entry, tuple) else entry


def groups_from_file(path: Path) -> dict[str, tuple[list, dict]]:
    try:
        namespace = runpy.run_path(str(path))
    except Exception as exc:  # the inventory is user code: any error there is bad input
        raise InventoryError(f"{path}: {type(exc).__name__}: {exc}") from None
    groups: dict[str, tuple[list, dict]] = {}
    for name, value in namespace.items():
        if not _is_group(name, value):
            continue
        hosts, data = value if isinstance(value, tuple) else (value, {})
        groups[name] = (list(hosts), dict(data))
    file_group = path.name.rsplit(".", 1)[0]
    if file_group not in groups:
        seen: list = []
        for hosts, _ in groups.values():
            seen += [h for h in hosts if _name(h) not in {_name(s) for s in seen}]
        groups[file_group] = (seen, {})
    return groups


class FleetSpec:
    """The hosts and groups of an inventory spec; ``inventory()`` makes a fresh pyinfra
    Inventory of all of them or of a batch (each run gets its own State and Inventory)."""

    def __init__(self, spec: str, hosts: list, groups: dict[str, tuple[list, dict]]):
        self.spec = spec
        self.hosts = [_name(h) for h in hosts]
        self.groups = groups

    def inventory(self, names: list[str] | None = None) -> Inventory:
        wanted = set(self.hosts if names is None else names)
        groups = {}
        for group, (members, data) in self.groups.items():
            kept = [m for m in members if _name(m) in wanted]
            if kept:
                groups[group] = (kept, data)
        # Host data lives on the group entries ((name, data) tuples); "all" lists names only.
        return Inventory(([n for n in self.hosts if n in wanted], {}), **groups)


def load(spec: str) -> FleetSpec:
    """The hosts of SPEC; raises InventoryError when it cannot be read or names no host."""
    path = Path(spec)
    if path.suffix == ".py" or path.exists():
        if not path.is_file():
            raise InventoryError(f"{spec}: no such inventory file")
        groups = groups_from_file(path)
        hosts: list = []
        for members, _ in groups.values():
            hosts += [h for h in members if _name(h) not in {_name(s) for s in hosts}]
    else:
        hosts = [part.strip() for part in spec.split(",") if part.strip()]
        groups = {}
    if not hosts:
        raise InventoryError(f"{spec}: the inventory names no host")
    return FleetSpec(spec, hosts, groups)
