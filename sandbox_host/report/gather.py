"""Collect the report's facts from every host of an inventory through pyinfra's Python API
(sandbox_host/facts_run.py, shared with `diagnose gather`)."""

from __future__ import annotations

import datetime
import logging

from pyinfra.facts.files import FileContents
from pyinfra.facts.server import KernelVersion, OsRelease

from sandbox_host import config, facts_run
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
    now = datetime.datetime.now(datetime.timezone.utc)

    def one(host):
        # Paths and the expected policy from the host's group_vars; built-in defaults otherwise.
        try:
            settings = config.load(host.groups)
        except config.ConfigError as exc:
            log.warning("group_vars not usable for %s (%s); defaults apply", host.name, str(exc).splitlines()[0])
            settings = HostConfig()
        expected = conformance_declared.policy_sha256(settings.egress_proxy)
        return summary.host_record(host.name, host_facts(host, settings), now, max_age, expected)

    return [
        summary.unreachable(name, str(result)) if isinstance(result, facts_run.HostFailed) else result
        for name, result in facts_run.on_each_host(inventory, one, sudo=sudo).items()
    ]
