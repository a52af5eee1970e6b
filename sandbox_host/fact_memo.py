"""Each fact command runs once per host until the host runs anything else.

pyinfra 3 keeps no fact cache: every ``host.get_fact`` is a command on the host and a round trip.
The deploy asks some facts more than once (measured by benchmarks/fact_count.py: 12 of 71 on a
no-change rerun), mostly inside pyinfra's own operations: ``files.put``/``template`` read the
parent ``Directory`` of each file, ``systemd.service`` reads ``/run/systemd/system``, and the
image, network and container operations each read the same Docker objects the roles read first.

The memo keeps a fact's value, per host, keyed by the fact, its arguments and the connector
arguments it runs with (sudo, env...), and forgets all of the host's values as soon as the host
runs a command that is not a fact, uploads a file, or runs a ``python.call`` function: the state
a fact describes only changes through those, so a value read since the last one is still exact.
pyinfra removed its v2 cache because operations had to write their effects back into it
(pyinfra-dev/pyinfra#862); dropping everything on any change needs no write-back. A candidate
for upstream (a ``Host`` option); until then ``install()`` wraps ``Host`` once per process.
"""

from __future__ import annotations

import copy
import inspect
import os

from pyinfra.api.arguments import CONNECTOR_ARGUMENT_KEYS, pop_global_arguments
from pyinfra.api.command import FunctionCommand
from pyinfra.api.host import Host


def key_of(module: str, qualname: str, named: dict, connector: dict) -> str:
    """One fact read's identity: the fact, its arguments by name, the connector arguments."""
    # repr: fact arguments may be lists or dicts (unhashable); the same value gives the same text.
    return repr((module, qualname, sorted(named.items()), sorted(connector.items())))


class FactMemo:
    """One host's fact values since it last changed; ``reading`` > 0 while a fact runs."""

    def __init__(self):
        self.values: dict = {}
        self.reading = 0
        self.asked = 0  # facts asked, answered from the memo or not (for benchmarks/fact_count.py)
        # fact_batch.py: whether this run's batch was read, the entries it seeded, and what this
        # run read from the host (key -> entry), the list the next run reads in one batch.
        self.batch_primed = False
        self.batched: dict[str, dict] = {}
        self.read: dict[str, dict] = {}
        self.resolved: dict[str, tuple[dict, frozenset]] = {}  # key_parts' connector arguments

    def key(self, host, cls, args, kwargs) -> str:
        return self.key_parts(host, cls, args, kwargs)[0]

    def key_parts(self, host, cls, args, kwargs) -> tuple[str, dict, dict]:
        """(key, the fact's arguments by name, the connector arguments it runs with)."""
        # The connector arguments (sudo, env, shell...) the fact will run with, resolved as
        # pyinfra resolves them (operation, deploy, host data, config): a fact asked by a role
        # and again inside an operation with the same effective arguments is one command.
        merged = {**(host.current_op_global_arguments or {}), **kwargs}
        # Resolving costs ~1 ms (every global argument, from every source) and a deploy asks ~80
        # facts per host. pyinfra resolves each argument from its own sources only (the call,
        # the deploy's arguments, host data, config), so the connector arguments given by the
        # call and the deploy decide the result for a host.
        deploy_kwargs = host.current_deploy_kwargs or {}
        asked = repr(([(k, merged[k]) for k in CONNECTOR_ARGUMENT_KEYS if k in merged],
                      [(k, deploy_kwargs[k]) for k in CONNECTOR_ARGUMENT_KEYS if k in deploy_kwargs]))
        if asked not in self.resolved:
            resolved, _ = pop_global_arguments(host.state, host, dict(merged))
            self.resolved[asked] = ({k: resolved[k] for k in CONNECTOR_ARGUMENT_KEYS if k in resolved},
                                    frozenset(resolved))
        connector, global_names = self.resolved[asked]
        connector = dict(connector)
        fact_kwargs = {k: v for k, v in kwargs.items() if k not in global_names}
        try:
            # File("/x") and File(path="/x") are one command: key by the arguments' names, as
            # pyinfra binds them to the fact's command().
            named = inspect.getcallargs(cls().command, *args, **fact_kwargs)
            named.pop("self", None)
        except (AttributeError, TypeError):
            named = {"args": args, **fact_kwargs}
        return key_of(cls.__module__, cls.__qualname__, named, connector), named, connector

    def get(self, host, read, cls, args, kwargs):
        """The value ``read()`` gives, run only when this fact was not read since the last change."""
        self.asked += 1
        key, named, connector = self.key_parts(host, cls, args, kwargs)
        if key not in self.values:
            self.reading += 1
            try:
                self.values[key] = read()
            finally:
                self.reading -= 1
            if key not in self.read:
                self.read[key] = {"module": cls.__module__, "fact": cls.__qualname__, "args": named,
                                  "connector": connector}
        elif key in self.batched and key not in self.read:
            self.read[key] = self.batched[key]  # read by this run's batch: in the next one's too
        # A copy: a caller that edits its value must not change what the next caller reads.
        return copy.deepcopy(self.values[key])

    def seed_key(self, key: str, value, entry: dict) -> None:
        """VALUE as the answer of the fact under KEY, read by fact_batch.py's batch (ENTRY)."""
        self.values[key] = value
        self.batched[key] = entry

    def read_entries(self) -> list[dict]:
        """What this run read from the host, in the order it first asked."""
        return list(self.read.values())

    def changed(self) -> None:
        """The host ran something that is not a fact: every value may be stale."""
        if not self.reading:
            self.values.clear()


