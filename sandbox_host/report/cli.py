"""`sandbox-host report INVENTORY [--json]`: table on a terminal, versioned JSON with --json.

Exit codes (sandbox_host/exitcodes.py): 0 every host passes; 3 a host fails (its conformance
self-check failed or stopped running); 1 a host could not be reached; 2 bad input.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys

from sandbox_host import exitcodes

DESCRIPTION = """Per host: OS/kernel, Docker and runsc versions, default runtime, the egress policy hash,
the last conformance self-check and its age, and the CIS Docker Benchmark daemon items this
project can check (pass/warn with the reason). Read-only: nothing on a host changes."""


def exit_code(records: list[dict]) -> int:
    if any(not r["reachable"] for r in records):
        return exitcodes.FAILED
    return exitcodes.FOUND if any(r["status"] == "fail" for r in records) else exitcodes.OK


def _report(args) -> int:
    from sandbox_host.inventory import InventoryError
    from sandbox_host.report import gather, summary  # pyinfra import only when gathering

    try:
        records = gather.collect(args.inventory, max_age=args.max_age, sudo=args.sudo)
    except InventoryError as exc:
        print(f"sandbox-host: {exc}", file=sys.stderr)
        return exitcodes.USAGE
    doc = summary.document(records, datetime.datetime.now(datetime.timezone.utc))
    print(json.dumps(doc, indent=2) if args.json else summary.table(doc))
    return exit_code(records)


def add_commands(sub, epilog: str | None = None) -> None:
    """Add `report` to the `sandbox-host` subcommands ``sub``."""
    parser = sub.add_parser("report", help="fleet compliance: versions, policy, conformance, CIS daemon items",
                            description=DESCRIPTION, epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inventory", help="a pyinfra inventory: inventories/ci_runners.py, @local, @ssh/HOST, host1,host2")
    parser.add_argument("--json", action="store_true", help="versioned JSON (schema sandbox-host/report) instead of the table")
    parser.add_argument("--max-age", type=int, default=3600, metavar="SECONDS",
                        help="a last conformance run older than this fails the host (default: 3600)")
    parser.add_argument("--sudo", action="store_true", help="read the facts with sudo (SSH users other than root)")
    parser.set_defaults(func=_report)
