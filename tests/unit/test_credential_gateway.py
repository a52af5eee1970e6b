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


def test_nginx_conf_forwards_to_the_api_host_only_with_verification():
    conf = nginx.render_nginx_conf(CredentialGatewaySettings(api_host="api.example.com", api_port=8443))
    assert 'set $gw_upstream "api.example.com:8443";' in conf
    assert "proxy_pass https://$gw_upstream;" in conf
    assert "proxy_ssl_verify on;" in conf and "proxy_ssl_name api.example.com;" in conf
    assert "proxy_set_header Host api.example.com:8443;" in conf
    assert "include /etc/nginx/credential/*.conf;" in conf


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


def gateway_docker(stored: str | None = None):
    return FakeDocker({
        "volume inspect": (0 if stored else 1, "", ""),
        "inspect --format {{.State.Running}}": (0, "true", ""),
        "exec agent-sandbox-gateway-1000 gateway-credential status": (0 if stored else 3, stored or "", ""),
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
    assert installed == [(["exec", "--interactive", "sbx", "agent-credentials", "install", "api-key", "--force"],
                          sandbox.PLACEHOLDERS["api-key"])]
    run = next(args for args, _ in docker.calls if args[:2] == ["run", "--detach"])
    assert "ANTHROPIC_BASE_URL=http://172.30.0.225:8080" in run
    assert "NO_PROXY=localhost,127.0.0.1,172.30.0.225" in run and run[-1] == cfg()["image"]
    assert SECRET.decode() not in docker.argv_text()


def test_credentials_json_stays_in_the_sandbox_with_a_warning(capsys):
    docker = gateway_docker()
    creds = sandbox.Credentials("credentials-json", b"{}", "~/.claude/.credentials.json")
    assert sandbox.choose_gateway(docker, cfg(), creds, fresh=False) is None
    assert "refresh token" in capsys.readouterr().err
    assert docker.calls == []


def test_stored_credential_is_kept_unless_fresh(monkeypatch):
    monkeypatch.setattr(sandbox, "invoking_uid", lambda: 1000)
    creds = sandbox.Credentials("oauth-token", SECRET, "$CLAUDE_CODE_OAUTH_TOKEN")
    docker = gateway_docker(stored="api-key")
    route = sandbox.choose_gateway(docker, cfg(), creds, fresh=False, say=lambda m: None)
    assert route.kind == "api-key" and not any("install" in args for args, _ in docker.calls)
    docker = gateway_docker(stored="api-key")
    route = sandbox.choose_gateway(docker, cfg(), creds, fresh=True, say=lambda m: None)
    assert route.kind == "oauth-token" and any(args[-2:] == ["install", "oauth-token"] for args, _ in docker.calls)


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
