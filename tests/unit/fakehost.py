"""Run a pyinfra operation's generator against faked facts (pyinfra's own fixture-test style).

    commands, noop = run_operation(op, facts={"FileContents": [...]}, path="/etc/x")

Facts are looked up by class name; a dict value keyed by a fact argument value (e.g. a path)
can answer the same fact for several arguments: {"File": {"/etc/x": {...}, "/etc/x.new": None}}.
"""

from pyinfra.api import Config, FileUploadCommand, StringCommand
from pyinfra.context import ctx_host, ctx_state


class FakeHost:
    name = "fakehost"
    print_prefix = "[fakehost] "

    def __init__(self, facts):
        self.facts = facts
        self.noops = []
        self.data = {}
        self.current_op_global_arguments = {}

    def get_fact(self, cls, *args, **kwargs):
        value = self.facts[cls.__name__]
        if isinstance(value, dict) and value.get("__by_argument__"):
            return value[str(next(iter(kwargs.values())))]
        return value

    def get_temp_filename(self, hash_key=None, temp_directory=None):
        return f"{temp_directory or '/tmp'}/pyinfra-upload"

    def noop(self, description):
        self.noops.append(description)


class _State:
    def __init__(self):
        self.config = Config()


def run_operation(op, facts, **kwargs):
    host = FakeHost(facts)
    with ctx_state.use(_State()), ctx_host.use(host):
        commands = [str(command) for command in op._inner(**kwargs)]
    return commands, host.noops


class KeyedFakeHost(FakeHost):
    """Facts keyed by (FactClass, *argument values); a fact not given answers its default()."""

    def get_fact(self, cls, *args, **kwargs):
        return self.facts.get((cls, *args, *kwargs.values()), cls().default())


def shown(command):
    """A yielded command as a test compares it: raw shell text, or ("upload", src, dest)."""
    if isinstance(command, StringCommand):
        return command.get_raw_value()
    if isinstance(command, FileUploadCommand):
        src = command.src.getvalue() if hasattr(command.src, "getvalue") else command.src
        return ("upload", src, command.dest)
    return command


def run_keyed(op, facts, **kwargs):
    """Run ``op`` against KeyedFakeHost facts; returns (shown commands, noop messages)."""
    host = KeyedFakeHost(facts)
    with ctx_state.use(_State()), ctx_host.use(host):
        commands = [shown(command) for command in op._inner(**kwargs)]
    return commands, host.noops
