"""docker0 keeps the settings it was created with while containers run through a restart.

dockerd builds its default bridge (docker0, the network named "bridge") from daemon.json only
when it starts with no running container: with live-restore, a restart keeps every container
running, and dockerd logs "There are old running containers, the network config will not take
affect" and keeps the old bridge (measured on Docker 20.10: daemon.json mtu 1300, restart with
the egress proxy running: docker0 stayed at 1400; the same restart with no container: 1300).
So a deploy that changes daemon.json's ``mtu`` (or ``icc``, ``fixed-cidr``) and restarts dockerd
would say "changed" while docker0 and every container started on it keep the old value.

The restart therefore stops the containers the deploy recreates anyway (labels.SPEC_LABEL: the
egress proxy, credential gateways) and starts them again after it, and removes throwaway probes
(files/restart-dockerd.sh). Any other running container (an agent's sandbox, the user's own) is
never stopped: the deploy says which ones keep docker0 as it is, and restarts dockerd again to
apply the settings in a later run, once they are gone.
"""

from __future__ import annotations

from typing import Any, Callable

from sandbox_host.roles.common.labels import recreated_by_owner


def _ip_range(network: dict) -> str | None:
    configs = (network.get("IPAM") or {}).get("Config") or []
    return next((c.get("IPRange") for c in configs if c.get("IPRange")), None)


# daemon.json key -> (the bridge network's option showing it, how daemon.json's value reads there).
BRIDGE_OPTIONS: dict[str, tuple[str, Callable[[Any], str]]] = {
    "mtu": ("com.docker.network.driver.mtu", str),
    "icc": ("com.docker.network.bridge.enable_icc", lambda value: str(bool(value)).lower()),
}
# daemon.json key -> (what the bridge network shows for it, how daemon.json's value reads there).
BRIDGE_KEYS: dict[str, tuple[Callable[[dict], Any], Callable[[Any], Any]]] = {
    **{key: ((lambda network, option=option: (network.get("Options") or {}).get(option)), as_shown)
       for key, (option, as_shown) in BRIDGE_OPTIONS.items()},
    "fixed-cidr": (_ip_range, str),
}


def pending(managed: dict[str, Any], bridge_network: dict | None) -> dict[str, tuple[Any, Any]]:
    """The bridge settings of ``managed`` (daemon.json keys and values) that docker0 does not
    have yet: {key: (docker0's value, daemon.json's)}. Empty when dockerd has no "bridge"
    network to compare (not running, or ``"bridge": "none"``). A key the network does not show
    is never pending: an unknown way of showing it must not make every run restart dockerd."""
    if not bridge_network:
        return {}
    differ = {}
    for key, (read, as_shown) in BRIDGE_KEYS.items():
        if managed.get(key) is None:
            continue
        has, wanted = read(bridge_network), as_shown(managed[key])
        if has is not None and has != wanted:
            differ[key] = (has, wanted)
    return differ


def left_running(containers: list[dict]) -> list[str]:
    """Names of the running containers a deploy's restart leaves running (all but those
    labels.recreated_by_owner), from `docker container inspect` output (pyinfra's DockerContainers)."""
    return sorted(
        (container.get("Name") or container.get("Id", "?")[:12]).lstrip("/")
        for container in containers or []
        if (container.get("State") or {}).get("Running")
        and not recreated_by_owner((container.get("Config") or {}).get("Labels"))
    )


def expected_options(managed: dict[str, Any]) -> list[str]:
    """"OPTION=VALUE" that docker0's network options show once it has daemon.json's settings
    (managed: daemon.json keys), for files/restart-dockerd.sh to check after its restart."""
    return [f"{option}={as_shown(managed[key])}" for key, (option, as_shown) in BRIDGE_OPTIONS.items()
            if managed.get(key) is not None]


def describe(differ: dict[str, tuple[Any, Any]]) -> str:
    return ", ".join(f"{key} {has} (daemon.json: {wanted})" for key, (has, wanted) in sorted(differ.items()))
