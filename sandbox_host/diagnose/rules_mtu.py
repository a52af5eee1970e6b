"""The path MTU below Docker's MTU although the uplink says 1500: a tunnel further along (VPN,
overlay), seen from the link table (seed 001 §4, MTU mismatch). rules.mtu_larger_than_path
covers the uplink itself; this rule covers what sits behind it.

Reads report["network"]["links"] (every link: MTU, state, master); when the report also carries
report["network"]["links_and_routes"] (`ip -j -d link show` / `ip -j route show table all`, the
deploy's own LinksAndRoutes fact), the deploy's path_mtu.find decides, routes and route `mtu`
attributes included.
"""

from __future__ import annotations

from sandbox_host.diagnose.findings import Finding
from sandbox_host.roles.docker_daemon import path_mtu

SEED = "seed 001 §4 (MTU mismatch)"


def _docker_mtus(report: dict) -> dict[str, int]:
    """What containers send: each outbound bridge network's MTU option (docker0: daemon.json's
    mtu), else Docker's 1500; the probe container's eth0 when it ran."""
    daemon_mtu = ((report.get("daemon_json") or {}).get("content") or {}).get("mtu")
    sizes = {}
    for net in (report.get("docker") or {}).get("networks") or []:
        if net.get("driver") == "bridge" and not net.get("internal"):
            fallback = daemon_mtu if net.get("name") == "bridge" else None
            sizes[f"docker network {net.get('name')}"] = net.get("mtu") or fallback or 1500
    probe = (((report.get("container") or {}).get("links") or {}).get("eth0") or {}).get("mtu")
    if probe:
        sizes["probe container eth0"] = probe
    return sizes


def _tunnels(report: dict) -> dict[str, int]:
    """Tunnel/VPN links that are up, by name or (with links_and_routes) by what routes use."""
    network = report.get("network") or {}
    raw = network.get("links_and_routes")
    if raw:
        found = path_mtu.find(raw.get("links") or [], raw.get("routes") or [])
        return {"path (routes and tunnels)": found.mtu} if found.mtu else {}
    uplink = ((network.get("default_route_v4") or {}).get("interface"))
    return {
        name: link["mtu"]
        for name, link in (network.get("links") or {}).items()
        if name != uplink and path_mtu.TUNNEL_NAMES.match(name) and link.get("mtu")
        and (link.get("state") or "").lower() in ("up", "unknown")
    }


def mtu_larger_than_tunnel(report: dict) -> list[Finding]:
    tunnels = _tunnels(report)
    if not tunnels:
        return []
    smallest = min(tunnels.values())
    uplink = ((report.get("network") or {}).get("default_route_v4") or {}).get("interface")
    uplink_mtu = (((report.get("network") or {}).get("links") or {}).get(uplink) or {}).get("mtu")
    if uplink_mtu and uplink_mtu <= smallest:
        return []  # the uplink is the bottleneck: rules.mtu_larger_than_path reports it
    too_big = {where: mtu for where, mtu in _docker_mtus(report).items() if mtu > smallest}
    if not too_big:
        return []
    return [Finding(
        id="mtu_larger_than_tunnel",
        title=f"containers send {max(too_big.values())}-byte packets but a tunnel on the way carries only {smallest}"
              + (f" ({uplink} itself says {uplink_mtu})" if uplink_mtu else ""),
        severity="high", likelihood=80,
        why="The uplink accepts full-size packets, but traffic routed into the VPN/overlay must fit its smaller MTU; "
            "where ICMP 'fragmentation needed' is filtered, large requests hang after the first exchanges.",
        evidence={"tunnels": tunnels, "uplink": uplink, "uplink mtu": uplink_mtu, "larger than the tunnel": too_big},
        fix=[f'/etc/docker/daemon.json: {{"mtu": {smallest}}}, then: sudo systemctl restart docker',
             "and clamp TCP MSS on forwarded traffic: iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN "
             "-j TCPMSS --clamp-mss-to-pmtu"],
        permanent={"docker_daemon.mtu": smallest},
        seed=SEED,
        notes=["docker_daemon.mtu: auto (the default) finds tunnels that routes go through; a number in group_vars "
               "wins, and host_network.mss_clamping: pmtu clamps what is forwarded."],
    )]


def bridge_mtu_not_applied(report: dict) -> list[Finding]:
    """daemon.json's mtu never reached docker0: dockerd rebuilds its default bridge only when it
    starts with no container running, and live-restore keeps containers running through restarts
    (roles/docker_daemon/bridge.py). Restarting dockerd again, the usual fix, changes nothing."""
    content = (report.get("daemon_json") or {}).get("content") or {}
    wanted = content.get("mtu")
    networks = (report.get("docker") or {}).get("networks") or []
    has = next((net.get("mtu") for net in networks if net.get("name") == "bridge"), None)
    if not isinstance(wanted, int) or not has or has == wanted:
        return []
    return [Finding(
        id="bridge_mtu_not_applied",
        title=f"docker0 still has MTU {has} although daemon.json says {wanted}: dockerd kept its old bridge",
        severity="high" if has > wanted else "medium", likelihood=86,
        why="dockerd builds docker0 from daemon.json only when it starts with no container running; with live-restore "
            "containers run through every restart, so a changed mtu never reaches docker0 or the containers on it "
            "(dockerd logs 'There are old running containers, the network config will not take affect').",
        evidence={"docker network bridge mtu": has, "daemon_json.mtu": wanted,
                  "daemon_json.live-restore": content.get("live-restore")},
        fix=["docker ps  # stop the containers that run (docker stop NAME...), then:",
             "sudo systemctl restart docker  # dockerd rebuilds docker0 with daemon.json's mtu; start them again after"],
        permanent={"docker_daemon.mtu": wanted},
        seed=SEED,
        notes=["The deploy stops the containers it recreates anyway (egress proxy, credential gateways) around its "
               "restart; it names any other running container that keeps docker0 as it is."],
    )]
