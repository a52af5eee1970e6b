#!/usr/bin/env python3
"""agent-sandbox: run the coding agent in its sandbox container (installed by sandbox-host).

    agent-sandbox run [DIR] [-- CMD...]   mount DIR (default: cwd) at /workspace, start the agent
    agent-sandbox start [DIR]             start the long-lived sandbox for DIR, detached
    agent-sandbox shell [-- CMD...]       a shell (or CMD) in the started sandbox
    agent-sandbox stop | status | doctor | logs | update

Settings come from /etc/agent-sandbox/config.json (rendered by the deploy; --config or
AGENT_SANDBOX_CONFIG to use another). Each host user has their own sandbox and state volume
(<name>-<uid>) and the sandbox runs as them. Credentials come from the host: --credentials-file,
ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN (explicit: they replace the stored ones), else the
config's credentials_file, ~/.claude/.credentials.json or, on macOS, the keychain entry
"Claude Code-credentials" (copied only into an empty volume). They reach the container only on the stdin of
`docker exec -i ... agent-credentials install`: never as a container environment variable or a
command-line argument, so neither `docker inspect` nor /proc/*/environ shows them.

Standard library only: it runs on any host with python3.
"""

from __future__ import annotations

import argparse
import hashlib
import ipaddress
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_CONFIG = "/etc/agent-sandbox/config.json"
CONFIG_ENV = "AGENT_SANDBOX_CONFIG"
SECRET_ENV = ("ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN")
ROLE_LABEL = "org.sandbox-host.role=agent"
OWNER_LABEL = "org.sandbox-host.owner-uid"
GITCONFIG_MOUNT = "/run/agent-sandbox/host-gitconfig"
READY_TIMEOUT = 60.0
DNS_TIMEOUT = 3  # seconds doctor waits for a name inside the sandbox
# glibc's resolver inside the sandbox, for doctor's lookups: one try of 1 s per server instead of
# 5 s and 2 tries (getent waited 20 s with DNS blocked).
RESOLVER_OPTIONS = "RES_OPTIONS=timeout:1 attempts:1"


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
    # Set on purpose for this run (--credentials-file, an environment variable): replaces what the
    # state volume holds, so a rotated key is never ignored because an older one is stored. Found
    # implicitly (a file, the keychain): copied only into an empty volume, because Claude Code
    # refreshes OAuth tokens there and a stale host copy must not overwrite them (--fresh-creds does).
    explicit: bool = False


KEYCHAIN_SERVICE = "Claude Code-credentials"


def find_credentials(cfg: dict, credentials_file: str | None, environ: dict | None = None,
                     platform: str | None = None, keychain=None) -> Credentials | None:
    """The host's credentials, first found: --credentials-file, $ANTHROPIC_API_KEY,
    $CLAUDE_CODE_OAUTH_TOKEN (explicit), then the config's file, ~/.claude/.credentials.json (where
    `claude login` keeps them on Linux), and on macOS the keychain entry Claude Code-credentials."""
    environ = os.environ if environ is None else environ
    if credentials_file:
        return _read_credentials_file(credentials_file, "--credentials-file", explicit=True)
    if environ.get("ANTHROPIC_API_KEY", "").strip():
        return Credentials("api-key", environ["ANTHROPIC_API_KEY"].strip().encode(), "$ANTHROPIC_API_KEY", True)
    if environ.get("CLAUDE_CODE_OAUTH_TOKEN", "").strip():
        return Credentials("oauth-token", environ["CLAUDE_CODE_OAUTH_TOKEN"].strip().encode(),
                           "$CLAUDE_CODE_OAUTH_TOKEN", True)
    configured = cfg.get("credentials_file")
    if configured:
        return _read_credentials_file(configured, "credentials_file in the configuration")
    default = Path(environ.get("HOME", "~")).expanduser() / ".claude" / ".credentials.json"
    if default.is_file():
        return _read_credentials_file(str(default), "~/.claude/.credentials.json")
    if (platform or sys.platform) == "darwin":
        return keychain_credentials(keychain or _security)
    return None


