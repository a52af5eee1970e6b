"""credential_gateway: build the gateway image. Its containers are per user: the launcher starts
``<name_prefix>-<uid>`` with that user's credential volume (see roles/launcher, gateway section)."""

from __future__ import annotations

from pyinfra.api import deploy

from sandbox_host.roles.credential_gateway import nginx
from sandbox_host.roles.credential_gateway.settings import CredentialGatewaySettings
from sandbox_host.roles.images import deploy as images
from sandbox_host.roles.images.settings import ImagesSettings
from sandbox_host.roles.sandbox_network.settings import SandboxNetworkSettings


@deploy("Credential gateway")
def credential_gateway(settings: CredentialGatewaySettings, network: SandboxNetworkSettings,
                       image_settings: ImagesSettings):
    """The gateway image (content-hashed tag + :latest). Run after images.base_image; the
    launcher's configuration (launcher role) tells agent-sandbox how to run it."""
    if not settings.enabled or not network.enabled:
        return []
    dockerfile = images.render_dockerfile(
        nginx.TEMPLATES / "Dockerfile.j2", image_settings, **nginx.template_variables(settings)
    )
    built = images.build(image_settings, settings.image, dockerfile, files=nginx.build_context(settings),
                         name=f"Image {settings.image} built")
    return [built]


def launcher_section(settings: CredentialGatewaySettings | None, network: SandboxNetworkSettings) -> dict | None:
    """The ``gateway`` section of the launcher's config.json (no secret); None: no gateway."""
    if settings is None or not settings.enabled or not network.enabled:
        return None
    return {
        "image": f"{settings.image}:latest",
        "name_prefix": settings.name_prefix,
        "port": settings.port,
        "api_host": settings.api_host,
        "ip_range": network.gateway_range(),
        "internal_network": network.internal_network,
        "egress_network": network.egress_network,
        "memory": settings.memory,
        "pids": settings.pids_limit,
        "credential_dir": nginx.CREDENTIAL_DIR,
    }
