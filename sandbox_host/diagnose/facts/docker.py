"""Docker daemon facts pyinfra has no fact for: daemon.json, the systemd unit's environment,
runsc's version and a runtime smoke run."""

from __future__ import annotations

import json
import re
import shlex

from pyinfra.api import FactBase

from sandbox_host.diagnose import procnet
from sandbox_host.diagnose.facts import ABSENT, FILES
from sandbox_host.diagnose.facts._util import guard, is_absent, name, quote, redact_env, redact_text, redact_url, script
from sandbox_host.roles.common import scripts


class DaemonJson(FactBase):
    """/etc/docker/daemon.json: {"status": "ok"|"absent"|"invalid", "content": {...}}."""

    @staticmethod
    def default():
        return {"status": "absent"}

    def command(self, path="/etc/docker/daemon.json"):
        return f"if [ -r {quote(path)} ]; then cat {quote(path)}; else echo '{ABSENT}'; fi"

    def process(self, output):
        if is_absent(output):
            return self.default()
        text = "\n".join(output)
        try:
            content = json.loads(text) if text.strip() else {}
        except json.JSONDecodeError as exc:
            # dockerd refuses to start with an invalid file: that alone explains a dead Docker.
            return {"status": "invalid", "error": str(exc)}
        return {"status": "ok", "content": content}


class DockerUnitEnvironment(FactBase):
    """`systemctl show docker`: the Environment dockerd is started with (proxy drop-ins) and the
    drop-in files, {"status": "ok"|"absent"|"unavailable", ...}. "unavailable": systemctl exists
    but systemd is not running (containers, WSL)."""

    @staticmethod
    def default():
        return {"status": "absent"}

    def command(self):
        return guard(
            "systemctl",
            "systemctl show docker --property Environment --property DropInPaths --property LoadState "
            "--property ActiveState || echo '##FAILED##'",
        )

    def process(self, output):
        if is_absent(output):
            return self.default()
        values = {}
        for line in output:
            if "=" in line:
                key, value = line.split("=", 1)
                values[key] = value
        if "LoadState" not in values or any("##FAILED##" in line for line in output):
            return {"status": "unavailable", "error": " ".join(output)[:300]}
        env = {}
        # Environment=A=1 "B=x y": systemd quotes assignments that contain spaces.
        for item in shlex.split(values.get("Environment", "")):
            key, _, value = item.partition("=")
            env[key] = value
        # Only the proxy variables are kept (passwords masked): other variables may hold secrets
        # and a report gets shared; their names are enough to see that they are there.
        proxies = {k: v for k, v in env.items() if k.lower().endswith("_proxy")}
        return {
            "status": "ok",
            "load_state": values.get("LoadState"),
            "active_state": values.get("ActiveState"),
            "environment": redact_env(proxies),
            "other_variables": sorted(k for k in env if k not in proxies),
            "dropins": values.get("DropInPaths", "").split(),
        }


_RUNSC_DATE = re.compile(r"(?:release-)?(?:0\.0~)?(\d{4})(\d{2})(\d{2})")


class RunscVersion(FactBase):
    """`runsc --version`: {"status": "ok", "version": "...", "release_date": "YYYY-MM-DD"}.
    gVisor versions are release dates, which is what "old runsc on a new kernel" is about."""

    @staticmethod
    def default():
        return {"status": "absent"}

    def command(self, path="runsc"):
        return guard(quote(path), f"{quote(path)} --version")

    def process(self, output):
        if is_absent(output):
            return self.default()
        first = output[0].strip() if output else ""
        version = first.removeprefix("runsc version ").strip()
        match = _RUNSC_DATE.search(version)
        date = f"{match[1]}-{match[2]}-{match[3]}" if match else None
        return {"status": "ok", "version": version, "release_date": date}


class RuntimeSmoke(FactBase):
    """Start a throwaway container with a runtime: {"status": "ok"|"failed"|"no-image"|"absent",
    "error": last lines of docker's message}. Never pulls; removes the container."""

    @staticmethod
    def default():
        return {"status": "absent"}

    def command(self, runtime, image, timeout=60):
        return guard("docker", scripts.command(FILES / "runtime-smoke.sh", name(runtime), name(image), int(timeout)))

    def process(self, output):
        if is_absent(output):
            return self.default()
        if output and output[0].strip() == "##NOIMAGE##":
            return {"status": "no-image"}
        rc = next((int(line[5:]) for line in output if line.startswith("##RC=")), None)
        detail = [line for line in output if not line.startswith("##RC=")]
        if rc == 0:
            return {"status": "ok"}
        return {"status": "failed", "exit_code": rc, "error": "\n".join(detail).strip()[-600:]}


