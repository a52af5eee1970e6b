"""daemon.json as data: the keys this project manages, merged into what the host already has.

Pure functions (no pyinfra): unit tests cover every rule here.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from sandbox_host.roles.docker_daemon.settings import DockerDaemonSettings

# Keys whose value is a mapping merged entry by entry (the host's other entries survive).
MERGED_MAPPINGS = ("log-opts", "runtimes")


def effective_mtu(settings: DockerDaemonSettings, detected: int | None) -> int | None:
    """The MTU written to daemon.json: an explicit number wins; ``auto`` takes the detected path
    MTU (None when the host has no route out: the key is left alone); None is unmanaged."""
    return detected if settings.mtu == "auto" else settings.mtu


def managed_options(settings: DockerDaemonSettings, detected_mtu: int | None = None) -> dict[str, Any]:
    """The daemon.json keys this configuration owns, with their values (runtimes: gvisor role).

    ``detected_mtu``: the path MTU found on the host, used when ``settings.mtu`` is ``auto``.
    """
    options: dict[str, Any] = {
        "ipv6": settings.ipv6,
        "log-driver": settings.log_driver,
        "live-restore": settings.live_restore,
        "userland-proxy": settings.userland_proxy,
        "no-new-privileges": settings.no_new_privileges,
        "icc": settings.icc,
    }
    if settings.log_driver in ("json-file", "local"):
        options["log-opts"] = {"max-size": settings.log_max_size, "max-file": str(settings.log_max_file)}
    if settings.dns:
        options["dns"] = list(settings.dns)
    mtu = effective_mtu(settings, detected_mtu)
    if mtu is not None:
        options["mtu"] = mtu
    if settings.fixed_cidr:
        options["fixed-cidr"] = settings.fixed_cidr
    if settings.default_address_pools:
        options["default-address-pools"] = [
            {"base": pool.base, "size": pool.size} for pool in settings.default_address_pools
        ]
    options.update(settings.extra)
    return options


def merge(existing: dict[str, Any] | None, managed: dict[str, Any],
          released: dict[str, Any] | None = None) -> dict[str, Any]:
    """Managed keys overwrite, unmanaged keys stay; mappings in MERGED_MAPPINGS merge per entry.

    ``released`` names values this project set earlier and no longer wants (e.g.
    {"default-runtime": "runsc"} after gVisor is made non-default): removed only if unchanged.
    """
    merged = dict(existing or {})
    for key, value in managed.items():
        if key in MERGED_MAPPINGS and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    for key, value in (released or {}).items():
        if key not in managed and merged.get(key) == value:
            del merged[key]
    return merged


def render(options: dict[str, Any]) -> str:
    """Byte-stable text: sorted keys, fixed indentation, trailing newline."""
    return json.dumps(options, indent=2, sort_keys=True) + "\n"


def parse(text: str | None, path: str) -> dict[str, Any] | None:
    if text is None or not text.strip():
        return None
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} on the host is not valid JSON ({exc}); fix or remove it, then rerun") from None
    if not isinstance(loaded, dict):
        raise ValueError(f"{path} on the host is not a JSON object; fix or remove it, then rerun")
    return loaded


def check(options: dict[str, Any]) -> list[str]:
    """Our own validation, for Docker versions without `dockerd --validate` (< 23).

    Catches the mistakes that stop dockerd from starting: wrong types of the keys we know.
    """
    problems = []
    for key in ("ipv6", "live-restore", "userland-proxy", "no-new-privileges", "icc"):
        if key in options and not isinstance(options[key], bool):
            problems.append(f"{key} must be true or false")
    if "mtu" in options and not (isinstance(options["mtu"], int) and 68 <= options["mtu"] <= 65535):
        problems.append("mtu must be an integer 68-65535")
    for server in options.get("dns", []):
        try:
            ipaddress.ip_address(server)
        except (ValueError, TypeError):
            problems.append(f"dns entry {server!r} is not an IP address")
    for name, runtime in (options.get("runtimes") or {}).items():
        if not isinstance(runtime, dict) or not isinstance(runtime.get("path"), str):
            problems.append(f"runtimes.{name} needs a path")
        elif not all(isinstance(arg, str) for arg in runtime.get("runtimeArgs", [])):
            problems.append(f"runtimes.{name}.runtimeArgs must be strings")
    default = options.get("default-runtime")
    if default and default not in ("runc", *(options.get("runtimes") or {})):
        problems.append(f"default-runtime {default!r} is not a registered runtime")
    for key, value in (options.get("log-opts") or {}).items():
        if not isinstance(value, str):
            problems.append(f"log-opts.{key} must be a string")
    return problems
