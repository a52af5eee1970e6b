"""docker_daemon.config / restart, fixture style: faked facts in, exact commands out."""

import shlex
import subprocess
from pathlib import Path

import pytest
from pyinfra.api import OperationValueError
from pyinfra.facts.files import Directory, File, FileContents, Sha1File

from sandbox_host.roles.common.labels import PROBE_LABELS, SPEC_LABEL
from sandbox_host.roles.docker_daemon import daemon_json, operations
from fakehost import run_operation

ROLE_FILES = Path(operations.__file__).parent / "files"
PATH = "/etc/docker/daemon.json"
MANAGED = {"icc": False, "mtu": 1450}


def facts(lines, mode=644, user="root"):
    file_info = None if lines is None else {"mode": mode, "user": user, "group": "root", "size": 1}
    staged = PATH + operations.STAGED
    return {
        (FileContents, PATH): lines,
        (File, PATH): file_info,
        (File, staged): None,
        (Sha1File, staged): None,
        (Directory, staged): None,
        (Directory, "/etc/docker"): {"mode": 755},
    }


def test_matching_file_yields_nothing():
    lines = daemon_json.render({"debug": True, **MANAGED}).splitlines()
    commands, noops = run_operation(operations.config, facts(lines), path=PATH, managed=MANAGED)
    assert commands == [] and noops == [f"{PATH} has the managed settings"]


def install_command(staged, path):
    # The exact command line: install-daemon-json.sh's text as one argument, then its arguments.
    script = ROLE_FILES / "install-daemon-json.sh"
    return shlex.join(["sh", "-c", script.read_text(), "install-daemon-json.sh", staged, path])


def test_missing_file_is_staged_validated_and_marked_absent():
    commands, _ = run_operation(operations.config, facts(None), path=PATH, managed=MANAGED)
    assert commands[0] == ("upload", '{\n  "icc": false,\n  "mtu": 1450\n}\n', f"{PATH}.sandbox-host.new")
    assert commands[1:] == [
        f"chown root:root {PATH}.sandbox-host.new",
        f"chmod 644 {PATH}.sandbox-host.new",
        install_command(f"{PATH}.sandbox-host.new", PATH),
    ]


def test_changed_file_is_installed_by_the_same_program():
    lines = daemon_json.render({"debug": True, "icc": True}).splitlines()
    commands, _ = run_operation(operations.config, facts(lines), path=PATH, managed=MANAGED)
    assert commands[-1] == install_command(f"{PATH}.sandbox-host.new", PATH)


def test_wrong_mode_is_rewritten():
    lines = daemon_json.render(MANAGED).splitlines()
    commands, _ = run_operation(operations.config, facts(lines, mode=600), path=PATH, managed=MANAGED)
    assert commands


def test_invalid_json_on_host_stops_with_a_clear_error():
    with pytest.raises(OperationValueError, match="on the host is not valid JSON .*; fix or remove it, then rerun"):
        run_operation(operations.config, facts(["{ broken"]), path=PATH, managed=MANAGED)


def test_merged_config_dockerd_would_reject_is_refused_before_upload():
    with pytest.raises(OperationValueError, match="default-runtime 'kata' is not a registered runtime"):
        run_operation(operations.config, facts(['{"default-runtime": "kata"}']), path=PATH, managed=MANAGED)


@pytest.mark.parametrize("init", ["systemd", "sysvinit"])
def test_restart_is_one_program_with_rollback(init):
    commands, _ = run_operation(operations.restart, {}, path=PATH, init=init, timeout=30)
    restart = ROLE_FILES / "restart-dockerd.sh"
    service = ROLE_FILES.parents[1] / "common" / "files" / "dockerd-service.sh"
    assert commands == [shlex.join([
        "sh", "-c", restart.read_text(), "restart-dockerd.sh", PATH, "30", SPEC_LABEL, " ".join(PROBE_LABELS), "",
        "sh", "-c", service.read_text(), "dockerd-service.sh", "restart", init,
    ])]


# -- the programs themselves, run here with a fake docker client (tests/unit/fixtures/fake-docker) --

FAKE_DOCKER = Path(__file__).parent / "fixtures" / "fake-docker"


def docker_log(tmp_path):
    """Where the fake docker writes its calls: beside tmp_path, which must hold only daemon.json's files."""
    return tmp_path.with_name(tmp_path.name + "-docker-calls.log")


def run_restart(tmp_path, new: str, old: str | None):
    config = tmp_path / "daemon.json"
    config.write_text(new)
    if old is None:
        (tmp_path / "daemon.json.sandbox-host.absent").write_text("")
    else:
        (tmp_path / "daemon.json.sandbox-host.bak").write_text(old)
    env = {"PATH": f"{FAKE_DOCKER}:/usr/bin:/bin", "FAKE_DOCKER_CONFIG": str(config),
           "FAKE_DOCKER_LOG": str(docker_log(tmp_path))}
    # `true` stands for dockerd-service.sh restart: the fake dockerd reads the file on each call.
    return subprocess.run(
        ["sh", str(ROLE_FILES / "restart-dockerd.sh"), str(config), "1", "spec-label", "probe-a probe-b",
         "com.docker.network.driver.mtu=1400", "true"],
        env=env, capture_output=True, text=True, timeout=30,
    )


def test_restart_program_keeps_a_healthy_config_and_drops_the_backup(tmp_path):
    result = run_restart(tmp_path, new='{"healthy": 1}', old='{"old": 1}')
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["daemon.json"]


@pytest.mark.parametrize("new", ['{"healthy": 1}', '{"broken": 1}'])
def test_restart_program_stops_containers_before_and_starts_them_after(tmp_path, new):
    """Whether the new file is kept or rolled back, the containers run again afterwards."""
    result = run_restart(tmp_path, new=new, old='{"healthy": "old"}')
    assert result.returncode == (0 if "healthy" in new else 1), result.stderr
    # The fake's `docker ps --filter label=L` lists "L-1 L-2" (tests/unit/fixtures/fake-docker).
    assert docker_log(tmp_path).read_text().splitlines() == [
        "rm --force probe-a-1 probe-a-2", "rm --force probe-b-1 probe-b-2",
        "stop --time 10 spec-label-1 spec-label-2", "start spec-label-1 spec-label-2"]


def test_restart_program_rolls_back_to_the_backup(tmp_path):
    result = run_restart(tmp_path, new='{"broken": 1}', old='{"healthy": "old"}')
    assert result.returncode == 1
    assert (tmp_path / "daemon.json").read_text() == '{"healthy": "old"}'
    assert (tmp_path / "daemon.json.sandbox-host.failed").read_text() == '{"broken": 1}'
    assert "rolled back: Docker runs with the previous" in result.stderr


def test_restart_program_removes_a_config_that_was_not_there_before(tmp_path):
    result = run_restart(tmp_path, new='{"broken": 1}', old=None)
    assert result.returncode == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["daemon.json.sandbox-host.failed"]
    # No daemon.json at all: the fake dockerd does not come back either, and the program says so.
    assert "Docker does not start even with the previous" in result.stderr
