#!/usr/bin/env python3
"""agent-sandbox: run the coding agent in its sandbox container (installed by sandbox-host).

    agent-sandbox run [DIR] [-- CMD...]   mount DIR (default: cwd) at /workspace, start the agent
    agent-sandbox start [DIR]             start the long-lived sandbox for DIR, detached
    agent-sandbox shell [-- CMD...]       a shell (or CMD) in the started sandbox
    agent-sandbox stop | status | doctor | logs | update

Settings come from /etc/agent-sandbox/config.json (rendered by the deploy; --config or
AGENT_SANDBOX_CONFIG to use another). Credentials come from the host: ANTHROPIC_API_KEY,
CLAUDE_CODE_OAUTH_TOKEN, or a credentials JSON file (--credentials-file, the config's
credentials_file, or ~/.claude/.credentials.json). They reach the container only on the stdin of
`docker exec -i ... agent-credentials install`: never as a container environment variable or a
command-line argument, so neither `docker inspect` nor /proc/*/environ shows them.

Standard library only: it runs on any host with python3.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_CONFIG = "/etc/agent-sandbox/config.json"
CONFIG_ENV = "AGENT_SANDBOX_CONFIG"
SECRET_ENV = ("ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN")
ROLE_LABEL = "org.sandbox-host.role=agent"
GITCONFIG_MOUNT = "/run/agent-sandbox/host-gitconfig"
READY_TIMEOUT = 60.0


class LauncherError(Exception):
    """Something the user must fix; the message says what and how."""


# --- configuration -------------------------------------------------------------------------------


# The configuration's contract with the deploy (roles/launcher/config.py writes the file and checks
# it with check_config before it does). Bump CONFIG_VERSION with any change an older reader would
# misread; the deploy installs this script and its configuration together.
CONFIG_VERSION = 1
CONFIG_SHAPE = {
    "version": int, "image": str, "image_naming": dict, "build_context": str, "container_name": str,
    "network": str, "proxy": dict, "no_proxy": list, "limits": dict, "user": dict, "agent_command": list,
}
IMAGE_NAMING_SHAPE = {"hash_label": str, "tag_prefix": str, "tag_hex_digits": int}


def check_config(cfg, path: str) -> dict:
    """``cfg`` when it is a configuration this launcher reads, else a LauncherError naming why."""
    if not isinstance(cfg, dict):
        raise LauncherError(f"configuration {path} is not a JSON object")
    version = cfg.get("version")
    if type(version) is not int or version != CONFIG_VERSION:
        raise LauncherError(
            f"configuration {path} is version {version!r}, this agent-sandbox reads version {CONFIG_VERSION}:"
            " run the sandbox-host deploy again (it installs the launcher and its configuration together)"
        )
    naming = cfg.get("image_naming")
    wrong = [key for key, kind in CONFIG_SHAPE.items() if not isinstance(cfg.get(key), kind)]
    if isinstance(naming, dict):
        wrong += [f"image_naming.{key}" for key, kind in IMAGE_NAMING_SHAPE.items() if type(naming.get(key)) is not kind]
    if wrong:
        raise LauncherError(f"configuration {path} is missing or has the wrong type of: {', '.join(wrong)}")
    return cfg


def load_config(path: str | None) -> dict:
    path = path or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG
    try:
        loaded = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise LauncherError(f"no configuration at {path}: run the sandbox-host deploy, or pass --config") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise LauncherError(f"cannot read configuration {path}: {exc}") from None
    return check_config(loaded, path)


def content_tag(cfg: dict, digest: str) -> str:
    """The deploy's tag for an image of content hash ``digest`` (roles/images content_tag)."""
    naming = cfg["image_naming"]
    return f"{naming['tag_prefix']}{digest[:naming['tag_hex_digits']]}"


def proxy_url(cfg: dict) -> str:
    return f"http://{cfg['proxy']['ip']}:{cfg['proxy']['port']}"


# --- credentials ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    kind: str  # api-key | oauth-token | credentials-json (agent-credentials' names)
    secret: bytes
    source: str  # where it came from, for messages (never the value)


