"""Read facts from every host of an inventory in parallel, through pyinfra's public API
(Inventory, State, connect_all): what `diagnose gather` and `report` share. Changes nothing."""

from __future__ import annotations

import logging
from typing import Callable, TypeVar

import gevent
from pyinfra.api import Config, State
from pyinfra.api.connect import connect_all, disconnect_all
from pyinfra.api.exceptions import PyinfraError
from pyinfra.context import ctx_host

from sandbox_host import inventory as inventories

T = TypeVar("T")
log = logging.getLogger("sandbox-host")


class HostFailed(Exception):
    """A host could not be reached, or reading its facts failed (the message says which)."""


def on_each_host(spec: str, one: Callable[[object], T], *, sudo: bool = False) -> dict[str, T | HostFailed]:
    """``one(host)`` on every host of SPEC (anything `pyinfra INVENTORY` takes), in parallel, with
    pyinfra's current host set (facts and code that reads ``pyinfra.host``). Returns {host name:
    result, or HostFailed}; one host's failure never loses the others' results. A fact whose tool
    is missing gives its default (state before Execute): callers read that as "absent".
    Raises inventory.InventoryError when SPEC cannot be read."""
    fleet = inventories.load(spec)
    state = State(fleet.inventory(), Config(SUDO=sudo, FAIL_PERCENT=100))
    try:
        connect_all(state)
    except PyinfraError as exc:  # "No hosts remaining!": every host failed to connect
        log.error("%s", exc)
        return {host.name: HostFailed("connection failed") for host in state.inventory}
    results: dict[str, T | HostFailed] = {
        host.name: HostFailed("connection failed") for host in state.inventory if host not in state.activated_hosts
    }

    def run(host):
        with ctx_host.use(host):
            return one(host)

    jobs = {gevent.spawn(run, host): host for host in state.activated_hosts}
    for job in gevent.iwait(list(jobs)):
        host = jobs[job]
        try:
            results[host.name] = job.get()
        except Exception as exc:  # one host's crash must not lose the others' results
            results[host.name] = HostFailed(f"error: {type(exc).__name__}: {exc}")
    disconnect_all(state)
    return results
