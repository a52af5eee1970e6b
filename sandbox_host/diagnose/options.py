"""What the gather probes: every knob has a default that fits a host deployed by this project."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class ProbeOptions:
    # Local image the container probes run (never pulled: `docker run --pull never`). Any image
    # with sh, getent and timeout works; the sandbox's base image is on every deployed host.
    probe_image: str = "debian:bookworm-slim"
    # Name resolved from the host and from inside a container (the agent's API endpoint).
    resolve_name: str = "api.anthropic.com"
    # Bridges whose MTU and forwarding are checked besides docker0 (sandbox_network's defaults).
    bridges: tuple[str, ...] = ("docker0", "sbx-int0", "sbx-egr0")
    # The sandbox's egress proxy: probed from a container on the internal network when it exists.
    sandbox_network: str = "sandbox-internal"
    proxy_ip: str = "172.30.0.2"
    proxy_port: int = 3128
    # host:port the proxy is asked to CONNECT to (an allowlisted destination).
    proxy_target: str = "api.anthropic.com:443"
    # Runtime whose start is smoke-tested when dockerd has it registered.
    runsc_runtime: str = "runsc"
    # Where the deploy records the runtime's agent-operations check (gvisor.runtime_check_file).
    runtime_check_file: str = "/var/lib/sandbox-host/runtime-check.json"
    # Where runsc comes from on this host (gvisor.source): the advice for an old runsc depends on it.
    gvisor_source: str | None = None
    # Seconds each container probe may take before it counts as hung.
    probe_timeout: int = 20
    # Run the container probes at all (off: host-only facts, no container is started).
    container_probes: bool = True

    def as_dict(self) -> dict:
        data = asdict(self)
        data["bridges"] = list(self.bridges)
        return data


def from_settings(settings, **overrides) -> ProbeOptions:
    """Defaults taken from the host's validated group_vars (sandbox_host/config/layers.py), then overrides."""
    sandbox = settings.sandbox_network
    values = {
        "probe_image": settings.images.base_image,
        "bridges": ("docker0", sandbox.internal_bridge, sandbox.egress_bridge),
        "sandbox_network": sandbox.internal_network,
        "proxy_ip": sandbox.proxy_ip,
        "proxy_port": sandbox.proxy_port,
        "runsc_runtime": settings.gvisor.runtime_name,
        "runtime_check_file": settings.gvisor.runtime_check_file,
        "gvisor_source": settings.gvisor.source,
    }
    values.update({key: value for key, value in overrides.items() if value is not None})
    return ProbeOptions(**values)
