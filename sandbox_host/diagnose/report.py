"""Render findings and comparisons: text for people, JSON for machines."""

from __future__ import annotations

import json

from sandbox_host.diagnose.findings import Finding
from sandbox_host.diagnose.rules import not_checked

JSON_SCHEMA = "sandbox-host.diagnose.findings/1"


def _value(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def finding_text(finding: Finding, number: int) -> str:
    lines = [f"{number}. [{finding.severity.upper()}, likelihood {finding.likelihood}] {finding.title}",
             f"   cause:    {finding.id} — {finding.why}"]
    lines.append("   evidence:")
    lines += [f"     {key}: {_value(value)}" for key, value in finding.evidence.items() if value not in (None, [], {})]
    lines.append("   fix now:")
    for command in finding.fix:
        lines += ["     " + part for part in command.splitlines()]
    lines.append("   fix for good (group_vars):")
    lines += [f"     {key}: {_value(value)}" for key, value in finding.permanent.items()]
    if finding.seed:
        lines.append(f"   source:   {finding.seed}")
    lines += [f"   note:     {note}" for note in finding.notes]
    return "\n".join(lines)


def _not_checked_text(report: dict) -> str:
    notes = not_checked(report)
    return "" if not notes else "\nNot checked:\n" + "".join(f"  - {note}\n" for note in notes)


def findings_text(report: dict, findings: list[Finding]) -> str:
    head = f"{report.get('host')} (gathered {report.get('gathered_at')})"
    if not findings:
        return f"{head}: no known cause found.\n" + _not_checked_text(report)
    body = "\n\n".join(finding_text(f, i) for i, f in enumerate(findings, 1))
    return f"{head}: {len(findings)} finding(s), most likely cause first\n\n{body}\n" + _not_checked_text(report)


def findings_json(report: dict, findings: list[Finding]) -> dict:
    return {
        "schema": JSON_SCHEMA,
        "host": report.get("host"),
        "gathered_at": report.get("gathered_at"),
        "findings": [f.as_dict() for f in findings],
        "not_checked": not_checked(report),
    }


def compare_text(result: dict) -> str:
    broken, working = result["broken"], result["working"]
    out = [f"broken: {broken}    working: {working}", ""]
    if result["findings"]:
        out.append(f"Known causes on {broken}, most likely first (* = not on {working}):")
        for i, item in enumerate(result["findings"], 1):
            mark = "*" if item["only_on_broken"] else " "
            out.append(mark + finding_text(item["finding"], i)[0:])
            out.append("")
    else:
        out.append(f"No known cause recognised on {broken}.")
        out.append("")
    if result["differences"]:
        out.append("Differences that matter, most likely to explain the symptom first:")
        width = max(len(d["key"]) for d in result["differences"])
        for d in result["differences"]:
            out.append(f"  [{d['weight']:3}] {d['key']:<{width}}  broken: {_value(d['broken'])}")
            out.append(f"        {'':<{width}}  working: {_value(d['working'])}")
            out.append(f"        {'':<{width}}  {d['why']}")
    else:
        out.append("No differences in the facts that matter.")
    return "\n".join(out) + "\n"


def compare_json(result: dict) -> dict:
    return {
        "schema": JSON_SCHEMA,
        "broken": result["broken"],
        "working": result["working"],
        "findings": [{**item["finding"].as_dict(), "only_on_broken": item["only_on_broken"]} for item in result["findings"]],
        "differences": result["differences"],
    }
