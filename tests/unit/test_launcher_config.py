"""The launcher's config.json as a contract: the deploy writes what agent-sandbox reads (version,
shape), agent-sandbox refuses any other version with a clear message, and both name and tag
content-addressed images the same way."""

from __future__ import annotations

import json

import pytest

from sandbox_host.config.schema import HostConfig
from sandbox_host.roles.images import operations as images
from sandbox_host.roles.launcher import agent_sandbox as sandbox
from sandbox_host.roles.launcher.config import launcher_config, render
from test_launcher import FakeDocker

DIGEST = "0123456789abcdef" * 4


def deployed(tmp_path, **overrides) -> str:
    """The configuration file a deploy with default settings writes, with ``overrides``."""
    cfg = dict(launcher_config(HostConfig().launcher_sections(), 1000, 1000), **overrides)
    path = tmp_path / "config.json"
    path.write_text(json.dumps({k: v for k, v in cfg.items() if v is not ...}))
    return str(path)


def test_config_carries_its_version_and_the_image_naming():
    cfg = launcher_config(HostConfig().launcher_sections(), 1000, 1000)
    assert cfg["version"] == 1
    assert cfg["image_naming"] == {"hash_label": "org.sandbox-host.content-hash", "tag_prefix": "c-",
                                   "tag_hex_digits": 16}


def test_what_the_deploy_writes_the_launcher_reads(tmp_path):
    cfg = launcher_config(HostConfig().launcher_sections(), 1000, 1000)
    path = tmp_path / "config.json"
    path.write_text(render(cfg))
    assert sandbox.load_config(str(path)) == cfg


def test_deploy_and_launcher_tag_an_image_alike():
    cfg = launcher_config(HostConfig().launcher_sections(), 1000, 1000)
    assert images.content_tag(DIGEST) == sandbox.content_tag(cfg, DIGEST) == "c-0123456789abcdef"


def test_update_keeps_the_deploys_tag_and_label(tmp_path):
    (tmp_path / "context.tar").write_bytes(b"tar")
    cfg = sandbox.load_config(deployed(tmp_path, build_context=str(tmp_path / "context.tar")))
    docker = FakeDocker({"image inspect": (0, DIGEST, "")})
    sandbox.rebuild(docker, cfg)
    inspect, build = (args for args, _ in docker.calls)
    assert inspect[-2:] == ['{{index .Config.Labels "org.sandbox-host.content-hash"}}', "sandbox-agent:latest"]
    assert build == ["build", "--no-cache", "--force-rm", "--tag", "sandbox-agent:latest",
                     "--tag", f"sandbox-agent:{images.content_tag(DIGEST)}",
                     "--label", f"{images.HASH_LABEL}={DIGEST}", "-"]


@pytest.mark.parametrize("version", [2, 0, None, "1", True])
def test_a_config_of_another_version_is_refused(tmp_path, capsys, version):
    path = deployed(tmp_path, version=version if version is not None else ...)
    assert sandbox.main(["--config", path, "status"]) == 2
    err = capsys.readouterr().err
    assert f"configuration {path} is version {version!r}, this agent-sandbox reads version 1" in err
    assert "run the sandbox-host deploy again" in err


def test_a_config_missing_keys_is_refused(tmp_path, capsys):
    path = deployed(tmp_path, image=..., proxy=[], image_naming={"hash_label": "x", "tag_prefix": "c-"})
    assert sandbox.main(["--config", path, "status"]) == 2
    assert capsys.readouterr().err.strip().endswith(
        "is missing or has the wrong type of: image, proxy, image_naming.tag_hex_digits")


def test_not_an_object_is_refused(tmp_path, capsys):
    (tmp_path / "config.json").write_text("[]")
    assert sandbox.main(["--config", str(tmp_path / "config.json"), "status"]) == 2
    assert "is not a JSON object" in capsys.readouterr().err


def test_the_deploy_never_writes_a_config_the_launcher_refuses():
    cfg = launcher_config(HostConfig().launcher_sections(), 1000, 1000)
    with pytest.raises(sandbox.LauncherError, match="wrong type of: container_name"):
        render(dict(cfg, container_name=None))
