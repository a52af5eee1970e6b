"""docker_prefetch: one `docker inspect` answers the roles' single-object Docker facts, exactly.

The batched fact's answer is put in the memo first (so no docker runs here); what prefetch then
records is read back under the keys the roles' own facts use.
"""

import pytest
from pyinfra.api import Config, Inventory, State
from pyinfra.api.connect import connect_all
from pyinfra.facts.docker import DockerContainer, DockerImage, DockerNetwork

from sandbox_host import docker_prefetch, fact_memo

IMAGE = {"Id": "sha256:aa", "RepoTags": ["sandbox-host-base:bookworm"], "RootFS": {"Type": "layers"}}
NETWORK = {"Name": "sandbox-internal", "Id": "n1", "Driver": "bridge", "IPAM": {"Config": [{"Subnet": "172.30.0.0/24"}]}}
CONTAINER = {"Name": "/sandbox-egress-proxy", "Id": "c1", "State": {"Running": True}, "HostConfig": {}}
NAMES = ["sandbox-host-base:bookworm", "sandbox-internal", "sandbox-egress-proxy"]


@pytest.fixture
def host():
    fact_memo.install()
    inventory = Inventory((["@local"], {}))
    connect_all(State(inventory, Config()))
    return inventory.get_host("@local")


def recorded(host, cls, name):
    memo = fact_memo.memo_of(host)
    return memo.values.get(memo.key(host, cls, (), {"object_id": name}), "not recorded")


def prefetch_with(host, answer):
    fact_memo.seed(host, docker_prefetch.DockerInspect, answer, names=NAMES)
    return docker_prefetch.prefetch(host, images=NAMES[:1], networks=NAMES[1:2], containers=NAMES[2:])


def test_found_objects_answer_their_single_facts(host):
    assert prefetch_with(host, {"objects": [IMAGE, NETWORK, CONTAINER], "missing": []}) == 3
    assert recorded(host, DockerImage, "sandbox-host-base:bookworm") == [IMAGE]
    assert recorded(host, DockerNetwork, "sandbox-internal") == [NETWORK]
    assert recorded(host, DockerContainer, "sandbox-egress-proxy") == [CONTAINER]
    # The roles' own call forms read the recorded values.
    assert host.get_fact(DockerNetwork, object_id="sandbox-internal") == [NETWORK]


def test_a_missing_object_answers_as_docker_does_for_it(host):
    assert prefetch_with(host, {"objects": [IMAGE, NETWORK], "missing": ["sandbox-egress-proxy"]}) == 3
    assert recorded(host, DockerContainer, "sandbox-egress-proxy") == []
    assert recorded(host, DockerNetwork, "sandbox-internal") == [NETWORK]


def test_an_object_of_another_type_is_left_to_the_roles_fact(host):
    # A container named like the network: untyped inspect returns the container.
    impostor = {**CONTAINER, "Name": "/sandbox-internal"}
    assert prefetch_with(host, {"objects": [IMAGE, impostor, CONTAINER], "missing": []}) == 2
    assert recorded(host, DockerNetwork, "sandbox-internal") == "not recorded"


def test_not_one_answer_per_name_records_nothing(host):
    assert prefetch_with(host, {"objects": [IMAGE, NETWORK], "missing": []}) == 0
    assert prefetch_with(host, None) == 0
    assert recorded(host, DockerImage, "sandbox-host-base:bookworm") == "not recorded"


def test_output_parsing():
    fact = docker_prefetch.DockerInspect()
    assert fact.command(["a:b", "it's"]) == "docker inspect 'a:b' 'it'\\''s' 2>&1 || true"
    # Docker 20.10's output for one found object and two missing ones.
    lines = ["[", '    {"Id": "n1", "Name": "x"}', "]", "Error: No such object: y", "Error: No such object: z"]
    assert fact.process(lines) == {"objects": [{"Id": "n1", "Name": "x"}], "missing": ["y", "z"]}
    assert fact.process(["[", "]", "Error: No such object: y"]) == {"objects": [], "missing": ["y"]}
    assert fact.process(["Cannot connect to the Docker daemon at unix:///var/run/docker.sock."]) is None
