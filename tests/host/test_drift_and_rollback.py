"""The deploy repairs hand edits and never leaves a dead Docker behind."""

import json

import pytest

from conftest import write_file

pytestmark = pytest.mark.mutates

DOCKER_UP = "docker version --format '{{.Server.Version}}'"


def test_hand_edit_restores_managed_keys_and_keeps_unmanaged(host, settings, converge):
    path = settings.docker_daemon.path
    config = json.loads(host.file(path).content_string)
    config["debug"] = True  # not managed: must survive
    config["live-restore"] = not settings.docker_daemon.live_restore  # managed: must be restored
    write_file(host, path, json.dumps(config))

    code, changed, err = converge()
    assert code == 0, err
    assert any("daemon.json" in op for op in changed)
    assert any("Restart dockerd" in op for op in changed)
    after = json.loads(host.file(path).content_string)
    assert after["debug"] is True
    assert after["live-restore"] is settings.docker_daemon.live_restore
    assert host.check_output("docker info --format '{{.Debug}}'") == "true"

    # Take the unmanaged key out again by hand; the next run must find nothing to do in
    # daemon.json. The egress proxy ran through that hand restart (live-restore): its DNS mapping is
    # stale, so the run may restart it (tests/host/test_dockerd_restart.py), and that is all it does.
    del after["debug"]
    write_file(host, path, json.dumps(after, indent=2, sort_keys=True) + "\n")
    host.check_output("systemctl restart docker")
    code, changed, err = converge()
    assert code == 0, err
    proxy = f"Egress proxy | Container {settings.egress_proxy.container_name} "
    # (Whether it counts as older depends on the second both started in: /proc gives dockerd's start
    # to the second, rounded down, so a proxy started just before may pass as younger.)
    assert [op for op in changed if not op.startswith(proxy)] == [], changed


def test_config_that_kills_dockerd_is_rolled_back(host, settings, converge, tmp_path):
    path = settings.docker_daemon.path
    before = host.file(path).content_string
    # Passes the schema (extra keys are verbatim) and Docker 20.10 has no --validate, but dockerd
    # refuses to start with a key it does not know ("directives don't match any configuration option").
    (tmp_path / "all.yml").write_text("docker_daemon:\n  extra:\n    sandbox-host-no-such-option: true\n")

    code, changed, err = converge(extra_group_vars=tmp_path)
    assert code != 0, "the run must fail when dockerd does not come back"
    assert "restoring the previous" in err and "rolled back" in err, err
    assert host.run(DOCKER_UP).rc == 0, "Docker left dead"
    assert host.file(path).content_string == before
    assert "sandbox-host-no-such-option" in host.file(path + ".sandbox-host.failed").content_string

    code, changed, err = converge()
    assert (code, changed) == (0, []), err
