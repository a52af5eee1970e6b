"""Files that hold proxy credentials never show them in pyinfra's output, not even with --diff
(pyinfra's files.put prints a text file's old and new lines there): a real pyinfra run against a
throwaway container, creating the files and then changing the password in them."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEPLOY = Path(__file__).with_name("secret_files_deploy.py")
IMAGE = "sandbox-host-base:bookworm"
FILES = [
    "/etc/systemd/system/docker.service.d/http-proxy.conf",
    "/etc/default/docker",
    "/etc/sandbox-host/build-proxy.env",
]


def _docker(*args, check=True):
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=120)


@pytest.fixture
def container():
    if _docker("image", "inspect", IMAGE, check=False).returncode != 0:
        pytest.skip(f"{IMAGE} is not built (scripts/setup-test-machine.sh)")
    name = f"sandbox-host-itest-secrets-{uuid.uuid4().hex[:8]}"
    _docker("run", "-d", "--name", name, "--network", "none", IMAGE, "sleep", "600")
    yield name
    _docker("rm", "-f", name, check=False)


def deploy(container, proxy):
    env = dict(os.environ, SECRET_TEST_PROXY=proxy)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [str(Path(sys.executable).with_name("pyinfra")), "-y", "--diff", "-vv", f"@docker/{container}", str(DEPLOY)],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def test_proxy_credentials_never_printed_even_with_diff(container):
    first, second = "FiRsT-pw-4711", "SeCoNd-pw-0815"
    outputs = [deploy(container, f"http://corp-user:{first}@proxy.corp.test:3128"),
               deploy(container, f"http://corp-user:{second}@proxy.corp.test:3128")]
    # The run did write them: the password is in each file, and the files are not world-readable
    # where they are root-only.
    for path in FILES:
        assert second in _docker("exec", container, "cat", path).stdout, path
    peer = _docker("exec", container, "sh", "-c", "cat /etc/sandbox-host/egress-proxy/*").stdout
    assert f"login=corp-user:{second}" in peer, peer
    assert _docker("exec", container, "stat", "-c", "%a", "/etc/sandbox-host/build-proxy.env").stdout.strip() == "600"
    leaked = [pw for pw in (first, second) for out in outputs if pw in out]
    assert leaked == [], "a proxy password was printed by pyinfra"
    # The second run changed the files (so a diff would have been shown for them).
    assert "Write dockerd's proxy drop-in" in outputs[1]
