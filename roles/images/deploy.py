"""images: make the base image present; build role images on it (used by egress_proxy and agent)."""

from __future__ import annotations

from pathlib import Path

import jinja2
from pyinfra.api import deploy

from sandbox_host.roles.images import operations
from sandbox_host.roles.images.settings import ImagesSettings


@deploy("Images: base image")
def base_image(settings: ImagesSettings):
    """Pull ``images.base_image``, ``docker load`` it from ``images.base_image_archive``, or
    build it on the host (``images.base_image_debootstrap``)."""
    debootstrap = settings.base_image_debootstrap
    return operations.base_image(
        name=f"Base image {settings.base_image} present",
        image=settings.base_image,
        archive=settings.base_image_archive,
        debootstrap=debootstrap.model_dump() if debootstrap else None,
    )


def render_dockerfile(template: Path | str, settings: ImagesSettings, **variables) -> str:
    """Render a Dockerfile template (a file, or the template's text) with ``base_image`` and
    ``extra_ca`` (the CA lines) filled in."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
    text = template.read_text() if isinstance(template, Path) else template
    return env.from_string(text).render(
        base_image=settings.base_image,
        extra_ca=operations.extra_ca_dockerfile(settings.extra_ca_certificates),
        **variables,
    )


def build(
    settings: ImagesSettings,
    image: str,
    dockerfile: str,
    files: dict[str, bytes | str] | None = None,
    build_args: dict[str, str] | None = None,
    alias: str | None = "latest",
    **op_kwargs,
):
    """Build ``image`` on ``settings.base_image`` with the extra CA certificates in its context.

    Call it inside a ``@deploy`` function; returns the operation's meta (``.changed``).
    """
    context = dict(files or {})
    context.update(operations.extra_ca_context(settings.extra_ca_certificates))
    return operations.build(
        name=op_kwargs.pop("name", f"Image {image} built"),
        image=image,
        dockerfile=dockerfile,
        files=context,
        build_args=build_args,
        base_image=settings.base_image,
        alias=alias,
        build_dir=settings.build_dir,
        **op_kwargs,
    )
