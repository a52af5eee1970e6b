"""The credential gateway (issue 12): the agent never holds the real credential.

On a converged test host, a stand-in for the API (tests/host/api_standin.py: HTTPS with a
certificate from a CA this test makes) sits on the egress network under STANDIN_NAME. An overlay
converge makes it the gateway's api_host (its CA trusted by the gateway only) and the egress
proxy's only allowed name, so nothing the agent does leaves the test host. Then the launcher runs
as a person would, the real key in its environment only, and the stand-in's log shows what
arrived: through the gateway the real key, straight through the egress proxy the placeholder.
The stand-in and its CA: tests/host/api_standin_lab.py (the laptop scenario uses them too).
Under the scenario's runtime: runc in default, runsc in gvisor.
"""

from __future__ import annotations

import json
import shlex

import api_standin_lab as lab_tools
import pytest
from api_standin_lab import ASK_GATEWAY, STANDIN_NAME, make_certificates, sh

STANDIN = "sbx-gw-standin"
STANDIN_DIR = "/run/sbx-gw-standin"
PROJECT = "/srv/sandbox-host-gateway-project"
# Never a real key: shaped like one so every check (validation, headers) sees a realistic value.
REAL_KEY = "sk-ant-api03-gatewaytest-REAL-7f3c9a1e5b-never-in-the-sandbox"
REAL_OAUTH = "sk-ant-oat01-gatewaytest-REAL-oauth-2b8d4e-never-in-the-sandbox"
# What the sandbox holds instead: the user's sandbox key behind this prefix (the launcher's).
PLACEHOLDER_PREFIX = "sk-ant-api03-sandbox-"


def launcher(host, *argv: str, env: str = f"ANTHROPIC_API_KEY={REAL_KEY}", check: bool = True):
    """agent-sandbox as a person runs it: the secret in its environment only."""
    return sh(host, f"env -u ANTHROPIC_API_KEY -u CLAUDE_CODE_OAUTH_TOKEN {env} agent-sandbox "
                    + " ".join(shlex.quote(a) for a in argv), check=check)


def standin_requests(host) -> list[dict]:
    return lab_tools.standin_requests(host, STANDIN)


@pytest.fixture(scope="module")
def lab(host, settings, converge, tmp_path_factory):
    if not (settings.credential_gateway.enabled and settings.agent.enabled and settings.sandbox_network.enabled
            and settings.egress_proxy.enabled and settings.launcher.enabled):
        pytest.skip("this scenario does not deploy the sandbox with its credential gateway")
    folder = tmp_path_factory.mktemp("gateway-lab")
    certs = make_certificates(folder)
    overlay = folder / "group_vars"
    overlay.mkdir()
    (overlay / "all.yml").write_text(json.dumps({
        # The stand-in is the only name the proxy lets through: the CLI's other traffic (telemetry,
        # feature flags) is refused there, so nothing leaves the test host.
        "egress_proxy": {"allowed_domains": [STANDIN_NAME], "deny_private_destinations": False},
        "credential_gateway": {"api_host": STANDIN_NAME, "upstream_ca_certificates": [str(certs["ca.pem"])]},
    }))
    network = settings.sandbox_network
    gateway = f"{settings.credential_gateway.name_prefix}-0"  # the launcher runs as root here
    cleanup = (f"docker rm -f {STANDIN} {gateway} >/dev/null 2>&1; docker volume rm -f {gateway} >/dev/null 2>&1;"
               f" agent-sandbox stop >/dev/null 2>&1; rm -rf {STANDIN_DIR} {PROJECT}")
    try:
        host.run(cleanup)
        code, _, err = converge(extra_group_vars=str(overlay))
        assert code == 0, f"converge with the stand-in as the API failed:\n{err[-4000:]}"
        sh(host, f"mkdir -p {PROJECT} && chown 1000:1000 {PROJECT}")
        lab_tools.start_standin(host, STANDIN, network.egress_network, settings.images.base_image, STANDIN_DIR,
                                certs["server.pem"].read_text(), certs["server.key"].read_text())
        yield {"gateway": gateway, "ca": certs["ca.pem"]}
    finally:
        host.run(cleanup)
        code, _, err = converge()
        assert code == 0, f"converge back to the scenario's settings failed:\n{err[-4000:]}"


