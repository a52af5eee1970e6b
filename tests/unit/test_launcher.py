"""agent-sandbox: argument parsing, the docker command lines it builds (never a secret in argv
or env), credential lookup, runtime choice, doctor's verdicts, log filtering, its config file."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from sandbox_host.config.schema import HostConfig
from sandbox_host.roles.launcher import agent_sandbox as sandbox
from sandbox_host.roles.launcher.config import launcher_config

SECRET = "sk-ant-api03-UNIT-SECRET-123"


def cfg(**overrides) -> dict:
    base = launcher_config(HostConfig().launcher_sections(), 1000, 1000)
    # Never this machine's own record (a deploy here writes one): tests that need one pass it.
    base["runtime_check"] = "/nonexistent/sandbox-host-unit-test/runtime-check.json"
    base.update(overrides)
    return base


# --- arguments -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv,cmd,directory,command",
    [
        (["run"], "run", None, []),
        (["run", "/src"], "run", "/src", []),
        (["run", "/src", "--", "id", "-u"], "run", "/src", ["id", "-u"]),
        (["run", "--", "id"], "run", None, ["id"]),
        (["run", "--rebuild", "--fresh-creds", "/src", "--", "sh", "-c", "a --b"], "run", "/src", ["sh", "-c", "a --b"]),
        (["start", "/src"], "start", "/src", []),
        (["shell", "--", "git", "status"], "shell", None, ["git", "status"]),
    ],
)
def test_parse_args(argv, cmd, directory, command):
    args = sandbox.parse_args(argv)
    assert (args.cmd, getattr(args, "dir", None), args.command) == (cmd, directory, command)


def test_launch_flags():
    args = sandbox.parse_args(["--config", "/x.json", "start", "--rebuild", "--fresh-creds", "--credentials-file", "/c"])
    assert (args.config, args.rebuild, args.fresh_creds, args.credentials_file) == ("/x.json", True, True, "/c")


def test_doctor_targets_and_logs_filter_parse():
    args = sandbox.parse_args(["doctor", "--allowed-url", "http://a/", "--denied-url", "http://d/", "--direct-url",
                               "http://10.0.0.1/", "--json"])
    assert (args.allowed_url, args.denied_url, args.direct_url, args.dns_name, args.json) == (
        "http://a/", "http://d/", "http://10.0.0.1/", None, True)
    args = sandbox.parse_args(["logs", "--decision", "denied", "-f"])
    assert (args.decision, args.follow) == ("denied", True)


@pytest.mark.parametrize("argv", [["stop", "--", "x"], ["frobnicate"], ["run", "/a", "/b"], []])
def test_bad_arguments_exit_with_usage(argv, capsys):
    with pytest.raises(SystemExit) as caught:
        sandbox.parse_args(argv)
    assert caught.value.code == 2


# --- docker run arguments ----------------------------------------------------------------------------


def pairs(args: list[str]) -> set[tuple[str, str]]:
    return {(a, b) for a, b in zip(args, args[1:])}


def test_run_args_apply_the_policy(tmp_path):
    args = sandbox.run_args(cfg(), "agent-sandbox", tmp_path, tmp_path / "gitconfig", "runsc")
    flags = pairs(args)
    assert args[0] == "run" and args[-1] == "sandbox-agent:latest"
    assert {("--cap-drop", "ALL"), ("--security-opt", "no-new-privileges"), ("--pids-limit", "16384"),
            ("--memory", "4g"), ("--memory-swap", "4g"), ("--cpus", "2.0"), ("--runtime", "runsc"),
            ("--network", "sandbox-internal"), ("--tmpfs", "/tmp:rw,nosuid,nodev,size=1g"),
            ("--tmpfs", "/home/agent:rw,nosuid,nodev,size=1g,uid=1000,gid=1000,mode=0700"),
            ("--mount", "type=volume,source=agent-sandbox-state,target=/home/agent/.claude,volume-nocopy"),
            ("--mount", f"type=bind,source={tmp_path},target=/workspace"),
            ("--mount", f"type=bind,source={tmp_path / 'gitconfig'},target=/run/agent-sandbox/host-gitconfig,readonly"),
            ("--env", "HTTPS_PROXY=http://172.30.0.2:3128"), ("--env", "http_proxy=http://172.30.0.2:3128"),
            ("--env", "NO_PROXY=localhost,127.0.0.1"),
            ("--sysctl", "net.ipv6.conf.all.disable_ipv6=1"), ("--sysctl", "net.ipv6.conf.default.disable_ipv6=1"),
            } <= flags
    assert "--read-only" in args and "--init" in args
    assert args.count("--network") == 1
    assert not any("docker.sock" in a for a in args)
    assert not any(a.startswith(("ANTHROPIC", "CLAUDE_CODE_OAUTH")) for a in args)


def test_pids_limit_is_the_runc_one_without_gvisor(tmp_path):
    # Under runsc every sandbox process costs the host ~8 threads: gVisor gets its own limit.
    assert ("--pids-limit", "1024") in pairs(sandbox.run_args(cfg(), "agent-sandbox", tmp_path, None, None))


def test_run_args_follow_the_settings(tmp_path):
    args = sandbox.run_args(cfg(read_only_root=False, disable_ipv6=False, dns_servers=["10.0.0.53"]),
                            "n", tmp_path, None, None)
    assert "--read-only" not in args and "--tmpfs" not in args and "--sysctl" not in args
    assert "--runtime" not in args and ("--dns", "10.0.0.53") in pairs(args)
    assert not any("host-gitconfig" in a for a in args)


# --- a recording docker ----------------------------------------------------------------------------


class FakeDocker(sandbox.Docker):
    """Records every docker command line and its stdin; answers from rules (prefix -> result)."""

    def __init__(self, rules=None):
        super().__init__("docker")
        self.calls: list[tuple[list[str], bytes | None]] = []
        self.rules = rules or {}

    def _answer(self, args):
        for prefix, result in self.rules.items():
            if " ".join(args).startswith(prefix):
                return result(args) if callable(result) else result
        return (0, "", "")

    def run(self, args, *, input=None, check=True, capture=True, timeout=None):
        self.calls.append((list(args), input))
        code, out, err = self._answer(args)
        done = subprocess.CompletedProcess(args, code, out.encode(), err.encode())
        if check and code != 0:
            raise sandbox.LauncherError(f"docker {args[0]} failed: {err}")
        return done

    def interactive(self, args, stdin=None, extra_env=None):
        self.calls.append((list(args), None))
        return self._answer(args)[0]

    def argv_text(self) -> str:
        return "\n".join(" ".join(args) for args, _ in self.calls)


def test_credentials_travel_on_stdin_only(tmp_path):
    docker = FakeDocker({"info": (0, '{"runc": {}}', "")})
    creds = sandbox.Credentials("api-key", SECRET.encode(), "$ANTHROPIC_API_KEY")
    sandbox.start_sandbox(docker, cfg(), "sbx", tmp_path, creds, fresh=True, say=lambda m: None)
    install = [(args, data) for args, data in docker.calls if "agent-credentials" in args]
    assert install == [(["exec", "--interactive", "sbx", "agent-credentials", "install", "api-key", "--force"],
                        SECRET.encode())]
    assert SECRET not in docker.argv_text()


def test_existing_volume_credentials_are_kept_without_fresh(tmp_path):
    docker = FakeDocker({"info": (0, "{}", "")})
    creds = sandbox.Credentials("oauth-token", b"tok", "$CLAUDE_CODE_OAUTH_TOKEN")
    sandbox.start_sandbox(docker, cfg(runtime=None), "sbx", tmp_path, creds, fresh=False, say=lambda m: None)
    assert ["exec", "--interactive", "sbx", "agent-credentials", "install", "oauth-token"] in [a for a, _ in docker.calls]


def test_no_credentials_anywhere_removes_the_container(tmp_path):
    docker = FakeDocker({"info": (0, "{}", ""), "exec sbx agent-credentials status": (3, "", "")})
    with pytest.raises(sandbox.LauncherError, match="no credentials: set ANTHROPIC_API_KEY"):
        sandbox.start_sandbox(docker, cfg(runtime=None), "sbx", tmp_path, None, fresh=False)
    assert docker.calls[-1][0] == ["rm", "--force", "sbx"]


def test_a_container_that_dies_while_starting_is_reported(tmp_path):
    docker = FakeDocker({"exec sbx agent-ready": (1, "", ""), "inspect": (0, "exited", ""),
                         "logs": (0, "boom", "")})
    with pytest.raises(sandbox.LauncherError, match="stopped while starting \\(exited\\):\nboom"):
        sandbox.start_sandbox(docker, cfg(runtime=None), "sbx", tmp_path, None, fresh=False)


def test_docker_env_drops_the_secrets():
    env = sandbox.docker_env({"ANTHROPIC_API_KEY": SECRET, "CLAUDE_CODE_OAUTH_TOKEN": "t", "PATH": "/bin"})
    assert env == {"PATH": "/bin"}


# --- credentials lookup ----------------------------------------------------------------------------


def write_creds(path, token="x"):
    path.write_text(json.dumps({"claudeAiOauth": {"accessToken": token, "refreshToken": "r", "expiresAt": 1}}))
    return path


def test_credentials_precedence(tmp_path):
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    write_creds(home / ".claude" / ".credentials.json", "home")
    explicit = write_creds(tmp_path / "explicit.json", "explicit")
    configured = write_creds(tmp_path / "configured.json", "configured")
    env = {"HOME": str(home), "ANTHROPIC_API_KEY": " key \n", "CLAUDE_CODE_OAUTH_TOKEN": "tok"}
    c = cfg(credentials_file=str(configured))
    assert sandbox.find_credentials(c, str(explicit), env).source == str(explicit)
    assert sandbox.find_credentials(c, None, env) == sandbox.Credentials("api-key", b"key", "$ANTHROPIC_API_KEY", True)
    assert sandbox.find_credentials(c, None, {**env, "ANTHROPIC_API_KEY": ""}).kind == "oauth-token"
    assert sandbox.find_credentials(c, None, {"HOME": str(home)}).source == str(configured)
    assert b"home" in sandbox.find_credentials(cfg(), None, {"HOME": str(home)}).secret
    assert sandbox.find_credentials(cfg(), None, {"HOME": str(tmp_path / "nobody")}) is None


def test_a_bad_credentials_file_is_refused(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"token": "x"}')
    with pytest.raises(sandbox.LauncherError, match="not a Claude Code credentials file"):
        sandbox.find_credentials(cfg(), str(bad), {})
    with pytest.raises(sandbox.LauncherError, match="cannot read the credentials file"):
        sandbox.find_credentials(cfg(), str(tmp_path / "missing.json"), {})


# --- runtime ---------------------------------------------------------------------------------------


def test_runtime_choice():
    registered = FakeDocker({"info": (0, '{"runc": {}, "runsc": {}}', "")})
    missing = FakeDocker({"info": (0, '{"runc": {}}', "")})
    warnings = []
    assert sandbox.choose_runtime(registered, cfg()) == "runsc"
    assert sandbox.choose_runtime(missing, cfg(), warn=warnings.append) is None
    assert warnings and "runs under runc" in warnings[0]
    with pytest.raises(sandbox.LauncherError, match="require_gvisor"):
        sandbox.choose_runtime(missing, cfg(require_gvisor=True))
    assert sandbox.choose_runtime(missing, cfg(runtime=None)) is None


def test_docker_down_is_named():
    docker = FakeDocker({"version": (1, "", "Cannot connect to the Docker daemon at unix:///var/run/docker.sock")})
    with pytest.raises(sandbox.LauncherError, match="Docker is not running or not reachable \\(Cannot connect"):
        sandbox.check_daemon(docker)


def test_missing_image_and_network_are_named():
    docker = FakeDocker({"image inspect": (1, "", "No such image"), "network inspect": (1, "", "")})
    with pytest.raises(sandbox.LauncherError, match="agent image sandbox-agent:latest is missing"):
        sandbox.check_image(docker, cfg())
    with pytest.raises(sandbox.LauncherError, match="network sandbox-internal is missing"):
        sandbox.check_network(docker, cfg())


# --- doctor verdicts -------------------------------------------------------------------------------


def probe(exit=0, status="200", connect="000", squid=False, stderr=""):
    return {"exit": exit, "status": status, "connect": connect, "squid_denied": squid, "stderr": stderr}


@pytest.mark.parametrize(
    "result,denied",
    [
        (probe(exit=56, status="000", connect="403", stderr="CONNECT tunnel failed, response 403"), True),
        (probe(status="403", squid=True), True),
        (probe(status="403"), False),  # the origin's own 403: the proxy let it through
        (probe(), False),
        (probe(exit=28, status="000", stderr="timed out"), False),
    ],
)
def test_proxy_refusal_is_told_from_other_failures(result, denied):
    assert sandbox._denied_by_proxy(result) is denied


def test_doctor_table_lists_fixes_for_failures(capsys):
    sandbox.print_findings([sandbox.Finding("a", "pass", "ok"), sandbox.Finding("bb", "fail", "bad", "do X")], False)
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["a", "PASS", "ok"] and out[1].split()[:3] == ["bb", "FAIL", "bad"]
    assert out[2].strip() == "fix: do X"


# --- logs, config, main ------------------------------------------------------------------------------


def test_log_lines_filter_by_decision():
    # Squid's %Ss codes (the egress proxy's "decision" field) and plain words both work.
    lines = ['{"decision": "TCP_TUNNEL", "host": "a"}', "squid starting", '{"decision": "TCP_DENIED", "host": "b"}',
             "{bad", '{"decision": "denied", "host": "c"}', '{"decision": "TCP_MISS", "host": "d"}',
             '{"decision": "NONE_NONE", "host": "-"}']
    assert [r["host"] for r in sandbox.filter_log_lines(lines, "denied")] == ["b", "c"]
    assert [r["host"] for r in sandbox.filter_log_lines(lines, "allowed")] == ["a", "d"]
    assert [r["host"] for r in sandbox.filter_log_lines(lines, "tcp_tunnel")] == ["a"]
    assert [r["host"] for r in sandbox.filter_log_lines(lines, None)] == ["a", "b", "c", "d", "-"]
    assert [r["host"] for r in sandbox.filter_log_lines(['{"verdict": "denied", "host": "c"}'], "denied", "verdict")] == ["c"]


def test_config_from_host_settings():
    c = launcher_config(HostConfig.model_validate({"gvisor": {"runtime_name": "gvisor"}, "agent": {"require_gvisor": True}}).launcher_sections(),
                        1001, 1002)
    assert c["runtime"] == "gvisor" and c["require_gvisor"] is True
    assert c["proxy"] == {"ip": "172.30.0.2", "port": 3128, "container": "sandbox-egress-proxy"}
    assert c["user"] == {"name": "agent", "home": "/home/agent", "uid": 1001, "gid": 1002}
    assert c["network"] == "sandbox-internal" and c["image"] == "sandbox-agent:latest"
    assert launcher_config(HostConfig.model_validate({"gvisor": {"enabled": False}}).launcher_sections(), 1, 1)["runtime"] is None
    assert launcher_config(HostConfig.model_validate({"agent": {"use_gvisor": False}}).launcher_sections(), 1, 1)["runtime"] is None
    json.dumps(c)  # plain JSON for a stdlib-only reader


def test_missing_config_is_a_clear_error(tmp_path, capsys):
    assert sandbox.main(["--config", str(tmp_path / "none.json"), "status"]) == 2
    assert "no configuration at" in capsys.readouterr().err


@pytest.mark.parametrize(
    "sysctl,connect_error,result",
    [
        ((0, "1", ""), None, "pass"),
        ((0, "0", ""), None, "fail"),
        # gVisor: no /proc/sys/net; the answer of a connection to ::1 decides.
        ((1, "", "No such file"), "bash: line 1: /dev/tcp/::1/1: Cannot assign requested address", "pass"),
        ((1, "", "No such file"), "bash: line 1: connect: Connection refused", "fail"),
    ],
    ids=["runc off", "runc on", "gvisor off", "gvisor on"],
)
def test_ipv6_finding(sysctl, connect_error, result):
    docker = FakeDocker({"exec sbx cat": sysctl, "exec sbx bash": (1, "", connect_error or "")})
    assert sandbox.ipv6_finding(docker, "sbx").result == result


def test_preflight_warns_when_the_proxy_is_down(capsys):
    docker = FakeDocker({"inspect --format {{.State.Running}} sandbox-egress-proxy": (0, "false", "")})
    sandbox.preflight(docker, cfg())
    assert "egress proxy sandbox-egress-proxy is not running" in capsys.readouterr().err
    docker = FakeDocker({"inspect --format {{.State.Running}} sandbox-egress-proxy": (0, "true", "")})
    sandbox.preflight(docker, cfg())
    assert capsys.readouterr().err == ""


def test_fresh_creds_without_host_credentials_is_refused(tmp_path):
    docker = FakeDocker({"info": (0, "{}", "")})
    with pytest.raises(sandbox.LauncherError, match="--fresh-creds, but the host has no credentials"):
        sandbox.start_sandbox(docker, cfg(runtime=None), "sbx", tmp_path, None, fresh=True)
    assert docker.calls[-1][0] == ["rm", "--force", "sbx"]


def test_home_tmpfs_belongs_to_the_images_user(tmp_path):
    docker = FakeDocker({"info": (0, "{}", ""), "image inspect --format {{.Config.User}}": (0, "2345:2346", "")})
    sandbox.start_sandbox(docker, cfg(runtime=None), "sbx", tmp_path,
                          sandbox.Credentials("api-key", b"k", "env"), fresh=False, say=lambda m: None)
    run = next(args for args, _ in docker.calls if args[0] == "run")
    assert ("--tmpfs", "/home/agent:rw,nosuid,nodev,size=1g,uid=2345,gid=2346,mode=0700") in pairs(run)
    assert sandbox.image_ids(FakeDocker({"image inspect": (0, "agent", "")}), cfg()) is None


def test_bind_mount_quotes_commas_and_quotes():
    assert sandbox.bind_mount(Path("/src/p"), "/workspace") == "type=bind,source=/src/p,target=/workspace"
    assert sandbox.bind_mount(Path('/src/a,b"c'), "/workspace", readonly=True) == \
        'type=bind,"source=/src/a,b""c",target=/workspace,readonly'
