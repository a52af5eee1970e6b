"""`sandbox-host diagnose`: gather an inventory's reports, explain one report, compare broken with working."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sandbox_host import exitcodes

DESCRIPTION = """Seed 001's advice as a tool. `gather` writes one JSON report per host (read-only
facts; nothing on the host changes), `explain` names the causes it recognises in one report,
`compare` ranks the differences between a broken and a working host's reports."""


def _gather(args) -> int:
    from sandbox_host.diagnose.runner import gather_inventory  # pyinfra import only when gathering

    overrides = {
        "probe_image": args.probe_image,
        "resolve_name": args.resolve_name,
        "bridges": tuple(args.bridge) if args.bridge else None,
        "proxy_target": args.proxy_target,
        "sandbox_network": args.sandbox_network,
        "proxy_ip": args.proxy_address.rsplit(":", 1)[0] if args.proxy_address else None,
        "proxy_port": int(args.proxy_address.rsplit(":", 1)[1]) if args.proxy_address else None,
        "probe_timeout": args.probe_timeout,
        "container_probes": False if args.no_container_probes else None,
    }
    from sandbox_host.inventory import InventoryError

    try:
        results = gather_inventory(args.inventory, args.out, overrides, sudo=args.sudo)
    except InventoryError as exc:
        print(f"sandbox-host: {exc}", file=sys.stderr)
        return exitcodes.USAGE
    failed = 0
    for host, where in sorted(results.items()):
        ok = where.endswith(".json")
        failed += not ok
        print(f"{host}: {where}")
    return exitcodes.FAILED if failed else exitcodes.OK


def _load(path: str) -> dict:
    """A report checked against the one schema (sandbox_host/diagnose/schema.py); exit 2 otherwise."""
    from sandbox_host.diagnose import schema

    try:
        return schema.load(Path(path).read_bytes(), where=path)
    except OSError as exc:
        print(f"sandbox-host: {path}: cannot read report: {exc}", file=sys.stderr)
    except schema.ReportError as exc:
        print(f"sandbox-host: {exc}", file=sys.stderr)
    raise SystemExit(exitcodes.USAGE)


def _explain(args) -> int:
    from sandbox_host.diagnose import report, rules

    data = _load(args.report)
    findings = rules.run_rules(data)
    if args.json:
        print(json.dumps(report.findings_json(data, findings), indent=2))
    else:
        print(report.findings_text(data, findings))
    return exitcodes.FOUND if findings else exitcodes.OK


def _compare(args) -> int:
    from sandbox_host.diagnose import compare, report

    broken, working = _load(args.broken), _load(args.working)
    result = compare.compare(broken, working)
    if args.json:
        print(json.dumps(report.compare_json(result), indent=2))
    else:
        print(report.compare_text(result))
    return exitcodes.FOUND if result["findings"] or result["differences"] else exitcodes.OK


def add_commands(parser: argparse.ArgumentParser, epilog: str | None = None) -> None:
    """Add gather, explain and compare under ``parser`` (`sandbox-host diagnose`)."""
    sub = parser.add_subparsers(dest="diagnose_command", required=True, metavar="COMMAND")

    gather = sub.add_parser("gather", help="diagnose every host of a pyinfra inventory, one JSON report each")
    gather.add_argument("inventory", help="anything `pyinfra INVENTORY` takes: inventories/dev.py, @local, @docker/NAME, host1,host2")
    gather.add_argument("--out", default="reports", help="directory for <host>.json (default: reports)")
    gather.add_argument("--probe-image", help="local image for the container probes (default: group_vars images.base_image)")
    gather.add_argument("--resolve-name", help="name resolved from host and container (default: api.anthropic.com)")
    gather.add_argument("--bridge", action="append", help="bridge to check (repeat; default: docker0 + sandbox bridges)")
    gather.add_argument("--proxy-target", help="host:port the sandbox proxy is asked to CONNECT to")
    gather.add_argument("--sandbox-network", help="network the proxy probe runs on (default: sandbox_network.internal_network)")
    gather.add_argument("--proxy-address", help="IP:PORT of the egress proxy (default: sandbox_network.proxy_ip/proxy_port)")
    gather.add_argument("--probe-timeout", type=int, help="seconds per container probe (default 20)")
    gather.add_argument("--no-container-probes", action="store_true", help="host facts only; start no container")
    gather.add_argument("--sudo", action="store_true", help="run fact commands with sudo (non-root SSH users)")
    gather.set_defaults(func=_gather)

    explain = sub.add_parser("explain", help="what is wrong on the host of one report (no working host needed)")
    explain.add_argument("report")
    explain.add_argument("--json", action="store_true", help="machine-readable findings")
    explain.set_defaults(func=_explain)

    comp = sub.add_parser("compare", help="differences between a broken and a working host, most likely cause first")
    comp.add_argument("broken")
    comp.add_argument("working")
    comp.add_argument("--json", action="store_true", help="machine-readable result")
    comp.set_defaults(func=_compare)
    for command in (gather, explain, comp):
        command.epilog = epilog
        command.formatter_class = argparse.RawDescriptionHelpFormatter


def main(argv: list[str] | None = None) -> int:
    """`sandbox-host diagnose ARGS` (kept for `sandbox-host diagnose`)."""
    from sandbox_host.cli import main as cli_main

    return cli_main(["diagnose", *(argv or sys.argv[1:])])
