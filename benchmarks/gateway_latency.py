#!/usr/bin/env python3
"""Latency the credential gateway adds per request, and its memory, against a local stand-in API.

    .venv/bin/python benchmarks/gateway_latency.py [-n 300] [--base-image IMAGE] [--keep]

On this machine's Docker, everything named gateway-bench-*: a user-defined network, the stand-in
API (tests/host/api_standin.py, HTTPS with a CA made here), the gateway image built from the
role's own context (roles/credential_gateway, api_host = the stand-in, its CA trusted) and run
with the launcher's own arguments, and a client container. The client times N POST
/v1/messages with curl's own clock (process start-up not counted):
  direct        client -> stand-in over TLS, a new connection per request (what the agent would
                do without the gateway, minus the egress proxy)
  via gateway   client -> gateway (http) -> stand-in (TLS, a new upstream connection per
                request: the gateway looks the API's name up per request, see its README)
each once with one curl per request and once with one curl for all N (the client's connection
reused). Then the gateway's memory (docker stats) after the run. Prints numbers only.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests/host"))
import bypass_harness as b  # noqa: E402
from api_standin_lab import STANDIN_NAME, STANDIN_SCRIPT, make_certificates  # noqa: E402

from sandbox_host.roles.credential_gateway import nginx  # noqa: E402
from sandbox_host.roles.credential_gateway.settings import CredentialGatewaySettings  # noqa: E402
from sandbox_host.roles.images import deploy as images  # noqa: E402
from sandbox_host.roles.images.operations import extra_ca_context  # noqa: E402
from sandbox_host.roles.images.settings import ImagesSettings  # noqa: E402
from sandbox_host.roles.launcher import agent_sandbox as launcher  # noqa: E402

PREFIX = "gateway-bench"
NETWORK, STANDIN, GATEWAY, CLIENT = (f"{PREFIX}-{n}" for n in ("net", "standin", "gw", "client"))
VOLUME, IMAGE = f"{PREFIX}-cred", f"{PREFIX}-gateway:latest"
KEY = b"sk-ant-api03-benchmark-not-a-real-key-0000"


def sh(*args: str, input: bytes | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    done = subprocess.run(args, input=input, capture_output=True, timeout=timeout)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)}: exit {done.returncode}: {done.stderr.decode()[-2000:]}")
    return done


def build_gateway(base_image: str, ca: Path, work: Path) -> None:
    settings = CredentialGatewaySettings(api_host=STANDIN_NAME, upstream_ca_certificates=[str(ca)])
    image_settings = ImagesSettings(base_image=base_image, extra_ca_certificates=["/etc/ssl/certs/ca-certificates.crt"])
    context = work / "context"
    files = {**nginx.build_context(settings), **extra_ca_context(image_settings.extra_ca_certificates)}
    files["Dockerfile"] = images.render_dockerfile(nginx.TEMPLATES / "Dockerfile.j2", image_settings,
                                                   **nginx.template_variables(settings))
    for name, content in files.items():
        path = context / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    sh("docker", "build", "-q", "-t", IMAGE, str(context))


def timings(curl_args: list[str], n: int, keep_alive: bool) -> list[float]:
    fmt = "\\n@%{time_total}\\n"
    url = curl_args[-1]
    if keep_alive:
        script = f"curl -s -w '{fmt}' {' '.join(curl_args[:-1])} $(for i in $(seq {n}); do printf '%s ' '{url}'; done)"
    else:
        script = f"for i in $(seq {n}); do curl -s -w '{fmt}' {' '.join(curl_args)}; done"
    out = sh("docker", "exec", CLIENT, "sh", "-c", script).stdout.decode()
    values = [float(line[1:]) for line in out.splitlines() if line.startswith("@")]
    if len(values) != n or "standin-reply-ok" not in out:
        raise SystemExit(f"expected {n} answered requests, got {len(values)}: {out[-500:]}")
    return values


def row(label: str, values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    p99 = ms[max(0, int(len(ms) * 0.99) - 1)]
    return f"{label:<40} p50 {statistics.median(ms):7.2f} ms   p99 {p99:7.2f} ms   mean {statistics.mean(ms):7.2f} ms"


def cleanup() -> None:
    subprocess.run(["docker", "rm", "-f", STANDIN, GATEWAY, CLIENT], capture_output=True)
    subprocess.run(["docker", "volume", "rm", "-f", VOLUME], capture_output=True)
    subprocess.run(["docker", "network", "rm", NETWORK], capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=300, help="requests per measurement (default 300)")
    parser.add_argument("--base-image", default="sandbox-host-base:bookworm")
    parser.add_argument("--keep", action="store_true", help="leave the containers running")
    args = parser.parse_args()
    cleanup()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            certs = make_certificates(work)
            build_gateway(args.base_image, certs["ca.pem"], work)
            tools = b.tools_image_tag(args.base_image)
            if subprocess.run(["docker", "image", "inspect", tools], capture_output=True).returncode != 0:
                sh("docker", "build", "-q", "-t", tools, "-", input=b.tools_dockerfile(args.base_image).encode())
            sh("docker", "network", "create", NETWORK)
            standin_dir = work / "standin"
            standin_dir.mkdir()
            for name, source in (("api_standin.py", STANDIN_SCRIPT), ("server.pem", certs["server.pem"]),
                                 ("server.key", certs["server.key"]), ("ca.pem", certs["ca.pem"])):
                (standin_dir / name).write_bytes(source.read_bytes())
                (standin_dir / name).chmod(0o644)
            sh("docker", "run", "-d", "--name", STANDIN, "--network", NETWORK, "--network-alias", STANDIN_NAME,
               "-v", f"{standin_dir}:/standin:ro", tools, "python3", "/standin/api_standin.py",
               "/standin/server.pem", "/standin/server.key")
            gw = {"credential_dir": nginx.CREDENTIAL_DIR, "image": IMAGE}
            sh("docker", "volume", "create", VOLUME)
            sh("docker", *launcher._one_shot(gw, VOLUME, "rw"), "install", "api-key", input=KEY)
            # The client presents the volume's sandbox key, as a sandbox of that user does.
            kind, sandbox_key = sh("docker", *launcher._one_shot(gw, VOLUME, "ro"), "status", input=b"").stdout.decode().split()
            placeholder = f"{launcher.PLACEHOLDER_PREFIXES[kind]}{sandbox_key}"
            create = launcher.gateway_create_args(
                {**gw, "internal_network": NETWORK, "memory": "64m", "pids": 64}, GATEWAY, "", 0)
            create[create.index("--ip"):create.index("--ip") + 2] = []  # Docker picks the address here
            create[create.index("--volume") + 1] = f"{VOLUME}:{nginx.CREDENTIAL_DIR}:ro"
            sh("docker", "run", "-d", *create)
            sh("docker", "run", "-d", "--name", CLIENT, "--network", NETWORK, "-v", f"{standin_dir}:/standin:ro",
               tools, "sleep", "infinity")
            time.sleep(2)
            body = ["-X", "POST", "-H", f"'x-api-key: {placeholder}'", "-H", "'content-type: application/json'",
                    "-d", "'{\"model\":\"m\",\"max_tokens\":5,\"messages\":[]}'"]
            direct = ["--cacert", "/standin/ca.pem", *body, f"https://{STANDIN_NAME}/v1/messages"]
            via = [*body, f"http://{GATEWAY}:8080/v1/messages"]
            timings(via, 20, False)  # warm-up: DNS cache, first TLS session
            results = {
                "direct, new connection each": timings(direct, args.n, False),
                "via gateway, new connection each": timings(via, args.n, False),
                "direct, one client connection": timings(direct, args.n, True),
                "via gateway, one client connection": timings(via, args.n, True),
            }
            arrived = [json.loads(line) for line in sh("docker", "logs", STANDIN).stdout.decode().splitlines()
                       if line.startswith("{\"method")]
            via_key = {r["x-api-key"] for r in arrived if r["x-api-key"] != placeholder}
            print(f"gateway latency, {args.n} requests each (curl time_total inside a client container)")
            for label, values in results.items():
                print(row(label, values))
            for mode in ("new connection each", "one client connection"):
                d, g = results[f"direct, {mode}"], results[f"via gateway, {mode}"]
                print(f"added by the gateway ({mode}): p50 {1000 * (statistics.median(g) - statistics.median(d)):+.2f} ms")
            stats = sh("docker", "stats", "--no-stream", "--format", "{{.MemUsage}}", GATEWAY).stdout.decode().strip()
            print(f"gateway memory after the run (docker stats): {stats}")
            print(f"keys that arrived through the gateway: {sorted(via_key)}")
    finally:
        if not args.keep:
            cleanup()


if __name__ == "__main__":
    main()
