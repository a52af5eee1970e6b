"""firewalld operations: zones and the interfaces bound to them, permanent and at runtime.

Each yields nothing when the host already matches. They need firewalld running: firewall-cmd
(even --permanent) talks to the daemon; when it is stopped they do nothing and say so.
"""

from __future__ import annotations

import re

from pyinfra import host, logger
from pyinfra.api import OperationValueError, operation

from sandbox_host.roles.firewall.facts import FirewalldState

_ZONE = re.compile(r"^[A-Za-z0-9_-]{1,17}$")
_INTERFACE = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")
_TARGETS = ("default", "ACCEPT", "DROP", "REJECT")


def _running_state():
    state = host.get_fact(FirewalldState)
    if not state or not state["running"]:
        host.noop("firewalld is not running" if state else "firewalld is not installed")
        return None
    return state


def _check(pattern, value, what):
    if not pattern.match(value):
        raise OperationValueError(f"invalid firewalld {what}: {value!r}")


@operation()
def zone(zone: str, target: str | None = "ACCEPT"):
    """Make a permanent zone exist with this target (None: leave the target alone).

    + zone: zone name (firewalld allows at most 17 characters)
    + target: default, ACCEPT, DROP or REJECT; ACCEPT is what `trusted` and Docker's own
      `docker` zone have. A new zone or a new target only reaches the runtime configuration
      through `firewall-cmd --reload`, which this operation then runs (as dockerd itself does
      when it creates its zone); reload keeps permanent bindings and Docker re-adds its own.
    """
    _check(_ZONE, zone, "zone")
    if target is not None and target not in _TARGETS:
        raise OperationValueError(f"invalid firewalld zone target: {target!r} (one of {_TARGETS})")
    state = _running_state()
    if state is None:
        return
    current = state["permanent"].get(zone)
    changed = False
    if current is None:
        yield f"firewall-cmd --permanent --new-zone={zone}"
        changed = True
    # REJECT is listed as %%REJECT%%.
    if target is not None and (current is None or (current["target"] or "").strip("%") != target):
        yield f"firewall-cmd --permanent --zone={zone} --set-target={target}"
        changed = True
    if changed:
        yield "firewall-cmd --reload"
    else:
        host.noop(f"firewalld zone {zone} exists" + (f" with target {target}" if target else ""))


@operation()
def zone_interface(zone: str, interface: str, permanent: bool = True, runtime: bool = True):
    """Bind an interface to a zone, permanently and/or at runtime, moving it out of any other zone.

    + zone: zone to bind the interface to (must exist; see `zone`)
    + interface: interface name; it need not exist yet (firewalld matches by name)
    + permanent: bind in the permanent configuration (survives `firewall-cmd --reload` and reboots)
    + runtime: bind in the running configuration (takes effect now)

    An interface bound to another zone is moved, with a warning naming both zones: firewalld
    refuses a second binding (ZONE_CONFLICT). Permanently it is removed from the old zone, then
    added; at runtime `--change-interface` moves it in one step, so it never falls back to the
    default zone in between.
    """
    _check(_ZONE, zone, "zone")
    _check(_INTERFACE, interface, "interface")
    state = _running_state()
    if state is None:
        return
    changed = False
    if permanent:
        zones = state["permanent"]
        for other in sorted(name for name, info in zones.items() if interface in info["interfaces"] and name != zone):
            logger.warning(f"{host.print_prefix}firewalld: moving {interface} from zone {other} to {zone} (permanent)")
            yield f"firewall-cmd --permanent --zone={other} --remove-interface={interface}"
            changed = True
        if interface not in zones.get(zone, {}).get("interfaces", []):
            yield f"firewall-cmd --permanent --zone={zone} --add-interface={interface}"
            changed = True
    if runtime:
        bound = sorted(name for name, info in state["runtime"].items() if interface in info["interfaces"])
        if bound != [zone]:
            for other in (name for name in bound if name != zone):
                logger.warning(f"{host.print_prefix}firewalld: moving {interface} from zone {other} to {zone} (runtime)")
            # --change-interface also adds an interface bound nowhere, and cannot hit ZONE_CONFLICT
            # if dockerd re-binds the bridge between the fact and this command.
            yield f"firewall-cmd --zone={zone} --change-interface={interface}"
            changed = True
    if not changed:
        host.noop(f"{interface} is bound to firewalld zone {zone}")
