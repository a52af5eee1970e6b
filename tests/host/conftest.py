"""testinfra checks of a converged host.

Under Molecule (`molecule verify`) testinfra connects to the scenario's test hosts and the
settings are the scenario's group_vars. Against a real machine after a rollout:

    SANDBOX_HOST_GROUPS=ci_runners pytest --hosts=ssh://root@runner1 tests/host

Tests marked `mutates` break the host on purpose and converge it again; they need the Molecule
instance config (they never run against a real machine).
"""

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox_host import config
from sandbox_host.config.layers import DEFAULT_GROUP_VARS

REPO = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.host)


# The API key the sandbox tests hand the launcher: never a real one.
FAKE_KEY = "sk-ant-test-0000-sandbox-host-never-a-real-key"


@pytest.fixture(scope="module")
def whole_sandbox(settings):
    """Skip a module's tests where the scenario does not deploy the whole sandbox
    (``pytestmark = pytest.mark.usefixtures("whole_sandbox")``)."""
    parts = [settings.sandbox_network, settings.egress_proxy, settings.agent, settings.launcher]
    if not all(part.enabled for part in parts):
        pytest.skip("this scenario does not deploy the whole sandbox")


@pytest.fixture(scope="session")
def settings():
    groups = os.environ.get("SANDBOX_HOST_GROUPS", "test_hosts").split(",")
    return config.load(groups)


@pytest.fixture(scope="session")
def converge():
    """Run the deploy against the scenario's hosts; returns (exit code, changed ops, stderr)."""
    if "MOLECULE_INSTANCE_CONFIG" not in os.environ:
        pytest.skip("needs a Molecule test host (this test breaks the host on purpose)")

    def run(deploy="deploys/sandbox_host.py", extra_group_vars=None):
        env = dict(os.environ)
        if extra_group_vars:  # a folder layered over the scenario's group_vars (the checkout's come first anyway)
            dirs = [part for part in env.get(config.GROUP_VARS_ENV, "").split(":") if part]
            env[config.GROUP_VARS_ENV] = ":".join([*dirs, str(extra_group_vars)])
        done = subprocess.run(
            [sys.executable, str(REPO / "molecule/shared/pyinfra_run.py"), deploy],
            cwd=REPO, capture_output=True, text=True, env=env,
        )
        last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "{}"
        return done.returncode, json.loads(last).get("changed_operations", []), done.stderr

    return run


def docker_json(host, *args):
    """Run a docker CLI command that prints JSON on the host and parse it."""
    out = host.check_output("docker " + " ".join(args))
    return json.loads(out)


def write_file(host, path, text):
    """Overwrite a file on the test host, as a person editing it by hand would."""
    host.check_output(f"printf '%s' {shlex.quote(text)} > {shlex.quote(path)}")
