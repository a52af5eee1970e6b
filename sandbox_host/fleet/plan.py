"""Connect to a fleet, plan the deploy on every host, optionally run it: pyinfra's Python API.

One ``Session`` per run (a State and an Inventory of its own), so a rollout can open one per
batch. Planning is pyinfra's own: each operation of deploys/sandbox_host.py is called for the
host, and with ``check_for_changes`` its command generator runs against the host's facts; an
operation that would yield commands "will change". Nothing is executed until ``execute()``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import gevent
from pyinfra.api import Config, State
from pyinfra.api.connect import connect_all, disconnect_all
from pyinfra.api.exceptions import PyinfraError
from pyinfra.api.operations import run_ops
from pyinfra.api.state import StateStage
from pyinfra.context import ctx_host, ctx_state

from sandbox_host.inventory import FleetSpec
from sandbox_host.ssh_nodelay import set_nodelay

log = logging.getLogger("sandbox-host.fleet")


def deploy_function():
    """The composition itself (deploys/sandbox_host.py), the same code `pyinfra` runs."""
    from sandbox_host.deploys.sandbox_host import deploy_sandbox_host

    return deploy_sandbox_host


@dataclass
class PlannedOp:
    names: list[str]
    will_change: bool
    conditional: bool  # has _if: runs only because another operation changed (restart, reload)


@dataclass
class HostPlan:
    name: str
    groups: list[str]
    status: str = "ok"  # ok | unreachable | failed
    error: str | None = None
    ops: list[PlannedOp] = field(default_factory=list)
    details: dict = field(default_factory=dict)  # what ``plan(explain=...)`` found, per operation


class Session:
    """Connect on enter, disconnect on exit. ``dry``: plan only (drift); else plan, then execute."""

    def __init__(self, fleet: FleetSpec, names: list[str] | None = None, *, dry: bool,
                 parallel: int | None = None, connect_timeout: int = 10):
        self.fleet = fleet
        self.dry = dry
        # check_for_changes: evaluate every operation against the host's facts while planning
        # (what `pyinfra --dry` does); a real run skips it (the CLI's --yes) and decides at run time.
        self.state = State(check_for_changes=dry)
        self.inventory = fleet.inventory(names)
        self.config = Config(FAIL_PERCENT=100, CONNECT_TIMEOUT=connect_timeout,
                             PARALLEL=parallel or max(1, len(self.inventory)))
        self.plans: dict[str, HostPlan] = {}

    def __enter__(self) -> "Session":
        ctx_state.set(self.state)
        self.state.init(self.inventory, self.config)
        self.plans = {h.name: HostPlan(h.name, list(h.groups)) for h in self.inventory}
        self.state.set_stage(StateStage.Connect)
        try:
            connect_all(self.state)
        except PyinfraError as exc:  # "No hosts remaining!": none could be reached
            log.debug("connect: %s", exc)
        for host in self.inventory:
            if host not in self.state.activated_hosts:
                self.plans[host.name].status = "unreachable"
                self.plans[host.name].error = "could not connect"
            else:
                set_nodelay(host)
        return self

    def __exit__(self, *exc) -> None:
        self.state.set_stage(StateStage.Disconnect)
        disconnect_all(self.state)
        ctx_state.reset()

    def active_hosts(self) -> list:
        return [h for h in self.inventory if h in self.state.activated_hosts and h not in self.state.failed_hosts]

    def plan(self, explain=None) -> dict[str, HostPlan]:
        """Plan the deploy on every reachable host at once (one greenlet per host).

        ``explain(host, ops)``: called in the host's context after its planning (facts at hand);
        returns a dict kept as the plan's ``details``."""
        self.state.set_stage(StateStage.Prepare)
        deploy = deploy_function()
        hosts = self.active_hosts()

        def one(index: int, host) -> None:
            with ctx_host.use(host):
                if self.dry:
                    # Planning alone runs nothing, so each host may have its own operation
                    # hashes: pyinfra (API mode) hashes an operation by its position, and a
                    # shared hash would merge the names of different operations of different
                    # hosts. A loop position per host keeps every host's names its own.
                    host.loop_position.append(index)
                try:
                    deploy()
                finally:
                    if self.dry:
                        host.loop_position.pop()
                self.plans[host.name].ops = self._ops_of(host)
                if explain is not None:
                    self.plans[host.name].details = explain(host, self.plans[host.name].ops)

        jobs = {self.state.pool.spawn(one, i, h): h for i, h in enumerate(hosts)}
        gevent.joinall(list(jobs))
        failed = set()
        for job, host in jobs.items():
            if job.exception is not None:
                failed.add(host)
                self.plans[host.name].status = "failed"
                self.plans[host.name].error = f"{type(job.exception).__name__}: {job.exception}"[:500]
        self._fail(failed)
        return self.plans

    def _ops_of(self, host) -> list[PlannedOp]:
        ops = []
        for op_hash in host.op_hash_order:
            data = self.state.get_op_data_for_host(host, op_hash)
            meta = self.state.get_op_meta(op_hash)
            ops.append(PlannedOp(
                names=sorted(meta.names),
                will_change=bool(data.operation_meta._maybe_is_change) if self.dry else False,
                conditional=bool(data.global_arguments.get("_if")),
            ))
        return ops

    def _fail(self, hosts: set) -> None:
        try:
            self.state.fail_hosts(hosts)
        except PyinfraError:  # every host failed: nothing left to do, which the report says
            pass

    def execute(self) -> dict[str, HostPlan]:
        """Run the planned operations: one operation at a time on every host of the session in
        parallel (pyinfra's default). A failing host is dropped; the others go on."""
        self.state.set_stage(StateStage.Execute)
        before = set(self.state.failed_hosts)
        try:
            run_ops(self.state)
        except PyinfraError as exc:  # "No hosts remaining!"
            log.debug("run: %s", exc)
        for host in self.inventory:
            plan = self.plans[host.name]
            if host in self.state.failed_hosts and host not in before:
                plan.status = "failed"
                plan.error = plan.error or self._failed_op(host)
            if plan.status == "ok":
                plan.ops = [PlannedOp(sorted(self.state.get_op_meta(h).names),
                                      self.state.get_op_data_for_host(host, h).operation_meta.did_change(), False)
                            for h in host.op_hash_order
                            if self.state.get_op_data_for_host(host, h).operation_meta.is_complete()]
        return self.plans

    def _failed_op(self, host) -> str:
        for op_hash in host.op_hash_order:
            meta = self.state.get_op_data_for_host(host, op_hash).operation_meta
            if meta.is_complete() and not meta.did_succeed():
                return "operation failed: " + ", ".join(sorted(self.state.get_op_meta(op_hash).names))
        return "failed"
