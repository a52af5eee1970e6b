#!/usr/bin/env python3
"""How long the agent image takes to build and the sandbox to start, on this machine's Docker.

    .venv/bin/python benchmarks/agent_start.py [--cold] [--runs 5] [--json]

Measures, with the settings of group_vars (the dev group) and the image context the deploy uses:
  build_cached    `docker build` of an unchanged context: every step a cache hit
  deploy_check    what an unchanged deploy costs: `docker image inspect` of the content tag
  build_cold      (--cold) `docker build --no-cache`: apt, Node, npm and Claude Code downloaded
  start_ready     `agent-sandbox start DIR` until it returns (container up, entrypoint done,
                  credentials installed), then `stop`; --runs times
  run_true        `agent-sandbox run DIR -- true`: start, credentials, exec, remove
Everything runs on a network, volume and containers of its own, removed at the end. The API key
is a fake one; nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sandbox_host.roles.agent import context  # noqa: E402
from sandbox_host import config  # noqa: E402
from sandbox_host.config.schema import HostConfig  # noqa: E402
from sandbox_host.roles.launcher.config import launcher_config  # noqa: E402

LAUNCHER = REPO / "roles" / "launcher" / "agent_sandbox.py"


def sh(*args, input=None, check=True):
    done = subprocess.run(args, input=input, capture_output=True)
    if check and done.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, args))} failed: {done.stderr.decode(errors='replace')}")
    return done.stdout.decode().strip()


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def image_settings():
    images = config.load(["dev"]).images
    if not images.extra_ca_certificates and Path("/etc/ssl/certs/ca-certificates.crt").is_file():
        # This machine re-signs outbound TLS: npm is reachable only with the host's bundle.
        images = images.model_copy(update={"extra_ca_certificates": ["/etc/ssl/certs/ca-certificates.crt"]})
    return images


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cold", action="store_true", help="also time a build without cache (downloads ~150 MB)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    opts = parser.parse_args()

    settings = config.load(["dev"])
    tar = context.context_tar(context.full_context(settings.agent, image_settings(), 1000, 1000))
    tag = f"sandbox-agent-bench:{hashlib.sha256(tar).hexdigest()[:16]}"
    results: dict[str, object] = {}

    if opts.cold:
        cold_tag = f"sandbox-agent-bench:cold-{uuid.uuid4().hex[:8]}"
        results["build_cold_s"] = round(timed(lambda: sh("docker", "build", "--no-cache", "--force-rm", "-t", cold_tag, "-",
                                                          input=tar)), 2)
        sh("docker", "tag", cold_tag, tag)
        sh("docker", "rmi", cold_tag)
    elif not sh("docker", "image", "ls", "-q", tag):
        sh("docker", "build", "--force-rm", "-t", tag, "-", input=tar)
    results["build_cached_s"] = round(timed(lambda: sh("docker", "build", "--force-rm", "-t", tag, "-", input=tar)), 2)
    results["deploy_check_s"] = round(timed(lambda: sh("docker", "image", "inspect", tag)), 3)

    run = uuid.uuid4().hex[:8]
    network, volume, name = f"agbench-int-{run}", f"agbench-state-{run}", f"agbench-{run}"
    workdir = Path(tempfile.mkdtemp(prefix="agbench-"))
    workdir.chmod(0o777)
    try:
        sh("docker", "network", "create", "--internal", network)
        host = HostConfig.model_validate({
            "sandbox_network": {"internal_network": network},
            "agent": {"state_volume": volume},
            "launcher": {"container_name": name, "proxy_container": name + "-noproxy"},
        })
        cfg = launcher_config(host.launcher_sections(), 1000, 1000)
        cfg["image"] = tag
        cfg_file = workdir / "config.json"
        cfg_file.write_text(json.dumps(cfg))
        env = {"PATH": os.environ["PATH"], "HOME": str(workdir), "ANTHROPIC_API_KEY": "sk-ant-api03-BENCH-FAKE"}
        launcher = [sys.executable, str(LAUNCHER), "--config", str(cfg_file)]
        starts, runs = [], []
        for _ in range(opts.runs):
            starts.append(timed(lambda: subprocess.run([*launcher, "start", str(workdir)], env=env, check=True,
                                                       capture_output=True)))
            subprocess.run([*launcher, "stop"], env=env, check=True, capture_output=True)
            runs.append(timed(lambda: subprocess.run([*launcher, "run", str(workdir), "--", "true"], env=env,
                                                     check=True, capture_output=True)))
        for key, values in (("start_ready", starts), ("run_true", runs)):
            results[f"{key}_median_s"] = round(statistics.median(values), 2)
            results[f"{key}_min_s"] = round(min(values), 2)
            results[f"{key}_max_s"] = round(max(values), 2)
        results["runtime"] = cfg["runtime"] if cfg["runtime"] in sh("docker", "info", "--format", "{{json .Runtimes}}") else "runc"
        results["runs"] = opts.runs
    finally:
        sh("docker", "rm", "-f", name, check=False)
        sh("docker", "network", "rm", network, check=False)
        sh("docker", "volume", "rm", "-f", volume, check=False)
    if opts.json:
        print(json.dumps(results, indent=2))
    else:
        for key, value in results.items():
            print(f"{key:<22} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
