"""The `sandbox-host` command: one entry point for the deploy and the tools around it.

    sandbox-host deploy INVENTORY [--dry] [--limit HOST] [--group-vars DIR]
    sandbox-host diagnose gather|explain|compare ...

Exit codes: sandbox_host/exitcodes.py (0 ok, 1 a host failed, 2 bad input, 3 found something).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from sandbox_host import config, exitcodes
from sandbox_host.diagnose import cli as diagnose_cli
from sandbox_host.fleet import drift as fleet_drift
from sandbox_host.fleet import rollout as fleet_rollout
from sandbox_host.report import cli as report_cli


EPILOG = """exit codes:
  0  done; nothing found
  1  a host failed or could not be reached
  2  bad arguments, invalid configuration or unreadable input (no host was touched)
  3  found something: diagnose findings or differences
"""


def _deploy_file() -> Path:
    from sandbox_host import deploys  # installed from deploys/ (see pyproject.toml)

    return Path(deploys.__file__).with_name("sandbox_host.py")


def add_group_vars_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--group-vars", action="append", default=[], metavar="DIR",
        help=f"a group_vars folder layered over the checkout's (repeat; later wins; same as {config.GROUP_VARS_ENV}, "
        "which sudo drops)",
    )


def apply_group_vars(args) -> None:
    """--group-vars folders join the layers the deploy (a separate pyinfra process) will read."""
    extra = [str(Path(d).resolve()) for d in args.group_vars]
    if extra:
        current = [part for part in os.environ.get(config.GROUP_VARS_ENV, "").split(":") if part]
        os.environ[config.GROUP_VARS_ENV] = ":".join(current + extra)
    try:
        layers = config.group_vars_dirs()
        config.validate_all()
    except config.ConfigError as exc:
        raise SystemExit(_usage_error(str(exc)))
    # Say which folders apply: a layer lost on the way (sudo drops the environment) is visible.
    print(f"sandbox-host: settings from {' + '.join(str(layer) for layer in layers)}", file=sys.stderr)


def _usage_error(message: str) -> int:
    print(f"sandbox-host: {message}", file=sys.stderr)
    return exitcodes.USAGE


def _deploy(args) -> int:
    apply_group_vars(args)
    pyinfra = Path(sys.executable).with_name("pyinfra")
    argv = [str(pyinfra), "--dry" if args.dry else "-y"]
    for limit in args.limit:
        argv += ["--limit", limit]
    argv += ["-v"] * args.verbose
    argv += [args.inventory, str(_deploy_file())]
    sys.stdout.flush()
    # pyinfra's own CLI runs the deploy file: its output, its prompts, its exit status (1 when a
    # host failed; 2 from the deploy file when the configuration is invalid).
    os.execv(argv[0], argv)
    return exitcodes.FAILED  # not reached


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sandbox-host", description=__doc__.split("\n\n")[0],
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    deploy = sub.add_parser(
        "deploy", help="apply the host deploy (same as `pyinfra INVENTORY deploys/sandbox_host.py`)",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Apply deploys/sandbox_host.py to every host of INVENTORY with pyinfra.",
    )
    deploy.add_argument("inventory", help="a pyinfra inventory: inventories/dev.py, @local, @ssh/HOST, host1,host2")
    deploy.add_argument("--dry", action="store_true", help="show what would change on each host; change nothing")
    deploy.add_argument("--limit", action="append", default=[], metavar="HOST", help="only these hosts or groups (repeat)")
    deploy.add_argument("-v", "--verbose", action="count", default=0, help="more of pyinfra's output (-vv: commands)")
    add_group_vars_argument(deploy)
    deploy.set_defaults(func=_deploy)

    diagnose = sub.add_parser(
        "diagnose", help="find why containers cannot reach the API: gather, explain, compare",
        description=diagnose_cli.DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    diagnose_cli.add_commands(diagnose, epilog=EPILOG)
    fleet_drift.add_commands(sub)
    fleet_rollout.add_commands(sub)
    report_cli.add_commands(sub, epilog=EPILOG)
    return parser


def main(argv: list[str] | None = None) -> int:
    # `sandbox-host ... | head` ends quietly, as command-line tools do.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
