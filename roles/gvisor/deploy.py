"""gVisor's runsc: installed, registered in daemon.json by us, proven by a smoke run."""

import shlex

from pyinfra import host, logger
from pyinfra.api import StringCommand, deploy, operation
from pyinfra.facts.deb import DebPackages
from pyinfra.operations import apt, files

from sandbox_host.roles.gvisor.facts import RunscNetworkBug
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
            "Install a runsc from August 2024 or later (gvisor.source: gvisor_repo) to drop this."
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


SMOKE_SCRIPT = r"""
runtime=$1 image=$2
out=$(docker run --rm --runtime="$runtime" "$image" uname -r 2>&1)
status=$?
if [ $status -eq 0 ]; then echo "runsc smoke run ok (sandbox kernel $out)"; exit 0; fi
echo "docker run --runtime=$runtime failed: $out" >&2
case $out in
  *"root network namespace"*)
    echo "This is gVisor issue 10704 (old runsc, new kernel): set gvisor.network_bug_workaround: auto" \
         "or install a newer runsc (gvisor.source: gvisor_repo)." >&2 ;;
esac
exit 1
"""


@operation(is_idempotent=False)
def smoke_run(runtime: str, image: str):
    """Start a container under ``runtime``; fail the deploy with the reason when it cannot."""
    yield StringCommand("sh", "-c", shlex.quote(SMOKE_SCRIPT), "runsc-smoke", runtime, image)
