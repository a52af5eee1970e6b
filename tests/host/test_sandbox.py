"""The sandbox on a converged host: images, networks, the proxy, and the launcher driving the agent.

`agent-sandbox run DIR -- CMD` is what a person runs (interactively, without CMD); here the
command is `claude --version` or a shell probe instead of a session.
"""

import json
import shlex

import pytest

from conftest import FAKE_KEY

pytestmark = pytest.mark.usefixtures("whole_sandbox")
PROJECT = "/srv/sandbox-host-test-project"


@pytest.fixture(scope="module")
def project(host):
    host.check_output(f"mkdir -p {PROJECT} && echo hello > {PROJECT}/marker.txt && chown -R 1000:1000 {PROJECT}")
    return PROJECT


def sandbox(host, *command, key=FAKE_KEY):
    """Run the launcher as a user would, the API key in its environment only."""
    argv = " ".join(shlex.quote(part) for part in command)
    return host.run(f"ANTHROPIC_API_KEY={key} agent-sandbox {argv}")


def test_images_built(host, settings):
    for image in (f"{settings.agent.image_name}:latest", f"{settings.egress_proxy.image}:latest"):
        assert host.run(f"docker image inspect {image}").rc == 0, image


def test_internal_network_has_no_gateway_and_no_ipv6(host, settings):
    net = json.loads(host.check_output(f"docker network inspect {settings.sandbox_network.internal_network}"))[0]
    assert net["Internal"] is True and net["EnableIPv6"] is False
    assert net["Options"]["com.docker.network.bridge.name"] == settings.sandbox_network.internal_bridge
    assert net["IPAM"]["Config"][0]["Subnet"] == settings.sandbox_network.internal_subnet


def test_proxy_runs_at_its_fixed_ip(host, settings):
    proxy = json.loads(host.check_output(f"docker inspect {settings.egress_proxy.container_name}"))[0]
    assert proxy["State"]["Running"] is True
    internal = proxy["NetworkSettings"]["Networks"][settings.sandbox_network.internal_network]
    assert internal["IPAddress"] == settings.sandbox_network.proxy_ip
    assert proxy["HostConfig"]["CapDrop"] == ["ALL"] or "ALL" in proxy["HostConfig"]["CapDrop"]


def test_launcher_installed(host, settings):
    launcher = host.file(settings.launcher.install_path)
    assert launcher.is_file and launcher.mode == 0o755
    config = json.loads(host.file(settings.launcher.config_path).content_string)
    assert FAKE_KEY not in json.dumps(config)


def test_run_starts_the_agent_with_the_project_at_workspace(host, settings, project):
    done = sandbox(host, "run", project, "--", "claude", "--version")
    assert done.rc == 0, done.stderr
    assert settings.agent.claude_code_version in done.stdout


def test_run_sees_the_project_as_non_root(host, project):
    done = sandbox(host, "run", project, "--", "sh", "-c", "id -u; cat /workspace/marker.txt; touch /workspace/from-agent")
    assert done.rc == 0, done.stderr
    uid, content = done.stdout.split()[:2]
    assert uid != "0" and content == "hello"
    assert host.file(f"{project}/from-agent").exists


def test_runtime_follows_the_gvisor_setting(host, settings, project):
    done = sandbox(host, "run", project, "--", "uname", "-r")
    assert done.rc == 0, done.stderr
    under_gvisor = done.stdout.strip() != host.check_output("uname -r")
    wanted = settings.gvisor.enabled and settings.agent.use_gvisor
    # A runtime the deploy recorded as failing agent operations (Debian's runsc: no statx) is
    # left for runc, with a warning (issue 13; tests/host/test_runtime_check.py).
    check = host.file(settings.gvisor.runtime_check_file)
    passes = not check.exists or json.loads(check.content_string)["ok"]
    assert under_gvisor is (wanted and passes)
    if wanted and not passes:
        assert "runs under runc" in done.stderr


def test_missing_credentials_is_a_clear_error(host, project):
    done = host.run(f"env -u ANTHROPIC_API_KEY -u CLAUDE_CODE_OAUTH_TOKEN HOME=/nonexistent "
                    f"agent-sandbox run {project} --fresh-creds -- true")
    assert done.rc != 0
    assert "credentials" in (done.stderr + done.stdout).lower()


def test_secret_stays_out_of_docker_and_the_agent_environment(host, settings, project):
    started = sandbox(host, "start", project)
    assert started.rc == 0, started.stderr
    try:
        name = settings.launcher.container_name
        assert FAKE_KEY not in host.check_output(f"docker inspect {name}")
        environ = host.run(f"docker exec {name} sh -c 'cat /proc/[0-9]*/environ 2>/dev/null | tr \"\\0\" \"\\n\"'")
        assert FAKE_KEY not in environ.stdout
        image = f"{settings.agent.image_name}:latest"
        assert FAKE_KEY not in host.check_output(f"docker history --no-trunc {image}")
        # find, not stat: coreutils' stat uses statx(2), which Debian's 2022 runsc does not implement.
        mode = host.check_output(f"docker exec {name} sh -c 'find $HOME/.claude/.api-key -printf %m'")
        assert mode == "600"
    finally:
        sandbox(host, "stop")
