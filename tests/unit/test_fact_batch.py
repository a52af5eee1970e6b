"""fact_batch: the facts of the last run read in one command, each value exactly what the fact's
own command would have answered; anything uncertain left to that command; no secret in the list.

Driven through pyinfra's real API on the @local host, as test_fact_memo.py is: CountingFact's
answer says how many times its command really ran.
"""

import json

import pytest
from pyinfra.api import Config, Inventory, MaskString, QuoteString, State, StringCommand
from pyinfra.api.connect import connect_all
from pyinfra.api.facts import FactBase
from pyinfra.api.state import StateStage

from sandbox_host import fact_batch, fact_memo


class CountingFact(FactBase):
    """Appends to ``path`` on each run and answers how many lines it has (= runs so far)."""

    def command(self, path):
        return f"echo x >> {path}; wc -l < {path}"

    def process(self, output):
        return {"runs": int(output[0])}


class PrintedFact(FactBase):
    """Answers the lines of what ``printf '%b' TEXT`` prints, as pyinfra reads them."""

    def command(self, text):
        return StringCommand("printf '%b'", QuoteString(text))

    def process(self, output):
        return list(output)

    @staticmethod
    def default():
        return "DEFAULT"


class FailingFact(FactBase):
    def command(self, path):
        return f"echo x >> {path}; echo partial; exit 3"


class MissingToolFact(FactBase):
    def requires_command(self, path):
        return "sandbox-host-no-such-tool"

    def command(self, path):
        return f"echo x >> {path}; sandbox-host-no-such-tool"


class SlowFact(FactBase):
    def command(self, seconds):
        return f"sleep {seconds}; echo late"


def new_host():
    """A fresh run: a new State and @local host (the memo and the batch belong to a run)."""
    inventory = Inventory((["@local"], {}))
    state = State(inventory, Config())
    connect_all(state)
    return inventory.get_host("@local")


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    fact_memo.install()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(fact_batch, "_primed", [])
    monkeypatch.setattr(fact_batch.atexit, "register", lambda fn: None)
    # This file's facts may be batched too (the list names only the package's and pyinfra's).
    monkeypatch.setattr(fact_batch, "_FACT_MODULES", (*fact_batch._FACT_MODULES, __name__))


def run(facts, before=None):
    """One run: prime from the last run's list, ask FACTS [(cls, kwargs)], save the list as the
    run's exit does. Returns (values seeded by the batch, the answers)."""
    host = new_host()
    seeded = fact_batch.prime(host)
    if before:
        before(host)
    answers = [host.get_fact(cls, **kwargs) for cls, kwargs in facts]
    fact_batch.save_all()
    fact_batch._primed.clear()
    return seeded, answers


TEXTS = ["", "a", "a\\n", "a\\n\\n", "\\n", "x\\ny\\n", "two\\n\\nblank lines", "spaces  at end  "]


def test_second_run_reads_every_fact_in_one_command_with_the_same_values(tmp_path):
    path = str(tmp_path / "runs")
    facts = [(CountingFact, {"path": path})] + [(PrintedFact, {"text": t}) for t in TEXTS]
    seeded, first = run(facts)
    assert seeded == 0 and first[0] == {"runs": 1}
    seeded, second = run(facts)
    assert seeded == len(facts)
    # CountingFact ran once more (inside the batch), not twice; every other answer is the same.
    assert second[0] == {"runs": 2}
    assert second[1:] == first[1:]
    # The outputs as pyinfra itself reads them (no output: the fact's default).
    assert first[1:] == ["DEFAULT", ["a"], ["a"], ["a", ""], [""], ["x", "y"], ["two", "", "blank lines"],
                         ["spaces  at end  "]]


def test_failed_and_missing_command_facts_are_left_to_their_own_command(tmp_path):
    path = str(tmp_path / "runs")
    counting = (CountingFact, {"path": path})
    facts = [(FailingFact, {"path": str(tmp_path / "failing")}), (MissingToolFact, {"path": str(tmp_path / "m")}),
             counting]
    host = new_host()
    fact_batch.prime(host)
    for cls, kwargs in facts:
        host.get_fact(cls, _ignore_errors=True, **kwargs)
    fact_batch.save_all()
    fact_batch._primed.clear()
    saved = [item["fact"] for item in fact_batch.load_list("@local")]
    assert saved == ["FailingFact", "MissingToolFact", "CountingFact"]

    host = new_host()
    # CountingFact's value, and MissingToolFact's default: what pyinfra answers while operations
    # are planned (this stage) when the tool is missing.
    assert fact_batch.prime(host) == 2
    assert (tmp_path / "failing").read_text() == "x\nx\n"  # it ran in the batch ...
    host.get_fact(FailingFact, _ignore_errors=True, path=str(tmp_path / "failing"))
    assert (tmp_path / "failing").read_text() == "x\nx\nx\n"  # ... and again by itself, as pyinfra reads it
    assert host.get_fact(CountingFact, path=path) == {"runs": 2}
    assert host.get_fact(MissingToolFact, path=str(tmp_path / "m")) is None

    # While operations run, pyinfra warns about a missing tool (v4 raises): left to the fact.
    host = new_host()
    host.state.current_stage = StateStage.Execute
    assert fact_batch.prime(host) == 1


def test_a_change_forgets_the_batched_values(tmp_path):
    path = str(tmp_path / "runs")
    run([(CountingFact, {"path": path})])
    _, (answer,) = run([(CountingFact, {"path": path})], before=lambda host: host.run_shell_command("true"))
    assert answer == {"runs": 3}  # read by the batch (2), then again after the change (3)


