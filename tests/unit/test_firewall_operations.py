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

from fakehost import FakeHost, fake_host, shown
from sandbox_host.roles.firewall import facts as firewall_facts

FIXTURES = Path(__file__).parent / "fixtures" / "firewall"
CASES = sorted((FIXTURES / "operations").glob("*/*.json"))


def load_facts(facts):
    """A fixture's facts (by fact name; these facts take no arguments) keyed as FakeHost keys them:
    each value itself, or process() of a captured output file."""
    loaded = {}
    for name, value in facts.items():
        cls = getattr(firewall_facts, name)
        if isinstance(value, str) and value.startswith("fixture:"):
            value = cls().process((FIXTURES / value.removeprefix("fixture:")).read_text().splitlines())
        loaded[(cls,)] = value
    return loaded


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_operation(path, caplog):
    case = json.loads(path.read_text())
    module_name, op_name = path.parent.name.split(".")
    op = getattr(import_module(f"sandbox_host.roles.firewall.operations.{module_name}"), op_name)
    with fake_host(load_facts(case["facts"])) as host, caplog.at_level(logging.WARNING, logger="pyinfra"):
        if "exception" in case:
            with pytest.raises(Exception) as raised:
                list(op._inner(**case["kwargs"]))
            assert type(raised.value).__name__ == case["exception"]["name"]
            assert str(raised.value) == case["exception"]["message"]
            return
        commands = [shown(command) for command in op._inner(**case["kwargs"])]

    assert commands == case["commands"]
    if not commands:
        assert host.noops == [case["noop_description"]]
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
