"""The agent image, built on this machine's Docker: the agent runs, as the right non-root user,
trusting the extra CAs, with no secret in any layer.

    pytest -m host tests/integration/test_agent_image.py

Needs Docker and the base image (group_vars: images.base_image; SANDBOX_TEST_BASE_IMAGE overrides)
and the npm registry. Skips cleanly without Docker. Extra CAs: images.extra_ca_certificates, else
SANDBOX_TEST_EXTRA_CA (default: this host's bundle, which is what makes npm reachable here).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from sandbox_host.roles.agent import context
from sandbox_host.roles.agent.settings import AgentSettings
from sandbox_host import config

pytestmark = pytest.mark.host

HOST_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
TEST_REPO = "sandbox-agent-test"


def docker(*args: str, check: bool = True, input: bytes | None = None, timeout: float = 600) -> str:
    done = subprocess.run(["docker", *args], input=input, capture_output=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {done.stderr.decode(errors='replace')}")
    return done.stdout.decode(errors="replace").strip()


def docker_usable() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "version"], capture_output=True).returncode == 0


def image_settings():
    images = config.load(["dev"]).images
    updates = {}
    if os.environ.get("SANDBOX_TEST_BASE_IMAGE"):
        updates["base_image"] = os.environ["SANDBOX_TEST_BASE_IMAGE"]
    if not images.extra_ca_certificates:
        extra = os.environ.get("SANDBOX_TEST_EXTRA_CA", HOST_BUNDLE)
        updates["extra_ca_certificates"] = [extra] if extra and Path(extra).is_file() else []
    return images.model_copy(update=updates)


def build_agent_image(uid: int = 1000, gid: int = 1000, agent: AgentSettings | None = None) -> str:
    """Build the image as the deploy would (same context, same CAs); tag it by its content."""
    agent = agent or AgentSettings()
    images = image_settings()
    if not docker("image", "ls", "--quiet", images.base_image):
        pytest.skip(f"base image {images.base_image} is not on this host (scripts/build-base-image.sh)")
    tar = context.context_tar(context.full_context(agent, images, uid, gid))
    tag = f"{TEST_REPO}:{hashlib.sha256(tar).hexdigest()[:16]}"
    # Built every session (all cache hits when nothing changed): a tag left by an earlier run may
    # come from another builder's cache, and the cache test below compares with this build.
    docker("build", "--force-rm", "--tag", tag, "-", input=tar, timeout=1200)
    return tag


needs_docker = pytest.mark.skipif(not docker_usable(), reason="Docker is not available")


@pytest.fixture(autouse=True, scope="module")
def local_docker_only(request):
    """These tests build on this machine's Docker, not on a converged test host: a testinfra run
    against other hosts (molecule verify, --hosts) leaves them out."""
    if request.config.getoption("ansible_inventory", None) or request.config.getoption("hosts", None):
        pytest.skip("builds on the local Docker; not part of a testinfra run against test hosts")


@pytest.fixture(scope="session")
def agent_image():
    if not docker_usable():
        pytest.skip("Docker is not available")
    return build_agent_image()


def in_image(image: str, script: str, *extra: str) -> str:
    return docker("run", "--rm", "--network", "none", *extra, image, "bash", "-c", script)


@needs_docker
def test_claude_runs_on_the_required_node(agent_image):
    out = in_image(agent_image, "claude --version; node --version")
    version, node = out.splitlines()[-2:]
    assert version.startswith(f"{AgentSettings().claude_code_version} ")
    assert int(node.lstrip("v").split(".")[0]) >= AgentSettings().node_min_major


@needs_docker
def test_native_binary_is_the_linux_x64_one(agent_image):
    # The postinstall copies the platform package's binary over the placeholder; if npm had
    # skipped the optional dependency, bin/claude.exe would still be the small stub.
    out = in_image(agent_image, "f=$(readlink -f $(command -v claude)); stat -c %s $f; head -c 4 $f | od -An -c")
    size, magic = out.splitlines()
    assert int(size) > 50_000_000
    assert magic.split() == ["177", "E", "L", "F"]


@needs_docker
def test_runs_as_non_root_user(agent_image):
    assert in_image(agent_image, "id -u; id -g; id -un").splitlines() == ["1000", "1000", "agent"]


@needs_docker
@pytest.mark.parametrize("uid,gid", [(2345, 2346), (65534, 65534)], ids=["new ids", "ids of nobody/nogroup"])
def test_uid_and_gid_follow_the_setting(uid, gid):
    # 65534 is taken in Debian (nobody, home /nonexistent): the account is renamed and given a
    # home, and the entrypoint (which writes ~/.gitconfig) works without the launcher's tmpfs.
    image = build_agent_image(uid, gid)
    out = docker("run", "--rm", "--network", "none", image, "bash", "-c",
                 "id -u; id -g; id -un; stat -c %u:%g ~ ~/.claude /workspace; git config --global --get safe.directory")
    assert out.splitlines() == [str(uid), str(gid), "agent", f"{uid}:{gid}", f"{uid}:{gid}", f"{uid}:{gid}", "/workspace"]


@needs_docker
def test_tools_and_environment(agent_image):
    out = in_image(agent_image, "for t in git rg jq curl; do command -v $t >/dev/null && echo $t; done; "
                                "echo $NODE_OPTIONS; echo $CLAUDE_CONFIG_DIR; echo $DISABLE_AUTOUPDATER")
    assert out.splitlines() == ["git", "rg", "jq", "curl", "--dns-result-order=ipv4first", "/home/agent/.claude", "1"]


def make_ca_and_leaf(directory: Path) -> None:
    """A CA made for this test only, and a localhost certificate it signed."""
    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=directory)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=agent test CA",
            "-keyout", "ca.key", "-out", "ca.pem")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-addext",
            "subjectAltName=DNS:localhost", "-keyout", "leaf.key", "-out", "leaf.csr")
    openssl("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "1", "-copy_extensions", "copy", "-out", "leaf.pem")
    # Readable by the image's non-root user through the bind mount (the key is a throwaway).
    directory.chmod(0o755)
    for name in ("leaf.key", "leaf.pem"):
        (directory / name).chmod(0o644)


HTTPS_SERVER = (
    "const fs=require('fs');require('https').createServer({key:fs.readFileSync('/certs/leaf.key'),"
    "cert:fs.readFileSync('/certs/leaf.pem')},(q,r)=>r.end('ok')).listen(8443,'127.0.0.1')"
)
NODE_CLIENT = (
    "require('https').get('https://localhost:8443',r=>{r.on('data',d=>process.stdout.write(d))})"
    ".on('error',e=>{console.log('node: '+e.code);process.exit(1)})"
)


@needs_docker
def test_extra_ca_is_trusted_by_the_os_store_and_node(tmp_path):
    # A server inside the image presents a certificate from a CA that only the image's extra CAs
    # know: curl (OS store) and Node (NODE_EXTRA_CA_CERTS) must both accept it.
    make_ca_and_leaf(tmp_path)
    images = image_settings()
    images = images.model_copy(update={"extra_ca_certificates": [*images.extra_ca_certificates, str(tmp_path / "ca.pem")]})
    tar = context.context_tar(context.full_context(AgentSettings(), images, 1000, 1000))
    tag = f"{TEST_REPO}:ca-{hashlib.sha256(tar).hexdigest()[:12]}"
    docker("build", "--force-rm", "--tag", tag, "-", input=tar, timeout=1200)
    try:
        out = in_image(tag, f"node -e \"{HTTPS_SERVER}\" & for i in $(seq 50); do "
                            "curl -s -o /dev/null http://127.0.0.1:8443 2>/dev/null; [ $? = 52 ] && break; sleep 0.1; done; "
                            "curl -sS https://localhost:8443 && echo ' curl'; "
                            f"node -e \"{NODE_CLIENT}\" && echo ' node'",
                       "--volume", f"{tmp_path}:/certs:ro")
        assert out.splitlines() == ["ok curl", "ok node"]
    finally:
        docker("rmi", tag, check=False)


@needs_docker
def test_without_the_extra_ca_the_same_server_is_refused(agent_image, tmp_path):
    # The check above can fail: the image built without the test CA rejects the same server.
    make_ca_and_leaf(tmp_path)
    # Wait until the server answers (plain HTTP to it: an empty reply, curl exit 52) before the
    # refusals count: a server not up yet would fail them too, for the wrong reason.
    out = in_image(agent_image, f"node -e \"{HTTPS_SERVER}\" & for i in $(seq 50); do "
                                "curl -s -o /dev/null http://127.0.0.1:8443 2>/dev/null; [ $? = 52 ] && break; sleep 0.1; done; "
                                "curl -sS https://localhost:8443 2>&1 | head -c 60; echo; "
                                f"node -e \"{NODE_CLIENT}\"; true", "--volume", f"{tmp_path}:/certs:ro")
    assert "certificate" in out.splitlines()[0].lower()
    assert "node: " in out and "ok" not in out


@needs_docker
def test_build_context_holds_no_secret_and_history_shows_none(agent_image, monkeypatch):
    secret = "sk-ant-api03-CONTEXT-CANARY-0000"
    monkeypatch.setenv("ANTHROPIC_API_KEY", secret)
    files = context.full_context(AgentSettings(), image_settings(), 1000, 1000)
    assert not any(secret.encode() in data for data in files.values())
    history = docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", agent_image)
    assert "ANTHROPIC_API_KEY" not in history and "OAUTH_TOKEN" not in history
    config_env = json.loads(docker("image", "inspect", "--format", "{{json .Config.Env}}", agent_image))
    assert not [e for e in config_env if e.startswith(("ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN"))]


@needs_docker
def test_unchanged_context_builds_from_cache(agent_image):
    # The same context again: every step is a cache hit and the image ID is the same (what the
    # content tag in roles/images relies on to yield nothing on a second run).
    tar = context.context_tar(context.full_context(AgentSettings(), image_settings(), 1000, 1000))
    done = subprocess.run(["docker", "build", "--quiet", "-"], input=tar, capture_output=True, check=True)
    assert done.stdout.decode().strip() == docker("image", "inspect", "--format", "{{.Id}}", agent_image)


@needs_docker
def test_node_from_the_base_image_and_an_existing_uid_1000_account(agent_image):
    # A stand-in for node:22-bookworm-slim (no registry here): node 22 + npm, an account "node"
    # holding UID 1000, and a non-root USER at the end.
    base = f"{TEST_REPO}:node-base"
    dockerfile = f"FROM {agent_image}\nUSER root\nRUN usermod --login node --home /home/node --move-home agent\nUSER node\n"
    docker("build", "--force-rm", "--tag", base, "-", input=dockerfile.encode())
    agent = AgentSettings(node_source="base_image")
    images = image_settings().model_copy(update={"base_image": base})
    tar = context.context_tar(context.full_context(agent, images, 1000, 1000))
    tag = f"{TEST_REPO}:from-node-base"
    try:
        docker("build", "--force-rm", "--tag", tag, "-", input=tar, timeout=1200)
        out = in_image(tag, "id -un; id -u; getent passwd node || echo no-node; claude --version; node --version")
        user, uid, node_account, version, node = out.splitlines()
        assert (user, uid, node_account) == ("agent", "1000", "no-node")
        assert version.startswith(AgentSettings().claude_code_version) and node.startswith("v22.")
    finally:
        docker("rmi", tag, base, check=False)
