"""docker_daemon.config / restart, fixture style: faked facts in, exact commands out."""

import pytest
from pyinfra.api import OperationValueError
from pyinfra.facts.files import Directory, File, FileContents, Sha1File

from sandbox_host.roles.docker_daemon import daemon_json, operations
from fakehost import run_operation

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


def test_missing_file_is_staged_validated_and_marked_absent():
    commands, _ = run_operation(operations.config, facts(None), path=PATH, managed=MANAGED)
    assert commands[0] == ("upload", '{\n  "icc": false,\n  "mtu": 1450\n}\n', f"{PATH}.sandbox-host.new")
    assert commands[1:3] == [f"chown root:root {PATH}.sandbox-host.new", f"chmod 644 {PATH}.sandbox-host.new"]
    install = commands[-1]
    assert "dockerd --validate --config-file /etc/docker/daemon.json.sandbox-host.new" in install
    assert ": > /etc/docker/daemon.json.sandbox-host.absent" in install
    assert install.rstrip("'").endswith("mv /etc/docker/daemon.json.sandbox-host.new /etc/docker/daemon.json")


def test_changed_file_keeps_a_backup_for_rollback():
    lines = daemon_json.render({"debug": True, "icc": True}).splitlines()
    commands, _ = run_operation(operations.config, facts(lines), path=PATH, managed=MANAGED)
    assert "cp -p /etc/docker/daemon.json /etc/docker/daemon.json.sandbox-host.bak" in commands[-1]


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
def test_restart_is_one_script_with_rollback(init):
    commands, _ = run_operation(operations.restart, {}, path=PATH, init=init, timeout=30)
    assert len(commands) == 1
    assert commands[0].endswith(f"restart-docker {PATH} {init} 30")
    assert "restoring the previous one" in commands[0]