def find_credentials(cfg: dict, credentials_file: str | None, environ: dict | None = None) -> Credentials | None:
    """The host's credentials, first found: --credentials-file, the env vars, the config's file,
    then ~/.claude/.credentials.json (where `claude login` keeps them on Linux)."""
    environ = os.environ if environ is None else environ
    if credentials_file:
        return _read_credentials_file(credentials_file, "--credentials-file")
    if environ.get("ANTHROPIC_API_KEY", "").strip():
        return Credentials("api-key", environ["ANTHROPIC_API_KEY"].strip().encode(), "$ANTHROPIC_API_KEY")
    if environ.get("CLAUDE_CODE_OAUTH_TOKEN", "").strip():
        return Credentials("oauth-token", environ["CLAUDE_CODE_OAUTH_TOKEN"].strip().encode(), "$CLAUDE_CODE_OAUTH_TOKEN")
    configured = cfg.get("credentials_file")
    if configured:
        return _read_credentials_file(configured, "credentials_file in the configuration")
    default = Path(environ.get("HOME", "~")).expanduser() / ".claude" / ".credentials.json"
    if default.is_file():
        return _read_credentials_file(str(default), "~/.claude/.credentials.json")
    return None


def _read_credentials_file(path: str, source: str) -> Credentials:
    file = Path(path).expanduser()
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise LauncherError(f"cannot read the credentials file {file} ({source}): {exc.strerror}") from None
    try:
        ok = isinstance(json.loads(data).get("claudeAiOauth"), dict)
    except (ValueError, AttributeError):
        ok = False
    if not ok:
        raise LauncherError(f"{file} ({source}) is not a Claude Code credentials file (JSON with claudeAiOauth)")
    return Credentials("credentials-json", data, str(file))


def docker_env(environ: dict | None = None) -> dict:
    """Environment for docker commands: the host's, minus the secrets (defence in depth: nothing
    we run can forward them with a bare `-e NAME`)."""
    environ = dict(os.environ if environ is None else environ)
    for name in SECRET_ENV:
        environ.pop(name, None)
    return environ


# --- docker --------------------------------------------------------------------------------------


class Docker:
    """Thin wrapper over the docker CLI; every command line goes through here (tests record them)."""

    def __init__(self, binary: str = "docker"):
        self.binary = binary

    def run(self, args: list[str], *, input: bytes | None = None, check: bool = True, capture: bool = True,
            timeout: float | None = None) -> subprocess.CompletedProcess:
        try:
            done = subprocess.run(
                [self.binary, *args],
                input=input,
                stdout=subprocess.PIPE if capture else None,
                stderr=subprocess.PIPE if capture else None,
                env=docker_env(),
                timeout=timeout,
            )
        except FileNotFoundError:
            raise LauncherError("the docker command is not installed (or not on PATH)") from None
        if check and done.returncode != 0:
            detail = (done.stderr or b"").decode(errors="replace").strip() if capture else ""
            raise LauncherError(f"docker {args[0]} failed: {detail or f'exit {done.returncode}'}")
        return done

    def out(self, args: list[str], **kwargs) -> str:
        return self.run(args, **kwargs).stdout.decode(errors="replace").strip()

    def interactive(self, args: list[str], stdin=None, extra_env: dict | None = None) -> int:
        """A command attached to this terminal (or reading ``stdin``); returns its exit code."""
        try:
            return subprocess.call([self.binary, *args], env={**docker_env(), **(extra_env or {})}, stdin=stdin)
        except FileNotFoundError:
            raise LauncherError("the docker command is not installed (or not on PATH)") from None

    def ok(self, args: list[str]) -> bool:
        return self.run(args, check=False).returncode == 0


def check_daemon(docker: Docker) -> None:
    done = docker.run(["version", "--format", "{{.Server.Version}}"], check=False, timeout=30)
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip().splitlines()
        raise LauncherError(
            "Docker is not running or not reachable"
            + (f" ({detail[-1]})" if detail else "")
            + ": start it (systemctl start docker) and check you may use it (docker group or root)"
        )


def check_image(docker: Docker, cfg: dict) -> None:
    if not docker.ok(["image", "inspect", cfg["image"]]):
        raise LauncherError(
            f"the agent image {cfg['image']} is missing: run the sandbox-host deploy, or `agent-sandbox update`"
        )


def check_network(docker: Docker, cfg: dict) -> None:
    if not docker.ok(["network", "inspect", cfg["network"]]):
        raise LauncherError(f"the sandbox network {cfg['network']} is missing: run the sandbox-host deploy")


