"""The API stand-in lab shared by the credential gateway's host tests (default, gvisor and laptop
scenarios) and benchmarks/gateway_latency.py: a test CA and a certificate for STANDIN_NAME, the
stand-in (api_standin.py) started on a test host's egress network, what it received, and the
search of a sandbox for a secret.

    python3 tests/host/api_standin_lab.py certificates DIR

makes the certificates into DIR (the laptop scenario's prepare step: its gateway is built
trusting that CA, because there the deploy runs on the test host as alice).
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from pathlib import Path

import bypass_harness as b

STANDIN_NAME = "api-standin.sandbox.test"
STANDIN_SCRIPT = Path(__file__).with_name("api_standin.py")
CERTIFICATES = ("ca.pem", "server.pem", "server.key")

# A Messages API request from inside the sandbox, with whatever credential the sandbox holds.
ASK_GATEWAY = ('curl -sS --max-time 20 -X POST "$ANTHROPIC_BASE_URL/v1/messages" -H "x-api-key: $(agent-api-key)"'
               ' -H "content-type: application/json" -d \'{"model":"m","max_tokens":5,"messages":[]}\'')

# Every file the sandbox's processes can read (but /proc, /sys, /dev), then every process's
# environment and command line. The pattern comes on stdin into a bash variable and reaches grep
# through a pipe: it is in no file and no command line inside the sandbox, so the search cannot
# find itself. Prints the paths that hold it.
_SEARCH = (
    'read -r pattern; hits() { grep -rlsF -f <(printf "%s\\n" "$pattern") "$@"; }; '
    "hits --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev / ; "
    "for p in /proc/[0-9]*; do hits $p/environ $p/cmdline; done; true"
)


def make_certificates(folder: Path) -> dict[str, Path]:
    """A test CA and the stand-in's certificate for STANDIN_NAME, made with openssl in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / name for name in ("ca.pem", "ca.key", "server.pem", "server.key", "server.csr")}
    run = lambda *args: subprocess.run(args, check=True, capture_output=True)  # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=sandbox-host gateway test CA",
        "-keyout", paths["ca.key"], "-out", paths["ca.pem"])
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={STANDIN_NAME}",
        "-keyout", paths["server.key"], "-out", paths["server.csr"])
    ext = folder / "ext.cnf"
    ext.write_text(f"subjectAltName=DNS:{STANDIN_NAME}\n")
    run("openssl", "x509", "-req", "-in", paths["server.csr"], "-CA", paths["ca.pem"], "-CAkey", paths["ca.key"],
        "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", paths["server.pem"])
    return paths


def sh(host, command: str, check: bool = True):
    done = host.run(command)
    if check:
        assert done.rc == 0, f"{command}: exit {done.rc}: {(done.stderr or done.stdout).strip()[-2000:]}"
    return done


def wait_for(what, check, tries=60, pause=0.5):
    for _ in range(tries):
        if result := check():
            return result
        time.sleep(pause)
    raise AssertionError(f"gave up waiting: {what}")


def start_standin(host, name: str, network: str, base_image: str, folder: str, pem: str, key: str) -> None:
    """The stand-in as container ``name`` on ``network``, answering as STANDIN_NAME; its script
    and the certificate/key (text, or paths on the test host) go into ``folder`` on the host."""
    tools = b.tools_image_tag(base_image)
    if host.run(f"docker image inspect {tools}").rc != 0:
        sh(host, f"printf '%s' {shlex.quote(b.tools_dockerfile(base_image))} | timeout 600 docker build -q -t {tools} -")
    sh(host, f"mkdir -p {folder}")
    for target, text in (("api_standin.py", STANDIN_SCRIPT.read_text()), ("server.pem", pem), ("server.key", key)):
        sh(host, f"printf '%s' {shlex.quote(text)} > {folder}/{target}")
    sh(host, f"docker run -d --name {name} --network {network} --network-alias {STANDIN_NAME}"
             f" -v {folder}:/standin:ro {tools} python3 /standin/api_standin.py /standin/server.pem /standin/server.key")
    wait_for("stand-in ready", lambda: any("ready" in e for e in b.server_logs(host, name)))


def standin_requests(host, name: str) -> list[dict]:
    """Every request the stand-in received, oldest first (method, path, peer, auth headers)."""
    return [r for r in b.server_logs(host, name) if "method" in r]


def sandbox_paths_holding(host, container: str, secret: str) -> list[str]:
    """Where in a running sandbox ``secret`` is: files, process environments, command lines."""
    done = sh(host, f"printf '%s\\n' {shlex.quote(secret)} | timeout 600 docker exec -i {container} "
                    f"bash -c {shlex.quote(_SEARCH)}")
    return done.stdout.split()


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "certificates":
        sys.exit("usage: api_standin_lab.py certificates DIR")
    made = make_certificates(Path(sys.argv[2]))
    print(" ".join(str(made[name]) for name in CERTIFICATES))
