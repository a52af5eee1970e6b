"""Where a no-change rerun's time goes, phase by phase (issue 9: the fixed cost of one host).

    .venv/bin/python benchmarks/rerun_phases.py INVENTORY [--runs 5]

Each run is a fresh process, as `sandbox-host rollout` is: the interpreter starting, importing the
CLI and the deploy (pyinfra, paramiko, pydantic, the roles), loading the settings, connecting
(SSH), planning (the facts: with fact_batch.py one batch per host, else one command each),
executing (nothing to do on a converged host) and disconnecting. Prints the median of each phase,
the commands each host got, and the same for `python -c pass` (the interpreter alone).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def one(inventory: str) -> dict:
    """One rerun in this process, timed by phase (called as `--one`, in a fresh interpreter)."""
    phases = {}
    mark = time.perf_counter()

    def done(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        phases[name] = now - mark
        mark = now

    from pyinfra.api.host import Host

    from sandbox_host import cli  # noqa: F401  (what `sandbox-host` imports first)
    from sandbox_host.fleet.plan import Session, deploy_function
    from sandbox_host.inventory import load

    deploy_function()
    done("import")
    commands = {"n": 0}
    run = Host.run_shell_command

    def counted(self, *args, **kwargs):
        commands["n"] += 1
        return run(self, *args, **kwargs)

    Host.run_shell_command = counted
    from sandbox_host import fact_memo

    batch = fact_memo.unwrapped_run_shell_command

    def counted_batch(*args, **kwargs):
        commands["n"] += 1
        started = time.perf_counter()
        try:
            return batch(*args, **kwargs)
        finally:
            commands["batch_seconds"] = commands.get("batch_seconds", 0.0) + time.perf_counter() - started

    fact_memo.unwrapped_run_shell_command = counted_batch
    fleet = load(inventory)
    done("inventory")
    session = Session(fleet, dry=False)
    session.__enter__()
    done("connect")
    plans = session.plan()
    done("plan (facts)")
    plans = session.execute()
    done("execute")
    session.__exit__(None, None, None)
    done("disconnect")
    changed = sum(op.will_change for plan in plans.values() for op in plan.ops)
    phases["  of which the fact batch"] = commands.get("batch_seconds", 0.0)
    return {"phases": phases, "commands": commands["n"], "hosts": len(plans), "changed": changed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("inventory")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.inventory)))
        return 0
    samples, totals, bare = [], [], []
    for _ in range(args.runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        bare.append(time.perf_counter() - started)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, __file__, args.inventory, "--one"], cwd=REPO,
                              capture_output=True, text=True)
        totals.append(time.perf_counter() - started)
        if done.returncode != 0:
            sys.exit(done.stderr[-3000:])
        samples.append(json.loads(done.stdout.strip().splitlines()[-1]))
    names = list(samples[0]["phases"])
    print(f"median of {args.runs} runs, {samples[0]['hosts']} host(s), "
          f"{samples[0]['commands']} commands, {samples[0]['changed']} changes")
    print(f"  {'interpreter (python -c pass)':<30} {statistics.median(bare):6.3f} s")
    for name in names:
        print(f"  {name:<30} {statistics.median(s['phases'][name] for s in samples):6.3f} s")
    print(f"  {'whole process':<30} {statistics.median(totals):6.3f} s")
    print("(the fact batch's time is part of 'plan'; 'whole process' includes the interpreter)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