def choose_runtime(docker: Docker, cfg: dict, warn=None) -> str | None:
    """gVisor when configured and registered with Docker; else runc with a warning, or refuse."""
    wanted = cfg.get("runtime")
    if not wanted:
        return None
    runtimes = json.loads(docker.out(["info", "--format", "{{json .Runtimes}}"]) or "{}")
    if wanted in runtimes:
        return wanted
    if cfg.get("require_gvisor"):
        raise LauncherError(
            f"runtime {wanted} is not registered with Docker and require_gvisor is set: "
            "run the sandbox-host deploy (gvisor role) or check `docker info`"
        )
    (warn or _warn)(f"runtime {wanted} is not registered with Docker: the sandbox runs under runc (no gVisor)")
    return None


def _warn(message: str) -> None:
    print(f"agent-sandbox: warning: {message}", file=sys.stderr)


def run_args(cfg: dict, name: str, workspace: Path, gitconfig: Path | None, runtime: str | None,
             ids: tuple[int, int] | None = None) -> list[str]:
    """`docker run` arguments for a sandbox container. No secret ever appears here.

    ``ids``: the UID/GID the image runs as (owner of the home tmpfs); default: the config's."""
    user = cfg["user"]
    home = user["home"]
    uid, gid = ids or (user["uid"], user["gid"])
    limits = cfg["limits"]
    # gVisor's threads count against --pids-limit on the host: it gets its own, larger limit.
    pids = limits.get("pids_gvisor", limits["pids"]) if runtime and runtime == cfg.get("runtime") else limits["pids"]
    proxy = proxy_url(cfg)
    no_proxy = ",".join(cfg.get("no_proxy", ["localhost", "127.0.0.1"]))
    args = [
        "run", "--detach", "--name", name, "--init",
        "--label", ROLE_LABEL,
        "--label", f"org.sandbox-host.workspace={workspace}",
        "--network", cfg["network"],
        "--cap-drop", "ALL",
        "--security-opt", "no-new-privileges",
        "--pids-limit", str(pids),
        "--memory", limits["memory"],
        "--memory-swap", limits["memory"],
        "--cpus", str(limits["cpus"]),
    ]
    if runtime:
        args += ["--runtime", runtime]
    if cfg.get("read_only_root", True):
        size = cfg.get("tmpfs_size", "1g")
        args += [
            "--read-only",
            "--tmpfs", f"/tmp:rw,nosuid,nodev,size={size}",
            "--tmpfs", f"{home}:rw,nosuid,nodev,size={size},uid={uid},gid={gid},mode=0700",
        ]
    if cfg.get("disable_ipv6", True):
        for iface in ("all", "default", "lo"):
            args += ["--sysctl", f"net.ipv6.conf.{iface}.disable_ipv6=1"]
    for server in cfg.get("dns_servers", []):
        args += ["--dns", server]
    for var in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        args += ["--env", f"{var}={proxy}"]
    for var in ("NO_PROXY", "no_proxy"):
        args += ["--env", f"{var}={no_proxy}"]
    args += [
        "--volume", f"{cfg['state_volume']}:{home}/.claude",
        "--mount", bind_mount(workspace, "/workspace"),
    ]
    if gitconfig:
        args += ["--mount", bind_mount(gitconfig, GITCONFIG_MOUNT, readonly=True)]
    args.append(cfg["image"])
    return args


def bind_mount(source: Path, target: str, readonly: bool = False) -> str:
    """A --mount value; --mount is CSV, so a path with a comma or quote is quoted (a folder
    called "a,b" must not turn into two options)."""
    fields = ["type=bind", f"source={source}", f"target={target}"] + (["readonly"] if readonly else [])
    quoted = ['"' + f.replace('"', '""') + '"' if ("," in f or '"' in f) else f for f in fields]
    return ",".join(quoted)


def image_ids(docker: Docker, cfg: dict) -> tuple[int, int] | None:
    """UID/GID from the image's USER ("uid:gid"): the image, not the config, decides who owns the
    home tmpfs, so an image rebuilt for another user still starts."""
    user = docker.out(["image", "inspect", "--format", "{{.Config.User}}", cfg["image"]], check=False)
    parts = user.split(":")
    if len(parts) == 2 and all(part.isdigit() for part in parts):
        return int(parts[0]), int(parts[1])
    return None


def host_gitconfig(cfg: dict) -> Path | None:
    path = Path(cfg.get("gitconfig") or "~/.gitconfig").expanduser()
    return path.resolve() if path.is_file() else None