def test_request_through_the_gateway_arrives_with_the_real_key(host, lab):
    done = launcher(host, "run", "--fresh-creds", PROJECT, "--", "bash", "-c", ASK_GATEWAY)
    assert "standin-reply-ok" in done.stdout, done.stdout + done.stderr
    last = standin_requests(host)[-1]
    assert last["x-api-key"] == REAL_KEY and last["authorization"] is None, last
    assert last["host"] == STANDIN_NAME
    audit = [json.loads(line) for line in host.run(f"docker logs {lab['gateway']}").stdout.splitlines()
             if line.startswith("{")]
    assert audit and audit[-1]["decision"] == "forwarded" and audit[-1]["status"] == 200, audit[-1:]
    assert REAL_KEY not in host.run(f"docker logs {lab['gateway']} 2>&1").stdout


def test_gateway_keeps_the_credential_across_restarts_without_the_host_key(host, lab):
    sh(host, f"docker restart {lab['gateway']}")
    # No key in the launcher's environment now: the gateway's own volume still has it.
    done = launcher(host, "run", PROJECT, "--", "bash", "-c", ASK_GATEWAY, env="")
    assert "standin-reply-ok" in done.stdout, done.stdout + done.stderr
    assert standin_requests(host)[-1]["x-api-key"] == REAL_KEY


def test_sandbox_holds_only_the_placeholder(host, settings, lab):
    launcher(host, "start", "--fresh-creds", PROJECT)
    try:
        name = settings.launcher.container_name
        status = json.loads(launcher(host, "status", "--json").stdout)
        assert status["credential_mode"] == "gateway" and status["gateway_credential"] == "api-key", status
        assert lab_tools.sandbox_paths_holding(host, name, REAL_KEY) == []
        # The same search finds the placeholder where the agent keeps it: the search works.
        placeholder = sh(host, f"docker exec {name} agent-api-key").stdout.strip()
        assert placeholder.startswith(PLACEHOLDER_PREFIX) and len(placeholder) > len(PLACEHOLDER_PREFIX) + 32
        assert any(path.endswith("/.api-key") for path in lab_tools.sandbox_paths_holding(host, name, placeholder))
        env = sh(host, f"docker exec {name} sh -c 'cat /proc/[0-9]*/environ | tr \"\\0\" \"\\n\"'").stdout
        assert "ANTHROPIC_BASE_URL=http://" in env and REAL_KEY not in env
        for container in (name, lab["gateway"]):
            assert REAL_KEY not in sh(host, f"docker inspect {container}").stdout
    finally:
        launcher(host, "stop", check=False)


def test_request_past_the_gateway_carries_only_the_placeholder(host, lab):
    # Straight to the stand-in through the egress proxy (an allowed name): what the agent can send
    # without the gateway is what it holds.
    direct = ('curl -sS -k --max-time 20 -X POST "https://' + STANDIN_NAME + '/v1/messages"'
              ' -H "x-api-key: $(agent-api-key)" -d "{}"')
    done = launcher(host, "run", PROJECT, "--", "bash", "-c", direct)
    assert "standin-reply-ok" in done.stdout, done.stdout + done.stderr
    last = standin_requests(host)[-1]
    assert last["x-api-key"].startswith(PLACEHOLDER_PREFIX) and last["x-api-key"] != REAL_KEY, last
    assert all(REAL_KEY not in json.dumps(r) for r in standin_requests(host) if r["peer"] == last["peer"])


def test_claude_prints_the_stand_in_reply_through_the_gateway(host, lab):
    version = launcher(host, "run", PROJECT, "--", "claude", "--version")
    assert version.stdout.strip()
    before = len(standin_requests(host))
    done = launcher(host, "run", PROJECT, "--", "env", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",
                    "timeout", "180", "claude", "-p", "say hello", check=False)
    assert "standin-reply-ok" in done.stdout, f"exit {done.rc}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    messages = [r for r in standin_requests(host)[before:] if r["path"].startswith("/v1/messages")]
    assert messages and all(r["x-api-key"] == REAL_KEY for r in messages), messages


