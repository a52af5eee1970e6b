"""Container probes: what a container on the host actually sees (resolver, addresses, routes, IPv6)
and whether the sandbox's egress proxy answers. Each starts one throwaway container from a local
image (never pulled), bounded by `timeout`, and removes it."""

from __future__ import annotations

from pyinfra.api import FactBase

from sandbox_host.diagnose import procnet
from sandbox_host.diagnose.facts import ABSENT, FILES
from sandbox_host.diagnose.facts._util import guard, is_absent, name, quote, script
from sandbox_host.roles.common import scripts

RUN_PROBE = FILES / "run-probe.sh"


def _run(image: str, network: str, shell: str, program: str, timeout: int, *args: str | int) -> str:
    """files/run-probe.sh: ``program`` (a file in files/) in a throwaway container, with ``args``."""
    text = (FILES / program).read_text()
    return scripts.command(RUN_PROBE, name(image), name(network), shell, int(timeout), text, *args)


def _finish(output: list[str]) -> tuple[dict | None, dict[str, list[str]]]:
    if is_absent(output):
        return {"status": "absent"}, {}
    if output and output[0].strip() == "##NOIMAGE##":
        return {"status": "no-image"}, {}
    sections = procnet.split_sections(output)
    rc_lines = sections.get("docker_rc", [])
    rc = int(rc_lines[0]) if rc_lines and rc_lines[0].strip().lstrip("-").isdigit() else None
    if rc == 124:
        return {"status": "timed out"}, sections
    if rc not in (0, None) and "links" not in sections and "connect" not in sections:
        # The container never ran the script: docker's own error is the first section-less output.
        head = [line for line in output if not line.startswith("##")][:5]
        return {"status": "failed", "exit_code": rc, "error": "\n".join(head)[-600:]}, sections
    return None, sections


class ContainerProbe(FactBase):
    """From a container on `network`: its resolv.conf, resolving `lookup`, default routes, IPv6
    state and MTU. {"status": "ok"|"absent"|"no-image"|"failed"|"timed out", ...}"""

    @staticmethod
    def default():
        return {"status": "absent"}

    def command(self, image, lookup, network="bridge", timeout=20):
        net_sections = (FILES / "net-sections.sh").read_text()
        resolve_timeout = max(int(timeout) - 5, 3)
        run = _run(image, network, "sh", "container-probe.sh", timeout, name(lookup), resolve_timeout, net_sections)
        return guard("docker", run)

    def process(self, output):
        early, sections = _finish(output)
        if early:
            return early
        rc_text = "".join(sections.get("resolve_rc", [])).strip()
        resolve_rc = int(rc_text) if rc_text.isdigit() else None
        resolv_lines = sections.get("resolv", [])
        addresses = procnet.getent_ahosts(sections.get("getent", []))
        resolve = {"status": "ok" if resolve_rc == 0 and addresses else "failed", "addresses": addresses}
        if resolve_rc == 124:
            resolve["error"] = "timed out"
        elif resolve_rc not in (0, None):
            resolve["error"] = "not found" if resolve_rc == 2 else f"getent exit {resolve_rc}"
        return {
            "status": "ok",
            "resolv_conf": procnet.resolv_conf(resolv_lines),
            "resolve": resolve,
            **procnet.network_state(sections),
        }


class SandboxProxyProbe(FactBase):
    """From a container on the sandbox's internal network: does the egress proxy accept a TCP
    connection, and what does it answer to CONNECT target (200: it reached the allowed host;
    403: the allowlist refused; 502/503: the proxy cannot get out). "absent" when the sandbox's
    network does not exist (sandbox not deployed)."""

    @staticmethod
    def default():
        return {"status": "absent"}

    def command(self, image, network, proxy_ip, proxy_port, target, timeout=20):
        read_timeout = max(int(timeout) - 5, 3)
        args = (name(proxy_ip), int(proxy_port), name(target), read_timeout)
        run = _run(image, network, "bash", "proxy-connect.sh", timeout, *args)
        return guard(
            "docker",
            f"docker network inspect {quote(network)} >/dev/null 2>&1 || {{ echo '{ABSENT}'; exit 0; }}; {run}",
        )

    def process(self, output):
        early, sections = _finish(output)
        if early:
            return early
        # Line by line: the docker client's own messages (2>&1) may land inside a section.
        connected = "ok" in (line.strip() for line in sections.get("connect", []))
        status_line = "".join(sections.get("status", [])).strip()
        code = None
        parts = status_line.split()
        if len(parts) >= 2 and parts[0].startswith("HTTP/") and parts[1].isdigit():
            code = int(parts[1])
        return {
            "status": "ok",
            "proxy_reachable": connected,
            "connect_status": code,
            "connect_reply": status_line[:200] or None,
        }


class ProxyContainerStarted(FactBase):
    """The container holding the proxy's address on the sandbox network (files/proxy-container.sh):
    {"name", "started_at"} (RFC 3339), or None when none does."""

    def requires_command(self, network, proxy_ip) -> str:
        return "docker"

    def command(self, network, proxy_ip):
        return script("proxy-container.sh", network, proxy_ip)

    def process(self, output):
        parts = " ".join(output).split()
        return {"name": parts[0], "started_at": parts[1]} if len(parts) == 2 else None