def wait_ready(docker: Docker, name: str, timeout: float = READY_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if docker.ok(["exec", name, "agent-ready"]):
            return
        state = docker.out(["inspect", "--format", "{{.State.Status}}", name], check=False)
        if state not in ("running", "created"):
            logs = docker.run(["logs", "--tail", "20", name], check=False)
            detail = (logs.stdout + logs.stderr).decode(errors="replace").strip()
            raise LauncherError(f"the sandbox {name} stopped while starting ({state}):\n{detail}")
        if time.monotonic() > deadline:
            raise LauncherError(f"the sandbox {name} was not ready after {timeout:.0f}s (docker logs {name})")
        time.sleep(0.1)


def install_credentials(docker: Docker, name: str, creds: Credentials | None, fresh: bool) -> str:
    """Hand the credentials over on stdin; fail clearly when there are none anywhere."""
    if creds is None and fresh:
        raise LauncherError("--fresh-creds, but the host has no credentials to put in: set ANTHROPIC_API_KEY or "
                            "CLAUDE_CODE_OAUTH_TOKEN, or pass --credentials-file PATH")
    if creds is None:
        present = docker.run(["exec", name, "agent-credentials", "status"], check=False)
        if present.returncode == 0:
            return f"using the {present.stdout.decode().strip()} credentials in the state volume"
        raise LauncherError(
            "no credentials: set ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN (from `claude setup-token`), "
            "or pass --credentials-file PATH (a .credentials.json from `claude login`)"
        )
    command = ["exec", "--interactive", name, "agent-credentials", "install", creds.kind]
    if fresh:
        command.append("--force")
    done = docker.run(command, input=creds.secret, check=False)
    if done.returncode != 0:
        raise LauncherError(f"installing the credentials from {creds.source} failed: {done.stderr.decode().strip()}")
    return f"{done.stdout.decode().strip()} (from {creds.source})"


def start_sandbox(docker: Docker, cfg: dict, name: str, workspace: Path, creds: Credentials | None,
                  fresh: bool, say=print) -> None:
    """Create the container, wait for its entrypoint, install credentials; remove it on failure."""
    runtime = choose_runtime(docker, cfg)
    docker.run(run_args(cfg, name, workspace, host_gitconfig(cfg), runtime, image_ids(docker, cfg)))
    try:
        wait_ready(docker, name)
        say(install_credentials(docker, name, creds, fresh))
    except BaseException:
        docker.run(["rm", "--force", name], check=False)
        raise


def preflight(docker: Docker, cfg: dict) -> None:
    check_daemon(docker)
    check_image(docker, cfg)
    check_network(docker, cfg)
    proxy = cfg["proxy"].get("container")
    if proxy and not running(docker, proxy):
        # Not fatal (the sandbox itself starts), but the agent cannot reach its API without it.
        _warn(f"the egress proxy {proxy} is not running: the agent cannot reach anything "
              "(re-run the sandbox-host deploy, or docker start it)")


def workspace_dir(value: str | None) -> Path:
    path = Path(value or os.getcwd()).expanduser().resolve()
    if not path.is_dir():
        raise LauncherError(f"{path} is not a directory")
    return path


def running(docker: Docker, name: str) -> bool:
    return docker.out(["inspect", "--format", "{{.State.Running}}", name], check=False) == "true"


def tty_flags() -> list[str]:
    return ["--interactive", "--tty"] if sys.stdin.isatty() and sys.stdout.isatty() else ["--interactive"]


# --- image build (update / --rebuild) --------------------------------------------------------------


PROXY_BUILD_ARGS = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")


def build_proxy(path: str | None) -> dict[str, str]:
    """The proxy variables of the deploy's build-proxy file (KEY='value' lines, shell-quoted).
    Empty when there is none; a file this user cannot read is named (it is root-only)."""
    if not path or not Path(path).exists():
        return {}
    try:
        text = Path(path).read_text()
    except PermissionError:
        print(f"cannot read {path} (root only): the build runs without the host's proxy; run as root",
              file=sys.stderr)
        return {}
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key in PROXY_BUILD_ARGS:
            values[key] = shlex.split(value)[0] if value else ""
    return values


def rebuild(docker: Docker, cfg: dict) -> None:
    """Rebuild the agent image from the context the deploy left on the host (a tar), without
    cache: the pinned agent and Node are fetched again and Debian's packages are current. The
    image keeps its content tag, so the next deploy sees it as current and leaves it."""
    context = Path(cfg["build_context"])
    if not context.is_file():
        raise LauncherError(f"no build context at {context}: run the sandbox-host deploy")
    repo = cfg["image"].rsplit(":", 1)[0]
    label = cfg["image_naming"]["hash_label"]
    digest = docker.out(["image", "inspect", "--format", f'{{{{index .Config.Labels "{label}"}}}}', cfg["image"]],
                        check=False)
    tags = ["--tag", cfg["image"]]
    if digest and digest != "<no value>":
        tags += ["--tag", f"{repo}:{content_tag(cfg, digest)}", "--label", f"{label}={digest}"]
    # Docker's predefined proxy args, valued from the environment (`--build-arg NAME`): RUN steps
    # see them, the image's history does not, and they are on no command line.
    proxy = build_proxy(cfg.get("build_proxy_env"))
    proxy_args = [arg for key in sorted(proxy) for arg in ("--build-arg", key)]
    print(f"rebuilding {cfg['image']} from {context} (no cache)", file=sys.stderr)
    with context.open("rb") as tar:
        status = docker.interactive(["build", "--no-cache", "--force-rm", *tags, *proxy_args, "-"], stdin=tar,
                                    extra_env=proxy)
    if status != 0:
        raise LauncherError(f"the image build failed (exit {status})")


# --- doctor --------------------------------------------------------------------------------------


@dataclass
class Finding:
    check: str
    result: str  # pass | fail | warn
    evidence: str
    fix: str = ""


def _probe(docker: Docker, name: str, url: str, timeout: int, direct: bool = False) -> dict:
    """curl from inside the sandbox; returns exit code, HTTP status, CONNECT status, squid error."""
    curl = ["curl", "--silent", "--show-error", "--output", "/dev/null", "--dump-header", "-",
            "--max-time", str(timeout), "--write-out", r"\n__status=%{http_code} %{http_connect}\n"]
    if direct:
        curl += ["--noproxy", "*"]
    done = docker.run(["exec", name, *curl, url], check=False, timeout=timeout + 30)
    text = done.stdout.decode(errors="replace")
    status, connect = "000", "000"
    for line in text.splitlines():
        if line.startswith("__status="):
            status, connect = (line.split("=", 1)[1].split() + ["000"])[:2]
    squid_denied = "x-squid-error: err_access_denied" in text.lower()
    return {"exit": done.returncode, "status": status, "connect": connect, "squid_denied": squid_denied,
            "stderr": done.stderr.decode(errors="replace").strip()}


def _denied_by_proxy(probe: dict) -> bool:
    return probe["connect"] in ("403", "407") or probe["squid_denied"] or (
        probe["exit"] == 56 and "403" in probe["stderr"])


def _describe(probe: dict) -> str:
    if probe["exit"] == 0:
        return f"HTTP {probe['status']}"
    return f"curl exit {probe['exit']}: {probe['stderr'] or 'no response'}"


# What connecting to ::1 says when IPv6 is off in the sandbox's network stack.
_IPV6_OFF_ERRORS = ("cannot assign requested address", "network is unreachable", "address family not supported")


def ipv6_finding(docker: Docker, name: str) -> Finding:
    """IPv6 off: from the sysctl under runc; under gVisor, whose /proc/sys has no net.ipv6 (runsc
    accepts --sysctl and ignores it), from what a connection to ::1 answers."""
    value = docker.out(["exec", name, "cat", "/proc/sys/net/ipv6/conf/all/disable_ipv6"], check=False)
    if value in ("0", "1"):
        ok = value == "1"
        return Finding("ipv6_disabled", "pass" if ok else "fail", f"net.ipv6.conf.all.disable_ipv6={value}",
                       "" if ok else "start the sandbox with disable_ipv6 (Node may hang on AAAA records)")
    probe = docker.run(["exec", name, "bash", "-c", "timeout 3 bash -c 'exec 3<>/dev/tcp/::1/1'"], check=False)
    answer = probe.stderr.decode(errors="replace").strip().rsplit(":", 1)[-1].strip()
    ok = answer.lower() in _IPV6_OFF_ERRORS
    return Finding("ipv6_disabled", "pass" if ok else "fail", f"no net.ipv6 sysctl; connect to [::1]: {answer or 'accepted'}",
                   "" if ok else "IPv6 works in the sandbox: disable it on the host or in the runtime's network namespace")


def doctor_checks(docker: Docker, cfg: dict, name: str, targets: dict) -> list[Finding]:
    timeout = int(targets.get("timeout", 10))
    findings = []

    findings.append(ipv6_finding(docker, name))

    ip, port = cfg["proxy"]["ip"], cfg["proxy"]["port"]
    reach = docker.run(["exec", name, "bash", "-c", f"timeout {timeout} bash -c '</dev/tcp/{ip}/{port}'"], check=False)
    findings.append(Finding(
        "proxy_reachable", "pass" if reach.returncode == 0 else "fail", f"tcp {ip}:{port} "
        + ("connected" if reach.returncode == 0 else "refused or timed out"),
        "" if reach.returncode == 0 else f"start the egress proxy ({cfg['proxy'].get('container')}) and check the sandbox network"))

    allowed = _probe(docker, name, targets["allowed_url"], timeout)
    allowed_ok = allowed["exit"] == 0 and not _denied_by_proxy(allowed)
    findings.append(Finding(
        "allowed_via_proxy", "pass" if allowed_ok else "fail", f"{targets['allowed_url']}: {_describe(allowed)}",
        "" if allowed_ok else "add the host to the proxy allowlist, or check the proxy's own way out"))

    denied = _probe(docker, name, targets["denied_url"], timeout)
    if _denied_by_proxy(denied):
        findings.append(Finding("denied_refused", "pass", f"{targets['denied_url']}: refused by the proxy"))
    elif denied["exit"] == 0:
        findings.append(Finding("denied_refused", "fail", f"{targets['denied_url']}: reached, {_describe(denied)}",
                                "the proxy lets a host through that is not on the allowlist"))
    else:
        findings.append(Finding("denied_refused", "warn", f"{targets['denied_url']}: {_describe(denied)}",
                                "failed, but not by a proxy refusal: check the proxy logs"))

    direct_url = targets.get("direct_url") or targets["allowed_url"]
    direct = _probe(docker, name, direct_url, min(timeout, 5), direct=True)
    evidence = f"{direct_url} without the proxy: {_describe(direct)}"
    if direct["exit"] in (6, 28) and "resolv" in direct["stderr"].lower():
        evidence += " (stopped at DNS; set doctor.direct_url to an IP URL to test the network path)"
    findings.append(Finding(
        "direct_blocked", "pass" if direct["exit"] != 0 else "fail", evidence,
        "" if direct["exit"] != 0 else "the sandbox reaches out without the proxy: check the internal network and firewall"))

    dns_name = targets.get("dns_name")
    if dns_name:
        resolved = docker.run(["exec", name, "getent", "hosts", dns_name], check=False, timeout=timeout + 30)
        if resolved.returncode == 0:
            answer = resolved.stdout.decode().split()[0] if resolved.stdout.split() else "?"
            findings.append(Finding("dns_contained", "warn", f"{dns_name} resolves to {answer} inside the sandbox",
                                    "names resolve in the sandbox: DNS is a way out unless its resolver is filtered"))
        else:
            findings.append(Finding("dns_contained", "pass", f"{dns_name} does not resolve inside the sandbox "
                                    "(the proxy resolves names)"))

    uid = docker.out(["exec", name, "id", "-u"], check=False)
    findings.append(Finding("non_root", "pass" if uid not in ("0", "") else "fail", f"uid {uid or '?'}",
                            "" if uid not in ("0", "") else "the agent runs as root: rebuild the image"))
    sock = docker.run(["exec", name, "bash", "-c",
                       "for s in /var/run/docker.sock /run/docker.sock; do test -S $s && echo $s; done; true"],
                      check=False).stdout.decode().strip()
    findings.append(Finding("no_docker_socket", "fail" if sock else "pass", sock or "no Docker socket inside",
                            "remove the Docker socket mount" if sock else ""))
    runtime = docker.out(["inspect", "--format", "{{.HostConfig.Runtime}}", name], check=False)
    findings.append(Finding("gvisor", "pass" if runtime == cfg.get("runtime") and runtime else "warn",
                            f"runtime {runtime or '?'}",
                            "" if runtime == cfg.get("runtime") and runtime else "runs under runc: install/register gVisor"))
    return findings


def print_findings(findings: list[Finding], as_json: bool) -> None:
    if as_json:
        print(json.dumps([f.__dict__ for f in findings], indent=2))
        return
    width = max(len(f.check) for f in findings)
    for f in findings:
        print(f"{f.check:<{width}}  {f.result.upper():<4}  {f.evidence}")
        if f.fix and f.result != "pass":
            print(f"{'':<{width}}        fix: {f.fix}")


# --- proxy logs ----------------------------------------------------------------------------------


def decision_matches(value: str, wanted: str) -> bool:
    """`denied` matches Squid's TCP_DENIED (and a plain "denied"); `allowed` is a request that
    was let through (not denied, and not NONE_*: a connection that closed before any request);
    anything else is a case-insensitive substring (e.g. TCP_TUNNEL)."""
    value, wanted = str(value).lower(), wanted.lower()
    if wanted == "allowed":
        return "denied" not in value and not value.startswith("none")
    return wanted in value


def filter_log_lines(lines, decision: str | None, field: str = "decision"):
    """Yield the proxy's JSON log records (dicts), optionally only those with this decision."""
    for line in lines:
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if decision is None or decision_matches(record.get(field, ""), decision):
            yield record


# --- commands ------------------------------------------------------------------------------------


def cmd_run(args, cfg, docker: Docker) -> int:
    preflight(docker, cfg)
    workspace = workspace_dir(args.dir)
    creds = find_credentials(cfg, args.credentials_file)
    if args.rebuild:
        rebuild(docker, cfg)
    name = f"{cfg['container_name']}-run-{os.getpid()}"
    start_sandbox(docker, cfg, name, workspace, creds, args.fresh_creds, say=lambda m: print(m, file=sys.stderr))
    try:
        command = args.command or cfg.get("agent_command", ["claude"])
        return docker.interactive(["exec", *tty_flags(), "--workdir", "/workspace", name, *command])
    finally:
        docker.run(["rm", "--force", name], check=False)


def cmd_start(args, cfg, docker: Docker) -> int:
    preflight(docker, cfg)
    name = cfg["container_name"]
    if running(docker, name):
        print(f"the sandbox {name} is already running (agent-sandbox stop, then start again to change it)")
        return 0
    docker.run(["rm", "--force", name], check=False)  # a stopped leftover holds the name
    workspace = workspace_dir(args.dir)
    creds = find_credentials(cfg, args.credentials_file)
    if args.rebuild:
        rebuild(docker, cfg)
    start_sandbox(docker, cfg, name, workspace, creds, args.fresh_creds)
    print(f"sandbox {name} ready: {workspace} at /workspace (agent-sandbox shell)")
    return 0


def cmd_stop(args, cfg, docker: Docker) -> int:
    check_daemon(docker)
    name = cfg["container_name"]
    if docker.run(["rm", "--force", name], check=False).returncode == 0:
        print(f"stopped {name}")
    else:
        print(f"{name} was not running")
    return 0


def cmd_shell(args, cfg, docker: Docker) -> int:
    check_daemon(docker)
    name = cfg["container_name"]
    if not running(docker, name):
        raise LauncherError(f"the sandbox {name} is not running: agent-sandbox start [DIR]")
    return docker.interactive(["exec", *tty_flags(), "--workdir", "/workspace", name, *(args.command or ["bash", "-l"])])


def cmd_status(args, cfg, docker: Docker) -> int:
    check_daemon(docker)
    name = cfg["container_name"]
    info = {"container": name, "running": running(docker, name), "image": cfg["image"]}
    if info["running"]:
        fmt = '{{.Config.Image}}|{{.Image}}|{{.HostConfig.Runtime}}|{{.State.StartedAt}}|' \
              '{{index .Config.Labels "org.sandbox-host.workspace"}}'
        image, image_id, runtime, started, workspace = docker.out(["inspect", "--format", fmt, name]).split("|")
        current = docker.out(["image", "inspect", "--format", "{{.Id}}", cfg["image"]], check=False)
        creds = docker.run(["exec", name, "agent-credentials", "status"], check=False)
        info.update(runtime=runtime, started=started, workspace=workspace, image_current=image_id == current,
                    credentials=creds.stdout.decode().strip() if creds.returncode == 0 else None)
    proxy = cfg["proxy"].get("container")
    if proxy:
        info["proxy_running"] = running(docker, proxy)
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        for key, value in info.items():
            print(f"{key:<14} {value}")
        if info["running"] and not info["image_current"]:
            print("the image was updated since this sandbox started: stop and start it to use the new one")
    return 0 if info["running"] else 3


def cmd_logs(args, cfg, docker: Docker) -> int:
    check_daemon(docker)
    proxy = cfg["proxy"].get("container")
    if not proxy:
        raise LauncherError("the configuration names no proxy container")
    command = [docker.binary, "logs", *(["--follow"] if args.follow else []),
               *(["--since", args.since] if args.since else []), proxy]
    field = cfg.get("proxy_log", {}).get("decision_field", "decision")
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          env=docker_env()) as proc:
        try:
            for record in filter_log_lines(proc.stdout, args.decision, field):
                print(json.dumps(record) if args.json else " ".join(f"{k}={v}" for k, v in record.items()), flush=True)
        except KeyboardInterrupt:
            proc.terminate()
    if proc.returncode not in (0, -15):
        raise LauncherError(f"docker logs {proxy} failed: is the proxy container there?")
    return 0


