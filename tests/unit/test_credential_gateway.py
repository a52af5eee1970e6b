"""The credential gateway: its nginx config, settings that could inject config, and the
launcher's gateway path (which mode each credential kind gets, the secret on stdin only)."""

from __future__ import annotations

import pytest
from test_launcher import FakeDocker, cfg

from sandbox_host.config.schema import HostConfig
from sandbox_host.roles.credential_gateway import nginx
from sandbox_host.roles.credential_gateway.settings import CredentialGatewaySettings
from sandbox_host.roles.launcher import agent_sandbox as sandbox

SECRET = b"sk-ant-api03-UNIT-GATEWAY-SECRET"
SANDBOX_KEY = "0123456789abcdef0123456789abcdef0123456789abcdef"


def test_nginx_conf_forwards_to_the_api_host_only_with_verification():
    conf = nginx.render_nginx_conf(CredentialGatewaySettings(api_host="api.example.com", api_port=8443))
    assert 'set $gw_upstream "api.example.com:8443";' in conf
    assert "proxy_pass https://$gw_upstream;" in conf
    assert "proxy_ssl_verify on;" in conf and "proxy_ssl_name api.example.com;" in conf
    assert "proxy_set_header Host api.example.com:8443;" in conf
    assert "include /etc/nginx/credential/*.conf;" in conf
    # Forwarded only for the user's own sandboxes: the presented placeholder must carry the
    # sandbox key the credential volume holds (unset: "-", which no request can present).
    assert 'set $gw_sandbox_key "-";' in conf and "if ($gw_presented != $gw_sandbox_key)" in conf
    assert conf.index('set $gw_sandbox_key "-";') < conf.index("include /etc/nginx/credential/*.conf;")


@pytest.mark.parametrize("bad", ['api.example.com";', "api example.com", "api.example.com; include /x", "$host"])
def test_api_host_that_could_inject_nginx_config_is_refused(bad):
    with pytest.raises(ValueError):
        CredentialGatewaySettings(api_host=bad)


def test_gateway_ip_range_must_be_inside_the_internal_subnet():
    config = HostConfig(sandbox_network={"gateway_ip_range": "172.31.0.0/27"})
    assert [key for key, _ in config.cross_checks()] == [("sandbox_network", "gateway_ip_range")]
    assert HostConfig().cross_checks() == []


def test_upstream_ca_must_be_pem(tmp_path):
    (tmp_path / "not.pem").write_text("hello")
    with pytest.raises(Exception, match="holds no PEM"):
        nginx.upstream_ca_bundle([str(tmp_path / "not.pem")])


def gateway_docker(stored: str | None = None, same: bool = False):
    """A docker whose user-1000 gateway volume holds ``stored`` (a kind) until an install;
    ``same``: an install of that kind is the credential it holds already."""
    volume = {"kind": stored}

    def install(args):
        outcome = "unchanged" if volume["kind"] == args[-1] and same else "stored"
        volume["kind"] = args[-1]
        return (0, f"{outcome} {args[-1]}", "")

    def status(args):
        return (0, f"{volume['kind']} {SANDBOX_KEY}", "") if volume["kind"] else (3, "", "")

    return FakeDocker({
        "volume inspect": lambda args: (0 if volume["kind"] else 1, "", ""),
        "inspect --format {{.State.Running}}": (0, "true", ""),
        "exec agent-sandbox-gateway-1000 gateway-credential status": status,
        "run --rm --interactive --network none": install,
        "inspect --format {{json .NetworkSettings.Networks}}": (1, "", ""),
        "network inspect": (0, '{"a": {"IPv4Address": "172.30.0.224/24"}, "b": {"IPv4Address": "172.30.0.2/24"}}', ""),
        "image inspect --format {{.Id}}": (0, "sha256:abc", ""),
    })


