"""Fleet speed on hosts that already exist and are converged (partial version of issue 9's
benchmark: it does not create the 20 hosts, nor run the Ansible comparison; see README).

    .venv/bin/python benchmarks/fleet.py INVENTORY [--sizes 1,5] [--runs 3]

For each N in --sizes (the first N hosts of INVENTORY) and with TCP_NODELAY on and off on the
SSH socket (SANDBOX_HOST_SSH_NODELAY), the median wall time of:
  drift     `sandbox-host drift` (dry planning of the whole deploy on N hosts)
  rerun     `sandbox-host rollout --canary 0 --batch N --no-checks` (no-change rerun)
and the per-host slope between the first and the last size.
The hosts must be converged (drift clean) or the rerun changes them on the first run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def subset_inventory(inventory: str, n: int, directory: str) -> str:
    """An inventory file naming the first N hosts of INVENTORY (same groups and data)."""
    from sandbox_host.inventory import load

    fleet = load(inventory)
    keep = set(fleet.hosts[:n])
    path = Path(directory) / f"first{n}.py"
    lines = []
    for group, (members, data) in fleet.groups.items():
        kept = [m for m in members if (m[0] if isinstance(m, tuple) else m) in keep]
        if kept:
            lines.append(f"{group} = ({kept!r}, {data!r})")
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def timed(argv: list[str], nodelay: bool) -> float:
    env = {**os.environ, "SANDBOX_HOST_SSH_NODELAY": "1" if nodelay else "0"}
    started = time.monotonic()
    done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True)
    took = time.monotonic() - started
    if done.returncode not in (0, 3):
        sys.exit(f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("inventory")
    parser.add_argument("--sizes", default="1,5")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cli = str(Path(sys.executable).with_name("sandbox-host"))
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            inv = subset_inventory(args.inventory, n, tmp)
            for nodelay in (False, True):
                drift = statistics.median(timed([cli, "drift", inv, "--json"], nodelay) for _ in range(args.runs))
                rerun = statistics.median(
                    timed([cli, "rollout", inv, "--canary", "0", "--batch", str(n), "--no-checks", "--json"], nodelay)
                    for _ in range(args.runs))
                rows.append((n, nodelay, drift, rerun))
                print(f"N={n:<3} nodelay={'on ' if nodelay else 'off'} drift {drift:6.2f} s  rerun {rerun:6.2f} s",
                      flush=True)
    print(f"\n{'N':>3}  {'NODELAY':7}  {'drift s':>8}  {'rerun s':>8}")
    for n, nodelay, drift, rerun in rows:
        print(f"{n:>3}  {'on' if nodelay else 'off':7}  {drift:8.2f}  {rerun:8.2f}")
    if len(sizes) > 1:
        lo, hi = sizes[0], sizes[-1]
        for nodelay in (False, True):
            a = next(r for r in rows if r[0] == lo and r[1] == nodelay)
            b = next(r for r in rows if r[0] == hi and r[1] == nodelay)
            print(f"per added host (nodelay {'on' if nodelay else 'off'}): drift {(b[2] - a[2]) / (hi - lo):.2f} s, "
                  f"rerun {(b[3] - a[3]) / (hi - lo):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