def cmd_update(args, cfg, docker: Docker) -> int:
    check_daemon(docker)
    rebuild(docker, cfg)
    if running(docker, cfg["container_name"]):
        print("the running sandbox still uses the previous image: agent-sandbox stop && agent-sandbox start")
    return 0


def cmd_doctor(args, cfg, docker: Docker) -> int:
    check_daemon(docker)
    name = args.container or cfg["container_name"]
    if not running(docker, name):
        raise LauncherError(f"the sandbox {name} is not running: agent-sandbox start [DIR] first")
    targets = dict(cfg.get("doctor", {}))
    for key in ("allowed_url", "denied_url", "direct_url", "dns_name"):
        if getattr(args, key):
            targets[key] = getattr(args, key)
    for key in ("allowed_url", "denied_url"):
        if not urlsplit(targets.get(key, "")).hostname:
            raise LauncherError(f"doctor: {key} must be a URL (configuration doctor.{key} or --{key.replace('_', '-')})")
    findings = doctor_checks(docker, cfg, name, targets)
    print_findings(findings, args.json)
    return 1 if any(f.result == "fail" for f in findings) else 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="agent-sandbox", description=__doc__.split("\n\n")[0])
    top.add_argument("--config", help=f"configuration file (default ${CONFIG_ENV} or {DEFAULT_CONFIG})")
    sub = top.add_subparsers(dest="cmd", required=True, metavar="COMMAND")

    launching = argparse.ArgumentParser(add_help=False)
    launching.add_argument("--rebuild", action="store_true", help="rebuild the image (no cache) first")
    launching.add_argument("--fresh-creds", action="store_true",
                           help="replace the credentials in the state volume with the host's")
    launching.add_argument("--credentials-file", help="a Claude Code .credentials.json to use")

    run = sub.add_parser("run", parents=[launching], help="run the agent (or -- CMD) with DIR at /workspace")
    run.add_argument("dir", nargs="?", help="project directory (default: current directory)")
    start = sub.add_parser("start", parents=[launching], help="start the long-lived sandbox for DIR")
    start.add_argument("dir", nargs="?")
    sub.add_parser("stop", help="stop and remove the long-lived sandbox")
    status = sub.add_parser("status", help="the sandbox, its image and the proxy")
    status.add_argument("--json", action="store_true")
    sub.add_parser("shell", help="a shell (or -- CMD) in the running sandbox")
    logs = sub.add_parser("logs", help="the egress proxy's decisions (JSON lines)")
    logs.add_argument("--decision", help="only records with this decision (e.g. allowed, denied)")
    logs.add_argument("--follow", "-f", action="store_true")
    logs.add_argument("--since", help="e.g. 10m, 2h (docker logs --since)")
    logs.add_argument("--json", action="store_true", help="print the records as JSON lines")
    sub.add_parser("update", help="rebuild the agent image (pinned versions, fresh packages)")
    doctor = sub.add_parser("doctor", help="check the running sandbox's isolation; pass/fail table")
    doctor.add_argument("--container", help="sandbox container (default: the configured one)")
    doctor.add_argument("--allowed-url", dest="allowed_url", help="a URL the proxy must let through")
    doctor.add_argument("--denied-url", dest="denied_url", help="a URL the proxy must refuse")
    doctor.add_argument("--direct-url", dest="direct_url", help="a URL unreachable without the proxy (default: allowed URL)")
    doctor.add_argument("--dns-name", dest="dns_name", help="a name that must not resolve in the sandbox")
    doctor.add_argument("--json", action="store_true")
    return top


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Everything after the first `--` is the command to run in the sandbox (run, shell)."""
    argv = list(argv)
    command = []
    if "--" in argv:
        cut = argv.index("--")
        argv, command = argv[:cut], argv[cut + 1 :]
    args = parser().parse_args(argv)
    if command and args.cmd not in ("run", "shell"):
        parser().error(f"{args.cmd} takes no command after --")
    args.command = command
    return args


COMMANDS = {"run": cmd_run, "start": cmd_start, "stop": cmd_stop, "status": cmd_status, "shell": cmd_shell,
            "logs": cmd_logs, "update": cmd_update, "doctor": cmd_doctor}


def main(argv: list[str] | None = None, docker: Docker | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        cfg = load_config(args.config)
        return COMMANDS[args.cmd](args, cfg, docker or Docker(shutil.which("docker") or "docker"))
    except LauncherError as exc:
        print(f"agent-sandbox: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