def test_api_key_goes_to_the_gateway_on_stdin_and_the_sandbox_gets_a_placeholder(monkeypatch, tmp_path):
    monkeypatch.setattr(sandbox, "invoking_uid", lambda: 1000)
    docker = gateway_docker()
    creds = sandbox.Credentials("api-key", SECRET, "$ANTHROPIC_API_KEY")
    route = sandbox.choose_gateway(docker, cfg(), creds, fresh=False, say=lambda m: None)
    assert route.ip == "172.30.0.225" and route.kind == "api-key"  # .224 is taken
    stored = [(args, data) for args, data in docker.calls if "install" in args]
    assert len(stored) == 1 and stored[0][1] == SECRET and stored[0][0][-2:] == ["install", "api-key"]
    sandbox.start_sandbox(docker, cfg(runtime=None), "sbx", tmp_path, creds, fresh=False, say=lambda m: None,
                          gateway=route)
    installed = [(args, data) for args, data in docker.calls if "agent-credentials" in args]
    # The placeholder carries the user's sandbox key: their gateway forwards only requests with it.
    assert installed == [(["exec", "--interactive", "sbx", "agent-credentials", "install", "api-key", "--force"],
                          f"sk-ant-api03-sandbox-{SANDBOX_KEY}".encode())]
    run = next(args for args, _ in docker.calls if args[:2] == ["run", "--detach"])
    assert "ANTHROPIC_BASE_URL=http://172.30.0.225:8080" in run
    assert "NO_PROXY=localhost,127.0.0.1,172.30.0.225" in run and run[-1] == cfg()["image"]
    assert SECRET.decode() not in docker.argv_text()


def test_credentials_json_stays_in_the_sandbox_with_a_warning(capsys, monkeypatch):
    monkeypatch.setattr(sandbox, "invoking_uid", lambda: 1000)
    explicit = sandbox.Credentials("credentials-json", b"{}", "--credentials-file", explicit=True)
    docker = gateway_docker(stored="api-key")
    assert sandbox.choose_gateway(docker, cfg(), explicit, fresh=False) is None
    assert "refresh token" in capsys.readouterr().err
    assert docker.calls == []
    implicit = sandbox.Credentials("credentials-json", b"{}", "~/.claude/.credentials.json")
    docker = gateway_docker()
    assert sandbox.choose_gateway(docker, cfg(), implicit, fresh=False) is None
    assert "refresh token" in capsys.readouterr().err
    docker = gateway_docker(stored="api-key")
    assert sandbox.choose_gateway(docker, cfg(), implicit, fresh=True) is None


def test_implicit_credentials_json_does_not_displace_the_gateways_credential(monkeypatch):
    # Otherwise the sandbox would keep the gateway's placeholder (kept: the file is implicit)
    # without the gateway's address: a sandbox with no working credential.
    monkeypatch.setattr(sandbox, "invoking_uid", lambda: 1000)
    said = []
    implicit = sandbox.Credentials("credentials-json", b"{}", "~/.claude/.credentials.json")
    route = sandbox.choose_gateway(gateway_docker(stored="oauth-token"), cfg(), implicit, fresh=False, say=said.append)
    assert route.kind == "oauth-token" and route.sandbox_key == SANDBOX_KEY
    assert said == ["gateway: using the oauth-token agent-sandbox-gateway-1000 holds; the credentials-json from "
                    "~/.claude/.credentials.json was not put in the sandbox (--fresh-creds does)."]


def test_stored_credential_is_kept_unless_fresh(monkeypatch):
    monkeypatch.setattr(sandbox, "invoking_uid", lambda: 1000)
    creds = sandbox.Credentials("oauth-token", SECRET, "$CLAUDE_CODE_OAUTH_TOKEN")
    docker = gateway_docker(stored="api-key")
    route = sandbox.choose_gateway(docker, cfg(), creds, fresh=False, say=lambda m: None)
    assert route.kind == "api-key" and not any("install" in args for args, _ in docker.calls)
    docker = gateway_docker(stored="api-key")
    route = sandbox.choose_gateway(docker, cfg(), creds, fresh=True, say=lambda m: None)
    assert route.kind == "oauth-token" and any(args[-2:] == ["install", "oauth-token"] for args, _ in docker.calls)


@pytest.mark.parametrize("answer", ["api-key", "api-key not-hex", "cookie " + SANDBOX_KEY, "api-key abc"])
def test_gateway_status_without_a_kind_and_a_sandbox_key_is_no_credential(answer):
    docker = FakeDocker({"inspect --format {{.State.Running}}": (0, "true", ""),
                         "exec gw gateway-credential status": (0, answer, "")})
    assert sandbox.gateway_stored(docker, {}, "gw") is None
    docker.rules["exec gw gateway-credential status"] = (0, f"api-key {SANDBOX_KEY}\n", "")
    assert sandbox.gateway_stored(docker, {}, "gw") == ("api-key", SANDBOX_KEY)


