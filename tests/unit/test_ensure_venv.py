"""scripts/ensure-venv.sh installs only when the venv is missing or pyproject.toml changed, so a
re-run of the main command needs no PyPI (issue: a host with broken DNS could not be repaired)."""

import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _checkout(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "ensure-venv.sh", tmp_path / "scripts")
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    # A stand-in venv: pip records each call instead of reaching an index.
    for name in ("python", "pip"):
        tool = bin_dir / name
        tool.write_text(f'#!/bin/sh\necho "{name} $*" >>"{tmp_path}/calls"\n')
        tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    return tmp_path


def _run(checkout: Path, *extras: str) -> list[str]:
    calls = checkout / "calls"
    calls.unlink(missing_ok=True)
    env = {**os.environ, "PIP_INDEX_URL": "http://127.0.0.1:9/unreachable"}
    subprocess.run(["bash", str(checkout / "scripts" / "ensure-venv.sh"), *extras], check=True, env=env,
                   capture_output=True)
    return calls.read_text().splitlines() if calls.exists() else []


def _installs(calls: list[str]) -> list[str]:
    return [call for call in calls if call.startswith("pip ")]


def test_second_run_installs_nothing(tmp_path):
    checkout = _checkout(tmp_path)
    assert "pip install -q -e ." in _run(checkout)
    again = _run(checkout)
    assert _installs(again) == []
    # Only the checkout's byte-code is brought up to date (no network).
    assert again == ["python -m compileall -q sandbox_host roles deploys"]


def test_changed_pyproject_installs_again(tmp_path):
    checkout = _checkout(tmp_path)
    _run(checkout)
    with open(checkout / "pyproject.toml", "a") as handle:
        handle.write("\n# a new dependency\n")
    assert "pip install -q -e ." in _run(checkout)


def test_test_extras_cover_the_plain_install_but_not_the_reverse(tmp_path):
    checkout = _checkout(tmp_path)
    assert "pip install -q -e .[test]" in _run(checkout, "test")
    assert _installs(_run(checkout)) == []
    assert _installs(_run(checkout, "test")) == []


def test_plain_install_then_test_extras_installs_them(tmp_path):
    checkout = _checkout(tmp_path)
    _run(checkout)
    assert "pip install -q -e .[test]" in _run(checkout, "test")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as sudo does")
def test_under_sudo_the_venv_is_made_as_the_checkouts_owner(tmp_path):
    # `sudo scripts/deploy-local.sh` from a user's own checkout must not leave .venv owned by root.
    base = Path(tempfile.mkdtemp(prefix="ensure-venv-", dir="/tmp"))
    try:
        base.chmod(0o755)
        checkout = base / "checkout"
        checkout.mkdir()
        _checkout(checkout)
        # The stand-in pip also records who ran it.
        pip = checkout / ".venv" / "bin" / "pip"
        pip.write_text(f'#!/bin/sh\necho "pip $* uid=$(id -u)" >>"{checkout}/calls"\n')
        subprocess.run(["chown", "-R", "nobody:nogroup", str(checkout)], check=True)
        calls = checkout / "calls"
        env = {**os.environ, "SUDO_USER": "nobody", "PIP_INDEX_URL": "http://127.0.0.1:9/unreachable"}
        subprocess.run(["bash", str(checkout / "scripts" / "ensure-venv.sh")], check=True, env=env,
                       capture_output=True)
        nobody = subprocess.run(["id", "-u", "nobody"], check=True, capture_output=True, text=True).stdout.strip()
        assert f"pip install -q -e . uid={nobody}" in calls.read_text().splitlines()
        assert (checkout / ".venv" / ".sandbox-host-installed").stat().st_uid == int(nobody)
    finally:
        shutil.rmtree(base)
