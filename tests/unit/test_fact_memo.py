"""fact_memo: a fact asked again before the host changed runs no command; any change forgets.

Driven through pyinfra's real API on the @local host: the fact appends a line to a file and
answers the file's line count, so the answer says how many times its command really ran.
"""

import pytest
from pyinfra.api import Config, Inventory, State
from pyinfra.api.command import FunctionCommand
from pyinfra.api.connect import connect_all
from pyinfra.api.facts import FactBase
from pyinfra.api.host import Host

from sandbox_host import fact_memo


class CountingFact(FactBase):
    """Appends to ``path`` on each run and answers how many lines it has (= runs so far)."""

    def command(self, path, label="x"):
        return f"echo {label} >> {path}; wc -l < {path}"

    def process(self, output):
        return {"runs": int(output[0])}


@pytest.fixture
def host():
    fact_memo.install()
    inventory = Inventory((["@local"], {}))
    state = State(inventory, Config())
    connect_all(state)
    return inventory.get_host("@local")


def test_same_fact_and_arguments_run_once(host, tmp_path):
    path = str(tmp_path / "runs")
    assert host.get_fact(CountingFact, path=path) == {"runs": 1}
    assert host.get_fact(CountingFact, path=path) == {"runs": 1}
    # Positional or keyword, and a default given explicitly: the same command.
    assert host.get_fact(CountingFact, path) == {"runs": 1}
    assert host.get_fact(CountingFact, path, label="x") == {"runs": 1}
    assert fact_memo.memo_of(host).asked == 4


def test_other_arguments_are_another_command(host, tmp_path):
    path = str(tmp_path / "runs")
    assert host.get_fact(CountingFact, path=path) == {"runs": 1}
    assert host.get_fact(CountingFact, path=path, label="y") == {"runs": 2}
    # Another environment is another command (env is a connector argument, like sudo).
    assert host.get_fact(CountingFact, path=path, _env={"LC_ALL": "C"}) == {"runs": 3}
    assert host.get_fact(CountingFact, path=path, _env={"LC_ALL": "C"}) == {"runs": 3}


def test_a_command_an_upload_or_a_python_call_forgets(host, tmp_path):
    path = str(tmp_path / "runs")
    assert host.get_fact(CountingFact, path=path) == {"runs": 1}
    host.run_shell_command("true")
    assert host.get_fact(CountingFact, path=path) == {"runs": 2}
    source = tmp_path / "src"
    source.write_text("data\n")
    host.put_file(str(source), str(tmp_path / "dest"))
    assert host.get_fact(CountingFact, path=path) == {"runs": 3}
    FunctionCommand(lambda: None, (), {}).execute(host.state, host, {})
    assert host.get_fact(CountingFact, path=path) == {"runs": 4}
    assert host.get_fact(CountingFact, path=path) == {"runs": 4}


def test_callers_get_their_own_copy(host, tmp_path):
    path = str(tmp_path / "runs")
    host.get_fact(CountingFact, path=path)["runs"] = 99
    assert host.get_fact(CountingFact, path=path) == {"runs": 1}


def test_install_is_idempotent():
    fact_memo.install()
    wrapped = Host.get_fact
    fact_memo.install()
    assert Host.get_fact is wrapped
