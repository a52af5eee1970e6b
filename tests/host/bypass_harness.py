"""Helpers of the egress bypass suite (tests/host/test_egress_bypass.py): the tools image, the
probes run inside the agent container, and the ledger of attempts.

Every probe is a bash function call run inside the agent container (the real agent image has
bash and curl, and so does the stand-in), a few at once in one `docker exec` so the blocked ones
time out together. A probe counts as a bypass when the target *answered*: each test server
replies "<label>-ok" (TCP) or echoes the datagram (UDP), and a TCP probe prints a marker once its
connection is established. Refusals, timeouts and errors are all "blocked"; the servers' own logs
are checked too, so a probe that arrived but whose answer got lost still shows up.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path

SERVER_SCRIPT = Path(__file__).with_name("bypass_server.py")
PREFIX = "sbx-bypass"
AGENT = f"{PREFIX}-agent"
ALLOWED, FORBIDDEN, RESOLVER, HOST_SERVICE = (f"{PREFIX}-{n}" for n in ("allowed", "forbidden", "resolver", "hostsvc"))
ALLOWED_NAME, FORBIDDEN_NAME, RESOLVER_NAME = "allowed.sandbox.test", "forbidden.sandbox.test", "resolver.sandbox.test"
STATE_VOLUME = f"{PREFIX}-state"
WORKSPACE = f"/tmp/{PREFIX}-workspace"
# Ports the test host's own listener serves on every host address: a stand-in for a Docker API
# exposed on TCP (2375), a web UI (8080) and a local resolver (53). sshd (22) is the real one.
HOST_TCP_PORTS = (22, 2375, 8080, 53)

# Bounded everywhere: a TCP connect gets 4 s, an UDP answer 3 s, curl --max-time 5. The UDP read
# is retried (under runsc the socket is non-blocking: a read returns EAGAIN at once) with bash
# builtins only, pausing on a pipe nobody writes: no process per try, see PARALLEL.
PRELUDE = r"""
tcp() { timeout 4 bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1; echo __connected__; printf "GET / HTTP/1.0\r\n\r\n" >&3; timeout 2 head -c 200 <&3' "$1" "$2"; }
udp() { timeout 5 bash -c 'exec 3<>"/dev/udp/$0/$1" || exit 1
  printf "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x09forbidden\x07sandbox\x04test\x00\x00\x01\x00\x01" >&3 || exit 1
  exec 4< <(exec sleep 5)
  for i in $(seq 30); do IFS= read -r -d "" -n 1 -u 3 c 2>/dev/null && { echo __reply__; exit 0; }; read -t 0.1 -u 4; done
  echo "no reply in 3 s"; exit 1' "$1" "$2"; }
web() { curl -sS --max-time 5 -w '\n__codes=%{http_code} %{http_connect}\n' "$@"; }
bare() { env -u HTTPS_PROXY -u HTTP_PROXY -u https_proxy -u http_proxy -u ALL_PROXY -u all_proxy \
  curl -sS --max-time 5 -w '\n__codes=%{http_code} %{http_connect}\n' "$@"; }
sock() { for s in "$@"; do [ -e "$s" ] && echo "__socket__ $s"
  curl -sS --max-time 5 --unix-socket "$s" http://docker/version && echo __answered__; done; true; }
probe() { local id=$1; shift; local out rc; out=$("$@" 2>&1); rc=$?
  out=$(printf '%s' "$out" | tr '\n\t' '  '); [ ${#out} -gt 900 ] && out="${out:0:500} [...] ${out: -300}"
  printf '__probe__\t%s\t%s\t%s\n' "$id" "$rc" "$out"; }
"""


@dataclass(frozen=True)
class Probe:
    """One attempt: ``argv`` is a PRELUDE function and its arguments; any of ``reached`` in the
    output means the target answered."""

    name: str
    argv: tuple[str, ...]
    reached: tuple[str, ...]


def tcp(name: str, ip: str, port: int) -> Probe:
    return Probe(name, ("tcp", ip, str(port)), ("__connected__",))


def udp(name: str, ip: str, port: int) -> Probe:
    return Probe(name, ("udp", ip, str(port)), ("__reply__",))


def web(name: str, label: str, *curl_args: str, env: bool = True) -> Probe:
    """curl with the container's proxy variables (``env=False``: with them removed)."""
    return Probe(name, ("web" if env else "bare", *curl_args), (f"{label}-ok",))


def docker_socket(name: str, *paths: str) -> Probe:
    return Probe(name, ("sock", *paths), ("__socket__", "__answered__"))


class AgentStopped(Exception):
    """The container running the probes died under them (not a bypass: the way out closed)."""


@dataclass
class Outcome:
    probe: Probe
    rc: int
    output: str

    @property
    def reached(self) -> bool:
        return any(marker in self.output for marker in self.probe.reached)

    @property
    def codes(self) -> tuple[str, str]:
        """curl's (http_code, http_connect); a refused CONNECT leaves http_code at 000."""
        for part in self.output.split("__codes=")[1:]:
            found = part.split()
            return (found + ["000", "000"])[0], (found + ["000", "000"])[1]
        return "000", "000"

    @property
    def proxy_status(self) -> str:
        status, connect = self.codes
        return connect if status == "000" else status

    def __str__(self) -> str:
        verdict = "REACHED" if self.reached else "blocked"
        codes = f" http {self.codes[0]} connect {self.codes[1]}" if "__codes=" in self.output else ""
        timed_out = ", timed out" if self.rc == 124 else ""
        return f"{self.probe.name}: {verdict} (exit {self.rc}{timed_out}{codes}) {self.output[:160]}"


# Probes run this many at a time. Under runsc (ptrace platform) every process in the sandbox
# costs about eight host threads, all counted against the container's --pids-limit (1024 by
# default): 12 probes at once (~100 processes) exhausted it and the sandbox died with a panic.
PARALLEL = 4


def run_probes(host, container: str, probes: list[Probe]) -> dict[str, Outcome]:
    """The probes inside ``container``, PARALLEL at a time; every one must report back."""
    lines = [PRELUDE]
    for start in range(0, len(probes), PARALLEL):
        for probe in probes[start : start + PARALLEL]:
            lines.append("probe " + " ".join(shlex.quote(a) for a in (probe.name, *probe.argv)) + " &")
        lines.append("wait")
    script = "\n".join(lines)
    limit = 10 + 8 * -(-len(probes) // PARALLEL)  # each round ends within ~6 s
    done = host.run(f"timeout {limit} docker exec {container} bash -c {shlex.quote(script)}")
    outcomes = {}
    for line in done.stdout.splitlines():
        if line.startswith("__probe__\t"):
            _, name, rc, output = (line.split("\t", 3) + [""])[:4]
            outcomes[name] = Outcome(next(p for p in probes if p.name == name), int(rc), output)
    missing = [p.name for p in probes if p.name not in outcomes]
    state = host.run(f"docker inspect --format '{{{{.State.Status}}}} exit {{{{.State.ExitCode}}}}' {container}")
    if missing and not state.stdout.startswith("running"):
        raise AgentStopped(f"{container} stopped during the probes ({state.stdout.strip()}): {done.stderr[-300:]}")
    assert not missing, f"probes that never reported ({done.rc}: {done.stderr[-500:]}): {missing}"
    return outcomes


@dataclass
class Ledger:
    """Every bypass attempt of the run, by threat group: (group, attempt, reached?, evidence)."""

    entries: list[tuple[str, str, bool, str]] = field(default_factory=list)

    def record(self, group: str, outcomes: dict[str, Outcome]) -> list[Outcome]:
        """Record a test's attempts; returns those that reached their target."""
        for outcome in outcomes.values():
            self.entries.append((group, outcome.probe.name, outcome.reached, str(outcome)))
        return [o for o in outcomes.values() if o.reached]

    def add(self, group: str, attempt: str, reached: bool, evidence: str) -> None:
        self.entries.append((group, attempt, reached, evidence))

    @property
    def bypasses(self) -> list[tuple[str, str, bool, str]]:
        return [e for e in self.entries if e[2]]

    def by_group(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for group, *_ in self.entries:
            counts[group] = counts.get(group, 0) + 1
        return counts

    def as_json(self, **context) -> str:
        return json.dumps({
            **context,
            "attempts": len(self.entries),
            "bypasses": len(self.bypasses),
            "by_group": self.by_group(),
            "entries": [{"group": g, "attempt": a, "reached": r, "evidence": e} for g, a, r, e in self.entries],
        }, indent=2)


# --- the suite's image: curl, bash, python3 and openssl on the project's base image -------------


def tools_dockerfile(base_image: str) -> str:
    server = base64.b64encode(SERVER_SCRIPT.read_bytes()).decode()
    return (
        f"FROM {base_image}\n"
        "RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends"
        " bash curl python3 openssl ca-certificates && rm -rf /var/lib/apt/lists/*\n"
        f"RUN echo {server} | base64 -d > /usr/local/bin/bypass-server && chmod 0755 /usr/local/bin/bypass-server\n"
    )


def tools_image_tag(base_image: str) -> str:
    digest = hashlib.sha256(tools_dockerfile(base_image).encode()).hexdigest()[:16]
    return f"{PREFIX}-tools:{digest}"


def server_logs(host, container: str) -> list[dict]:
    """What a test server received: its JSON lines on stdout."""
    out = host.run(f"docker logs {container} 2>/dev/null").stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def received(host, container: str, ignore_peers: set[str] = frozenset()) -> list[dict]:
    """Connections and datagrams a server got from anyone but ``ignore_peers`` (the suite's own
    control clients)."""
    return [e for e in server_logs(host, container) if "proto" in e and e["peer"] not in ignore_peers]


def proxy_log(host, container: str) -> list[dict]:
    out = host.run(f"docker logs {container} 2>/dev/null").stdout  # stdout only: the JSON access log
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def eui64_link_local(mac: str) -> str:
    """The fe80:: address an interface with this MAC takes when IPv6 is on (RFC 4291)."""
    octets = [int(x, 16) for x in mac.split(":")]
    octets[0] ^= 0x02
    words = octets[:3] + [0xFF, 0xFE] + octets[3:]
    groups = [f"{(words[i] << 8) | words[i + 1]:x}" for i in range(0, 8, 2)]
    return "fe80::" + ":".join(groups)
