"""The conformance result a host writes (roles/conformance/files/result.schema.json), checked where
the report reads it: a result of another version or shape is reported as such, never half-read."""

from __future__ import annotations

import datetime
import json
from typing import Any

SCHEMA = "sandbox-host/conformance-result"
VERSIONS = (1,)
STATUSES = ("pass", "fail", "skip")


def problems(data: Any) -> list[str]:
    """Why ``data`` is not a result this report reads; empty when it is."""
    if not isinstance(data, dict):
        return ["not a JSON object"]
    if data.get("schema") != SCHEMA:
        return [f"schema is {data.get('schema')!r}, want {SCHEMA}"]
    if data.get("version") not in VERSIONS:
        return [f"version {data.get('version')!r}; this report reads {VERSIONS}"]
    found = []
    for key in ("host", "started", "finished", "status"):
        if not isinstance(data.get(key), str):
            found.append(f"{key} missing")
    if data.get("status") not in ("pass", "fail"):
        found.append(f"status {data.get('status')!r}")
    checks = data.get("checks")
    if not isinstance(checks, list):
        return found + ["checks missing"]
    for check in checks:
        if not (isinstance(check, dict) and isinstance(check.get("id"), str)
                and check.get("status") in STATUSES and isinstance(check.get("evidence"), str)):
            found.append(f"bad check entry {check!r:.80}")
    try:
        parse_time(data.get("finished", ""))
    except ValueError:
        found.append("finished is not an ISO 8601 time")
    return found


def parse_time(text: str) -> datetime.datetime:
    when = datetime.datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=datetime.timezone.utc)


def load(text: str | None) -> tuple[dict | None, str | None]:
    """(result, None) or (None, why it cannot be used)."""
    if text is None:
        return None, "no result (the self-check has not run, or is not installed)"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"result is not valid JSON ({exc})"
    found = problems(data)
    return (None, "unreadable result: " + "; ".join(found)) if found else (data, None)
