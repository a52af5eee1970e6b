"""Test deploy: base image, sandbox networks, egress proxy, with the settings of the inventory's
groups (tests/host/test_egress_proxy.py layers its own group_vars over the repo's).

    SANDBOX_HOST_GROUP_VARS=group_vars:<test dir> pyinfra -y inventories/dev.py tests/host/sandbox_egress_deploy.py
"""

from pyinfra import host

from roles.common import config
from roles.egress_proxy.deploy import egress_proxy
from roles.images.deploy import base_image
from roles.sandbox_network.deploy import sandbox_networks

settings = config.load(host.groups)
base_image(settings.images)
sandbox_networks(settings.sandbox_network, mtu=settings.docker_daemon.mtu)
egress_proxy(settings.egress_proxy, settings.sandbox_network, settings.images)
