"""Count the fact commands the deploy sends each host (round trips), and which of them repeat.

    .venv/bin/python benchmarks/fact_count.py INVENTORY [--mode rerun|drift] [--list]

rerun: plan and run the deploy (`sandbox-host rollout`'s path; on a converged host a no-change
rerun); drift: dry planning only (`sandbox-host drift`). Prints per host the fact commands, the
repeats (the same fact with the same arguments asked again) and the `docker` CLI calls among them.
Every pyinfra fact runs its command (pyinfra 3 caches no facts), so each get_fact is a round trip,
unless the fact memo (sandbox_host/fact_memo.py) or the batch of the last run's facts
(sandbox_host/fact_batch.py, counted as one "FactBatch" command) answered it.
"""

from __future__ import annotations

import argparse
import collections
import contextvars
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pyinfra.api import facts as pyinfra_facts  # noqa: E402
from pyinfra.api.host import Host  # noqa: E402

from sandbox_host import fact_memo  # noqa: E402
from sandbox_host.fleet.plan import Session  # noqa: E402
from sandbox_host.inventory import load  # noqa: E402

_current = contextvars.ContextVar("fact", default=None)
calls: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)


def _counting_get_fact(original):
    def wrapper(state, host, cls, args=None, kwargs=None, *rest, **named):
        token = _current.set(cls.__name__)
        try:
            return original(state, host, cls, args, kwargs, *rest, **named)
        finally:
            _current.reset(token)

    return wrapper


def _counting_run(original):
    def wrapper(self, command, *args, **kwargs):
        fact = _current.get()
        if fact is not None:
            calls[self.name].append((fact, str(getattr(command, "get_raw_value", lambda: command)())))
        return original(self, command, *args, **kwargs)

    return wrapper


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("inventory")
    parser.add_argument("--mode", choices=("rerun", "drift"), default="rerun")
    parser.add_argument("--list", action="store_true", help="print every fact command")
    args = parser.parse_args()
    pyinfra_facts._get_fact = _counting_get_fact(pyinfra_facts._get_fact)
    Host.run_shell_command = _counting_run(Host.run_shell_command)
    # fact_batch.py's one command for the facts of the last run (counted as the fact "FactBatch").
    batch = _counting_run(fact_memo.unwrapped_run_shell_command)

    def counted_batch(*args, **kwargs):
        token = _current.set("FactBatch")
        try:
            return batch(*args, **kwargs)
        finally:
            _current.reset(token)

    fact_memo.unwrapped_run_shell_command = counted_batch
    fleet = load(args.inventory)
    with Session(fleet, dry=args.mode == "drift") as session:
        plans = session.plan()
        if args.mode == "rerun":
            plans = session.execute()
        changed = {name: [op.names for op in plan.ops if op.will_change] for name, plan in plans.items()}
    for name, made in calls.items():
        seen = collections.Counter(made)
        repeats = {key: n for key, n in seen.items() if n > 1}
        docker = sum(1 for _, command in made if "docker " in command)
        print(f"{name}: {len(made)} fact commands, {sum(repeats.values()) - len(repeats)} repeats, "
              f"{docker} docker CLI calls; changed: {changed.get(name) or 'nothing'}")
        for (fact, command), n in sorted(repeats.items()):
            print(f"  x{n} {fact}: {command[:150]}")
        if args.list:
            for fact, command in made:
                print(f"  - {fact}: {command[:200]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
