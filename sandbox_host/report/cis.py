"""CIS Docker Benchmark, section 2 (Docker daemon configuration): the items this project can check.

One function per item, each reading daemon.json (what the deploy manages) and `docker info` (what
dockerd runs with) and returning pass or warn with its reason. Item numbers differ between
benchmark releases, so items are named by their title; `cis` gives the number in CIS Docker
Benchmark v1.6.0.
"""

from __future__ import annotations

from typing import Any, Callable

PASS, WARN = "pass", "warn"
Item = dict[str, str]


def _item(item_id: str, cis: str, title: str, ok: bool, reason: str) -> Item:
    return {"id": item_id, "cis": cis, "title": title, "status": PASS if ok else WARN, "reason": reason}


def icc(conf: dict, info: dict) -> Item:
    value = conf.get("icc", True)
    return _item("icc", "2.2", "Restrict network traffic between containers on the default bridge",
                 value is False, f"daemon.json icc is {str(value).lower()}" + ("" if "icc" in conf else " (default)"))


def log_level(conf: dict, info: dict) -> Item:
    value = conf.get("log-level", "info")
    return _item("log_level", "2.3", "Set the logging level to info", value == "info", f"log-level is {value}")


def iptables(conf: dict, info: dict) -> Item:
    value = conf.get("iptables", True)
    return _item("iptables", "2.4", "Allow Docker to make changes to iptables", value is not False,
                 f"iptables is {str(value).lower()}" + ("" if value is not False else ": Docker's isolation rules are gone"))


def insecure_registries(conf: dict, info: dict) -> Item:
    listed = conf.get("insecure-registries") or []
    cidrs = [c for c in ((info.get("RegistryConfig") or {}).get("InsecureRegistryCIDRs") or []) if c not in ("127.0.0.0/8", "::1/128")]
    found = list(listed) + cidrs
    return _item("insecure_registries", "2.5", "Do not use insecure registries", not found,
                 f"insecure registries: {', '.join(found)}" if found else "none besides loopback")


def storage_driver(conf: dict, info: dict) -> Item:
    driver = info.get("Driver") or conf.get("storage-driver") or "unknown"
    return _item("storage_driver", "2.6", "Do not use the aufs storage driver", driver != "aufs", f"storage driver {driver}")


def default_ulimits(conf: dict, info: dict) -> Item:
    limits = conf.get("default-ulimits") or {}
    return _item("default_ulimits", "2.8", "Set default ulimits as appropriate", bool(limits),
                 f"default-ulimits: {', '.join(sorted(limits))}" if limits
                 else "no default-ulimits (the agent container sets its own pids/memory limits)")


def userns_remap(conf: dict, info: dict) -> Item:
    value = conf.get("userns-remap")
    return _item("userns_remap", "2.9", "Enable user namespace support", bool(value),
                 f"userns-remap is {value}" if value
                 else "not set (the sandbox relies on gVisor, a non-root user and cap-drop ALL instead)")


def log_driver(conf: dict, info: dict) -> Item:
    driver = conf.get("log-driver") or info.get("LoggingDriver")
    rotated = driver not in ("json-file", "local") or bool((conf.get("log-opts") or {}).get("max-size"))
    return _item("log_driver", "2.13", "Configure centralized logging (a log driver, logs rotated)",
                 bool(conf.get("log-driver")) and rotated,
                 f"log-driver {driver}" + ("" if rotated else ", no max-size: logs grow without bound")
                 + ("" if conf.get("log-driver") else " (Docker's default, not configured)"))


def live_restore(conf: dict, info: dict) -> Item:
    value = info.get("LiveRestoreEnabled", conf.get("live-restore", False))
    return _item("live_restore", "2.14", "Enable live restore", value is True, f"live restore is {'on' if value else 'off'}")


def userland_proxy(conf: dict, info: dict) -> Item:
    value = conf.get("userland-proxy", True)
    return _item("userland_proxy", "2.15", "Disable the userland proxy", value is False,
                 f"userland-proxy is {str(value).lower()}" + ("" if "userland-proxy" in conf else " (default)"))


def seccomp(conf: dict, info: dict) -> Item:
    options = info.get("SecurityOptions") or []
    found = any(o.startswith("name=seccomp") for o in options)
    return _item("seccomp", "2.16", "Apply a daemon-wide seccomp profile", found,
                 "seccomp profile active" if found else "no seccomp in docker info's security options")


def experimental(conf: dict, info: dict) -> Item:
    value = info.get("ExperimentalBuild", conf.get("experimental", False))
    return _item("experimental", "2.17", "Do not use experimental features in production", not value,
                 f"experimental is {'on' if value else 'off'}")


def no_new_privileges(conf: dict, info: dict) -> Item:
    value = conf.get("no-new-privileges", False)
    return _item("no_new_privileges", "2.18", "Restrict containers from acquiring new privileges", value is True,
                 f"daemon.json no-new-privileges is {str(value).lower()}")


ITEMS: tuple[Callable[[dict, dict], Item], ...] = (
    icc, log_level, iptables, insecure_registries, storage_driver, default_ulimits, userns_remap,
    log_driver, live_restore, userland_proxy, seccomp, experimental, no_new_privileges,
)


def evaluate(daemon_json: dict[str, Any] | None, docker_info: dict[str, Any] | None) -> list[Item]:
    conf, info = daemon_json or {}, docker_info or {}
    return [item(conf, info) for item in ITEMS]