def test_oauth_token_gets_bearer_and_the_oauth_beta(host, lab):
    # The sandbox's placeholder token (its user's sandbox key) as the CLI sends it; the x-api-key
    # the agent adds must not reach the API.
    ask = ('curl -sS --max-time 20 -X POST "$ANTHROPIC_BASE_URL/v1/messages" -H "anthropic-beta: tools-2024"'
           ' -H "authorization: Bearer $(jq -r .claudeAiOauth.accessToken ~/.claude/.credentials.json)"'
           ' -H "x-api-key: smuggled" -d "{}"')
    done = launcher(host, "run", "--fresh-creds", PROJECT, "--", "bash", "-c", ask,
                    env=f"CLAUDE_CODE_OAUTH_TOKEN={REAL_OAUTH}")
    assert "standin-reply-ok" in done.stdout, done.stdout + done.stderr
    last = standin_requests(host)[-1]
    assert last["authorization"] == f"Bearer {REAL_OAUTH}", last
    assert last["x-api-key"] is None
    assert last["anthropic-beta"] == "tools-2024,oauth-2025-04-20"


def test_gateway_container_is_locked_down(host, settings, lab):
    info = json.loads(sh(host, f"docker inspect {lab['gateway']}").stdout)[0]
    assert info["Config"]["User"] == "www-data"
    assert info["HostConfig"]["CapDrop"] == ["ALL"] and info["HostConfig"]["ReadonlyRootfs"]
    network = settings.sandbox_network
    nets = info["NetworkSettings"]["Networks"]
    assert set(nets) == {network.internal_network, network.egress_network}
    import ipaddress
    assert ipaddress.ip_address(nets[network.internal_network]["IPAddress"]) in ipaddress.ip_network(
        network.gateway_range())
    mounts = [m for m in info["Mounts"] if m["Type"] == "volume"]
    assert [(m["Name"], m["RW"]) for m in mounts] == [(lab["gateway"], False)]
    mode = sh(host, f"docker exec {lab['gateway']} find /etc/nginx/credential/credential.conf -printf '%m %u'").stdout
    assert mode.strip() == "600 www-data"


def test_credential_that_would_inject_nginx_config_is_refused(host, settings, lab):
    image = f"{settings.credential_gateway.image}:latest"
    for bad in ('sk-ant-x";} server { listen 81; }', "sk-ant-$gw_secret-abcd", "sk-ant-a b\\c"):
        done = host.run(f"printf '%s' {shlex.quote(bad)} | docker run --rm -i --network none"
                        f" --entrypoint gateway-credential {image} install api-key")
        assert done.rc == 2, (bad, done.stdout, done.stderr)


@pytest.mark.mutates
def test_a_gateway_that_ran_through_a_dockerd_restart_is_restarted_by_the_launcher(host, settings, lab):
    """With live-restore the gateway keeps running through a hand restart of dockerd, resolving
    through a stale DNS mapping; the launcher's next run restarts it (once) and the agent's
    request goes through."""
    started = f"docker inspect --format '{{{{.State.StartedAt}}}}' {lab['gateway']}"
    # The API key in the gateway and the sandbox's placeholder for it (the tests before may have
    # left another kind): from here on nothing but the dockerd restart asks for a gateway restart.
    launcher(host, "run", "--fresh-creds", PROJECT, "--", "true")
    before = sh(host, started).stdout.strip()
    sh(host, "systemctl restart docker && timeout 60 sh -c 'until docker info >/dev/null 2>&1; do sleep 1; done'")
    assert sh(host, started).stdout.strip() == before  # live-restore: the same process runs on
    done = launcher(host, "run", PROJECT, "--", "bash", "-c", ASK_GATEWAY, env="")
    assert "standin-reply-ok" in done.stdout, done.stdout + done.stderr
    after = sh(host, started).stdout.strip()
    assert after != before
    launcher(host, "run", PROJECT, "--", "true", env="")
    assert sh(host, started).stdout.strip() == after  # started after dockerd now: left alone
    # As the deploy would: the egress proxy ran through the restart too (later checks use it).
    sh(host, f"docker restart {settings.egress_proxy.container_name}")
