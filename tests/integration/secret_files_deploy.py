"""pyinfra deploy for tests/integration/test_secret_output.py: every file the deploy writes with
proxy credentials in it, from the proxy URL in $SECRET_TEST_PROXY."""

import os

from sandbox_host.roles.docker_proxy.deploy import docker_proxy
from sandbox_host.roles.docker_proxy.settings import DockerProxySettings
from sandbox_host.roles.egress_proxy.deploy import upstream_peer_file
from sandbox_host.roles.egress_proxy.settings import EgressProxySettings
from sandbox_host.roles.images.deploy import build_proxy
from sandbox_host.roles.images.settings import ImagesSettings

proxy = os.environ["SECRET_TEST_PROXY"]
docker_proxy(DockerProxySettings(http_proxy=proxy, https_proxy=proxy), init="systemd")
docker_proxy(DockerProxySettings(http_proxy=proxy, https_proxy=proxy), init="sysvinit")
build_proxy(ImagesSettings(), http_proxy=proxy, https_proxy=proxy, no_proxy=["localhost"])
upstream_peer_file(EgressProxySettings(upstream_proxy=proxy))
