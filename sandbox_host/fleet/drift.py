"""`sandbox-host drift INVENTORY`: does each host still match its declared state? Changes nothing.

Every host's deploy is planned in dry mode (pyinfra API, all hosts at once); each operation that
would change something is drift, named by the group_vars key it realises (keys.py), with the exact
daemon.json keys and sysctls where one operation owns several. Operations that run only because
another one changed (`_if=`: the dockerd restart, a systemd reload) are not drift by themselves.
"""

from __future__ import annotations

import argparse
import sys
import time

from sandbox_host import config, exitcodes
from sandbox_host.fleet import keys, output
from sandbox_host.inventory import FleetSpec, InventoryError, load
from sandbox_host.fleet.plan import PlannedOp, Session


def _explain(host, ops: list[PlannedOp]) -> dict:
    """Keys behind the drifted operations that own several (runs in the host's context)."""
    settings = config.load(host.groups)
    found = {}
    for op in ops:
        if op.will_change and not op.conditional:
            for name in op.names:
                detail = keys.details(host, settings, name)
                if detail is not None:
                    found[name] = detail
    return found


def host_entry(plan) -> dict:
    entry = {"name": plan.name, "groups": plan.groups, "status": plan.status, "error": plan.error,
             "drifted": [], "would_follow": []}
    if plan.status != "ok":
        return entry
    for op in plan.ops:
        if not op.will_change:
            continue
        name = " / ".join(op.names)
        if op.conditional:
            entry["would_follow"].append(name)
            continue
        details = [d for n in op.names for d in plan.details.get(n, [])]
        key = keys.key_of(op.names[0]) or "(no group_vars key)"
        if details and all(" (" in d for d in details):
            # One entry per exact key (daemon.json key, sysctl), the operation as the evidence.
            for detail in details:
                key, what = detail.split(" (", 1)
                entry["drifted"].append({"key": key, "operation": name, "details": [what[:-1]]})
        else:
            entry["drifted"].append({"key": key, "operation": name, "details": details})
    if not entry["drifted"]:
        entry["would_follow"] = []  # a conditional step alone is not drift and would not run
    entry["status"] = "drift" if entry["drifted"] else "clean"
    return entry


def drift(fleet: FleetSpec, parallel: int | None = None) -> dict:
    started = time.monotonic()
    with Session(fleet, dry=True, parallel=parallel) as session:
        plans = session.plan(explain=_explain)
    hosts = [host_entry(plans[name]) for name in fleet.hosts]
    summary = {s: sum(1 for h in hosts if h["status"] == s) for s in ("clean", "drift", "unreachable", "failed")}
    report = {"schema": output.DRIFT_SCHEMA, "inventory": fleet.spec, "hosts": hosts, "summary": summary,
              "seconds": round(time.monotonic() - started, 3)}
    return output.check_drift(report)


def exit_code(report: dict) -> int:
    s = report["summary"]
    if s["unreachable"] or s["failed"]:
        return exitcodes.FAILED
    return exitcodes.FOUND if s["drift"] else exitcodes.OK


def _run(args) -> int:
    from sandbox_host.cli import apply_group_vars  # the CLI module imports this one

    apply_group_vars(args)
    try:
        fleet = load(args.inventory)
    except InventoryError as exc:
        print(f"sandbox-host: {exc}", file=sys.stderr)
        return exitcodes.USAGE
    report = drift(fleet, parallel=args.parallel)
    print(output.dumps(report) if args.json else output.drift_table(report))
    return exit_code(report)


def add_commands(sub) -> None:
    from sandbox_host.cli import EPILOG, add_group_vars_argument

    parser = sub.add_parser(
        "drift", help="per host: does it match the declared state, and which settings drifted (changes nothing)",
        description=__doc__.split("\n\n")[0], epilog=EPILOG.replace("found something: diagnose findings or differences",
                                                                    "drift: at least one host differs"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("inventory", help="a pyinfra inventory file, host1,host2, or @connector/host")
    parser.add_argument("--json", action="store_true", help=f"print the report as JSON ({output.DRIFT_SCHEMA})")
    parser.add_argument("--parallel", type=int, default=None, metavar="N", help="hosts at once (default: all)")
    add_group_vars_argument(parser)
    parser.set_defaults(func=_run)
