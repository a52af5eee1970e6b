"""egress_proxy: build the Squid image (config baked in) and run it between the two networks."""

from __future__ import annotations

import posixpath

from pyinfra.api import deploy
from pyinfra.operations import files as file_ops
from pyinfra.operations import server

from sandbox_host.roles.common.secret_file import secret_file
from sandbox_host.roles.egress_proxy import operations, squid
from sandbox_host.roles.egress_proxy.settings import EgressProxySettings
from sandbox_host.roles.images import deploy as images
from sandbox_host.roles.images.settings import ImagesSettings
from sandbox_host.roles.sandbox_network.settings import SandboxNetworkSettings


def run_args(settings: EgressProxySettings) -> list[str]:
    """How the proxy container runs: non-root (the image's USER proxy), nothing to gain, read-only;
    with an upstream, its cache_peer line mounted from the host."""
    peer = []
    if squid.peer_conf(settings):
        peer = [f"--mount=type=bind,source={settings.upstream_peer_file},target={squid.PEER_CONF},readonly"]
    return [
        *peer,
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
    dockerfile = images.render_dockerfile(squid.TEMPLATES / "Dockerfile.j2", image_settings,
                                          **squid.dockerfile_variables(settings, port))
    built = images.build(image_settings, settings.image, dockerfile, files=files, name=f"Image {settings.image} built")
    peer = upstream_peer_file(settings)
    running = operations.container(
        name=f"Container {settings.container_name} at {network.proxy_ip}:{port}",
        container=settings.container_name,
        image=f"{settings.image}:latest",
        networks=[(network.internal_network, network.proxy_ip), (network.egress_network, None)],
        run_args=run_args(settings),
    )
    # New credentials in the same file leave the container's spec alone: Squid reads the file at
    # start, so a changed file restarts a container that was not just (re)created.
    server.shell(
        name=f"Container {settings.container_name} restarted: its upstream peer changed",
        commands=[f"docker container restart {settings.container_name}"],
        _if=lambda: peer.did_change() and not running.did_change(),
    )
    return [built, running]


def upstream_peer_file(settings: EgressProxySettings):
    """``upstream_peer_file`` with the cache_peer line (credentials included), in a folder only
    root can enter; readable inside the container by Squid's user. Absent without an upstream."""
    text = squid.peer_conf(settings)
    path = settings.upstream_peer_file
    if text is None:
        return file_ops.file(name=f"No upstream peer: {path} absent", path=path, present=False)
    file_ops.directory(name=f"Folder of {path} (root only)", path=posixpath.dirname(path),
                       user="root", group="root", mode="700")
    # 0444 inside a 0700 folder: no host user but root reaches it; Squid (uid 13 in the image)
    # reads it through the bind mount, which does not cross the folder.
    return secret_file(name=f"Upstream peer in {path} (root only)", content=text, dest=path, mode="444")
