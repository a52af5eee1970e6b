"""egress_proxy: build the Squid image (config baked in) and run it between the two networks."""

from __future__ import annotations

from pyinfra.api import deploy

from sandbox_host.roles.egress_proxy import operations, squid
from sandbox_host.roles.egress_proxy.settings import EgressProxySettings
from sandbox_host.roles.images import deploy as images
from sandbox_host.roles.images.settings import ImagesSettings
from sandbox_host.roles.sandbox_network.settings import SandboxNetworkSettings


def run_args(settings: EgressProxySettings) -> list[str]:
    """How the proxy container runs: non-root (the image's USER proxy), nothing to gain, read-only."""
    return [
        "--restart=unless-stopped",
        "--cap-drop=ALL",
        "--security-opt=no-new-privileges",
        "--read-only",
        # Squid writes nothing but its logs (stdout/stderr); /tmp is its coredump_dir.
        "--tmpfs=/tmp:rw,noexec,nosuid,size=16m",
        f"--memory={settings.memory}",
        f"--pids-limit={settings.pids_limit}",
        f"--hostname={settings.container_name}",
    ]


@deploy("Egress proxy")
def egress_proxy(settings: EgressProxySettings, network: SandboxNetworkSettings, image_settings: ImagesSettings):
    """Image built from the settings (content-hashed tag + :latest), container at network.proxy_ip.

    Run after images.base_image and sandbox_network.sandbox_networks. Returns (image meta,
    container meta); the container meta changed means the proxy was (re)started.
    """
    if not settings.enabled or not network.enabled:
        # Without the sandbox networks the proxy has nowhere to sit.
        return []
    port = network.proxy_port
    files = squid.build_context(settings, port=port, client_subnet=network.internal_subnet)
    dockerfile = images.render_dockerfile(squid.TEMPLATES / "Dockerfile.j2", image_settings, port=port)
    built = images.build(image_settings, settings.image, dockerfile, files=files, name=f"Image {settings.image} built")
    running = operations.container(
        name=f"Container {settings.container_name} at {network.proxy_ip}:{port}",
        container=settings.container_name,
        image=f"{settings.image}:latest",
        networks=[(network.internal_network, network.proxy_ip), (network.egress_network, None)],
        run_args=run_args(settings),
    )
    return [built, running]