def memo_of(host) -> FactMemo:
    memo = getattr(host, "sandbox_fact_memo", None)
    if memo is None:
        memo = host.sandbox_fact_memo = FactMemo()
    return memo


_installed = False
# Host.run_shell_command as pyinfra defines it: fact_batch.py's batch is a fact read, not a change.
unwrapped_run_shell_command = Host.run_shell_command


def install() -> None:
    """Wrap ``Host.get_fact`` with the memo and the host's commands, uploads and python.call
    functions with ``changed()``. Idempotent."""
    global _installed
    if _installed or os.environ.get("SANDBOX_HOST_FACT_MEMO") == "0":  # "0": off, for benchmarks' A/B
        return
    _installed = True
    get_fact, run, put, rsync = Host.get_fact, Host.run_shell_command, Host.put_file, Host.rsync
    execute = FunctionCommand.execute

    def memo_get_fact(self, cls, *args, **kwargs):
        return memo_of(self).get(self, lambda: get_fact(self, cls, *args, **kwargs), cls, args, kwargs)

    def changing(method):
        def wrapper(self, *args, **kwargs):
            memo_of(self).changed()
            return method(self, *args, **kwargs)

        return wrapper

    def execute_function(self, state, host, connector_arguments):
        memo_of(host).changed()
        try:
            return execute(self, state, host, connector_arguments)
        finally:
            memo_of(host).changed()

    Host.get_fact = memo_get_fact
    Host.run_shell_command = changing(run)
    Host.put_file = changing(put)
    Host.rsync = changing(rsync)
    FunctionCommand.execute = execute_function


def active() -> bool:
    """Whether facts go through the memo (``install()`` ran and was not turned off)."""
    return _installed


def seed(host, cls, value, *args, **kwargs) -> bool:
    """Record VALUE as what ``host.get_fact(cls, *args, **kwargs)`` would answer now (a batched
    fact read it); False when the memo is off, so the caller knows nobody will read it."""
    if not _installed:
        return False
    memo = memo_of(host)
    key = memo.key(host, cls, args, kwargs)
    memo.values[key] = value
    # Answered by this reader from now on: not a read for fact_batch.py's next list (which would
    # otherwise read it one by one next time, the very commands this reader saves).
    memo.batched.pop(key, None)
    return True
