"""`sandbox-host rollout INVENTORY`: apply the deploy in stages, canary first, then batches.

Each stage is one pyinfra run (API: its own State, the stage's hosts in parallel), then the
project's host checks (tests/host, never the `mutates` ones) against every host the deploy
succeeded on. A host is done when both pass. The rollout stops after the first stage with a
failure once the failure budget (--max-failures, over the whole rollout) is spent; a failed
canary always stops it. Hosts after the stop are untouched. Re-running is safe: done hosts plan
no change and pass their checks again, the rest continue.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from sandbox_host import exitcodes
from sandbox_host.fleet import output
from sandbox_host.inventory import FleetSpec, InventoryError, load
from sandbox_host.fleet.plan import Session

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CHECKS = REPO / "tests" / "host"
DEFAULT_MARKERS = "not mutates"


def stages(hosts: list[str], canary: int, batch: int) -> list[tuple[str, list[str]]]:
    """[("canary", hosts), ("batch 1", hosts), ...] in inventory order."""
    if canary < 0 or batch < 1:
        raise ValueError("--canary must be >= 0 and --batch >= 1")
    out = [("canary", hosts[:canary])] if canary and hosts[:canary] else []
    rest = hosts[canary:]
    out += [(f"batch {n + 1}", rest[i:i + batch]) for n, i in enumerate(range(0, len(rest), batch))]
    return out


def host_url(host) -> str:
    """A testinfra URL reaching the host the way pyinfra does (user, port, key from its data)."""
    data = host.data
    user = data.get("ssh_user") or "root"
    hostname = data.get("ssh_hostname") or host.name
    url = f"paramiko://{quote(user)}@{hostname}:{data.get('ssh_port') or 22}"
    if data.get("ssh_key"):
        url += "?ssh_identity_file=" + quote(str(data.get("ssh_key")))
    return url


def check_hosts(hosts: list, checks: Path, markers: str) -> dict[str, str | None]:
    """Run the host checks against each host (all at once, one pytest each); {name: None or why}."""
    env = {k: v for k, v in os.environ.items() if k != "MOLECULE_INSTANCE_CONFIG"}  # nothing may converge
    procs = {}
    for host in hosts:
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "testpaths=",
                str(checks), f"--hosts={host_url(host)}", "-m", markers]
        host_env = {**env, "SANDBOX_HOST_GROUPS": ",".join(host.groups)}
        procs[host.name] = subprocess.Popen(argv, cwd=REPO, env=host_env, stdout=subprocess.PIPE,
                                            stderr=subprocess.STDOUT, text=True)
    results = {}
    for name, proc in procs.items():
        out, _ = proc.communicate()
        if proc.returncode == 0:
            results[name] = None
        else:
            summary = [line for line in out.splitlines() if line.startswith("FAILED") or " failed" in line]
            results[name] = "host checks failed: " + ("; ".join(summary[-4:]) or f"pytest exit {proc.returncode}")
    return results


def run_stage(fleet: FleetSpec, names: list[str], checks: Path | None, markers: str) -> dict[str, dict]:
    with Session(fleet, names, dry=False) as session:
        session.plan()
        plans = session.execute()
        deployed = [h for h in session.inventory if plans[h.name].status == "ok"]
        results = {name: {"status": "done" if p.status == "ok" else "failed", "error": p.error,
                          "changed": sum(1 for op in p.ops if op.will_change)} for name, p in plans.items()}
        if checks is not None and deployed:
            for name, why in check_hosts(deployed, checks, markers).items():
                if why:
                    results[name].update(status="failed", error=why)
    return results


def rollout(fleet: FleetSpec, canary: int = 1, batch: int = 5, max_failures: int = 0,
            checks: Path | None = DEFAULT_CHECKS, markers: str = DEFAULT_MARKERS, log=print) -> dict:
    started = time.monotonic()
    hosts = {name: {"name": name, "stage": None, "status": "untouched", "error": None, "changed": None}
             for name in fleet.hosts}
    failures, stopped = 0, None
    for stage, names in stages(fleet.hosts, canary, batch):
        log(f"rollout: {stage}: {', '.join(names)}")
        for name, result in run_stage(fleet, names, checks, markers).items():
            hosts[name].update(stage=stage, **result)
        failed = [n for n in names if hosts[n]["status"] == "failed"]
        failures += len(failed)
        if failed and (stage == "canary" or failures > max_failures):
            stopped = f"{stage} failed on {', '.join(failed)}"
            break
    entries = [hosts[n] for n in fleet.hosts]
    summary = {s: sum(1 for h in entries if h["status"] == s) for s in ("done", "failed", "untouched")}
    return output.check_rollout({
        "schema": output.ROLLOUT_SCHEMA, "inventory": fleet.spec, "canary": canary, "batch": batch,
        "max_failures": max_failures, "hosts": entries, "summary": summary, "stopped": stopped,
        "seconds": round(time.monotonic() - started, 3),
    })


def _run(args) -> int:
    from sandbox_host.cli import apply_group_vars  # the CLI module imports this one

    apply_group_vars(args)
    try:
        fleet = load(args.inventory)
        stages(fleet.hosts, args.canary, args.batch)
    except (InventoryError, ValueError) as exc:
        print(f"sandbox-host: {exc}", file=sys.stderr)
        return exitcodes.USAGE
    checks = None if args.no_checks else Path(args.checks)
    report = rollout(fleet, args.canary, args.batch, args.max_failures, checks, args.markers,
                     log=lambda msg: print(msg, file=sys.stderr))
    print(output.dumps(report) if args.json else output.rollout_table(report))
    s = report["summary"]
    return exitcodes.FAILED if s["failed"] or s["untouched"] else exitcodes.OK


def add_commands(sub) -> None:
    from sandbox_host.cli import EPILOG, add_group_vars_argument

    parser = sub.add_parser(
        "rollout", help="apply the deploy canary first, then in batches, checking each batch before the next",
        description=__doc__, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("inventory", help="a pyinfra inventory file, host1,host2, or @connector/host")
    parser.add_argument("--canary", type=int, default=1, metavar="N", help="hosts in the first stage (default 1; 0: none)")
    parser.add_argument("--batch", type=int, default=5, metavar="N", help="hosts per later stage (default 5)")
    parser.add_argument("--max-failures", type=int, default=0, metavar="N",
                        help="failed hosts the rollout tolerates before it stops (default 0)")
    parser.add_argument("--checks", default=str(DEFAULT_CHECKS), metavar="DIR", help="host checks run after each stage")
    parser.add_argument("--markers", default=DEFAULT_MARKERS, metavar="EXPR",
                        help=f"pytest -m expression choosing the checks (default {DEFAULT_MARKERS!r}; mutates never belongs)")
    parser.add_argument("--no-checks", action="store_true", help="skip the host checks (deploy success only)")
    parser.add_argument("--json", action="store_true", help=f"print the report as JSON ({output.ROLLOUT_SCHEMA})")
    add_group_vars_argument(parser)
    parser.set_defaults(func=_run)