def test_a_batch_that_times_out_seeds_nothing_and_the_facts_still_answer(tmp_path, monkeypatch):
    path = str(tmp_path / "runs")
    facts = [(CountingFact, {"path": path}), (SlowFact, {"seconds": 3})]
    run(facts)
    monkeypatch.setattr(fact_batch, "TIMEOUT_SECONDS", 1)
    seeded, answers = run(facts)
    assert seeded == 0
    assert answers == [{"runs": 3}, "late"]  # 1st run, the batch (cut short), this run's own call


def test_reads_that_may_carry_a_secret_are_never_written(tmp_path):
    path = str(tmp_path / "runs")
    host = new_host()
    fact_batch.prime(host)
    host.get_fact(CountingFact, path=path)
    host.get_fact(PrintedFact, text=MaskString("hunter2-masked"))
    host.get_fact(PrintedFact, text="env", _env={"HTTPS_PROXY": "http://u:hunter2-env@proxy:3128"})
    fact_batch.save_all()
    text = fact_batch.list_path("@local").read_text()
    assert "hunter2" not in text
    assert [item["fact"] for item in fact_batch.load_list("@local")] == ["CountingFact"]
    assert oct(fact_batch.list_path("@local").stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("content", ["", "[]", "{}", '{"version": 2, "facts": []}', "not json",
                                     '{"version": 1, "facts": [{"module": "os", "fact": "system", "args": {}, '
                                     '"connector": {}}]}'])
def test_a_list_this_version_did_not_write_is_ignored(content, tmp_path):
    path = fact_batch.list_path("@local")
    path.parent.mkdir(parents=True)
    path.write_text(content)
    host = new_host()
    assert fact_batch.prime(host) == 0


def test_a_list_naming_another_module_imports_nothing(tmp_path):
    import sys

    path = fact_batch.list_path("@local")
    path.parent.mkdir(parents=True, mode=0o700)
    entry = {"module": "antigravity", "fact": "FactBase", "args": {}, "connector": {}}
    path.write_text(json.dumps({"version": 1, "facts": [entry]}))
    path.chmod(0o600)
    assert fact_batch.prime(new_host()) == 0
    assert "antigravity" not in sys.modules


def test_a_list_others_could_write_is_not_read(tmp_path):
    path = str(tmp_path / "runs")
    run([(CountingFact, {"path": path})])
    fact_batch.list_path("@local").chmod(0o622)
    seeded, _ = run([(CountingFact, {"path": path})])
    assert seeded == 0
    fact_batch.list_path("@local").chmod(0o600)
    fact_batch.list_path("@local").parent.chmod(0o777)
    seeded, _ = run([(CountingFact, {"path": path})])
    assert seeded == 0


def test_off_switch(tmp_path, monkeypatch):
    path = str(tmp_path / "runs")
    run([(CountingFact, {"path": path})])
    monkeypatch.setenv("SANDBOX_HOST_FACT_BATCH", "0")
    seeded, _ = run([(CountingFact, {"path": path})])
    assert seeded == 0


def test_split_outputs_cuts_at_this_batch_s_own_marker_only():
    lines = ["out", "0 abc", "", "1 0123", "", "0 0123"]  # "0 abc": like another batch's marker
    assert fact_batch.split_outputs(lines, "0123") == [(1, ["out", "0 abc"]), (0, [])]


def test_an_unwritable_cache_costs_only_the_batch(tmp_path, monkeypatch):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would go\n")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    path = str(tmp_path / "runs")
    run([(CountingFact, {"path": path})])  # saving fails quietly
    seeded, (answer,) = run([(CountingFact, {"path": path})])
    assert (seeded, answer) == (0, {"runs": 2})


def test_a_home_of_another_user_gets_no_list(tmp_path, monkeypatch):
    # `sudo` that kept the caller's HOME: root's files must not land in the user's home.
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setattr(fact_batch.os, "geteuid", lambda: home.stat().st_uid + 1)
    path = str(tmp_path / "runs")
    run([(CountingFact, {"path": path})])
    assert not (home / ".cache").exists()


def test_a_fact_another_batched_reader_answers_leaves_the_list(tmp_path):
    # docker_prefetch answers single-object Docker facts from one `docker inspect`: once it does,
    # the batch need not read them one by one again (they were in the list from a run where the
    # prefetch's answer was gone, e.g. after a change).
    path = str(tmp_path / "runs")
    run([(CountingFact, {"path": path}), (PrintedFact, {"text": "a"})])

    def prefetched(host):
        fact_memo.seed(host, PrintedFact, ["from the prefetch"], text="a")

    _, answers = run([(CountingFact, {"path": path}), (PrintedFact, {"text": "a"})], before=prefetched)
    assert answers[1] == ["from the prefetch"]
    assert [item["fact"] for item in fact_batch.load_list("@local")] == ["CountingFact"]


def test_reads_with_another_shell_or_a_terminal_are_not_batched(tmp_path):
    host = new_host()
    fact_batch.prime(host)
    host.get_fact(PrintedFact, text="bash", _shell_executable="bash")
    host.get_fact(PrintedFact, text="pty", _get_pty=True)
    host.get_fact(PrintedFact, text="plain")
    fact_batch.save_all()
    assert [item["args"]["text"] for item in fact_batch.load_list("@local")] == ["plain"]
