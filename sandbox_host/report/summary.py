"""One record per host from its facts, the verdict, and the two outputs: a table and versioned JSON."""

from __future__ import annotations

import datetime
import json
from typing import Any

from sandbox_host.report import cis, result

SCHEMA = "sandbox-host/report"
VERSION = 1


def _json(text: str | None) -> dict | None:
    try:
        data = json.loads(text) if text else None
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def host_record(name: str, facts: dict[str, Any], now: datetime.datetime, max_age: int,
                expected_policy_sha256: str | None = None) -> dict[str, Any]:
    """``facts``: os, kernel, docker_info, runsc, daemon_json (text), declared (text), result (text)."""
    info = facts.get("docker_info") or {}
    daemon = _json(facts.get("daemon_json"))
    declared = _json(facts.get("declared")) or {}
    last, why = result.load(facts.get("result"))
    reasons: list[str] = []
    conformance: dict[str, Any] = {"status": "missing", "reason": why}
    if last is not None:
        age = int((now - result.parse_time(last["finished"])).total_seconds())
        failing = [c for c in last["checks"] if c["status"] == "fail"]
        conformance = {"status": last["status"], "finished": last["finished"], "age_seconds": age,
                       "duration_seconds": last.get("duration_seconds"),
                       "failed": [{"id": c["id"], "evidence": c["evidence"]} for c in failing]}
        if last["status"] == "fail":
            reasons += [f"conformance {c['id']}: {c['evidence']}" for c in failing]
        if age > max_age:
            conformance["stale"] = True
            reasons.append(f"last conformance run is {age}s old (more than {max_age}s): the timer is not running")
    elif declared:
        reasons.append(f"conformance is installed but has {why}")
    policy = declared.get("policy_sha256")
    return {
        "host": name,
        "reachable": True,
        "status": "fail" if reasons else "pass",
        "reasons": reasons,
        "os": facts.get("os"),
        "kernel": facts.get("kernel"),
        "docker_version": info.get("ServerVersion"),
        "runsc_version": facts.get("runsc"),
        "default_runtime": info.get("DefaultRuntime"),
        "policy_sha256": policy,
        "policy_current": None if policy is None or expected_policy_sha256 is None else policy == expected_policy_sha256,
        "conformance": conformance,
        "cis": cis.evaluate(daemon, info if info else None),
    }


def unreachable(name: str, error: str) -> dict[str, Any]:
    return {"host": name, "reachable": False, "status": "unreachable", "reasons": [error]}


def document(records: list[dict], now: datetime.datetime) -> dict[str, Any]:
    return {"schema": SCHEMA, "version": VERSION, "generated": now.isoformat(timespec="seconds"),
            "hosts": sorted(records, key=lambda r: r["host"])}


def _age(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def table(doc: dict[str, Any]) -> str:
    """For people: one line per host, then what fails and the CIS warnings."""
    header = ("HOST", "STATUS", "OS", "KERNEL", "DOCKER", "RUNSC", "RUNTIME", "POLICY", "CONFORMANCE", "AGE", "CIS")
    rows = [header]
    for r in doc["hosts"]:
        if not r["reachable"]:
            rows.append((r["host"], "UNREACHABLE") + ("-",) * (len(header) - 2))
            continue
        conf = r["conformance"]
        warns = sum(item["status"] == "warn" for item in r["cis"])
        policy = (r["policy_sha256"] or "-")[:12] + ("" if r["policy_current"] in (None, True) else " (old)")
        rows.append((r["host"], r["status"].upper(), r["os"] or "-", r["kernel"] or "-", r["docker_version"] or "-",
                     (r["runsc_version"] or "-").replace("runsc version ", ""), r["default_runtime"] or "-", policy,
                     conf["status"], _age(conf.get("age_seconds")), f"{len(r['cis']) - warns} pass, {warns} warn"))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip() for row in rows]
    for r in doc["hosts"]:
        details = [f"  FAIL {reason}" for reason in r["reasons"]]
        details += [f"  warn CIS {i['cis']} {i['title']}: {i['reason']}" for i in r.get("cis", []) if i["status"] == "warn"]
        if details:
            lines += ["", f"{r['host']}:"] + details
    return "\n".join(lines)