def _security(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(["security", *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def keychain_credentials(security) -> Credentials | None:
    """macOS: the OAuth credentials `claude login` keeps in the login keychain (not a file). The
    value goes from `security`'s stdout to the container's stdin, never to an environment."""
    try:
        done = security(["find-generic-password", "-s", KEYCHAIN_SERVICE, "-w"])
    except FileNotFoundError:
        return None
    if done.returncode != 0 or not done.stdout.strip():
        return None
    secret = done.stdout.strip()
    if not _is_credentials_json(secret):
        raise LauncherError(f"the keychain entry {KEYCHAIN_SERVICE!r} is not Claude Code credentials "
                            "(JSON with claudeAiOauth): run `claude login` again")
    return Credentials("credentials-json", secret, f"the macOS keychain ({KEYCHAIN_SERVICE})")


def _is_credentials_json(data: bytes) -> bool:
    try:
        return isinstance(json.loads(data).get("claudeAiOauth"), dict)
    except (ValueError, AttributeError):
        return False


def _read_credentials_file(path: str, source: str, explicit: bool = False) -> Credentials:
    file = Path(path).expanduser()
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise LauncherError(f"cannot read the credentials file {file} ({source}): {exc.strerror}") from None
    if not _is_credentials_json(data):
        raise LauncherError(f"{file} ({source}) is not a Claude Code credentials file (JSON with claudeAiOauth)")
    return Credentials("credentials-json", data, str(file), explicit)


def docker_env(environ: dict | None = None) -> dict:
    """Environment for docker commands: the host's, minus the secrets (defence in depth: nothing
    we run can forward them with a bare `-e NAME`)."""
    environ = dict(os.environ if environ is None else environ)
    for name in SECRET_ENV:
        environ.pop(name, None)
    return environ


# --- whose sandbox --------------------------------------------------------------------------------


def host_ids() -> tuple[int, int]:
    """UID/GID of the user running agent-sandbox (tests replace this)."""
    return os.getuid(), os.getgid()


def user_names(cfg: dict) -> tuple[str, str]:
    """(long-lived container, state volume) of the invoking user. Every user has their own, so one
    user's sandbox never mounts another's credentials or history. root keeps the configured names
    (what servers and CI runners have always used)."""
    uid = host_ids()[0]
    if uid == 0:
        return cfg["container_name"], cfg["state_volume"]
    return f"{cfg['container_name']}-{uid}", f"{cfg['state_volume']}-{uid}"


def run_ids(cfg: dict, image: tuple[int, int] | None) -> tuple[int, int, bool]:
    """(uid, gid, foreign) the sandbox runs as: the invoking user's, so what the agent writes in
    /workspace is theirs; root runs it as the image's user (the agent never runs as root).
    foreign: the image was built for another UID/GID, so the sandbox needs its own account entry."""
    built = image or (cfg["user"]["uid"], cfg["user"]["gid"])
    uid, gid = host_ids()
    if uid == 0:
        return built[0], built[1], False
    return uid, gid, (uid, gid) != tuple(built)


def account_files(cfg: dict, uid: int, gid: int, environ: dict | None = None) -> Path:
    """/etc/passwd and /etc/group for a user the image was not built for (tools such as Node's
    os.userInfo() fail for a UID without an entry); kept in the user's own cache folder."""
    environ = os.environ if environ is None else environ
    cache = Path(environ.get("XDG_CACHE_HOME") or Path(environ.get("HOME", "~")).expanduser() / ".cache")
    folder = cache / "agent-sandbox" / f"account-{uid}-{gid}"
    folder.mkdir(parents=True, exist_ok=True)
    user = cfg["user"]
    (folder / "passwd").write_text(f"root:x:0:0:root:/root:/bin/bash\n"
                                   f"{user['name']}:x:{uid}:{gid}::{user['home']}:/bin/bash\n")
    (folder / "group").write_text(f"root:x:0:\n{user['name']}:x:{gid}:\n")
    return folder


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


RUNTIME_CHECK_SCHEMA = "sandbox-host.runtime-check/1"


def runtime_check(cfg: dict, wanted: str) -> dict | None:
    """The deploy's record of whether ``wanted`` does what agents do (roles/gvisor/runtime_check.py,
    gvisor.runtime_check_file); None when there is none, it is for another runtime, or unreadable."""
    path = cfg.get("runtime_check")
    if not path:
        return None
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        _warn(f"cannot read the runtime check {path} ({exc}): it is ignored")
        return None
    if (not isinstance(data, dict) or data.get("schema") != RUNTIME_CHECK_SCHEMA or not isinstance(data.get("ok"), bool)
            or not isinstance(data.get("failed", {}), dict)):
        _warn(f"{path} is not a {RUNTIME_CHECK_SCHEMA} file: it is ignored")
        return None
    return data if data.get("runtime") == wanted else None


def choose_runtime(docker: Docker, cfg: dict, warn=None) -> str | None:
    """gVisor when configured, registered with Docker and not recorded as failing what agents do
    (ls -la, stat, git status...); else runc with a warning, or refuse with require_gvisor."""
    wanted = cfg.get("runtime")
    if not wanted:
        return None
    runtimes = json.loads(docker.out(["info", "--format", "{{json .Runtimes}}"]) or "{}")
    if wanted not in runtimes:
        problem = f"runtime {wanted} is not registered with Docker"
        fix = "run the sandbox-host deploy (gvisor role) or check `docker info`"
    else:
        check = runtime_check(cfg, wanted)
        if not check or check["ok"]:
            return wanted
        failed = "; ".join(f"{op}: {why}" for op, why in check.get("failed", {}).items()) or check.get("error") or "?"
        problem = f"runtime {wanted} fails operations agents need ({failed}; recorded in {cfg['runtime_check']})"
        fix = "install a runsc that passes the deploy's runtime check (gvisor.source), then run the deploy again"
    if cfg.get("require_gvisor"):
        raise LauncherError(f"{problem} and require_gvisor is set: {fix}")
    (warn or _warn)(f"{problem}: the sandbox runs under runc (no gVisor)")
    return None


def _warn(message: str) -> None:
    print(f"agent-sandbox: warning: {message}", file=sys.stderr)


def run_args(cfg: dict, name: str, workspace: Path, gitconfig: Path | None, runtime: str | None,
             ids: tuple[int, int] | None = None, volume: str | None = None,
             accounts: Path | None = None) -> list[str]:
    """`docker run` arguments for a sandbox container. No secret ever appears here.

    ``ids``: the UID/GID the sandbox runs as (owner of the home tmpfs); default: the config's.
    ``volume``: the invoking user's state volume; ``accounts``: account_files() for a UID the
    image was not built for."""
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
        "--user", f"{uid}:{gid}",
        "--label", ROLE_LABEL,
        "--label", f"{OWNER_LABEL}={host_ids()[0]}",
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
        # volume-nocopy: Docker would otherwise copy the image's folder into an empty volume and
        # give it the image's owner; ensure_state_volume() made it the user's already.
        "--mount", f"type=volume,source={volume or cfg['state_volume']},target={home}/.claude,volume-nocopy",
        "--mount", bind_mount(workspace, "/workspace"),
    ]
    if accounts:
        args += ["--mount", bind_mount(accounts / "passwd", "/etc/passwd", readonly=True),
                 "--mount", bind_mount(accounts / "group", "/etc/group", readonly=True)]
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
    """Hand the credentials over on stdin; say in one sentence which source is used and whether
    it replaced the stored one. Fail clearly when there are none anywhere."""
    if creds is None and fresh:
        raise LauncherError("--fresh-creds, but the host has no credentials to put in: set ANTHROPIC_API_KEY or "
                            "CLAUDE_CODE_OAUTH_TOKEN, or pass --credentials-file PATH")
    if creds is None:
        present = docker.run(["exec", name, "agent-credentials", "status"], check=False)
        if present.returncode == 0:
            return (f"credentials: using the {present.stdout.decode().strip()} credentials in the state volume "
                    "(none set on the host).")
        raise LauncherError(
            "no credentials: set ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN (from `claude setup-token`), "
            "or pass --credentials-file PATH (a .credentials.json from `claude login`)"
        )
    command = ["exec", "--interactive", name, "agent-credentials", "install", creds.kind]
    if fresh or creds.explicit:
        command.append("--force")
    done = docker.run(command, input=creds.secret, check=False)
    if done.returncode != 0:
        raise LauncherError(f"installing the credentials from {creds.source} failed: {done.stderr.decode().strip()}")
    return credentials_sentence(creds, done.stdout.decode().split())


def credentials_sentence(creds: Credentials, outcome: list[str]) -> str:
    """agent-credentials' answer (installed KIND | replaced KIND OLD | unchanged KIND | kept OLD)
    as one sentence for the user."""
    action, kinds = (outcome[0], outcome[1:]) if outcome else ("?", [])
    if action == "installed":
        return f"credentials: using the {creds.kind} from {creds.source}, stored in the state volume (it had none)."
    if action == "replaced" and len(kinds) == 2:
        return f"credentials: using the {creds.kind} from {creds.source}; it replaced the {kinds[1]} stored in the state volume."
    if action == "unchanged":
        return f"credentials: using the {creds.kind} from {creds.source}, the same as stored in the state volume."
    if action == "kept" and kinds:
        return (f"credentials: using the {kinds[0]} stored in the state volume; {creds.source} was not copied over it "
                "(--fresh-creds replaces it).")
    return f"credentials: {' '.join(outcome) or 'installed'} (from {creds.source})."


def ensure_state_volume(docker: Docker, cfg: dict, volume: str, ids: tuple[int, int]) -> bool:
    """Create the user's state volume, owned by them and 0700, when it does not exist yet (a
    one-off container of the agent image running only `install -d`: CHOWN/FOWNER, no network,
    the default runtime). True when it was created."""
    if docker.ok(["volume", "inspect", volume]):
        return False
    uid, gid = ids
    docker.run(["volume", "create", "--label", f"{OWNER_LABEL}={host_ids()[0]}", volume])
    init = ["run", "--rm", "--network", "none", "--user", "0:0", "--cap-drop", "ALL", "--cap-add", "CHOWN",
            "--cap-add", "FOWNER", "--security-opt", "no-new-privileges", "--entrypoint", "install",
            "--mount", f"type=volume,source={volume},target=/state,volume-nocopy"]
    done = docker.run([*init, cfg["image"], "-d", "-o", str(uid), "-g", str(gid), "-m", "0700", "/state"], check=False)
    if done.returncode != 0:
        docker.run(["volume", "rm", volume], check=False)
        raise LauncherError(f"preparing the state volume {volume} failed: {done.stderr.decode().strip()}")
    return True


def start_sandbox(docker: Docker, cfg: dict, name: str, workspace: Path, creds: Credentials | None,
                  fresh: bool, say=print, gateway: GatewayRoute | None = None) -> None:
    """Create the container as the invoking user with their own state volume, wait for its
    entrypoint, install credentials; remove it on failure. With a gateway route the sandbox is
    pointed at it and gets only its placeholder credential."""
    runtime = choose_runtime(docker, cfg)
    uid, gid, foreign = run_ids(cfg, image_ids(docker, cfg))
    volume = user_names(cfg)[1]
    ensure_state_volume(docker, cfg, volume, (uid, gid))
    accounts = account_files(cfg, uid, gid) if foreign else None
    args = run_args(cfg, name, workspace, host_gitconfig(cfg), runtime, (uid, gid), volume, accounts)
    if gateway is not None:
        args = with_gateway(args, gateway)
        # --force: real credentials an earlier in-sandbox run left in the state volume go.
        creds, fresh = placeholder_credentials(gateway), True
    docker.run(args)
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


# With live-restore a container keeps running through a dockerd restart, but its lookups go to
# dockerd's embedded DNS as it was and hang until the container restarts (measured on the egress
# proxy, which the deploy restarts by age; README "Known limits"). The launcher does the same for
# the user's credential gateway, which resolves the API host per request.
DOCKERD_PIDFILE = "/var/run/docker.pid"


def dockerd_started_at(pidfile: str = DOCKERD_PIDFILE, proc: str = "/proc") -> float | None:
    """When the running dockerd started (seconds since the epoch), from its pid file and
    /proc/PID/stat (field 22: clock ticks after boot); None where that cannot be read."""
    try:
        pid = int(Path(pidfile).read_text().strip())
        # After "(comm)" the fields start at the 3rd: the 22nd is index 19.
        after_boot = int(Path(proc, str(pid), "stat").read_text().rsplit(")", 1)[1].split()[19])
        boot = next(int(line.split()[1]) for line in Path(proc, "stat").read_text().splitlines()
                    if line.startswith("btime "))
    except (OSError, ValueError, IndexError, StopIteration):
        return None
    return boot + after_boot / os.sysconf("SC_CLK_TCK")


def ran_through_dockerd_restart(docker: Docker, name: str, dockerd_start: float | None) -> bool:
    """Whether the running container NAME started before the running dockerd did."""
    if dockerd_start is None:
        return False
    started = docker.out(["inspect", "--format", "{{.State.Running}} {{.State.StartedAt}}", name], check=False)
    state, _, stamp = started.partition(" ")
    try:
        since = datetime.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return False
    # A second of slack: the pid file's process start is counted in clock ticks, StartedAt later.
    return state == "true" and since < dockerd_start - 1


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
    env = []
    if direct:
        curl += ["--noproxy", "*"]
        # Without the proxy curl resolves the name itself: with DNS blocked it would wait out the
        # whole --max-time at the resolver.
        env = ["--env", RESOLVER_OPTIONS]
    done = docker.run(["exec", *env, name, *curl, url], check=False, timeout=timeout + 30)
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
        # Bounded: with DNS blocked, getent waits out the resolver's retries (20 s measured).
        # RES_OPTIONS shortens glibc's own, `timeout` caps the rest; no answer in time = contained.
        resolved = docker.run(["exec", "--env", RESOLVER_OPTIONS, name, "timeout", str(DNS_TIMEOUT),
                               "getent", "hosts", dns_name], check=False, timeout=DNS_TIMEOUT + 30)
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


# --- credential gateway (roles/credential_gateway) ----------------------------------------------
# API keys and CLAUDE_CODE_OAUTH_TOKEN stay outside the sandbox. Each host user has a gateway
# container <name_prefix>-<uid> (nginx) at a fixed IP on the internal network and on the egress
# network; the agent gets ANTHROPIC_BASE_URL=http://<ip>:<port> and a placeholder credential, and
# the gateway adds the real one on the way to the API host. The real credential lives in the volume
# <name_prefix>-<uid>, mounted read-only into that gateway only and written by a one-shot container
# (no network) that reads it on stdin. Credentials JSON (subscription login, with a refresh token)
# stays in-sandbox: the CLI must refresh it itself, and the gateway (plain nginx) cannot.
# Every user's sandboxes share the internal network, so any sandbox can reach any gateway: the
# placeholder each sandbox gets carries its user's sandbox key (made by gateway-credential in the
# user's gateway volume), and a gateway forwards only requests that present its own.

GATEWAY_KINDS = ("api-key", "oauth-token")
# What the agent holds in gateway mode: prefix + the user's sandbox key; shaped like the real
# thing, worth nothing past its own user's gateway (the nginx config matches these prefixes).
PLACEHOLDER_PREFIXES = {"api-key": "sk-ant-api03-sandbox-", "oauth-token": "sk-ant-oat01-sandbox-"}
SANDBOX_KEY_RE = re.compile(r"[0-9a-f]{32,128}")
GATEWAY_ROLE_LABEL = "org.sandbox-host.role=credential-gateway"
GATEWAY_SPEC_LABEL = "org.sandbox-host.spec"
MODE_LABEL = "org.sandbox-host.credential-mode"
GATEWAY_LABEL = "org.sandbox-host.gateway"
GATEWAY_READY_TIMEOUT = 15.0


@dataclass(frozen=True)
class GatewayRoute:
    name: str
    ip: str
    port: int
    kind: str
    sandbox_key: str = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.ip}:{self.port}"


def invoking_uid(environ: dict | None = None) -> int:
    """The host user a gateway belongs to: the caller, or sudo's caller when run through sudo."""
    environ = os.environ if environ is None else environ
    uid = os.getuid()
    if uid == 0 and environ.get("SUDO_UID", "").isdigit():
        return int(environ["SUDO_UID"])
    return uid


def gateway_name(gw: dict, uid: int) -> str:
    """The user's gateway container, and its credential volume (same name)."""
    return f"{gw['name_prefix']}-{uid}"


def _one_shot(gw: dict, volume: str, mode: str) -> list[str]:
    """`docker run` of the gateway image for gateway-credential: no network, nothing to gain."""
    return ["run", "--rm", "--interactive", "--network", "none", "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges", "--read-only",
            "--volume", f"{volume}:{gw['credential_dir']}:{mode}", "--entrypoint", "gateway-credential", gw["image"]]


def gateway_stored(docker: Docker, gw: dict, name: str) -> tuple[str, str] | None:
    """(kind of credential, sandbox key) in the user's gateway volume; None when it holds none."""
    if not docker.ok(["volume", "inspect", name]):
        return None
    if running(docker, name):
        done = docker.run(["exec", name, "gateway-credential", "status"], check=False)
    else:
        done = docker.run([*_one_shot(gw, name, "ro"), "status"], check=False, input=b"")
    words = done.stdout.decode().split()
    if done.returncode != 0 or len(words) != 2 or words[0] not in GATEWAY_KINDS or not SANDBOX_KEY_RE.fullmatch(words[1]):
        return None
    return words[0], words[1]


def gateway_store(docker: Docker, gw: dict, name: str, creds: Credentials) -> bool:
    """Write the credential into the user's gateway volume, from stdin. True when it changed
    (gateway-credential answers "stored KIND" or "unchanged KIND")."""
    docker.run(["volume", "create", "--label", GATEWAY_ROLE_LABEL, name])
    done = docker.run([*_one_shot(gw, name, "rw"), "install", creds.kind], input=creds.secret, check=False)
    outcome = done.stdout.decode().split()
    if done.returncode != 0 or outcome not in (["stored", creds.kind], ["unchanged", creds.kind]):
        raise LauncherError(f"storing the {creds.kind} from {creds.source} in the gateway failed: "
                            f"{(done.stderr or done.stdout).decode(errors='replace').strip()}")
    return outcome[0] == "stored"


def _configured_ip(docker: Docker, name: str, network: str) -> str | None:
    raw = docker.out(["inspect", "--format", "{{json .NetworkSettings.Networks}}", name], check=False)
    try:
        config = (json.loads(raw or "null") or {}).get(network) or {}
    except json.JSONDecodeError:
        return None
    return (config.get("IPAMConfig") or {}).get("IPv4Address") or config.get("IPAddress") or None


def gateway_ip(docker: Docker, gw: dict, name: str) -> str:
    """The user's gateway keeps its IP; a new one takes the first address of the range that no
    container on the internal network (nor a stopped gateway) holds."""
    mine = _configured_ip(docker, name, gw["internal_network"])
    if mine:
        return mine
    raw = docker.out(["network", "inspect", "--format", "{{json .Containers}}", gw["internal_network"]])
    used = {entry.get("IPv4Address", "").split("/")[0] for entry in (json.loads(raw or "null") or {}).values()}
    others = docker.out(["ps", "--all", "--quiet", "--filter", f"label={GATEWAY_ROLE_LABEL}"], check=False).split()
    used |= {_configured_ip(docker, other, gw["internal_network"]) for other in others}
    for address in ipaddress.ip_network(gw["ip_range"]).hosts():
        if str(address) not in used:
            return str(address)
    raise LauncherError(f"no free address left for a credential gateway in {gw['ip_range']} "
                        "(sandbox_network.gateway_ip_range): remove gateways of users who left")


def gateway_create_args(gw: dict, name: str, ip: str, uid: int) -> list[str]:
    """`docker create` arguments of a user's gateway (without the spec label). No secret here."""
    return [
        "--name", name, "--network", gw["internal_network"], "--ip", ip,
        "--restart", "unless-stopped",
        "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
        "--read-only", "--tmpfs", "/tmp:rw,noexec,nosuid,size=16m",
        "--memory", gw["memory"], "--pids-limit", str(gw["pids"]),
        "--label", GATEWAY_ROLE_LABEL, "--label", f"org.sandbox-host.gateway-uid={uid}",
        "--volume", f"{name}:{gw['credential_dir']}:ro",
        gw["image"],
    ]


def ensure_gateway(docker: Docker, gw: dict, uid: int, stored: tuple[str, str], restart: bool) -> GatewayRoute:
    """The user's gateway running as configured (recreated when its image or settings changed,
    restarted when its credential did, so nginx reads it again, or when it ran through a dockerd
    restart, so its lookups work again), answering on its port."""
    name = gateway_name(gw, uid)
    ip = gateway_ip(docker, gw, name)
    create = gateway_create_args(gw, name, ip, uid)
    image_id = docker.out(["image", "inspect", "--format", "{{.Id}}", gw["image"]])
    spec = hashlib.sha256(json.dumps([image_id, create, gw["egress_network"]]).encode()).hexdigest()
    current = docker.out(["inspect", "--format", f'{{{{index .Config.Labels "{GATEWAY_SPEC_LABEL}"}}}}', name],
                         check=False)
    if current != spec:
        docker.run(["rm", "--force", name], check=False)
        docker.run(["create", "--label", f"{GATEWAY_SPEC_LABEL}={spec}", *create])
        docker.run(["network", "connect", gw["egress_network"], name])
        docker.run(["start", name])
    elif restart or ran_through_dockerd_restart(docker, name, dockerd_started_at()):
        docker.run(["restart", name])
    elif not running(docker, name):
        docker.run(["start", name])
    deadline = time.monotonic() + GATEWAY_READY_TIMEOUT
    while not docker.ok(["exec", name, "bash", "-c", f"</dev/tcp/127.0.0.1/{gw['port']}"]):
        if time.monotonic() > deadline or not running(docker, name):
            logs = docker.run(["logs", "--tail", "20", name], check=False)
            detail = (logs.stdout + logs.stderr).decode(errors="replace").strip()
            raise LauncherError(f"the credential gateway {name} did not start:\n{detail}")
        time.sleep(0.2)
    return GatewayRoute(name, ip, int(gw["port"]), *stored)


def choose_gateway(docker: Docker, cfg: dict, creds: Credentials | None, fresh: bool,
                   say=print) -> GatewayRoute | None:
    """The gateway route when the configuration has a gateway and the credential kind allows it
    (the host's credential stored in the user's gateway first, if new or --fresh-creds); None:
    credentials go into the sandbox as before. A credentials JSON found implicitly (a file, the
    keychain) does not displace a credential the user's gateway holds, as it does not displace
    one in the state volume: the sandbox would hold the gateway's placeholder and no gateway."""
    gw = cfg.get("gateway")
    if not gw or (creds is None and fresh):
        return None  # (--fresh-creds with nothing to put in: install_credentials says so)
    in_sandbox_only = creds is not None and creds.kind not in GATEWAY_KINDS
    refresh_warning = (f"the {creds.kind} credentials from {creds.source} carry a refresh token the agent must "
                       "use itself: they go into the sandbox (no credential gateway). Keep them out with an API "
                       "key or a CLAUDE_CODE_OAUTH_TOKEN from `claude setup-token`.") if in_sandbox_only else ""
    if in_sandbox_only and (fresh or creds.explicit):
        _warn(refresh_warning)
        return None
    if not docker.ok(["image", "inspect", gw["image"]]):
        if in_sandbox_only:
            _warn(refresh_warning)
            return None
        raise LauncherError(f"the credential gateway image {gw['image']} is missing: run the sandbox-host deploy")
    uid = invoking_uid()
    name = gateway_name(gw, uid)
    stored = gateway_stored(docker, gw, name)
    if (creds is None or in_sandbox_only) and stored is None:
        if in_sandbox_only:
            _warn(refresh_warning)
        return None
    changed = False
    if in_sandbox_only:
        say(f"gateway: using the {stored[0]} {name} holds; the {creds.kind} from {creds.source} "
            "was not put in the sandbox (--fresh-creds does).")
    elif creds is not None and (fresh or creds.explicit or stored is None):
        # Explicit credentials win, as in the state volume: a rotated key is never ignored.
        before = stored
        changed = gateway_store(docker, gw, name, creds)
        stored = gateway_stored(docker, gw, name)
        if stored is None:
            raise LauncherError(f"the credential gateway volume {name} holds no credential after storing it")
        if not changed:
            say(f"gateway: {name} holds the {creds.kind} from {creds.source} already.")
        elif before is None:
            say(f"gateway: the {creds.kind} from {creds.source} is now in {name} (it had none); "
                "the sandbox gets a placeholder.")
        else:
            say(f"gateway: the {creds.kind} from {creds.source} replaced the {before[0]} in {name}; "
                "the sandbox gets a placeholder.")
    elif creds is not None:
        say(f"gateway: {name} keeps its {stored[0]}; the {creds.kind} from {creds.source} was not stored "
            "over it (--fresh-creds replaces it).")
    else:
        say(f"gateway: using the {stored[0]} {name} holds.")
    return ensure_gateway(docker, gw, uid, stored, restart=changed)


def placeholder_credentials(route: GatewayRoute) -> Credentials:
    secret = f"{PLACEHOLDER_PREFIXES[route.kind]}{route.sandbox_key}".encode()
    return Credentials(route.kind, secret, f"the credential gateway {route.name} (placeholder)")


def with_gateway(args: list[str], route: GatewayRoute) -> list[str]:
    """The sandbox's `docker run` arguments pointed at the gateway: ANTHROPIC_BASE_URL, the
    gateway's IP past the proxy (NO_PROXY), labels `status` reads. The image stays last."""
    out = []
    for arg in args[:-1]:
        if arg.startswith(("NO_PROXY=", "no_proxy=")):
            arg = f"{arg},{route.ip}" if arg.split("=", 1)[1] else f"{arg}{route.ip}"
        out.append(arg)
    return [*out, "--env", f"ANTHROPIC_BASE_URL={route.url}", "--label", f"{MODE_LABEL}=gateway",
            "--label", f"{GATEWAY_LABEL}={route.name}", args[-1]]


def gateway_status(docker: Docker, cfg: dict, sandbox: str, sandbox_running: bool) -> dict:
    """For `status`: the mode the running sandbox uses, and the invoking user's gateway."""
    info = {}
    if sandbox_running:
        mode = docker.out(["inspect", "--format", f'{{{{index .Config.Labels "{MODE_LABEL}"}}}}', sandbox], check=False)
        info["credential_mode"] = "gateway" if mode == "gateway" else "in-sandbox"
    gw = cfg.get("gateway")
    if gw:
        name = gateway_name(gw, invoking_uid())
        info["gateway"] = name
        info["gateway_running"] = running(docker, name)
        if info["gateway_running"]:
            info["gateway_url"] = f"http://{_configured_ip(docker, name, gw['internal_network'])}:{gw['port']}"
            stored = gateway_stored(docker, gw, name)
            info["gateway_credential"] = stored[0] if stored else None
    else:
        info["gateway"] = None
    return info


# --- commands ------------------------------------------------------------------------------------


def cmd_run(args, cfg, docker: Docker) -> int:
    preflight(docker, cfg)
    workspace = workspace_dir(args.dir)
    creds = find_credentials(cfg, args.credentials_file)
    if args.rebuild:
        rebuild(docker, cfg)
    name = f"{user_names(cfg)[0]}-run-{os.getpid()}"
    say = lambda m: print(m, file=sys.stderr)  # noqa: E731
    gateway = choose_gateway(docker, cfg, creds, args.fresh_creds, say=say)
    start_sandbox(docker, cfg, name, workspace, creds, args.fresh_creds, say=say, gateway=gateway)
    try:
        command = args.command or cfg.get("agent_command", ["claude"])
        return docker.interactive(["exec", *tty_flags(), "--workdir", "/workspace", name, *command])
    finally:
        docker.run(["rm", "--force", name], check=False)


def cmd_start(args, cfg, docker: Docker) -> int:
    preflight(docker, cfg)
    name = user_names(cfg)[0]
    if running(docker, name):
        print(f"the sandbox {name} is already running (agent-sandbox stop, then start again to change it)")
        return 0
    docker.run(["rm", "--force", name], check=False)  # a stopped leftover holds the name
    workspace = workspace_dir(args.dir)
    creds = find_credentials(cfg, args.credentials_file)
    if args.rebuild:
        rebuild(docker, cfg)
    gateway = choose_gateway(docker, cfg, creds, args.fresh_creds)
    start_sandbox(docker, cfg, name, workspace, creds, args.fresh_creds, gateway=gateway)
    print(f"sandbox {name} ready: {workspace} at /workspace (agent-sandbox shell)")
    return 0


def cmd_stop(args, cfg, docker: Docker) -> int:
    """Check first: Docker 20.10's `rm --force` of a missing container exits 0 all the same."""
    check_daemon(docker)
    name = user_names(cfg)[0]
    state = docker.out(["container", "inspect", "--format", "{{.State.Status}}", name], check=False)
    if not state:
        print(f"{name} was not running")
        return 0
    docker.run(["rm", "--force", name])
    print(f"stopped {name}" if state == "running" else f"{name} was not running (removed the {state} container)")
    return 0


def cmd_shell(args, cfg, docker: Docker) -> int:
    check_daemon(docker)
    name = user_names(cfg)[0]
    if not running(docker, name):
        raise LauncherError(f"the sandbox {name} is not running: agent-sandbox start [DIR]")
    return docker.interactive(["exec", *tty_flags(), "--workdir", "/workspace", name, *(args.command or ["bash", "-l"])])


def cmd_status(args, cfg, docker: Docker) -> int:
    check_daemon(docker)
    name, volume = user_names(cfg)
    info = {"container": name, "running": running(docker, name), "image": cfg["image"], "state_volume": volume}
    if info["running"]:
        fmt = '{{.Config.Image}}|{{.Image}}|{{.HostConfig.Runtime}}|{{.State.StartedAt}}|' \
              '{{index .Config.Labels "org.sandbox-host.workspace"}}'
        image, image_id, runtime, started, workspace = docker.out(["inspect", "--format", fmt, name]).split("|")
        current = docker.out(["image", "inspect", "--format", "{{.Id}}", cfg["image"]], check=False)
        creds = docker.run(["exec", name, "agent-credentials", "status"], check=False)
        info.update(runtime=runtime, started=started, workspace=workspace, image_current=image_id == current,
                    credentials=creds.stdout.decode().strip() if creds.returncode == 0 else None)
    info.update(gateway_status(docker, cfg, name, info["running"]))
    proxy = cfg["proxy"].get("container")
    if proxy:
        info["proxy_running"] = running(docker, proxy)
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        for key, value in info.items():
            print(f"{key:<18} {value}")
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
    if running(docker, user_names(cfg)[0]):
        print("the running sandbox still uses the previous image: agent-sandbox stop && agent-sandbox start")
    return 0


def cmd_doctor(args, cfg, docker: Docker) -> int:
    check_daemon(docker)
    name = args.container or user_names(cfg)[0]
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