class DockerServerAnswer(FactBase):
    """Why `docker info` gave nothing: {"status": "ok"|"permission denied"|"unreachable", "error"}.
    Not being allowed on the socket (non-root, not in the docker group) is not a dead dockerd."""

    @staticmethod
    def default():
        return {"status": "absent"}

    def command(self):
        return guard("docker", "docker version --format '{{.Server.Version}}' 2>&1; echo \"##RC=$?\"")

    def process(self, output):
        if is_absent(output):
            return self.default()
        rc = next((int(line[5:]) for line in output if line.startswith("##RC=")), None)
        text = "\n".join(line for line in output if not line.startswith("##RC="))
        if rc == 0:
            return {"status": "ok", "version": text.strip()}
        status = "permission denied" if "permission denied" in text.lower() else "unreachable"
        return {"status": status, "error": text.strip()[-300:]}


_LOG_ERROR = re.compile(r"level=(error|fatal)|failed to start daemon|unable to configure|invalid|conflict|cannot|refus", re.I)


class DockerdState(FactBase):
    """What dockerd says about itself (files/dockerd_state.sh): its command line, `dockerd
    --validate` of its config where available, and, when it does not answer, its last log lines
    and the error lines among them. Passwords in URLs are masked."""

    @staticmethod
    def default():
        return {"status": "absent"}

    def command(self, config="/etc/docker/daemon.json", lines=25, answering=True):
        return script("dockerd_state.sh", config, int(lines), "yes" if answering else "no")

    def process(self, output):
        sections = procnet.split_sections([redact_text(line) for line in output])
        rc = "".join(sections.get("validate_rc", [])).strip()
        log = [line for line in sections.get("log", []) if line.strip()]
        result = {
            "status": "ok",
            "cmdline": " ".join(sections.get("cmdline", [])).strip() or None,
            "validate": {"status": "unavailable"} if rc in ("", "unavailable") else {
                "status": "ok" if rc == "0" else "failed", "output": "\n".join(sections.get("validate", []))[-600:]},
        }
        if "log" in sections:
            result["log_source"] = "".join(sections.get("log_source", [])).strip() or None
            result["log"] = log[-25:]
            result["errors"] = [line[-400:] for line in log if _LOG_ERROR.search(line)][-5:]
        return result


class DockerDropins(FactBase):
    """docker.service drop-ins (files/docker_dropins.sh): [{"path", "owned", "environment"}].
    "owned": the deploy wrote it (its header says so); proxy values masked."""

    @staticmethod
    def default():
        return []

    def command(self):
        return script("docker_dropins.sh")

    def process(self, output):
        found = []
        for line in output:
            if line.startswith("##file "):
                found.append({"path": line[7:].strip(), "owned": False, "environment": {}})
            elif line.strip() == "##owned" and found:
                found[-1]["owned"] = True
            elif found and "=" in line:
                _, _, assignment = line.partition("=")
                for item in shlex.split(assignment.strip()) if assignment.strip() else []:
                    key, _, value = item.partition("=")
                    if key.lower().endswith("_proxy"):
                        found[-1]["environment"][key] = redact_url(value)
                    elif key:
                        found[-1]["environment"][key] = "(set)"  # other values may be secrets
        return found


class TcpReach(FactBase):
    """TCP connect to each "host:port" (files/tcp_reach.sh), `seconds` each at most:
    {"host:port": "ok"|"failed"|"timed out"}."""

    @staticmethod
    def default():
        return {}

    def command(self, targets=(), seconds=3):
        return guard("bash", script("tcp_reach.sh", int(seconds), *[quote(t) for t in targets]))

    def process(self, output):
        if is_absent(output):
            return {"status": "absent"}
        result = {}
        for line in output:
            target, _, verdict = line.strip().partition(" ")
            if target:
                result[target] = verdict
        return result
