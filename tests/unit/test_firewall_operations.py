"""firewalld/UFW operations, pyinfra fixture style: faked facts in, exact commands out.

Each fixture (tests/unit/fixtures/firewall/operations/<module>.<operation>/<case>.json) runs the
operation's generator against a fake host. The "no changes on the second run" check needs the
host's state after the commands, so it lives in the real-host tests (tests/host/test_firewall.py).
"""

import json
import logging
from importlib import import_module
from pathlib import Path

import pytest
from pyinfra.context import ctx_host, ctx_state

from sandbox_host.roles.firewall import facts as firewall_facts

FIXTURES = Path(__file__).parent / "fixtures" / "firewall"
CASES = sorted((FIXTURES / "operations").glob("*/*.json"))


class FakeHost:
    """Just enough of pyinfra's Host for an operation generator: facts by class name, noop text."""

    print_prefix = "[fake] "

    def __init__(self, facts):
        self.facts = facts
        self.noop_description = None

    def get_fact(self, cls, *args, **kwargs):
        return self.facts[cls.__name__]

    def noop(self, description):
        self.noop_description = description


def load_fact(name, value):
    """A fixture's fact: the value itself, or process() of a captured output file."""
    if isinstance(value, str) and value.startswith("fixture:"):
        lines = (FIXTURES / value.removeprefix("fixture:")).read_text().splitlines()
        return getattr(firewall_facts, name)().process(lines)
    return value


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_operation(path, caplog):
    case = json.loads(path.read_text())
    module_name, op_name = path.parent.name.split(".")
    op = getattr(import_module(f"sandbox_host.roles.firewall.operations.{module_name}"), op_name)
    host = FakeHost({name: load_fact(name, value) for name, value in case["facts"].items()})

    with ctx_state.use(object()), ctx_host.use(host), caplog.at_level(logging.WARNING, logger="pyinfra"):
        if "exception" in case:
            with pytest.raises(Exception) as raised:
                list(op._inner(**case["kwargs"]))
            assert type(raised.value).__name__ == case["exception"]["name"]
            assert str(raised.value) == case["exception"]["message"]
            return
        commands = [str(command) for command in op._inner(**case["kwargs"])]

    assert commands == case["commands"]
    if not commands:
        assert host.noop_description == case["noop_description"]
    warnings = [r.getMessage().removeprefix(FakeHost.print_prefix) for r in caplog.records]
    assert warnings == [f"firewalld: {w}" for w in case.get("warnings", [])]


def test_every_operation_has_fixtures():
    covered = {path.parent.name for path in CASES}
    assert covered == {
        "firewalld.zone",
        "firewalld.zone_interface",
        "ufw.route_allow",
        "ufw.default_forward_policy",
    }
