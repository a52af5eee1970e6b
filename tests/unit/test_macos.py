"""The macos role against faked Mac facts (no Mac here): which Docker is used, what is installed,
the exact commands and files for Docker Desktop and Colima, gVisor or a plain statement of runc,
agent.require_gvisor, and the keychain entry checked for presence only."""

from __future__ import annotations

import json

import pytest
import yaml

from fakehost import run_operation
from pyinfra.facts.brew import BrewPackages
from pyinfra.facts.files import FileContents
from pyinfra.operations import brew
from sandbox_host.roles.agent.settings import AgentSettings
from sandbox_host.roles.docker_daemon.settings import DockerDaemonSettings
from sandbox_host.roles.macos import deploy, operations
from sandbox_host.roles.macos.facts import ColimaRunning, DockerProviders, DockerRuntimes, KeychainHasCredentials
from sandbox_host.roles.macos.settings import MacosSettings

DAEMON = "/Users/ann/.docker/daemon.json"
COLIMA = "/Users/ann/.colima/default/colima.yaml"


# --- facts -------------------------------------------------------------------------------------


def test_docker_providers_fact():
    assert DockerProviders().process(["docker_desktop", "docker_cli", "brew", "junk"]) == [
        "brew", "docker_cli", "docker_desktop"]
    assert DockerProviders().process([]) == []
    assert "test -d /Applications/Docker.app" in DockerProviders().command()


def test_colima_running_fact():
    assert ColimaRunning().command("default") == (
        "colima status --profile default >/dev/null 2>&1 && echo running || echo stopped")
    assert ColimaRunning().process(["running"]) is True
    assert ColimaRunning().process(["stopped"]) is False


def test_docker_runtimes_fact():
    assert DockerRuntimes().process(['{"io.containerd.runc.v2":{},"runc":{},"runsc":{"path":"/usr/local/bin/runsc"}}']) == [
        "io.containerd.runc.v2", "runc", "runsc"]
    assert DockerRuntimes().process([]) == []
    assert DockerRuntimes().process(["Cannot connect to the Docker daemon"]) == []


def test_keychain_fact_never_asks_for_the_secret():
    command = KeychainHasCredentials().command()
    assert command == ("security find-generic-password -s 'Claude Code-credentials' >/dev/null 2>&1 "
                       "&& echo present || echo absent")
    assert " -w" not in command and " -g" not in command
    assert KeychainHasCredentials().process(["present"]) is True
    assert KeychainHasCredentials().process(["absent"]) is False


# --- which Docker ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "settings,found,provider",
    [
        ({}, ["docker_desktop", "docker_cli"], "docker_desktop"),
        ({}, ["docker_desktop", "colima", "docker_cli"], "docker_desktop"),
        ({}, ["colima", "docker_cli", "brew"], "colima"),
        ({"docker": "colima"}, ["docker_desktop", "colima"], "colima"),
        ({"install_colima": True}, ["brew"], "colima"),
        ({"docker": "colima", "install_colima": True}, ["docker_desktop", "brew"], "colima"),
    ],
)
def test_choose_provider(settings, found, provider):
    assert deploy.choose_provider(MacosSettings(**settings), found) == provider


@pytest.mark.parametrize(
    "settings,found,message",
    [
        ({}, ["brew"], "neither Docker Desktop nor Colima is installed: install Docker Desktop, or set "
                       "macos.install_colima: true"),
        ({"install_colima": True}, [], "needs Homebrew"),
        ({"docker": "docker_desktop"}, ["colima"], "/Applications/Docker.app is not installed"),
        ({"docker": "colima"}, ["docker_desktop"], "neither Docker Desktop nor Colima"),
    ],
)
def test_choose_provider_says_what_to_install(settings, found, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        deploy.choose_provider(MacosSettings(**settings), found)


def test_homebrew_installs_colima_and_the_docker_cli():
    commands, _ = run_operation(brew.packages, {(BrewPackages,): {}}, packages=["colima", "docker"])
    assert commands == ["brew install colima docker"]
    commands, _ = run_operation(brew.packages, {(BrewPackages,): {"colima": ["0.8.1"], "docker": ["27.3.1"]}},
                                packages=["colima", "docker"])
    assert commands == []


# --- gVisor or runc -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "provider,macos,agent,registered,expected",
    [
        ("colima", {}, {}, ["runc"], (True, "runsc is installed in Colima's VM and registered as runsc: "
                                            "the sandbox runs under gVisor")),
        ("colima", {}, {}, ["runc", "runsc"], (False, "runsc is registered with Docker already: the sandbox runs under gVisor")),
        ("docker_desktop", {}, {}, ["runc"], (False, "Docker Desktop's VM cannot take an extra runtime: "
                                                     "the sandbox runs under runc (no gVisor)")),
        ("colima", {"colima_gvisor": False}, {}, ["runc"], (False, "macos.colima_gvisor is false: the sandbox runs under runc (no gVisor)")),
        ("docker_desktop", {}, {"use_gvisor": False}, [], (False, "agent.use_gvisor is false: the sandbox runs under runc")),
        ("docker_desktop", {}, {"require_gvisor": True}, ["runsc"], (False, "runsc is registered with Docker already: "
                                                                             "the sandbox runs under gVisor")),
    ],
)
def test_gvisor_plan(provider, macos, agent, registered, expected):
    assert deploy.gvisor_plan(provider, MacosSettings(**macos), AgentSettings(**agent), "runsc", registered) == expected


