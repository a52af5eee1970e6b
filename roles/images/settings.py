"""images: what the sandbox's images (agent, egress proxy) are built from."""

from roles.common.types import Section


class ImagesSettings(Section):
    # Base of the agent and proxy images: a registry image by default, or one built locally
    # (scripts/build-base-image.sh) on hosts with no registry access.
    base_image: str = "debian:bookworm-slim"
    # Extra CA certificates (PEM files on the host running the deploy) trusted inside the images,
    # by the OS store and by Node: for TLS-inspecting corporate proxies.
    extra_ca_certificates: list[str] = []
