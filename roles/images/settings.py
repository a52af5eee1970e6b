"""images: what the sandbox's images (agent, egress proxy) are built from."""

from pydantic import Field

from sandbox_host.roles.common.types import Section


class DebootstrapBase(Section):
    suite: str = Field(
        default="bookworm", pattern=r"^[a-z]+$",
        description=(
            "Debian release bootstrapped (debootstrap --variant=minbase) when the base image is "
            "missing."
        ),
    )
    mirror: str = Field(
        default="http://deb.debian.org/debian", pattern=r"^https?://[^\s'\"]+$",
        description="Debian mirror debootstrap and the image's apt use.",
    )


class ImagesSettings(Section):
    base_image: str = Field(
        default="debian:bookworm-slim",
        description=(
            "Base of the agent and proxy images: a registry image by default, or one built locally "
            "(scripts/build-base-image.sh) on hosts with no registry access."
        ),
    )
    base_image_archive: str | None = Field(
        default=None,
        description=(
            "A `docker save` tarball of base_image on the machine running the deploy. When set and "
            "the image is missing on the host, the deploy uploads it and `docker load`s it instead of "
            "pulling (air-gapped fleets, test hosts). The tarball must contain the base_image tag."
        ),
    )
    base_image_debootstrap: DebootstrapBase | None = Field(
        default=None,
        description=(
            "Build base_image on the host itself when it is missing (debootstrap + docker import), "
            "for hosts that reach a Debian mirror but no container registry. Ignored when an archive "
            "is set."
        ),
    )
    extra_ca_certificates: list[str] = Field(
        default=[],
        description=(
            "Extra CA certificates (PEM files on the host running the deploy) trusted inside the "
            "images, by the OS store and by Node: for TLS-inspecting corporate proxies."
        ),
    )
    build_dir: str = Field(
        default="/var/tmp/sandbox-host-build", pattern=r"^/[A-Za-z0-9._/-]+$",
        description=(
            "Folder on the host where build contexts are uploaded; each build removes its own "
            "subfolder."
        ),
    )
    build_proxy_env: str = Field(
        default="/etc/sandbox-host/build-proxy.env", pattern=r"^/[A-Za-z0-9._/-]+$",
        description=(
            "Root-only (0600) file the deploy writes from docker_proxy's values: image builds read "
            "it and pass HTTP(S)_PROXY/NO_PROXY (both cases) as Docker's predefined build args, "
            "which stay out of the image's history. Removed when docker_proxy sets no proxy."
        ),
    )
