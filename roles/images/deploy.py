"""images: make the base image present; build role images on it (used by egress_proxy and agent)."""

from __future__ import annotations

import posixpath
from pathlib import Path

import ipaddress
import shlex
from urllib.parse import urlsplit

import jinja2
from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files as file_ops

from sandbox_host.roles.common.secret_file import secret_file
from sandbox_host.roles.images import operations
from sandbox_host.roles.images.facts import ResolvedV4
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
        proxy_env=settings.build_proxy_env,
    )


def build_proxy_values(http_proxy: str | None, https_proxy: str | None, no_proxy: list[str]) -> dict[str, str]:
    """The proxy variables builds get (upper and lower case: tools read one or the other);
    empty when there is no proxy."""
    if not (http_proxy or https_proxy):
        return {}
    values = {"HTTP_PROXY": http_proxy or "", "HTTPS_PROXY": https_proxy or "", "NO_PROXY": ",".join(no_proxy)}
    values = {key: value for key, value in values.items() if value}
    return {**values, **{key.lower(): value for key, value in values.items()}}


def proxy_hosts(*urls: str | None) -> dict[str, str]:
    """Proxy host names and the IPv4 address the host resolves them to: build containers get
    them with --add-host (they do not see the host's /etc/hosts). Unresolvable names are left
    to the build's own DNS."""
    found = {}
    for url in urls:
        name = urlsplit(url).hostname if url else None
        if not name:
            continue
        try:
            ipaddress.ip_address(name)
            continue
        except ValueError:
            pass
        address = host.get_fact(ResolvedV4, hostname=name)
        if address:
            found[name] = address
    return found


def render_proxy_env(values: dict[str, str]) -> str:
    body = "".join(f"{key}={shlex.quote(value)}\n" for key, value in values.items())
    return "# Managed by sandbox-host (roles/images, from group_vars docker_proxy). Read by image builds.\n" + body


@deploy("Images: build proxy")
def build_proxy(settings: ImagesSettings, http_proxy: str | None, https_proxy: str | None, no_proxy: list[str]):
    """Write (or remove) ``settings.build_proxy_env``: docker_proxy's values for image builds."""
    values = build_proxy_values(http_proxy, https_proxy, no_proxy)
    hosts = proxy_hosts(http_proxy, https_proxy)
    if hosts:
        values[operations.PROXY_HOSTS_VAR] = " ".join(f"{name}:{ip}" for name, ip in hosts.items())
    if not values:
        return file_ops.file(name=f"No build proxy: {settings.build_proxy_env} absent",
                             path=settings.build_proxy_env, present=False)
    file_ops.directory(name=f"Folder of {settings.build_proxy_env}", path=posixpath.dirname(settings.build_proxy_env))
    return secret_file(
        name=f"Build proxy variables in {settings.build_proxy_env} (root only)",
        content=render_proxy_env(values),
        dest=settings.build_proxy_env,
        mode="600",
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
        proxy_env=settings.build_proxy_env,
        **op_kwargs,
    )
