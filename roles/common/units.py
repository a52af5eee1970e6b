"""A systemd unit a role installs so its rules come back at boot (the INPUT guard, MSS clamping)."""

from io import StringIO

from pyinfra.operations import files, systemd


def boot_unit(what: str, unit_name: str, text: str) -> list:
    """Install /etc/systemd/system/``unit_name`` with ``text`` and enable it at boot; systemd
    reloads its units only when the file changed. ``what`` names it in the deploy's output."""
    unit = files.put(
        name=f"Boot-time {what} unit {unit_name}",
        src=StringIO(text),
        dest=f"/etc/systemd/system/{unit_name}",
        user="root",
        group="root",
        mode="644",
    )
    reload = systemd.daemon_reload(name="Reload systemd units", _if=unit.did_change)
    enabled = systemd.service(name=f"Enable {unit_name} at boot", service=unit_name, running=None, enabled=True)
    return [unit, reload, enabled]
