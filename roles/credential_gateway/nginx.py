"""The gateway image's build context: nginx.conf and the Dockerfile from the settings."""

from __future__ import annotations

from pathlib import Path

from pyinfra.api import OperationError

from sandbox_host.roles.common import templating
from sandbox_host.roles.credential_gateway.settings import CredentialGatewaySettings

TEMPLATES = Path(__file__).parent / "templates"
FILES = Path(__file__).parent / "files"
# Inside the image: where the per-user volume is mounted, and the upstream's CA bundle.
CREDENTIAL_DIR = "/etc/nginx/credential"
CA_BUNDLE = "/etc/nginx/upstream-ca.pem"
_PEM_BEGIN = b"-----BEGIN CERTIFICATE-----"


def template_variables(settings: CredentialGatewaySettings) -> dict:
    host_header = settings.api_host if settings.api_port == 443 else f"{settings.api_host}:{settings.api_port}"
    return {
        "api_host": settings.api_host,
        "api_port": settings.api_port,
        "host_header": host_header,
        "port": settings.port,
        "credential_dir": CREDENTIAL_DIR,
        "ca_bundle": CA_BUNDLE,
    }


def render_nginx_conf(settings: CredentialGatewaySettings) -> str:
    return templating.render(TEMPLATES, "nginx.conf.j2", **template_variables(settings))


def upstream_ca_bundle(paths: list[str]) -> bytes:
    """credential_gateway.upstream_ca_certificates, concatenated; read at plan time so a missing
    or non-PEM file stops the run before a host is touched."""
    bundle = b""
    for path in paths:
        try:
            pem = Path(path).expanduser().read_bytes()
        except OSError as exc:
            raise OperationError(f"credential_gateway.upstream_ca_certificates: cannot read {path}: {exc.strerror}") from None
        if _PEM_BEGIN not in pem:
            raise OperationError(f"credential_gateway.upstream_ca_certificates: {path} holds no PEM certificate")
        bundle += pem if pem.endswith(b"\n") else pem + b"\n"
    return bundle


def build_context(settings: CredentialGatewaySettings) -> dict[str, bytes | str]:
    """Context files besides the Dockerfile (and the images role's extra CAs)."""
    return {
        "nginx.conf": render_nginx_conf(settings),
        "gateway-credential": (FILES / "gateway-credential").read_bytes(),
        "upstream-ca.pem": upstream_ca_bundle(settings.upstream_ca_certificates),
    }
