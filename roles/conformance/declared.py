"""The declared state the self-check compares a host against, computed from the roles' own settings.

Every expected value comes from the function the owning role uses to write it (daemon.json's
managed keys, the sysctl file's text, squid.conf, the images' content tags): the check can only
disagree with the deploy when the host drifted. Pure functions; ``expected_tag`` reads one fact.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sandbox_host.roles.docker_daemon import daemon_json
from sandbox_host.roles.docker_proxy import deploy as docker_proxy
from sandbox_host.roles.egress_proxy import squid
from sandbox_host.roles.host_network import deploy as host_network
from sandbox_host.roles.images import deploy as images
from sandbox_host.roles.images import operations as image_ops
from sandbox_host.roles.images.settings import ImagesSettings

SCHEMA = "sandbox-host/conformance-declared"
# Bump when the shape changes; the self-check refuses a version it does not know.
VERSION = 1
SQUID_CONF = "/etc/squid/squid.conf"  # where roles/egress_proxy's Dockerfile puts it


def sha256(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


def expected_tag(image_settings: ImagesSettings, image: str, dockerfile: str, files: dict, build_args=None) -> str:
    """The content tag images.build gives this image on this host (reads the base image's ID)."""
    context = dict(files)
    context.update(image_ops.extra_ca_context(image_settings.extra_ca_certificates))
    digest = image_ops.content_hash(
        dockerfile, image_ops._as_bytes(context), dict(build_args or {}), image_ops.image_id(image_settings.base_image)
    )
    return f"{image}:{image_ops.content_tag(digest)}"


def egress_proxy_tag(sections) -> str:
    proxy, network = sections.egress_proxy, sections.sandbox_network
    files = squid.build_context(proxy, port=network.proxy_port, client_subnet=network.internal_subnet)
    dockerfile = images.render_dockerfile(squid.TEMPLATES / "Dockerfile.j2", sections.images,
                                          **squid.dockerfile_variables(proxy, network.proxy_port))
    return expected_tag(sections.images, proxy.image, dockerfile, files)


def policy(proxy) -> dict[str, Any]:
    """What the egress policy is, normalised as squid.conf gets it (the report's policy hash)."""
    return {
        "allowed_domains": squid.squid_domains(proxy.allowed_domains),
        "denied_domains": squid.squid_domains(proxy.denied_domains),
        "connect_ports": sorted(set(proxy.allowed_connect_ports)),
        "http_ports": sorted(set(proxy.allowed_http_ports)),
    }


def policy_sha256(proxy) -> str:
    return sha256(json.dumps(policy(proxy), sort_keys=True))


def build(sections, *, init: str, sysctls: dict, image_tags: dict[str, str], mtu: int | None = None) -> dict[str, Any]:
    """The declared state (schema SCHEMA, version VERSION).

    ``sections``: a ConformanceSections (roles/conformance/sections.py). ``mtu``: docker0's MTU as
    deployed (the path MTU found for docker_daemon.mtu ``auto``).
    ``sysctls``: host_network's values as written on this host (IPv6 keys dropped where the kernel
    has none). ``image_tags``: {"egress_proxy": tag, "agent": tag} for the images this host builds.
    """
    conf, daemon, gvisor, network, proxy = (
        sections.conformance, sections.docker_daemon, sections.gvisor, sections.sandbox_network, sections.egress_proxy
    )
    runtime = None
    if gvisor.enabled:
        runtime = {"name": gvisor.runtime_name, "path": gvisor.runsc_path, "default": gvisor.default_runtime}
    dropin = None
    if init == "systemd":
        env = docker_proxy.environment(sections.docker_proxy)
        # A hash, not the text: proxy URLs can carry credentials.
        dropin = {"path": sections.docker_proxy.dropin_path,
                  "sha256": sha256(docker_proxy.render_dropin(env)) if env else None}
    sandbox = network.enabled
    with_proxy = sandbox and proxy.enabled
    return {
        "schema": SCHEMA,
        "version": VERSION,
        "daemon_json": {"path": daemon.path, "managed": daemon_json.managed_options(daemon, detected_mtu=mtu), "runtime": runtime},
        "sysctl": {
            "path": sections.host_network.sysctl_file,
            "sha256": sha256(host_network.render(sysctls)),
            "values": {key: str(value) for key, value in sysctls.items()},
        },
        "docker_proxy_dropin": dropin,
        "input_guard": (
            {"chain": network.guard_chain, "bridges": [network.internal_bridge]}
            if sandbox and network.guard_host_input else None
        ),
        "egress_proxy": {
            "container": proxy.container_name,
            "image": image_tags["egress_proxy"],
            "config_path": SQUID_CONF,
            "config_sha256": sha256(squid.render(proxy, network.proxy_port, network.internal_subnet)),
            "internal_network": network.internal_network,
            "egress_network": network.egress_network,
            "ip": network.proxy_ip,
            "port": network.proxy_port,
        } if with_proxy else None,
        "images": sorted(image_tags.values()),
        "probe": {
            "image": conf.probe_image or sections.images.base_image,
            "runtime": gvisor.runtime_name if gvisor.enabled else None,
            "network": network.internal_network,
            "gateway": network.bridge_ip(),
            "denied_name": conf.denied_probe_name,
            "allowed_target": conf.allowed_probe_target,
            "timeout": conf.probe_timeout,
        } if with_proxy else None,
        "policy": policy(proxy),
        "policy_sha256": policy_sha256(proxy),
        "result_path": conf.result_path,
        "textfile_dir": conf.textfile_dir,
    }


def render(declared: dict[str, Any]) -> str:
    """Byte-stable text, so an unchanged state is an unchanged file."""
    return json.dumps(declared, indent=2, sort_keys=True) + "\n"
