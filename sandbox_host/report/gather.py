"""Collect the report's facts from every host of an inventory through pyinfra's Python API
(the same sequence as sandbox_host/diagnose/runner.py: state, inventory, connect, facts)."""

from __future__ import annotations

import datetime
import logging

import gevent
from pyinfra.api import Config, State
from pyinfra.api.connect import connect_all, disconnect_all
from pyinfra.api.exceptions import PyinfraError
from pyinfra.api.state import StateStage
from pyinfra.context import ctx_host, ctx_state
from pyinfra.facts.files import FileContents
from pyinfra.facts.server import KernelVersion, OsRelease
from pyinfra_cli.inventory import make_inventory

from sandbox_host import config
from sandbox_host.config.schema import HostConfig
from sandbox_host.report import summary
from sandbox_host.report.facts import DockerInfo, RunscVersion
from sandbox_host.roles.conformance import declared as conformance_declared

log = logging.getLogger("sandbox-host.report")


def _text(host, path: str) -> str | None:
    lines = host.get_fact(FileContents, path=path)
    return None if lines is None else "\n".join(lines) + "\n"


def host_facts(host, settings) -> dict:
    os_release = host.get_fact(OsRelease) or {}
    return {
        "os": os_release.get("pretty_name") or os_release.get("name"),
        "kernel": host.get_fact(KernelVersion),
        "docker_info": host.get_fact(DockerInfo),
        "runsc": host.get_fact(RunscVersion),
        "daemon_json": _text(host, settings.docker_daemon.path),
        "declared": _text(host, settings.conformance.declared_path),
        "result": _text(host, settings.conformance.result_path),
    }


def collect(inventory: str, max_age: int, sudo: bool = False) -> list[dict]:
    """One record per host of INVENTORY (anything `pyinfra INVENTORY` accepts)."""
    state = State()
    ctx_state.set(state)
    state.init(make_inventory(inventory), Config(SUDO=sudo, FAIL_PERCENT=100))
    state.set_stage(StateStage.Connect)
    try:
        connect_all(state)
    except PyinfraError as exc:  # every host failed to connect
        return [summary.unreachable(host.name, f"connection failed: {exc}") for host in state.inventory]
    state.set_stage(StateStage.Prepare)
    records = [summary.unreachable(host.name, "connection failed")
               for host in state.inventory if host not in state.activated_hosts]
    now = datetime.datetime.now(datetime.timezone.utc)

    def one(host):
        with ctx_host.use(host):
            # Paths and the expected policy from the host's group_vars; built-in defaults otherwise.
            try:
                settings = config.load(host.groups)
            except config.ConfigError as exc:
                log.warning("group_vars not usable for %s (%s); defaults apply", host.name, str(exc).splitlines()[0])
                settings = HostConfig()
            expected = conformance_declared.policy_sha256(settings.egress_proxy)
            return summary.host_record(host.name, host_facts(host, settings), now, max_age, expected)

    jobs = {gevent.spawn(one, host): host for host in state.activated_hosts}
    for job in gevent.iwait(list(jobs)):
        host = jobs[job]
        try:
            records.append(job.get())
        except Exception as exc:  # one host's crash must not lose the others
            records.append(summary.unreachable(host.name, f"error: {type(exc).__name__}: {exc}"))
    state.set_stage(StateStage.Disconnect)
    disconnect_all(state)
    return records
