"""The diagnose report's one schema: written by gather, checked again where explain and compare
load it. A file that is not a report (`{}`, a list, another program's JSON, non-UTF-8) is refused
with the reason, never read as "no known cause found".

Sections are typed where rules read them; facts may add keys (extra allowed inside sections),
and any section may be {"status": "error", "error": ...} when its fact could not be read.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SCHEMA = "sandbox-host.diagnose/2"


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Status(_Open):
    """A fact's result: what it found ("ok"), or why not ("absent", "skipped", "error", ...)."""

    status: str


class Connection(_Open):
    uid: int | None = Field(None, description="uid the facts ran as (root: 0), whatever $USER says")
    user: str | None = None
    sudo: bool = False


class Route(_Open):
    dst: str
    interface: str
    gateway: str | None = None
    metric: int | None = None


class Network(_Open):
    default_route_v4: dict | None = None
    default_route_v6: dict | None = None
    routes: list[Route] = []
    links: dict[str, dict] = {}
    ipv6_addresses: list[dict] = []


class Dns(_Open):
    resolv_conf: Status
    upstream_resolv_conf: Status
    resolve: Status


class DockerNetwork(_Open):
    name: str | None
    driver: str | None = None
    bridge: str | None = None
    internal: bool = False
    subnets: list[str] = []


class Docker(Status):
    networks: list[DockerNetwork] = []
    info: dict[str, Any] = {}


class Runsc(_Open):
    version: Status
    registered: bool
    smoke: Status
    operations: Status
    recorded_check: Status


class Options(_Open):
    probe_image: str
    resolve_name: str
    bridges: list[str]
    runsc_runtime: str


class Report(BaseModel):
    """One host's report (sandbox_host/diagnose/gather.py)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    schema_: Literal["sandbox-host.diagnose/2"] = Field(alias="schema")
    host: str = Field(min_length=1)
    gathered_at: str
    duration_s: float
    options: Options
    connection: Connection
    system: dict[str, Any]
    sysctl: dict[str, int | None]
    network: Network | Status
    dns: Dns
    proxy_env: dict[str, Any]
    docker: Docker
    dockerd: Status
    daemon_json: Status
    docker_unit: Status
    docker_dropins: list[dict] | Status
    daemon_proxy_reach: Status
    iptables: Status
    nftables: Status
    firewalld: Status
    ufw: Status
    runsc: Runsc
    container: Status
    sandbox_proxy: Status

    def dump(self) -> dict:
        """Plain JSON data (the rules read dicts), with the keys facts added kept."""
        return self.model_dump(by_alias=True, mode="json")


class ReportError(ValueError):
    """Not a diagnose report; the message says why."""


def load(raw: bytes, where: str = "report") -> dict:
    """Bytes of a report file -> the checked report as plain data, or ReportError."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReportError(f"{where}: not UTF-8 text ({exc.reason} at byte {exc.start}): not a diagnose report") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportError(f"{where}: not JSON ({exc}): not a diagnose report") from None
    if not isinstance(data, dict):
        raise ReportError(f"{where}: a JSON {type(data).__name__}, not a diagnose report (a JSON object from "
                          "`sandbox-host diagnose gather`)")
    if data.get("schema") != SCHEMA:
        found = data.get("schema")
        raise ReportError(f"{where}: schema {found!r}, want {SCHEMA!r}" + (
            " (gathered by another version: gather again)" if found else
            " (not a report from `sandbox-host diagnose gather`)"))
    try:
        return Report.model_validate(data).dump()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors()[:8])
        raise ReportError(f"{where}: not a valid {SCHEMA} report: {problems}") from None
