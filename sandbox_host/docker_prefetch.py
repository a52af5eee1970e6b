"""One `docker inspect` per host for the Docker objects the deploy's roles ask about one by one.

The roles read images, networks and containers with pyinfra's single-object facts (DockerImage,
DockerNetwork, DockerContainer): one `docker` CLI process each, 36-45 ms of the host's CPU and a
round trip every time (issue 9). ``prefetch`` asks for all of them in one untyped
`docker inspect A B C`, then records in the fact memo (fact_memo.py) exactly the value each
single-object fact would have given, so the roles' own facts answer without a command. A name
whose answer is not certain is left alone (its fact then runs as before): an object of another
type under that name (a container named like a network: untyped inspect prefers containers), or
output this parser does not recognise.
"""

from __future__ import annotations

import json

from pyinfra.api import FactBase
from pyinfra.facts.docker import DockerContainer, DockerImage, DockerNetwork

from sandbox_host import fact_memo

MISSING = "Error: No such object: "


class DockerInspect(FactBase):
    """`docker inspect NAME...`: {"objects": [found, in the order asked], "missing": [names]},
    or None when the output is not that (then nothing is recorded)."""

    def requires_command(self, names) -> str:
        return "docker"

    def command(self, names):
        quoted = " ".join("'" + name.replace("'", "'\\''") + "'" for name in names)
        # Found objects as one JSON array on stdout, then one error line per missing name.
        return f"docker inspect {quoted} 2>&1 || true"

    def process(self, output):
        text = [line for line in output if not line.startswith(MISSING)]
        missing = [line[len(MISSING):].strip() for line in output if line.startswith(MISSING)]
        try:
            objects = json.loads("\n".join(text))
        except ValueError:
            return None
        return {"objects": objects, "missing": missing} if isinstance(objects, list) else None


def _is(kind: str, found: dict) -> bool:
    """Which type an untyped inspect returned: each type's own fields."""
    if kind == "image":
        return "RepoTags" in found and "RootFS" in found
    if kind == "network":
        return "IPAM" in found and "Driver" in found
    return "State" in found and "HostConfig" in found


FACTS = {"image": DockerImage, "network": DockerNetwork, "container": DockerContainer}


def prefetch(host, images=(), networks=(), containers=()) -> int:
    """Record the single-object facts of these names; returns how many were recorded."""
    asked = [("image", n) for n in images] + [("network", n) for n in networks] + [("container", n) for n in containers]
    names = [name for _, name in asked]
    if not asked or len(set(names)) != len(names) or not fact_memo.active():
        return 0  # nothing to ask, a name asked as two types, or the memo is off
    found = host.get_fact(DockerInspect, names=names)
    if found is None:
        return 0
    present = [(kind, name) for kind, name in asked if name not in found["missing"]]
    if len(present) != len(found["objects"]) or len(present) + len(found["missing"]) != len(asked):
        return 0  # not one answer per name: do not guess which is which
    recorded = 0
    for kind, name in asked:
        if name in found["missing"]:
            # What `docker <type> inspect NAME || true` prints for an absent object.
            recorded += fact_memo.seed(host, FACTS[kind], [], object_id=name)
    for (kind, name), obj in zip(present, found["objects"]):
        if _is(kind, obj):
            recorded += fact_memo.seed(host, FACTS[kind], [obj], object_id=name)
    return recorded
