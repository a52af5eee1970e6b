"""The fleet commands' reports: a versioned JSON shape (written and read through these
functions, checked on both sides) and the tables shown on a terminal."""

from __future__ import annotations

import json

DRIFT_SCHEMA = "sandbox-host.drift/1"
ROLLOUT_SCHEMA = "sandbox-host.rollout/1"

HOST_STATUSES = {"clean", "drift", "unreachable", "failed"}
ROLLOUT_STATUSES = {"done", "failed", "untouched"}


class ReportError(ValueError):
    """A report that does not have the shape its schema promises."""


def check_drift(report: dict) -> dict:
    if report.get("schema") != DRIFT_SCHEMA:
        raise ReportError(f"not a {DRIFT_SCHEMA} report (schema: {report.get('schema')!r})")
    for host in report.get("hosts", []):
        if host.get("status") not in HOST_STATUSES:
            raise ReportError(f"host {host.get('name')!r}: unknown status {host.get('status')!r}")
        for item in host.get("drifted", []):
            if not isinstance(item.get("key"), str) or not isinstance(item.get("operation"), str):
                raise ReportError(f"host {host.get('name')!r}: drift entry without key/operation: {item!r}")
    return report


def check_rollout(report: dict) -> dict:
    if report.get("schema") != ROLLOUT_SCHEMA:
        raise ReportError(f"not a {ROLLOUT_SCHEMA} report (schema: {report.get('schema')!r})")
    for host in report.get("hosts", []):
        if host.get("status") not in ROLLOUT_STATUSES:
            raise ReportError(f"host {host.get('name')!r}: unknown status {host.get('status')!r}")
    return report


def read(text: str) -> dict:
    """Read either report back (the CI tests do), checked against its schema."""
    report = json.loads(text)
    if report.get("schema") == ROLLOUT_SCHEMA:
        return check_rollout(report)
    return check_drift(report)


def dumps(report: dict) -> str:
    check = check_rollout if report.get("schema") == ROLLOUT_SCHEMA else check_drift
    return json.dumps(check(report), indent=2, sort_keys=True)


def _table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(tuple("-" * w for w in widths)), *map(line, rows)])


def drift_table(report: dict) -> str:
    rows = []
    for host in report["hosts"]:
        if host["status"] == "drift":
            for n, item in enumerate(host["drifted"]):
                detail = "; ".join(item.get("details") or []) or item["operation"]
                rows.append((host["name"] if n == 0 else "", "DRIFT" if n == 0 else "", item["key"], detail))
        else:
            rows.append((host["name"], host["status"].upper(), "", host.get("error") or ""))
    s = report["summary"]
    return (_table(rows, ("host", "status", "group_vars key", "what differs"))
            + f"\n\n{s['clean']} clean, {s['drift']} drifted, {s['unreachable'] + s['failed']} unreachable or failed"
            f" ({report['seconds']:.1f} s)")


def rollout_table(report: dict) -> str:
    rows = [(h["name"], h["stage"] or "", h["status"].upper(), str(h.get("changed", "")), h.get("error") or "")
            for h in report["hosts"]]
    s = report["summary"]
    stop = f"; stopped: {report['stopped']}" if report.get("stopped") else ""
    return (_table(rows, ("host", "batch", "status", "changed", "why"))
            + f"\n\n{s['done']} done, {s['failed']} failed, {s['untouched']} untouched{stop} ({report['seconds']:.1f} s)")
