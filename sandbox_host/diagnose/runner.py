"""Diagnose an inventory through pyinfra's Python API: connect, gather every host in parallel,
write one report per host. Chosen over the pyinfra CLI (deploys/diagnose.py) as the main entry
because one command yields the files and an exit status, with no deploy-file side channel."""

from __future__ import annotations

import logging
from pathlib import Path

import gevent
from pyinfra.api import Config, State
from pyinfra.api.connect import connect_all, disconnect_all
from pyinfra.api.exceptions import PyinfraError
from pyinfra.api.state import StateStage
from pyinfra.context import ctx_host, ctx_state
from pyinfra_cli.inventory import make_inventory

from sandbox_host import config
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
    # The pyinfra CLI's order: a state in context first (inventory files are executed with one),
    # then the inventory, then init.
    state = State()
    ctx_state.set(state)
    state.init(make_inventory(inventory), Config(SUDO=sudo, FAIL_PERCENT=100))
    state.set_stage(StateStage.Connect)
    try:
        connect_all(state)
    except PyinfraError as exc:  # "No hosts remaining!": every host failed to connect
        log.error("%s", exc)
        return {host.name: "connection failed" for host in state.inventory}
    # Prepare: pyinfra returns a fact's default when its tool is missing (our "absent").
    state.set_stage(StateStage.Prepare)
    results: dict[str, str] = {host.name: "connection failed" for host in state.inventory if host not in state.activated_hosts}

    def one(host):
        with ctx_host.use(host):
            report = gather_host(host, options_for(host.groups, overrides))
        return str(write_report(report, out_dir))

    jobs = {gevent.spawn(one, host): host for host in state.activated_hosts}
    for job in gevent.iwait(list(jobs)):
        host = jobs[job]
        try:
            results[host.name] = job.get()
        except Exception as exc:  # one host's crash must not lose the others' reports
            results[host.name] = f"error: {type(exc).__name__}: {exc}"
    state.set_stage(StateStage.Disconnect)
    disconnect_all(state)
    return results
