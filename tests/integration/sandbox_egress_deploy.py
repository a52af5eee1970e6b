"""Test deploy: base image, sandbox networks, egress proxy, with the settings of the inventory's
groups (tests/integration/test_egress_proxy.py layers its own group_vars over the repo's), plus the
tests' own tools image.

    SANDBOX_HOST_GROUP_VARS=group_vars:<test dir> pyinfra -y inventories/dev.py tests/integration/sandbox_egress_deploy.py
"""

from pyinfra import host
from pyinfra.api import deploy

from sandbox_host import config
from sandbox_host.roles.docker_daemon.deploy import detect_mtu
from sandbox_host.roles.egress_proxy.deploy import egress_proxy
from sandbox_host.roles.images import deploy as images
from sandbox_host.roles.sandbox_network.deploy import sandbox_networks

# The tests' client and "outside" web server: curl and busybox (httpd), on the same base image.
TEST_TOOLS_IMAGE = "sbxtest-tools"
TEST_TOOLS_DOCKERFILE = """FROM {{ base_image }}
{{ extra_ca }}
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl busybox \\
 && rm -rf /var/lib/apt/lists/* && mkdir /www && echo allowed-ok > /www/index.html
"""


@deploy("Test tools image")
def test_tools(image_settings):
    dockerfile = images.render_dockerfile(TEST_TOOLS_DOCKERFILE, image_settings)
    return images.build(image_settings, TEST_TOOLS_IMAGE, dockerfile)


settings = config.load(host.groups)
images.base_image(settings.images)
sandbox = settings.sandbox_network
mtu, _why = detect_mtu(settings.docker_daemon, bridges=[sandbox.internal_bridge, sandbox.egress_bridge])
sandbox_networks(settings.sandbox_network, mtu=mtu)
egress_proxy(settings.egress_proxy, settings.sandbox_network, settings.images)
test_tools(settings.images)
