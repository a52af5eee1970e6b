"""A long-running container, recreated exactly when its image or its settings change."""

from __future__ import annotations

import hashlib
import json

from pyinfra import host
from pyinfra.api import OperationError, QuoteString, StringCommand, operation
from pyinfra.facts.docker import DockerContainer, DockerNetwork

from sandbox_host.roles.common.facts import DockerdStartedAt, docker_time
from sandbox_host.roles.common.labels import SPEC_LABEL
from sandbox_host.roles.images.operations import image_id


def spec_hash(image_ref_id: str | None, networks: list[tuple[str, str | None]], run_args: list[str]) -> str:
    return hashlib.sha256(json.dumps([image_ref_id, networks, run_args]).encode()).hexdigest()


def started_at(container: dict) -> int | None:
    """The container's State.StartedAt in whole seconds since the epoch."""
    return docker_time((container.get("State") or {}).get("StartedAt"))


def network_id(name: str) -> str | None:
    found = host.get_fact(DockerNetwork, object_id=name)
    return found[0]["Id"] if found else None


@operation()
def container(
    container: str,
    image: str,
    networks: list[tuple[str, str | None]],
    run_args: list[str] | None = None,
):
    """
    The container ``container`` running ``image`` on ``networks``, created with ``run_args``.

    + container: container name
    + image: image reference (e.g. ``name:latest``); it must exist when the operation runs
    + networks: ``[(network, fixed IPv4 or None), ...]``; the first is given at create time, the
      others are connected before the first start
    + run_args: further ``docker container create`` arguments (one token each)

    The image's ID and all arguments are hashed into a label. Same label and running: no
    change, unless it has run since before dockerd started (then restarted). Same label,
    stopped: started. Different label or missing: (re)created.
    """
    if not networks:
        raise OperationError("container needs at least one network")
    run_args = list(run_args or [])
    current_image = image_id(image)
    # Network IDs are part of the spec: a network that was recreated means a new container (the
    # old one refers to the old network's ID and could not start).
    network_ids = [network_id(name) for name, _ in networks]
    wanted = spec_hash(current_image, [[*n, i] for n, i in zip(networks, network_ids)], run_args)
    found = host.get_fact(DockerContainer, object_id=container)
    existing = found[0] if found else None

    if existing and (existing.get("Config") or {}).get("Labels", {}).get(SPEC_LABEL) == wanted:
        if not existing["State"]["Running"]:
            yield StringCommand("docker container start", QuoteString(container))
            return
        # Running since before dockerd's last start (restarted outside the deploy, live-restore):
        # its UDP socket to dockerd's embedded DNS keeps a stale NAT mapping and Squid's lookups
        # hang until it restarts (measured: 12.7 s, no answer, 20 s after the restart; 0.7 s
        # after a container restart). The deploy's own restarts stop and start it themselves.
        container_start = started_at(existing)
        dockerd_start = host.get_fact(DockerdStartedAt) if container_start else None
        if dockerd_start and container_start < dockerd_start:
            yield StringCommand("docker container restart", QuoteString(container))
            return
        host.noop(f"container {container} is running as configured")
        return

    if not current_image:
        # Plan time, when an earlier operation of this run builds the image; if it is still
        # missing at run time, stop with a message rather than let Docker try a registry.
        yield StringCommand(
            "docker image inspect",
            QuoteString(image),
            ">/dev/null 2>&1 || { echo",
            QuoteString(f"image {image} is missing: build it first"),
            ">&2; exit 1; }",
        )
    if existing:
        yield StringCommand("docker container rm -f", QuoteString(container))

    first_network, first_ip = networks[0]
    create = ["docker container create --name", QuoteString(container), "--network", QuoteString(first_network)]
    if first_ip:
        create += ["--ip", QuoteString(first_ip)]
    create += [QuoteString(arg) for arg in run_args]
    create += ["--label", QuoteString(f"{SPEC_LABEL}={wanted}"), QuoteString(image)]
    yield StringCommand(*create)
    for network, ip in networks[1:]:
        connect = ["docker network connect"]
        if ip:
            connect += ["--ip", QuoteString(ip)]
        yield StringCommand(*connect, QuoteString(network), QuoteString(container))
    yield StringCommand("docker container start", QuoteString(container))
