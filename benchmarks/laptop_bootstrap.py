#!/usr/bin/env python3
"""How long scripts/bootstrap-laptop.sh takes on a fresh Debian 12 test host, as its user.

    SANDBOX_HOST_TEST_PREFIX=bench .venv/bin/python benchmarks/laptop_bootstrap.py [--json] [--keep]

Creates the molecule `laptop` scenario's test host (systemd, alice with sudo, nothing
installed, a copy of the checkout in her home), then times, with the scenario's settings:
  zero_to_sandbox   the first run: python3-venv, the venv, Docker, images, launcher, docker
                    group, ending with `agent-sandbox run DIR -- claude --version`
  second_run        the same command again (changes nothing)
and destroys the host (unless --keep). Slow parts are downloads (Debian's mirror, PyPI, npm):
the numbers are for this machine's network and CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHECKOUT = "/home/alice/sandbox-host"


def molecule(*args: str) -> None:
    done = subprocess.run([str(REPO / ".venv/bin/molecule"), *args, "-s", "laptop"], cwd=REPO,
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"molecule {args[0]} failed (exit {done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}")


def bootstrap(host: str) -> tuple[float, str]:
    layers = f"{CHECKOUT}/molecule/shared/group_vars:{CHECKOUT}/molecule/laptop/group_vars"
    started = time.monotonic()
    done = subprocess.run(["docker", "exec", "--user", "alice", "--workdir", CHECKOUT, "--env", "HOME=/home/alice",
                           "--env", "USER=alice", "--env", f"SANDBOX_HOST_GROUP_VARS={layers}", host,
                           "scripts/bootstrap-laptop.sh"], capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        sys.exit(f"bootstrap failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    said = [line for line in done.stdout.splitlines() if line.startswith("bootstrap: deploy changed")]
    return elapsed, said[-1] if said else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--keep", action="store_true", help="leave the test host running")
    args = parser.parse_args()
    host = f"{os.environ.get('SANDBOX_HOST_TEST_PREFIX', 'sbx')}-laptop"
    molecule("destroy")
    molecule("create")
    molecule("prepare")
    try:
        first, first_said = bootstrap(host)
        second, second_said = bootstrap(host)
    finally:
        if not args.keep:
            molecule("destroy")
    result = {"zero_to_sandbox_s": round(first, 1), "second_run_s": round(second, 1),
              "first_run": first_said, "second_run": second_said}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:<18} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
