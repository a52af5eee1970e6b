"""The Molecule harness catches what it exists to catch (so nobody can break it silently).

Runs the `harness` scenario: a deploy whose operation always changes must fail Molecule's
idempotence step, and a verification that fails must fail `molecule verify`.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("molecule") is None, reason="molecule is not installed")


def molecule(*args):
    return subprocess.run(
        ["molecule", *args, "-s", "harness"], cwd=REPO, capture_output=True, text=True, env=os.environ
    )


@pytest.fixture(scope="module")
def converged():
    assert molecule("create").returncode == 0
    first = molecule("converge")
    yield first
    molecule("destroy")


def test_first_converge_succeeds(converged):
    assert converged.returncode == 0, converged.stdout[-2000:]


def test_idempotence_step_fails_on_a_change(converged):
    run = molecule("idempotence")
    assert run.returncode != 0
    assert "Idempotence test failed" in run.stdout + run.stderr


def test_failing_verification_fails_molecule(converged):
    run = molecule("verify")
    assert run.returncode != 0
    assert "test_file_the_deploy_never_creates" in run.stdout + run.stderr
