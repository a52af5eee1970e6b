"""gVisor's runsc: installed, registered in daemon.json by us, proven by a smoke run."""

from io import StringIO
from pathlib import PurePosixPath

from pyinfra import host, logger
from pyinfra.api import OperationError, StringCommand, deploy, operation
from pyinfra.facts.deb import DebPackages
from pyinfra.facts.files import FileContents
from pyinfra.operations import apt, files

from sandbox_host.roles.gvisor import runtime_check as runtime_check_data
from sandbox_host.roles.gvisor.facts import RuntimeOperations, RunscNetworkBug
from sandbox_host.roles.gvisor.settings import GvisorSettings

KEYRING = "/etc/apt/keyrings/gvisor.asc"


def runtime_args(settings: GvisorSettings, bug: dict) -> tuple[list[str], str | None]:
    """runtimeArgs for daemon.json, and a notice when the network workaround is applied."""
    args = [f"--platform={settings.platform}"] if settings.platform else []
    network, notice = settings.network, None
    if bug.get("affected") and settings.network_bug_workaround == "auto" and network in (None, "sandbox"):
        network = "host"
        notice = (
            f"runsc release {bug['release']} cannot start networked containers on this kernel "
            "(gVisor issue 10704); registering it with --network=host, which uses the container's own "
            "network namespace (still behind Docker's iptables) instead of gVisor's netstack. "
            + ("The distro's runsc predates the fix (gvisor.source: distro in group_vars): the workaround stays "
               "while that is the source; gvisor.source: gvisor_repo drops it where the host reaches gVisor's "
               "repository." if settings.source == "distro" else
               "apt-get install --only-upgrade runsc (a release from August 2024 or later) drops it.")
        )
    if network:
        args.append(f"--network={network}")
    return args + list(settings.extra_runtime_args), notice


def daemon_runtime_options(settings: GvisorSettings):
    """A callable for docker_daemon(runtimes=...): the runsc runtime entry (and default-runtime).

    Called when daemon.json is written, after runsc is installed, so the bug check sees the
    runsc that will actually run.
    """

    def options() -> dict:
        args, notice = runtime_args(settings, host.get_fact(RunscNetworkBug))
        if notice:
            logger.warning("%s%s", host.print_prefix, notice)
        entry = {"path": settings.runsc_path, **({"runtimeArgs": args} if args else {})}
        keys = {"runtimes": {settings.runtime_name: entry}}
        if settings.default_runtime:
            keys["default-runtime"] = settings.runtime_name
        return keys

    return options


@deploy("gVisor runtime")
def install(settings: GvisorSettings):
    """Install runsc from the configured source; returns the install operation (None if present)."""
    installed = None
    if "runsc" not in host.get_fact(DebPackages):
        if settings.source == "gvisor_repo":
            files.directory(name="Create /etc/apt/keyrings", path="/etc/apt/keyrings", mode="755")
            files.download(name="Download gVisor's apt signing key", src=settings.key_url, dest=KEYRING, mode="644")
            apt.repo(
                name="Add gVisor's apt repository (signed-by its key)",
                src=f"deb [signed-by={KEYRING}] {settings.repo_url} release main",
                filename="gvisor",
            )
        installed = apt.packages(name=f"Install runsc ({settings.source})", packages=["runsc"], update=True)
    return installed


@operation(is_idempotent=False)
def runtime_check(runtime: str, image: str, state_file: str, source: str | None = None):
    """Prove the runtime does what agents do (files/agent_operations.sh: ls -la, stat, git status,
    a node file read, a fork storm) and record the result in ``state_file`` for the launcher.

    Runs when the operation runs (after dockerd's restart), not when the deploy is planned. A
    container that does not start fails the deploy (the sandbox could never start); operations
    that fail are a warning: the launcher then falls back to runc, or refuses with
    agent.require_gvisor.
    """
    if not host.state.is_executing:
        # Planning (pyinfra runs the generator to see whether it changes anything): the check
        # starts a container, which must happen after dockerd's restart, not now.
        yield StringCommand(":")
        return
    found = host.get_fact(RuntimeOperations, runtime=runtime, image=image) or {}
    check = runtime_check_data.RuntimeCheck.model_validate(
        {**{k: v for k, v in found.items() if k != "ok"}, "runtime": runtime, "image": image})
    if not check.started:
        hint = ""
        if "root network namespace" in (check.error or ""):
            hint = (" This is gVisor issue 10704 (old runsc, new kernel): set gvisor.network_bug_workaround: auto"
                    + (" or install a newer runsc (gvisor.source: gvisor_repo)." if source == "distro" else "."))
        raise OperationError(f"docker run --runtime={runtime} {image} failed: {check.error}{hint}")
    notice = runtime_check_data.warning(check, source)
    if notice:
        logger.warning("%s%s", host.print_prefix, notice)
    yield from files.directory._inner(path=str(PurePosixPath(state_file).parent), mode="755")
    yield from files.put._inner(src=StringIO(check.as_json()), dest=state_file, user="root", group="root", mode="644")


def warn_recorded_failure(settings: GvisorSettings) -> None:
    """Every run, not only the one that checked: a runtime recorded as failing agent operations."""
    text = host.get_fact(FileContents, path=settings.runtime_check_file)
    if text is None:
        return
    try:
        check = runtime_check_data.load("\n".join(text))
    except ValueError as exc:
        logger.warning("%s%s: %s (the launcher ignores it; the next runtime check rewrites it)",
                       host.print_prefix, settings.runtime_check_file, exc)
        return
    notice = runtime_check_data.warning(check, settings.source) if check.runtime == settings.runtime_name else None
    if notice:
        logger.warning("%s%s (recorded in %s)", host.print_prefix, notice, settings.runtime_check_file)


def check_missing(settings: GvisorSettings) -> bool:
    """No runtime check recorded on the host yet (first run, or the file was removed)."""
    return host.get_fact(FileContents, path=settings.runtime_check_file) is None
