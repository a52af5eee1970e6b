"""The air-gapped agent build (agent.offline, the trixie scenario): the image came from the local
tarballs with no network, runs Claude Code, and a tampered tarball fails the build."""

import json
import shlex

import pytest

from sandbox_host.roles.agent import context
from sandbox_host.roles.agent.settings import sha512_hex

TAMPER_DIR = "/var/tmp/sandbox-host-tamper-test"


@pytest.fixture(scope="module", autouse=True)
def offline(settings):
    if not (settings.agent.enabled and settings.agent.offline):
        pytest.skip("this scenario builds the agent image from the registry")
    return settings.agent.offline


def test_image_is_labelled_with_the_tarballs_it_was_built_from(host, settings, offline):
    image = json.loads(host.check_output(f"docker image inspect {settings.agent.image_name}:latest"))[0]
    labels = image["Config"]["Labels"]
    assert labels["sandbox-host.offline-sha512"] == " ".join(
        f"{key}={sha512_hex(getattr(offline, key).integrity)}" for key, _ in context.OFFLINE_TARBALLS)
    assert labels["sandbox-host.claude-code-version"] == settings.agent.claude_code_version


def test_claude_runs_in_the_offline_image_without_any_network(host, settings):
    out = host.check_output(
        f"docker run --rm --network none --entrypoint claude {settings.agent.image_name}:latest --version")
    assert out.strip() == f"{settings.agent.claude_code_version} (Claude Code)"


def test_offline_image_holds_no_tarball(host, settings):
    # The tarballs live in the build's first stage only: nothing of them in the image's layers.
    found = host.run(f"docker run --rm --network none --entrypoint sh {settings.agent.image_name}:latest "
                     "-c 'ls /tmp/tarballs 2>&1; find / -xdev -name \"*.tgz\" 2>/dev/null | head -n 3'")
    assert "No such file" in found.stdout and ".tgz" not in found.stdout.replace("No such file", "")


def test_a_tampered_tarball_fails_the_build(host, settings):
    # The deploy's own Dockerfile, with tarballs that are not the pinned ones (as a tarball altered
    # between the deploying machine and the host would be): the build stops at the check, before
    # anything is unpacked, and names the setting.
    dockerfile = context.dockerfile(settings.agent, settings.images, 1000, 1000)
    script = "; ".join([
        f"rm -rf {TAMPER_DIR}",
        f"mkdir -p {TAMPER_DIR}/tarballs",
        f"printf '%s' {shlex.quote(dockerfile)} > {TAMPER_DIR}/Dockerfile",
        *[f"echo tampered > {TAMPER_DIR}/tarballs/{name}" for _, name in context.OFFLINE_TARBALLS],
    ])
    host.check_output(script)
    try:
        built = host.run(f"docker build --network none -t sandbox-host-tamper-test {TAMPER_DIR}")
    finally:
        host.run(f"rm -rf {TAMPER_DIR}")
    assert built.rc != 0
    output = built.stdout + built.stderr
    assert "agent.offline.node: node.tgz does not match its integrity" in output
    assert "npm install" not in output.split("does not match its integrity")[1]
    assert host.run("docker image inspect sandbox-host-tamper-test").rc != 0


BLOCK_TAG = "sandbox-host-airgap-test"


def _block_rules(uplink):
    # Nothing new leaves by the uplink, from the host (OUTPUT) or from its containers (DOCKER-USER,
    # which Docker's FORWARD jumps to first); answers on connections already open (this SSH) pass.
    match = f"-o {uplink} -m conntrack ! --ctstate ESTABLISHED,RELATED -m comment --comment {BLOCK_TAG} -j REJECT"
    return [f"OUTPUT {match}", f"DOCKER-USER {match}"]


@pytest.mark.airgap
def test_the_agent_image_builds_on_a_host_that_reaches_nothing(host, settings, converge):
    # The whole test host cut off (no registry, no mirror, no DNS), the agent image gone: the deploy
    # converges and builds it again from the tarballs. BuildKit may reuse the layers of the first
    # build from its cache; that build already ran with --network none.
    uplink = host.check_output("ip -4 route show default | awk '{print $5; exit}'")
    rules = _block_rules(uplink)
    for rule in rules:
        host.check_output(f"iptables -I {rule}")
    try:
        # -k: only whether the registry answers at all (this machine re-signs TLS with its own CA).
        assert host.run("curl -sSk -m 5 -o /dev/null https://registry.npmjs.org/").rc != 0
        assert host.run(f"docker run --rm --network bridge {settings.images.base_image} "
                        "curl -sSk -m 5 -o /dev/null https://registry.npmjs.org/").rc != 0
        host.check_output(f"docker images --format '{{{{.Repository}}}}:{{{{.Tag}}}}' {settings.agent.image_name}"
                          " | xargs -r docker rmi -f >/dev/null")
        code, changed, err = converge()
        assert code == 0, err[-3000:]
        assert any("from local tarballs) built" in name for name in changed), changed
        out = host.check_output(
            f"docker run --rm --network none --entrypoint claude {settings.agent.image_name}:latest --version")
        assert out.strip() == f"{settings.agent.claude_code_version} (Claude Code)"
    finally:
        for rule in rules:
            host.run(f"iptables -D {rule}")
