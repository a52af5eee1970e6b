"""The one fake pyinfra host of the unit tests: run an operation's generator, or a deploy's body,
against faked facts (pyinfra's own fixture-test style).

    commands, noops = run_operation(op, {(FileContents, "/etc/x"): [...], (InitSystem,): "systemd"}, path="/etc/x")

Facts are keyed one way: (FactClass, *the argument values the code passes), in call order; list
arguments as tuples. A fact the test does not give is an error naming the key asked for, so a
test never passes on a fact it forgot (or keyed wrongly).
"""

from contextlib import contextmanager

from pyinfra.api import Config, FileUploadCommand, StringCommand
from pyinfra.context import ctx_host, ctx_state


def fact_key(cls, *args, **kwargs) -> tuple:
    values = [*args, *kwargs.values()]
    return (cls, *(tuple(v) if isinstance(v, list) else v for v in values))


class FakeHost:
    name = "fakehost"
    print_prefix = "[fakehost] "

    def __init__(self, facts):
        self.facts = facts
        self.asked = []
        self.noops = []
        self.data = {}
        self.current_op_global_arguments = {}

    def get_fact(self, cls, *args, **kwargs):
        key = fact_key(cls, *args, **kwargs)
        self.asked.append(key)
        if key not in self.facts:
            given = ", ".join(repr((k[0].__name__, *k[1:])) for k in self.facts) or "none"
            raise KeyError(f"fact {(cls.__name__, *key[1:])!r} not faked (given: {given})")
        return self.facts[key]

    def get_temp_filename(self, hash_key=None, temp_directory=None):
        return f"{temp_directory or '/tmp'}/pyinfra-upload"

    def noop(self, description):
        self.noops.append(description)


class _State:
    is_executing = False  # planning: what operations warn about once, at run time, stays quiet

    def __init__(self):
        self.config = Config()


@contextmanager
def fake_host(facts):
    """pyinfra's current host and state are a FakeHost with ``facts`` (for deploy bodies)."""
    host = FakeHost(facts)
    host.state = _State()
    with ctx_state.use(host.state), ctx_host.use(host):
        yield host


def shown(command):
    """A yielded command as a test compares it: raw shell text, or ("upload", src, dest)."""
    if isinstance(command, StringCommand):
        return command.get_raw_value()
    if isinstance(command, FileUploadCommand):
        src = command.src.getvalue() if hasattr(command.src, "getvalue") else command.src
        return ("upload", src, command.dest)
    return command


def run_operation(op, facts, **kwargs):
    """Run ``op``'s generator on a FakeHost; returns (shown commands, noop messages)."""
    with fake_host(facts) as host:
        commands = [shown(command) for command in op._inner(**kwargs)]
    return commands, host.noops
