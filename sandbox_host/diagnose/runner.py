"""Diagnose an inventory through pyinfra's Python API: connect, gather every host in parallel,
write one report per host. Chosen over the pyinfra CLI (deploys/diagnose.py) as the main entry
because one command yields the files and an exit status, with no deploy-file side channel."""

from __future__ import annotations

import logging
from pathlib import Path

from sandbox_host import config, facts_run
from sandbox_host.diagnose.gather import gather_host, write_report
from sandbox_host.diagnose.options import ProbeOptions, from_settings

log = logging.getLogger("sandbox-host.diagnose")


def options_for(groups, overrides: dict) -> ProbeOptions:
    """Probe defaults from the host's group_vars (the image it runs, its sandbox's addresses)."""
    try:
        return from_settings(config.load(groups), **overrides)
    except config.ConfigError as exc:
        log.warning("group_vars not usable (%s); built-in probe defaults apply", str(exc).splitlines()[0])
        return ProbeOptions(**{k: v for k, v in overrides.items() if v is not None})


def gather_inventory(inventory: str, out_dir: str | Path, overrides: dict | None = None, sudo: bool = False) -> dict:
    """INVENTORY is anything `pyinfra INVENTORY` accepts: an inventory file, @local,
    @docker/<container>, host names. Returns {host name: report path or error}."""
    overrides = overrides or {}

    def one(host):
        return str(write_report(gather_host(host, options_for(host.groups, overrides)), out_dir))

    return {name: str(result) for name, result in facts_run.on_each_host(inventory, one, sudo=sudo).items()}
