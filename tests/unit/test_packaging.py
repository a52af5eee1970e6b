"""The package installs under its own name, with every folder the code imports, and the CLI."""

import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]


def _package_folders() -> set[str]:
    """Every folder with an __init__.py, named as it is installed (package-dir mapping applied)."""
    names = set()
    for package, folder in SETUPTOOLS["package-dir"].items():
        root = REPO / folder
        for init in root.rglob("__init__.py"):
            relative = init.parent.relative_to(root).parts
            names.add(".".join((package, *relative)))
    return names


def test_every_package_folder_is_listed_and_nothing_else():
    assert set(SETUPTOOLS["packages"]) == _package_folders()


def test_no_top_level_package_named_roles_is_installed():
    assert all(name.split(".")[0] == "sandbox_host" for name in SETUPTOOLS["packages"])


def test_console_script_points_at_the_cli():
    assert PYPROJECT["project"]["scripts"] == {"sandbox-host": "sandbox_host.cli:main"}


def test_cli_help_lists_the_subcommands():
    done = subprocess.run([sys.executable, "-m", "sandbox_host", "--help"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for command in ("deploy", "diagnose"):
        assert command in done.stdout
    assert "exit codes" in done.stdout


def test_bad_group_vars_exit_2_with_file_key_reason_and_no_traceback(tmp_path):
    (tmp_path / "all.yml").write_text("docker_daemon:\n  mtu: 5\n")
    done = subprocess.run(
        [sys.executable, "-m", "sandbox_host", "deploy", "@local", "--dry", "--group-vars", str(tmp_path)],
        capture_output=True, text=True,
    )
    assert done.returncode == 2
    assert f"{tmp_path}/all.yml: docker_daemon.mtu: Input should be greater than or equal to 68 (got 5)" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_deploy_file_reports_bad_group_vars_without_a_traceback(tmp_path):
    # The primary form, pyinfra's own CLI running the deploy file.
    (tmp_path / "all.yml").write_text("firewall:\n  backend: iptables-by-hand\n")
    pyinfra = Path(sys.executable).with_name("pyinfra")
    done = subprocess.run(
        [str(pyinfra), "--dry", "@local", str(REPO / "deploys" / "sandbox_host.py")],
        capture_output=True, text=True, cwd=REPO, env={"PATH": "/usr/bin:/bin", "SANDBOX_HOST_GROUP_VARS": str(tmp_path)},
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{tmp_path}/all.yml: firewall.backend:" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
