"""Image builds behind a mandatory proxy: docker_proxy's values reach `docker build` as Docker's
predefined proxy args, from a root-only file, never on a command line, never in the image's
history (tests/host/test_build_proxy.py checks `docker history --no-trunc` on a test host)."""

import pytest
from pyinfra.api import OperationError
from pyinfra.facts.docker import DockerImage

from fakehost import FakeHost, _State, run_operation
from pyinfra.context import ctx_host, ctx_state
from sandbox_host.roles.images.facts import ResolvedV4
from sandbox_host.roles.images import deploy as images
from sandbox_host.roles.images import operations as ops
from sandbox_host.roles.launcher import agent_sandbox

BASE = "sandbox-host-base:bookworm"
BUILD = dict(image="sbx-proxy", dockerfile=f"FROM {BASE}\nRUN apt-get update\n", files={}, base_image=BASE)
SECRET_URL = "http://user:s3cret@proxy.corp.example:3128"


def test_values_both_cases_and_none_without_a_proxy():
    values = images.build_proxy_values(SECRET_URL, SECRET_URL, ["localhost", ".corp.example"])
    assert values["HTTP_PROXY"] == values["http_proxy"] == SECRET_URL
    assert values["NO_PROXY"] == values["no_proxy"] == "localhost,.corp.example"
    assert images.build_proxy_values(None, None, ["localhost"]) == {}


def test_env_file_is_shell_quoted():
    text = images.render_proxy_env({"HTTP_PROXY": "http://u:p$a'b@proxy:3128"})
    assert "HTTP_PROXY='http://u:p$a'\"'\"'b@proxy:3128'" in text


BASE_ID = "sha256:" + "b" * 64
# The base is there; the content-tagged image and its alias are not (so the build runs).
TAG = "sbx-proxy:" + ops.content_tag(ops.content_hash(BUILD["dockerfile"], {}, {}, BASE_ID))
FACTS = {(DockerImage, BASE): [{"Id": BASE_ID}], (DockerImage, TAG): [], (DockerImage, "sbx-proxy:latest"): []}


def test_build_reads_the_file_and_names_the_args_without_values():
    commands, _ = run_operation(ops.build, FACTS, proxy_env="/etc/sandbox-host/build-proxy.env", **BUILD)
    build = next(c for c in commands if isinstance(c, str) and "docker build" in c)
    assert build.startswith("set --; if [ -r /etc/sandbox-host/build-proxy.env ]; then set -a; . /etc/sandbox-host/build-proxy.env ; "
                            'set +a; for h in ${SANDBOX_HOST_BUILD_HOSTS:-}; do set -- "$@" --add-host "$h"; done; fi;')
    for key in ops.PROXY_BUILD_ARGS:
        assert f"--build-arg {key} " in build
    assert '--build-arg no_proxy "$@" /var/tmp/' in build
    assert "=" not in build.split("docker build", 1)[1].split("--label", 1)[0]


def test_proxy_does_not_change_the_content_tag():
    with_proxy, _ = run_operation(ops.build, FACTS, proxy_env="/etc/x.env", **BUILD)
    without, _ = run_operation(ops.build, FACTS, **BUILD)
    assert with_proxy[0] == without[0]  # the workdir is named by the content hash


@pytest.mark.parametrize("line", ["ARG HTTP_PROXY", "arg https_proxy=http://x", "ARG NO_PROXY"])
def test_a_declared_proxy_arg_is_refused(line):
    with pytest.raises(OperationError, match="kept in the image's history"):
        run_operation(ops.build, {}, **{**BUILD, "dockerfile": f"FROM {BASE}\n{line}\nRUN true\n"})


def test_launcher_update_reads_the_same_file(tmp_path):
    env = tmp_path / "build-proxy.env"
    env.write_text(images.render_proxy_env(images.build_proxy_values(SECRET_URL, None, ["localhost"])))
    assert agent_sandbox.build_proxy(str(env)) == {
        "HTTP_PROXY": SECRET_URL, "http_proxy": SECRET_URL, "NO_PROXY": "localhost", "no_proxy": "localhost"}
    assert agent_sandbox.build_proxy(str(tmp_path / "absent")) == {}


def test_proxy_names_the_host_resolves_become_add_hosts():
    host = FakeHost({(ResolvedV4, "proxy.corp.test"): "10.213.2.20", (ResolvedV4, "unknown.test"): None})
    with ctx_state.use(_State()), ctx_host.use(host):
        found = images.proxy_hosts("http://proxy.corp.test:3128", "http://10.0.0.9:3128", "http://unknown.test:1", None)
    assert found == {"proxy.corp.test": "10.213.2.20"}


def test_resolved_fact_takes_the_first_address():
    assert ResolvedV4().process(["10.213.2.20     STREAM proxy.corp.test"]) == "10.213.2.20"
    assert ResolvedV4().process([]) is None
