"""A finding: one recognised cause, with its evidence and its fixes (cause, evidence, fix)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


@dataclass
class Finding:
    id: str  # the rule's function name: the cause
    title: str
    severity: str  # high: explains the symptoms on its own; medium: can; low: worth fixing
    likelihood: int  # 0-100, how likely this explains hangs/timeouts/resets; orders the output
    why: str  # how this cause produces the symptom
    evidence: dict  # the report values the rule read
    fix: list[str]  # commands that fix it now (the seeds' fixes)
    permanent: dict  # group_vars key -> value that keeps it fixed (roles/*/settings.py)
    seed: str = ""  # where the cause and fix are described
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def ordered(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (-f.likelihood, SEVERITY_ORDER.get(f.severity, 3), f.id))
