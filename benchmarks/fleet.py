"""Fleet speed at N test hosts, against an equivalent Ansible playbook (issue 9; not in CI).

    SANDBOX_HOST_TEST_PREFIX=bench .venv/bin/python benchmarks/fleet.py --sizes 1,5,10,20 --runs 3

Needs what scripts/setup-test-machine.sh makes (the bookworm-docker test host image, the test
key, the base image archive). The benchmark makes its own hosts (benchmarks/fleet_hosts.py:
systemd containers with a nested dockerd on a network it creates, 10.231.0.0/24 by default, each
host its own address, reached over SSH) and removes them all at the end.

--reuse-images preloads the tarball an earlier run saved (.cache/bench-images.tar) instead of
converging a seed host again (only valid while the deploy builds the same images).

Settings: group_vars + molecule/shared + molecule/fleet's all.yml (gVisor and agent image off,
the egress proxy on every host). Images preloaded: one seed host is converged first (untimed),
its images saved, and every benchmark host `docker load`s them before its first converge.

For each N, on N fresh preloaded hosts:
  first    `sandbox-host rollout --canary 0 --batch N --no-checks`: the full deploy, first time
  rerun    the same again, nothing to change (median of --runs)
  rerun-nb the same without the batch of the last run's facts (SANDBOX_HOST_FACT_BATCH=0)
  rerun-nm the same with the fact memo off (SANDBOX_HOST_FACT_MEMO=0: every fact asked runs)
  drift    `sandbox-host drift` (dry planning of the whole deploy; median of --runs)
and on N other fresh hosts (no images: the playbook needs none), benchmarks/ansible/host_part.yml
(the host part: daemon.json, sysctl file, proxy drop-in, firewall, runtime registration, restart
handler) with pipelining, forks = N and no fact gathering:
  ans-first, ans-rerun (median of --runs).
Prints one row per N with the 1-minute load average when the row started, the Ansible/pyinfra
ratios, and the per-host slope (least squares over the sizes) of each column; then the CPU time
of the median rerun, drift and Ansible rerun: the controller's and the test hosts' (cgroup).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

import fleet_hosts  # noqa: E402

ANSIBLE_DIR = REPO / "benchmarks" / "ansible"
GROUP_VARS = ":".join(str(REPO / p) for p in ("group_vars", "molecule/shared/group_vars", "molecule/fleet/group_vars"))
COLUMNS = ("first", "rerun", "rerun-nb", "rerun-nm", "drift", "ans-first", "ans-rerun")
# CPU seconds of one run (the median run's): the controller's process tree, and every test host's
# (sshd, shells, the docker CLI, dockerd) from its cgroup. The hosts share this machine's cores with
# the controller, so a run takes at least (controller + hosts) / cores, however fast the network.
CPU_COLUMNS = ("rerun", "drift", "ans-rerun")


class Sample(NamedTuple):
    wall: float
    controller: float
    hosts: float | None


def env() -> dict:
    return {**os.environ, "SANDBOX_HOST_GROUP_VARS": GROUP_VARS, "ANSIBLE_CONFIG": str(ANSIBLE_DIR / "ansible.cfg")}


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], ok=(0,), cwd=REPO, **extra_env) -> Sample:
    cpu, hosts = children_cpu(), fleet_hosts.cpu_seconds()
    started = time.monotonic()
    done = subprocess.run(argv, cwd=cwd, env={**env(), **extra_env}, capture_output=True, text=True)
    took = time.monotonic() - started
    hosts_after = fleet_hosts.cpu_seconds()
    if done.returncode not in ok:
        sys.exit(f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return Sample(took, children_cpu() - cpu, None if hosts is None or hosts_after is None else hosts_after - hosts)


def median(samples: list[Sample]) -> Sample:
    """The run of median wall time (its CPU figures with it)."""
    return sorted(samples)[len(samples) // 2]


def cli(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("sandbox-host")), *args]


def seed_images(subnet: str, directory: Path) -> Path:
    """Converge one host (untimed) and save every tagged image it has: the preload tarball."""
    hosts = fleet_hosts.create(1, subnet, None)
    inventory = fleet_hosts.pyinfra_inventory(hosts, directory / "seed.py")
    print(f"seed: converging {hosts[0][0]} to build the images ...", flush=True)
    timed(cli("rollout", str(inventory), "--canary", "0", "--batch", "1", "--no-checks", "--json"))
    name = hosts[0][0]
    tags = [t for t in fleet_hosts.docker("exec", name, "docker", "images", "--format",
                                          "{{.Repository}}:{{.Tag}}").stdout.split() if "<none>" not in t]
    fleet_hosts.docker("exec", name, "docker", "save", "-o", "/var/lib/docker/preload.tar", *tags)
    tarball = directory.parent / "bench-images.tar"
    fleet_hosts.docker("cp", f"{name}:/var/lib/docker/preload.tar", str(tarball))
    fleet_hosts.destroy()
    print(f"seed: {', '.join(tags)}", flush=True)
    return tarball


def measure(n: int, runs: int, subnet: str, tarball: Path, directory: Path) -> dict:
    row = {"N": n, "load": os.getloadavg()[0]}
    hosts = fleet_hosts.create(n, subnet, None)
    inventory = fleet_hosts.ansible_inventory(hosts, directory / f"hosts{n}.ini")
    playbook = [str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(inventory), "-f", str(max(5, n)),
                "host_part.yml"]
    row["ans-first"] = timed(playbook, cwd=ANSIBLE_DIR)
    row["ans-rerun"] = median([timed(playbook, cwd=ANSIBLE_DIR) for _ in range(runs)])
    fleet_hosts.destroy()

    hosts = fleet_hosts.create(n, subnet, tarball)
    inventory = str(fleet_hosts.pyinfra_inventory(hosts, directory / f"hosts{n}.py"))
    # The fleet's own fact lists (sandbox_host/fact_batch.py), empty before its first converge.
    cache = {"XDG_CACHE_HOME": str(directory / f"cache{n}")}
    rollout = cli("rollout", inventory, "--canary", "0", "--batch", str(n), "--no-checks", "--json")
    row["first"] = timed(rollout, **cache)
    row["rerun"] = median([timed(rollout, **cache) for _ in range(runs)])
    row["rerun-nb"] = median([timed(rollout, SANDBOX_HOST_FACT_BATCH="0", **cache) for _ in range(runs)])
    row["rerun-nm"] = median([timed(rollout, SANDBOX_HOST_FACT_MEMO="0", **cache) for _ in range(runs)])
    row["drift"] = median([timed(cli("drift", inventory, "--json"), **cache) for _ in range(runs)])
    # The reruns must have been no-change reruns: drift clean (exit 0) says the fleet matches.
    timed(cli("drift", inventory, "--json"), ok=(0,), **cache)
    fleet_hosts.destroy()
    return row


def slope(rows: list[dict], column: str) -> float:
    """Seconds per added host: least-squares line through (N, time)."""
    xs, ys = [r["N"] for r in rows], [r[column].wall for r in rows]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def print_table(rows: list[dict]) -> None:
    head = f"{'N':>3}  {'load1':>5}  " + "  ".join(f"{c:>9}" for c in COLUMNS) + f"  {'ans/py first':>12}  {'ans/py rerun':>12}"
    print("\nseconds (first: one run on fresh hosts; the others: median)")
    print(head)
    for r in rows:
        print(f"{r['N']:>3}  {r['load']:>5.2f}  " + "  ".join(f"{r[c].wall:>9.2f}" for c in COLUMNS)
              + f"  {r['ans-first'].wall / r['first'].wall:>12.2f}  {r['ans-rerun'].wall / r['rerun'].wall:>12.2f}")
    if len(rows) > 1:
        print("per added host (s): " + ", ".join(f"{c} {slope(rows, c):.3f}" for c in COLUMNS))
    cores = os.cpu_count() or 1
    print(f"\nCPU seconds of the median run: the controller's, the test hosts' (all {cores} cores shared)")
    print(f"{'N':>3}  " + "  ".join(f"{c + ' ' + part:>16}" for c in CPU_COLUMNS for part in ("ctl", "hosts")))
    for r in rows:
        cells = []
        for c in CPU_COLUMNS:
            hosts = r[c].hosts
            cells += [f"{r[c].controller:>16.2f}", f"{hosts:>16.2f}" if hosts is not None else f"{'?':>16}"]
        print(f"{r['N']:>3}  " + "  ".join(cells))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,5,10,20")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--subnet", default=fleet_hosts.DEFAULT_SUBNET)
    parser.add_argument("--reuse-images", action="store_true",
                        help="preload .cache/bench-images.tar from an earlier run instead of seeding again")
    parser.add_argument("--max-load", type=float, default=None,
                        help="skip a size whose start finds the 1-minute load average above this")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    fleet_hosts.destroy()
    try:
        (REPO / ".cache").mkdir(exist_ok=True)
        with tempfile.TemporaryDirectory(dir=REPO / ".cache", prefix="bench-") as tmp:
            directory = Path(tmp)
            reuse = REPO / ".cache" / "bench-images.tar"
            tarball = reuse if args.reuse_images and reuse.exists() else seed_images(args.subnet, directory)
            for n in sizes:
                if args.max_load is not None and os.getloadavg()[0] > args.max_load:
                    print(f"N={n}: skipped, load average {os.getloadavg()[0]:.2f} > {args.max_load}", flush=True)
                    continue
                rows.append(measure(n, args.runs, args.subnet, tarball, directory))
                r = rows[-1]
                print(f"N={n}: load {r['load']:.2f}; " + ", ".join(f"{c} {r[c].wall:.2f} s" for c in COLUMNS), flush=True)
    finally:
        fleet_hosts.destroy()
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