def test_require_gvisor_stops_docker_desktop():
    with pytest.raises(ValueError, match="agent.require_gvisor is set, but Docker Desktop's VM cannot take an extra runtime"):
        deploy.gvisor_plan("docker_desktop", MacosSettings(), AgentSettings(require_gvisor=True), "runsc", ["runc"])


def test_managed_daemon_options():
    assert deploy.managed_daemon_options(DockerDaemonSettings(), None) == {}
    assert deploy.managed_daemon_options(DockerDaemonSettings(mtu=1400, dns=["1.1.1.1"]), "runsc") == {
        "dns": ["1.1.1.1"], "mtu": 1400, "runtimes": {"runsc": {"path": "/usr/local/bin/runsc"}}}


# --- Docker Desktop's daemon.json --------------------------------------------------------------


def test_docker_desktop_daemon_json_merged_and_uploaded():
    existing = ['{', '  "builder": {"gc": {"enabled": true}},', '  "mtu": 1500', '}']
    commands, _ = run_operation(operations.docker_desktop_daemon, {(FileContents, DAEMON): existing},
                            path=DAEMON, managed={"mtu": 1400, "dns": ["10.0.0.53"]})
    assert commands[0] == "mkdir -p /Users/ann/.docker"
    assert commands[2] == f"chmod 644 {DAEMON}"
    kind, uploaded, dest = commands[1]
    assert (kind, dest) == ("upload", DAEMON)
    assert json.loads(uploaded) == {"builder": {"gc": {"enabled": True}}, "mtu": 1400, "dns": ["10.0.0.53"]}


def test_docker_desktop_daemon_json_unchanged_yields_nothing():
    text = json.dumps({"dns": ["10.0.0.53"], "mtu": 1400}, indent=2, sort_keys=True)
    commands, noops = run_operation(operations.docker_desktop_daemon, {(FileContents, DAEMON): text.splitlines()},
                                    path=DAEMON, managed={"mtu": 1400, "dns": ["10.0.0.53"]})
    assert commands == [] and noops == [f"{DAEMON} has the managed settings"]


def test_docker_desktop_restart_runs_the_script():
    commands, _ = run_operation(operations.docker_desktop_restart, {}, timeout=90)
    assert commands[0].startswith("sh -c ") and commands[0].endswith(" restart-docker-desktop 90")
    assert "osascript -e" in commands[0] and "open -a Docker" in commands[0]


# --- Colima ------------------------------------------------------------------------------------

COLIMA_YAML = """cpu: 2
memory: 4
runtime: docker
docker: {}
provision: []
"""


def test_colima_config_gets_docker_settings_and_the_runsc_step():
    provision = operations.provision_entry("https://gvisor.example/release")
    commands, _ = run_operation(operations.colima_config, {(FileContents, COLIMA): COLIMA_YAML.splitlines()},
                            path=COLIMA, managed=deploy.managed_daemon_options(DockerDaemonSettings(mtu=1400), "runsc"),
                            provision=provision)
    assert [commands[0], commands[2], commands[1][0], commands[1][2]] == [
        "mkdir -p /Users/ann/.colima/default", f"chmod 644 {COLIMA}", "upload", COLIMA]
    written = yaml.safe_load(commands[1][1])
    assert written["cpu"] == 2 and written["runtime"] == "docker"
    assert written["docker"] == {"mtu": 1400, "runtimes": {"runsc": {"path": "/usr/local/bin/runsc"}}}
    assert len(written["provision"]) == 1 and written["provision"][0]["mode"] == "system"
    script = written["provision"][0]["script"]
    assert script.startswith("# sandbox-host: runsc in Colima's VM\nexport RELEASE_URL=https://gvisor.example/release\n")
    assert "sha512sum -c runsc.sha512" in script


def test_colima_config_converged_yields_nothing_and_keeps_other_steps():
    provision = operations.provision_entry("https://gvisor.example/release")
    theirs = {"mode": "user", "script": "echo mine"}
    current = {"cpu": 2, "docker": {"mtu": 1400}, "provision": [theirs, provision]}
    commands, noops = run_operation(operations.colima_config,
                                    {(FileContents, COLIMA): yaml.safe_dump(current, sort_keys=False).splitlines()},
                                    path=COLIMA, managed={"mtu": 1400}, provision=provision)
    assert commands == [] and noops == [f"{COLIMA} has the managed settings"]
    # runsc turned off: our step goes, theirs stays
    assert operations.colima_document(current, {"mtu": 1400}, None)["provision"] == [theirs]


def test_colima_config_missing_is_an_error():
    with pytest.raises(Exception, match="colima start"):
        run_operation(operations.colima_config, {(FileContents, COLIMA): None}, path=COLIMA, managed={})


@pytest.mark.parametrize("running,commands", [
    (False, ["colima start --profile work --cpu 4 --memory 8 --runtime docker"]),
    (True, []),
])
def test_colima_started_when_not_running(running, commands):
    done, _ = run_operation(operations.colima_start, {(ColimaRunning, "work"): running}, profile="work", cpus=4, memory_gib=8)
    assert done == commands


def test_colima_restart_command():
    assert run_operation(operations.colima_restart, {}, profile="work")[0] == ["colima restart --profile work"]
