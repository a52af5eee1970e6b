"""A Mac: Docker Desktop or Colima made ready, then the sandbox on it, as the Mac's user.

    .venv/bin/pyinfra -y inventories/macos.py deploys/macos.py     (settings: group_vars/macos.yml)

The Linux host roles (Docker packages, sysctls, firewall, daemon.json under /etc) do not apply:
Docker runs in a VM that Docker Desktop or Colima owns, configured by the macos role. The
launcher's files go to /usr/local (sudo asks once for those).
"""

from pyinfra import host
from pyinfra.facts.server import User

from sandbox_host import config
from sandbox_host.roles.agent.deploy import agent_image
from sandbox_host.roles.egress_proxy.deploy import egress_proxy
from sandbox_host.roles.images import deploy as images
from sandbox_host.roles.launcher.deploy import launcher
from sandbox_host.roles.macos.deploy import macos_docker
from sandbox_host.roles.sandbox_network.deploy import sandbox_networks

settings = config.load_or_exit(host.groups)
agent = settings.agent
if agent.uid is None and agent.host_user is None:
    # The image's user takes the Mac user's UID/GID (typically 501:20; agent-user renames
    # Debian's GID-20 group, dialout).
    agent = agent.model_copy(update={"host_user": host.get_fact(User)})
    settings = settings.model_copy(update={"agent": agent})

macos_docker(settings.macos, settings.docker_daemon, settings.agent, settings.gvisor.runtime_name)
images.base_image(settings.images)
sandbox_networks(settings.sandbox_network, mtu=settings.docker_daemon.mtu)
egress_proxy(settings.egress_proxy, settings.sandbox_network, settings.images)
if settings.agent.enabled:
    agent_image(settings.agent, settings.images)
launcher(settings.launcher_sections(), _sudo=True)
