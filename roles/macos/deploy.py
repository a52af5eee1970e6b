"""macos: Docker Desktop or Colima on a Mac, configured for the sandbox. pyinfra runs over @local
as the Mac's user (deploys/macos.py); nothing here reads a secret."""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import DeployError, deploy
from pyinfra.facts.server import Home
from pyinfra.operations import brew

from sandbox_host.roles.agent.settings import AgentSettings
from sandbox_host.roles.docker_daemon.settings import DockerDaemonSettings
from sandbox_host.roles.macos import operations
from sandbox_host.roles.macos.facts import DockerProviders, DockerRuntimes, KeychainHasCredentials
from sandbox_host.roles.macos.settings import MacosSettings

RUNSC_IN_COLIMA = "/usr/local/bin/runsc"


def choose_provider(settings: MacosSettings, found: list[str]) -> str:
    """docker_desktop or colima; a ValueError says what to install when neither can be used."""
    if settings.docker == "docker_desktop" and "docker_desktop" not in found:
        raise ValueError("macos.docker is docker_desktop but /Applications/Docker.app is not installed")
    if settings.docker != "auto":
        if settings.docker == "colima" and "colima" not in found:
            return _colima_from_homebrew(settings, found)
        return settings.docker
    if "docker_desktop" in found:
        return "docker_desktop"
    if "colima" in found:
        return "colima"
    return _colima_from_homebrew(settings, found)


def _colima_from_homebrew(settings: MacosSettings, found: list[str]) -> str:
    if not settings.install_colima:
        raise ValueError("neither Docker Desktop nor Colima is installed: install Docker Desktop, or set "
                         "macos.install_colima: true to install Colima and the docker CLI with Homebrew")
    if "brew" not in found:
        raise ValueError("macos.install_colima needs Homebrew (https://brew.sh), which is not installed")
    return "colima"


def gvisor_plan(provider: str, settings: MacosSettings, agent: AgentSettings, runtime: str,
                registered: list[str]) -> tuple[bool, str]:
    """(register runsc in Colima, one sentence on which runtime the sandbox gets). Raises
    ValueError when agent.require_gvisor cannot be met."""
    if not agent.use_gvisor:
        return False, "agent.use_gvisor is false: the sandbox runs under runc"
    if runtime in registered:
        return False, f"{runtime} is registered with Docker already: the sandbox runs under gVisor"
    if provider == "colima" and settings.colima_gvisor:
        return True, f"runsc is installed in Colima's VM and registered as {runtime}: the sandbox runs under gVisor"
    why = ("Docker Desktop's VM cannot take an extra runtime" if provider == "docker_desktop"
           else "macos.colima_gvisor is false")
    if agent.require_gvisor:
        raise ValueError(f"agent.require_gvisor is set, but {why}: use Colima (macos.docker: colima) "
                         "or set agent.require_gvisor: false")
    return False, f"{why}: the sandbox runs under runc (no gVisor)"


def managed_daemon_options(daemon: DockerDaemonSettings, runtime: str | None) -> dict:
    """What the Mac's Docker VM gets of docker_daemon's settings: DNS and MTU (the rest is the
    VM's own business), plus runsc when it is installed there. ``mtu: auto`` leaves the VM's
    own MTU: the path out is the Mac's, which the VM's Docker cannot see."""
    options: dict = {}
    if daemon.dns:
        options["dns"] = list(daemon.dns)
    if isinstance(daemon.mtu, int):
        options["mtu"] = daemon.mtu
    if runtime:
        options["runtimes"] = {runtime: {"path": RUNSC_IN_COLIMA}}
    return options


@deploy("macOS Docker")
def macos_docker(settings: MacosSettings, daemon: DockerDaemonSettings, agent: AgentSettings, runtime: str):
    """
    Pick Docker Desktop or Colima (installing Colima and the docker CLI with Homebrew when
    ``install_colima`` and neither is there), write DNS/MTU (and runsc for Colima) into its
    settings, restart it only when they changed, and say which runtime the sandbox gets.
    """
    try:
        provider = choose_provider(settings, host.get_fact(DockerProviders))
        register, statement = gvisor_plan(provider, settings, agent, runtime, host.get_fact(DockerRuntimes))
    except ValueError as exc:
        raise DeployError(str(exc)) from None
    home = host.get_fact(Home)
    if provider == "colima":
        brew.packages(name="Colima and the docker CLI (Homebrew)", packages=["colima", "docker"])
        operations.colima_start(name=f"Colima VM {settings.colima_profile} running", profile=settings.colima_profile,
                                cpus=settings.colima_cpus, memory_gib=settings.colima_memory_gib)
        changed = operations.colima_config(
            name="Colima settings (Docker DNS/MTU, runsc)",
            path=f"{home}/.colima/{settings.colima_profile}/colima.yaml",
            managed=managed_daemon_options(daemon, runtime if register else None),
            provision=operations.provision_entry(settings.runsc_release_url) if register else None,
        )
        operations.colima_restart(name="Restart Colima", profile=settings.colima_profile, _if=changed.did_change)
    else:
        changed = operations.docker_desktop_daemon(
            name="Docker Desktop daemon settings", path=f"{home}/.docker/daemon.json",
            managed=managed_daemon_options(daemon, None),
        )
        operations.docker_desktop_restart(name="Restart Docker Desktop", _if=changed.did_change)
    host.noop(f"runtime: {statement}")
    if not host.get_fact(KeychainHasCredentials):
        host.noop("no Claude Code login in the keychain (Claude Code-credentials): run `claude login`, "
                  "or set ANTHROPIC_API_KEY / CLAUDE_CODE_OAUTH_TOKEN when you start agent-sandbox")
    return changed
