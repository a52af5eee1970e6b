#!/usr/bin/env python3
"""Latency the egress proxy adds per request, against the tests' own web server container.

    .venv/bin/python benchmarks/proxy_latency.py [-n 200] [--keep]

Converges the test deploy (tests/integration/sandbox_egress_deploy.py: test-only networks, proxy and
images, all named sbxtest-*), starts the test web server on the egress network, then times N
requests from inside containers with curl's own clock (process start-up is not counted):
  direct     a client on the egress network -> web server, by IP (no DNS lookup per request:
             Squid caches its lookups, so a name here would compare DNS, not the proxy hop)
  via proxy  a client on the internal network -> Squid -> web server (plain http, and CONNECT)
each once with one curl per request (new connection, new DNS lookup) and once with one curl for
all N (DNS cached; the connection to the proxy is reused, the test web server itself closes
every connection).
Prints numbers only; nothing asserts on them. Removes what it started unless --keep.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests/integration"))
import sandbox_egress_harness as h  # noqa: E402

PROXY = f"http://{h.PROXY_IP}:{h.PROXY_PORT}"


def timings(container: str, curl_args: list[str], n: int, keep_alive: bool) -> list[float]:
    """Seconds per request, measured by curl (time_total) inside ``container``."""
    fmt = "\\n@%{time_total}\\n"
    if keep_alive:
        # One curl, N transfers of the same URL: DNS cached, connections reused where allowed.
        script = f"curl -s -w '{fmt}' {' '.join(curl_args[:-1])} $(for i in $(seq {n}); do printf '%s ' '{curl_args[-1]}'; done)"
    else:
        script = f"for i in $(seq {n}); do curl -s -w '{fmt}' {' '.join(curl_args)}; done"
    out = h.sh("docker", "exec", container, "sh", "-c", script, timeout=600).stdout
    values = [float(line[1:]) for line in out.splitlines() if line.startswith("@")]
    if len(values) != n:
        raise SystemExit(f"expected {n} timings from {container}, got {len(values)}: {out[-500:]}")
    return values


def row(label: str, values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    p90 = ms[int(len(ms) * 0.9) - 1]
    return f"{label:<36} median {statistics.median(ms):7.3f} ms   p90 {p90:7.3f} ms   mean {statistics.mean(ms):7.3f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="requests per measurement (default 200)")
    parser.add_argument("--keep", action="store_true", help="leave the test networks and containers running")
    args = parser.parse_args()
    if reason := h.docker_ready():
        raise SystemExit(f"cannot run: {reason}")

    with h.exclusive():
        run(args)


def run(args) -> None:
    result = h.deploy(h.write_group_vars(Path(tempfile.mkdtemp(prefix="sbxbench-"))))
    if h.failed(result):
        raise SystemExit(result["stderr"][-3000:])
    web_ip = h.start_web_and_clients()
    try:
        # Warm up DNS and connections on both paths.
        timings(h.OUTSIDE_CLIENT, [f"http://{web_ip}/"], 5, False)
        timings(h.CLIENT, ["-x", PROXY, f"http://{h.ALLOWED}/"], 5, False)
        print(f"{args.n} requests each; web server {h.ALLOWED} ({web_ip}), proxy {PROXY}")
        results = {}
        for keep_alive in (False, True):
            mode = "one curl for all" if keep_alive else "curl per request"
            results[("direct", mode)] = timings(h.OUTSIDE_CLIENT, [f"http://{web_ip}/"], args.n, keep_alive)
            results[("proxy http", mode)] = timings(h.CLIENT, ["-x", PROXY, f"http://{h.ALLOWED}/"], args.n, keep_alive)
            results[("proxy CONNECT", mode)] = timings(
                h.CLIENT, ["-x", PROXY, "-p", f"http://{h.ALLOWED}:443/"], args.n, keep_alive
            )
        for (path, mode), values in results.items():
            print(row(f"{path} ({mode})", values))
        for mode in ("curl per request", "one curl for all"):
            base = statistics.median(results[("direct", mode)])
            for path in ("proxy http", "proxy CONNECT"):
                added = (statistics.median(results[(path, mode)]) - base) * 1000
                print(f"added by the proxy, {path} ({mode}): {added:+.3f} ms median")
    finally:
        if not args.keep:
            h.teardown()


if __name__ == "__main__":
    main()
