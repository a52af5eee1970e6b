"""Image builds behind a proxy keep the proxy (and its credentials) out of the image.

The build command the images role runs (operations.build_command) reads the root-only proxy
file and passes Docker's predefined proxy args by name. On this test host's Docker (20.10, legacy
builder) a RUN step sees them, while `docker history --no-trunc`, `docker image inspect` and the
saved image do not contain them. Only a throwaway image of this test is built (FROM the base
image, nothing fetched: the proxy URL points at a closed loopback port).
"""

import shlex

import pytest
from pyinfra.api import StringCommand

from sandbox_host.roles.images import deploy as images
from sandbox_host.roles.images import operations as ops

from conftest import write_file

SECRET = "s3cret-build-pw"
PROXY = f"http://builder:{SECRET}@127.0.0.1:9"
IMAGE = "sbxtest-build-proxy:1"
CONTEXT = "/var/tmp/sbxtest-build-proxy"
ENV_FILE = "/run/sbxtest-build-proxy.env"


@pytest.fixture(scope="module")
def built(host, settings):
    base = settings.images.base_image
    if host.run(f"docker image inspect {base}").rc != 0:
        pytest.skip(f"{base} is not on the host")
    host.check_output(f"rm -rf {CONTEXT} && mkdir -p {CONTEXT}")
    write_file(host, f"{CONTEXT}/Dockerfile",
               f'FROM {base}\nRUN echo "saw proxy: ${{HTTP_PROXY:+yes}} ${{https_proxy:+yes}} ${{no_proxy:-none}}" > /seen\n')
    write_file(host, ENV_FILE, images.render_proxy_env(images.build_proxy_values(PROXY, PROXY, ["localhost"])))
    command = ops.build_command(IMAGE, "0" * 64, {}, CONTEXT, ENV_FILE)
    text = StringCommand(*command).get_raw_value()  # as pyinfra runs it
    assert SECRET not in text, "the secret is on the build's command line"
    done = host.run(f"sh -c {shlex.quote(text)}")
    assert done.rc == 0, done.stderr
    yield IMAGE
    host.run(f"docker rmi -f {IMAGE}; rm -rf {CONTEXT} {ENV_FILE}")


def test_run_steps_see_the_proxy(host, built):
    assert host.check_output(f"docker run --rm {built} cat /seen") == "saw proxy: yes yes localhost"


@pytest.mark.parametrize("what", [
    f"docker history --no-trunc {IMAGE}",
    f"docker image inspect {IMAGE}",
])
def test_the_image_keeps_no_proxy_value(host, built, what):
    out = host.run(what)
    assert out.rc == 0, out.stderr
    assert SECRET not in out.stdout and "127.0.0.1:9" not in out.stdout


def test_the_saved_image_has_no_proxy_value(host, built):
    """Every byte of every layer and the config (docker save is uncompressed)."""
    # The password only: the proxy's address alone matches innocent bytes (apt's "127.0.0.1:9050").
    count = host.check_output(f"docker save {IMAGE} | grep -a -c -e {SECRET} || true")
    assert count == "0"


def test_a_container_of_the_image_has_no_proxy_env(host, built):
    env = host.check_output(f"docker run --rm {built} env")
    assert "proxy" not in env.lower()
