"""How long diagnosing one host takes: wall time of `sandbox-host diagnose gather`, with and
without the container probes (they dominate: each starts a container).

    .venv/bin/python benchmarks/diagnose_gather.py [INVENTORY] [--runs N] [--probe-image IMG]

Defaults: @local, 3 runs, sandbox-host-base:bookworm. Names resolve from /etc/hosts (localhost)
so the benchmark sends no DNS query anywhere.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def one_run(inventory: str, image: str, probes: bool) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as out:
        argv = [sys.executable, "-m", "sandbox_host.diagnose", "gather", inventory, "--out", out, "--probe-image", image,
                "--resolve-name", "localhost", "--proxy-target", "127.0.0.1:9"]
        if not probes:
            argv.append("--no-container-probes")
        started = time.monotonic()
        subprocess.run(argv, cwd=REPO, check=True, capture_output=True)
        wall = time.monotonic() - started
        (report,) = Path(out).glob("*.json")
        return wall, json.loads(report.read_text())["duration_s"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("inventory", nargs="?", default="@local")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--probe-image", default="sandbox-host-base:bookworm")
    args = parser.parse_args()
    for probes in (False, True):
        runs = [one_run(args.inventory, args.probe_image, probes) for _ in range(args.runs)]
        walls, gathers = [r[0] for r in runs], [r[1] for r in runs]
        label = "with container probes" if probes else "host facts only     "
        print(f"{args.inventory} {label}: gather {statistics.median(gathers):.2f} s median "
              f"(min {min(gathers):.2f}, max {max(gathers):.2f}); whole command {statistics.median(walls):.2f} s median, {args.runs} runs")


if __name__ == "__main__":
    main()
