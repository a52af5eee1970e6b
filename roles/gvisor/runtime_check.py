"""Does the registered runtime do what agents do? The result of files/agent_operations.sh, as data.

Written by the deploy to gvisor.runtime_check_file (schema below) and read by the launcher
(agent-sandbox falls back to runc, or refuses with agent.require_gvisor) and by diagnose.
Pure functions (no pyinfra): unit tests cover every branch.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, computed_field

SCHEMA = "sandbox-host.runtime-check/1"
OPERATIONS_SCRIPT = (Path(__file__).with_name("files") / "agent_operations.sh").read_text()
# What Debian's 2022 runsc answers to statx(2), which coreutils' ls -l and stat use.
STATX_HINT = "Invalid argument"


class RuntimeCheck(BaseModel):
    """One check of a runtime: which agent operations passed, failed, or could not be tried."""

    model_config = ConfigDict(extra="forbid")
    schema_: Literal["sandbox-host.runtime-check/1"] = Field(SCHEMA, alias="schema")
    runtime: str
    image: str
    started: bool = Field(description="the container started at all")
    passed: list[str] = []
    failed: dict[str, str] = Field(default={}, description="operation -> last line of its error")
    skipped: dict[str, str] = Field(default={}, description="operation -> why it was not tried")
    error: str | None = Field(default=None, description="docker's message when the container did not start")

    @computed_field(description="started and nothing failed: what the launcher decides on")
    @property
    def ok(self) -> bool:
        return self.started and not self.failed

    def as_json(self) -> str:
        return json.dumps(self.model_dump(by_alias=True), indent=2, sort_keys=True) + "\n"


def load(text: str) -> RuntimeCheck:
    """A state file back into a RuntimeCheck; ValueError with the reason when it is not one."""
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError(f"not a {SCHEMA} file: a JSON {type(data).__name__}, not an object")
        data.pop("ok", None)  # derived; recomputed
        return RuntimeCheck.model_validate(data)
    except (json.JSONDecodeError, ValidationError) as exc:
        raise ValueError(f"not a {SCHEMA} file: {exc}") from None


def parse(runtime: str, image: str, output: list[str], exit_code: int | None) -> RuntimeCheck:
    """The script's lines ("ok NAME", "fail NAME: why", "skip NAME: why") and docker's exit code."""
    passed, failed, skipped = [], {}, {}
    for line in output:
        verdict, _, rest = line.strip().partition(" ")
        name, _, why = rest.partition(": ")
        if verdict == "ok" and rest:
            passed.append(rest)
        elif verdict == "fail" and name:
            failed[name] = why.strip()
        elif verdict == "skip" and name:
            skipped[name] = why.strip()
    started = bool(passed or failed or skipped)
    error = None
    if not started:
        error = "\n".join(line for line in output if line.strip())[-600:] or f"docker run exit {exit_code}"
    return RuntimeCheck(runtime=runtime, image=image, started=started, passed=passed, failed=failed,
                        skipped=skipped, error=error)


def warning(check: RuntimeCheck, source: str | None = None) -> str | None:
    """The deploy's warning for a runtime that starts but fails agent operations; None when fine."""
    if not check.started or not check.failed:
        return None
    failed = "; ".join(f"`{name}`: {why}" for name, why in check.failed.items())
    text = (f"runtime {check.runtime} fails operations agents run all the time ({failed}). "
            "agent-sandbox will run the sandbox under runc instead, with a warning (or refuse with "
            "agent.require_gvisor: true).")
    if any(STATX_HINT in why for why in check.failed.values()):
        text += " This runsc lacks statx(2) (ls -l, stat):"
        text += (" the distro's package is too old; gvisor.source: gvisor_repo installs a current one where the host "
                 "reaches gVisor's repository, otherwise keep it and accept runc (agent.use_gvisor: false silences this)."
                 if source == "distro" else " upgrade runsc (apt-get install --only-upgrade runsc).")
    if check.skipped:
        text += " Not tried: " + "; ".join(f"{name} ({why})" for name, why in check.skipped.items()) + "."
    return text