def test_an_explicit_credential_replaces_the_gateways_and_restarts_it_only_when_it_changed(monkeypatch):
    monkeypatch.setattr(sandbox, "invoking_uid", lambda: 1000)
    restarted = []
    monkeypatch.setattr(sandbox, "ensure_gateway", lambda docker, gw, uid, stored, restart: restarted.append(restart))
    rotated = sandbox.Credentials("api-key", SECRET, "$ANTHROPIC_API_KEY", explicit=True)
    for same, restart, sentence in ((False, True, "replaced the api-key in agent-sandbox-gateway-1000"),
                                    (True, False, "holds the api-key from $ANTHROPIC_API_KEY already")):
        said = []
        docker = gateway_docker(stored="api-key", same=same)
        sandbox.choose_gateway(docker, cfg(), rotated, fresh=False, say=said.append)
        assert [args[-2:] for args, _ in docker.calls if "install" in args] == [["install", "api-key"]]
        assert restarted.pop() == restart
        assert sentence in said[0]


def test_no_gateway_in_the_config_means_in_sandbox():
    assert sandbox.choose_gateway(FakeDocker(), cfg(gateway=None), None, fresh=False) is None


def test_invoking_uid_is_sudos_caller(monkeypatch):
    monkeypatch.setattr(sandbox.os, "getuid", lambda: 0)
    assert sandbox.invoking_uid({"SUDO_UID": "1234"}) == 1234
    monkeypatch.setattr(sandbox.os, "getuid", lambda: 1000)
    assert sandbox.invoking_uid({"SUDO_UID": "1234"}) == 1000


def test_fresh_creds_without_host_credentials_is_not_served_by_a_stored_one(tmp_path):
    docker = gateway_docker(stored="api-key")
    assert sandbox.choose_gateway(docker, cfg(), None, fresh=True) is None
    with pytest.raises(sandbox.LauncherError, match="--fresh-creds, but the host has no credentials"):
        sandbox.start_sandbox(docker, cfg(runtime=None), "sbx", tmp_path, None, fresh=True, say=lambda m: None)


def test_gateway_ip_range_follows_a_custom_internal_subnet():
    # Unset, the range is the top /27 of internal_subnet: a site that moves the subnet need not
    # move the range too (the cross-check above would refuse the old default).
    config = HostConfig(sandbox_network={"internal_subnet": "10.99.0.0/24", "proxy_ip": "10.99.0.2"})
    assert config.sandbox_network.gateway_range() == "10.99.0.224/27"
    assert config.cross_checks() == []


def fake_proc(tmp_path, pid=4242, ticks_after_boot=1_000 * 100, boot=1_700_000_000):
    """A pid file and /proc for a dockerd started TICKS after BOOT (comm with spaces and a ')')."""
    proc = tmp_path / "proc"
    (proc / str(pid)).mkdir(parents=True)
    fields = ["S"] + ["0"] * 18 + [str(ticks_after_boot), "0", "0"]
    (proc / str(pid) / "stat").write_text(f"{pid} (docker d) x) " + " ".join(fields) + "\n")
    (proc / "stat").write_text(f"cpu 1 2 3\nbtime {boot}\nprocesses 9\n")
    pidfile = tmp_path / "docker.pid"
    pidfile.write_text(f"{pid}\n")
    return str(pidfile), str(proc)


def test_dockerd_start_comes_from_its_pid_file_and_proc(tmp_path):
    pidfile, proc = fake_proc(tmp_path)
    ticks = sandbox.os.sysconf("SC_CLK_TCK")
    assert sandbox.dockerd_started_at(pidfile, proc) == 1_700_000_000 + 100_000 / ticks
    assert sandbox.dockerd_started_at(str(tmp_path / "none.pid"), proc) is None
    (tmp_path / "docker.pid").write_text("not a pid\n")
    assert sandbox.dockerd_started_at(pidfile, proc) is None


@pytest.mark.parametrize("state, started, stale", [
    ("true", "2023-11-14T22:00:00.5Z", True),     # started before dockerd (22:13:20 UTC)
    ("true", "2023-11-14T22:13:20.9Z", False),    # started with it (within the second of slack)
    ("true", "2023-11-14T23:00:00Z", False),      # started after it
    ("false", "2023-11-14T22:00:00Z", False),     # not running: started (and so resolved anew) later
    ("true", "", False),                          # no such container / unreadable
])
def test_a_gateway_that_ran_through_a_dockerd_restart_is_restarted(state, started, stale):
    dockerd_start = 1_700_000_000.0  # 2023-11-14T22:13:20Z
    docker = FakeDocker({"inspect --format {{.State.Running}} {{.State.StartedAt}}": (0, f"{state} {started}", "")})
    assert sandbox.ran_through_dockerd_restart(docker, "gw", dockerd_start) is stale
    assert sandbox.ran_through_dockerd_restart(docker, "gw", None) is False
