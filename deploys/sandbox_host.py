"""Turn a Docker host into a safe place to run the agent sandbox.

    pyinfra inventories/dev.py deploys/sandbox_host.py

Thin composition: every step is a role (roles/<name>/deploy.py) with its settings section in
group_vars/. Order matters: Docker and its configuration first, one guarded restart, then what
runs on Docker (gVisor smoke run, sandbox networks and images, launcher).
"""

from pyinfra import host

from roles.common import config

# Every group_vars file is validated before any operation is planned, so a bad value in any
# group stops the run before a host is touched.
config.validate_all()
settings = config.load(host.groups)
