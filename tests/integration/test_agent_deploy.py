"""The agent image and launcher deploys, run by pyinfra on this machine (@local) twice: the first
run builds and installs, the second changes nothing; the installed launcher works.

    pytest -m host tests/integration/test_agent_deploy.py

Uses names and paths of its own (image sandbox-agent-deploytest, files under a temp folder), the
dev group's settings otherwise. Needs root, Docker and the base image.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_agent_image import docker, docker_usable, image_settings  # noqa: E402

pytestmark = [
    pytest.mark.host,
    pytest.mark.skipif(not docker_usable(), reason="Docker is not available"),
    pytest.mark.skipif(os.geteuid() != 0, reason="the deploy installs files as root"),
]
REPO = Path(__file__).resolve().parents[2]
IMAGE = "sandbox-agent-deploytest"

DEPLOY = """
from pyinfra import host

from sandbox_host.roles.agent.deploy import agent_image
from sandbox_host import config
from sandbox_host.roles.images import deploy as images
from sandbox_host.roles.launcher.deploy import launcher

settings = config.load(host.groups)
settings = settings.model_copy(update={{
    "images": settings.images.model_copy(update={{"extra_ca_certificates": {cas!r}}}),
    "agent": settings.agent.model_copy(update={{"image_name": "{image}", "uid": 1500, "gid": 1500}}),
    "launcher": settings.launcher.model_copy(update={{
        "install_path": "{root}/bin/agent-sandbox", "config_path": "{root}/etc/config.json",
        "build_context_dir": "{root}/share"}}),
}})
images.base_image(settings.images)
agent_image(settings.agent, settings.images)
launcher(settings.launcher_sections())
"""


@pytest.fixture(autouse=True, scope="module")
def local_docker_only(request):
    """Deploys to this machine, not to a converged test host: left out of testinfra runs."""
    if request.config.getoption("ansible_inventory", None) or request.config.getoption("hosts", None):
        pytest.skip("deploys to the local machine; not part of a testinfra run against test hosts")


def deploy(deploy_file: Path) -> dict[str, list[str]]:
    """Run the deploy; operation name -> hosts it changed."""
    pyinfra = Path(sys.executable).with_name("pyinfra")
    done = subprocess.run([str(pyinfra), "-y", "--json", "inventories/dev.py", str(deploy_file)], cwd=REPO,
                          capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, done.stderr[-3000:]
    operations = json.loads(done.stdout)["results"]["operations"]
    assert not [op for op in operations if op["error"]], done.stderr[-3000:]
    return {op["name"]: op["success"] for op in operations}


def test_second_run_changes_nothing_and_the_launcher_is_installed(tmp_path):
    root = tmp_path / "agent-deploy"
    deploy_file = tmp_path / "deploy.py"
    deploy_file.write_text(textwrap.dedent(DEPLOY.format(cas=image_settings().extra_ca_certificates, image=IMAGE,
                                                          root=root)))
    try:
        first = deploy(deploy_file)
        second = deploy(deploy_file)
        assert any("agent-sandbox installed" in name and hosts for name, hosts in first.items())
        assert {name: hosts for name, hosts in second.items() if hosts} == {}
        installed = root / "bin" / "agent-sandbox"
        assert installed.stat().st_mode & 0o777 == 0o755
        config = json.loads((root / "etc" / "config.json").read_text())
        assert config["image"] == f"{IMAGE}:latest" and config["user"]["uid"] == 1500
        assert config["build_context"] == f"{root}/share/context.tar"
        labels = json.loads(docker("image", "inspect", "--format", "{{json .Config.Labels}}", f"{IMAGE}:latest"))
        assert labels["sandbox-host.uid"] == "1500"
        # The installed launcher runs with the system python3 and reads its config.
        done = subprocess.run(["python3", str(installed), "--config", str(root / "etc" / "config.json"), "status", "--json"],
                              capture_output=True, text=True)
        assert json.loads(done.stdout)["image"] == f"{IMAGE}:latest"
    finally:
        for tag in docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}", IMAGE).split():
            docker("rmi", tag, check=False)
