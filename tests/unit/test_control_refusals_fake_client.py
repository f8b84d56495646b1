"""The session controls refuse bad input in one line and change nothing: in ``%copilot_session``
and in the ``copilot-magic`` command, over the real SessionStore and a fake SDK client.

The store's own checks (a title, a rewind count, a fork's name, an unknown session, a model the
provider does not list) run as they do on the runtime; ``fake_sdk`` stands in for the runtime,
so nothing here starts one (the runtime path is a fake that does not exist). The fake runtime
writes no ``events.jsonl`` for a turn, so ``--at`` ranges are checked against the real runtime's
files in ``tests/e2e/test_cli_e2e.py`` (``test_mistakes_and_failures_are_one_line_...``), with
a rewind count and unknown sessions looked up on the real runtime.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fake_sdk import FakeBridge, FakeClient
from IPython.core.interactiveshell import InteractiveShell
from shell_errors import error_line, usage_error_shown

from copilot_magic import cli
from copilot_magic.config import Settings
from copilot_magic.sessions import store as store_module
from copilot_magic.sessions.store import SessionStore
from copilot_magic.ui.magics import CopilotMagics

FAKE_RUNTIME = "/nonexistent/fake-copilot-runtime"


@pytest.fixture(autouse=True)
def fake_runtime_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPILOT_CLI_PATH", FAKE_RUNTIME)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "copilot-home"
    path.mkdir(mode=0o700)
    return path


class FakeRuntime:
    """One fake runtime per data directory, kept across stores as a runtime keeps its sessions:
    every SessionStore made here (the command makes one per run) reaches the same FakeClient."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.clients: dict[str, FakeClient] = {}
        self.stores: list[SessionStore] = []

    def store(self, settings: Settings | None = None) -> SessionStore:
        given = settings or Settings(data_dir=str(self.data_dir))
        bridge = FakeBridge(lambda: given)
        bridge.clients = self.clients
        made = SessionStore(given, bridge=bridge)
        self.stores.append(made)
        return made

    @property
    def client(self) -> FakeClient:
        (client,) = self.clients.values()
        return client

    def sessions(self) -> dict[str, tuple[str, list[str]]]:
        """Each session the fake runtime keeps: its title and the prompts it holds."""
        return {sid: (s.name, list(s.sent)) for sid, s in self.client.stored.items()}

    def made_with(self, session_id: str, *prompts: str) -> None:
        """A session of ``prompts``, made as a kernel makes one, then closed."""
        store = self.store()
        store.open(session_id)
        for prompt in prompts:
            store.converse(session_id, prompt)
        store.close()


@pytest.fixture
def fake_runtime(data_dir: Path) -> Iterator[FakeRuntime]:
    runtime = FakeRuntime(data_dir)
    yield runtime
    for store in runtime.stores:
        store.close()


# -- copilot-magic ------------------------------------------------------------------------------
@pytest.fixture
def run_fake_cli(
    fake_runtime: FakeRuntime,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Callable[..., tuple[int, str, str]]:
    """``copilot-magic ARGS`` in this process, its store on the fake runtime: (status, out, err)."""

    def make(settings: Settings, bridge: object = None) -> SessionStore:
        return fake_runtime.store(settings)

    monkeypatch.setattr(store_module, "SessionStore", make)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        status = cli.main(["--data-dir", str(data_dir), *args])
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err, captured.err
        return status, captured.out, captured.err

    return run


@pytest.mark.parametrize(
    "args",
    [
        ["rename", "ctl-nothing", "A title"],
        ["fork", "ctl-new", "ctl-nothing"],
        ["rewind", "ctl-nothing", "1", "--yes"],
        ["star", "ctl-nothing"],
        ["unstar", "ctl-nothing"],
        ["usage", "ctl-nothing"],
        ["compact", "ctl-nothing"],
    ],
)
def test_every_cli_control_refuses_an_unknown_session_in_one_line_fake_client(
    run_fake_cli: Callable[..., tuple[int, str, str]],
    fake_runtime: FakeRuntime,
    data_dir: Path,
    args: list[str],
) -> None:
    fake_runtime.made_with("ctl-other", "first turn")
    status, out, err = run_fake_cli(*args)
    assert status == 2, (out, err)  # the person's mistake, as argparse's own
    assert "No session 'ctl-nothing'" in error_line(err)
    assert out == ""
    assert fake_runtime.sessions() == {"ctl-other": ("first turn", ["first turn"])}
    assert not (data_dir / "session-state" / "ctl-new").exists()


def test_cli_bad_input_is_refused_in_one_line_and_changes_nothing_fake_client(
    run_fake_cli: Callable[..., tuple[int, str, str]],
    fake_runtime: FakeRuntime,
    data_dir: Path,
) -> None:
    fake_runtime.made_with("ctl-bad", "first turn", "second turn")
    fake_runtime.made_with("ctl-taken", "I exist")
    before = fake_runtime.sessions()
    listed = run_fake_cli("list", "--json")

    refusals = [
        (["rewind", "ctl-bad", "0", "--yes"], 2, "N: the number of turns is 1 or more"),
        (["rewind", "ctl-bad", "-1", "--yes"], 2, "N: the number of turns is 1 or more"),
        (
            ["rewind", "ctl-bad", "99", "--yes"],
            2,
            "Session 'ctl-bad' has 2 turns; cannot rewind 99",
        ),
        (["fork", "ctl-f2", "ctl-bad", "--at", "99"], 2, "--at takes a turn of 'ctl-bad'"),
        (["fork", "ctl-f3", "ctl-bad", "--at", "0"], 2, "--at takes a turn of 'ctl-bad'"),
        (["fork", "ctl-taken", "ctl-bad"], 2, "Session 'ctl-taken' exists already"),
        (["fork", "ctl-bad", "ctl-bad"], 2, "Session 'ctl-bad' exists already"),
        (["fork", "ctl.dot", "ctl-bad"], 2, "Invalid session id 'ctl.dot'"),
        (["rename", "ctl-bad", ""], 2, "A title needs at least one visible character."),
        (["rename", "ctl-bad", "   "], 2, "A title needs at least one visible character."),
        (["rename", "ctl-bad", "a\tb"], 2, "without control characters"),
        (["rename", "ctl-bad", "a\x1b[31mred"], 2, "without control characters"),
        (["rename", "ctl-bad", "x" * 101], 2, "A title has at most 100 characters (101 given)."),
    ]
    for args, status, words in refusals:
        ran, out, err = run_fake_cli(*args)
        assert ran == status, (args, out, err)
        assert words in error_line(err), (args, err)
        assert out == "", args
    assert fake_runtime.sessions() == before
    assert run_fake_cli("list", "--json") == listed
    for name in ("ctl-f2", "ctl-f3", "ctl.dot"):
        assert not (data_dir / "session-state" / name).exists()


# -- %copilot_session ---------------------------------------------------------------------------
@pytest.fixture
def shell_on_fake_runtime(
    ip: InteractiveShell, fake_runtime: FakeRuntime, data_dir: Path
) -> InteractiveShell:
    """An IPython shell whose CopilotMagics use a SessionStore on the fake runtime (no model
    provider: the models are those the fake sign-in lists, gpt-fake and claude-fake)."""
    ip.run_line_magic("load_ext", "copilot_magic")
    magics = ip._copilot_magics
    assert isinstance(magics, CopilotMagics)
    magics._store = fake_runtime.store(Settings(model="gpt-fake", data_dir=str(data_dir)))
    return ip


def test_every_session_control_refuses_bad_input_in_one_line_fake_client(
    shell_on_fake_runtime: InteractiveShell,
    fake_runtime: FakeRuntime,
    data_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ip = shell_on_fake_runtime
    assert ip.run_cell("%copilot_session ctl-bad").success
    assert ip.run_cell("%%copilot\nonly turn").success
    before = fake_runtime.sessions()
    refusals = {
        '%copilot_session --rename no-such "T"': "No session 'no-such'",
        '%copilot_session --rename ctl-bad ""': "A title needs at least one visible character.",
        '%copilot_session --rename ctl-bad "a\tb"': "without control characters",
        "%copilot_session --star no-such": "No session 'no-such'",
        "%copilot_session --usage no-such": "No session 'no-such'",
        "%copilot_session --fork f2 no-such": "No session 'no-such'",
        "%copilot_session --fork f3 ctl-bad --at 9": "--at takes a turn of 'ctl-bad'",
        "%copilot_session --rewind 0": "N: the number of turns is 1 or more",
        "%copilot_session --rewind 5": "cannot rewind 5",
        "%copilot_session --at 1": "--at goes with --fork",
        "%copilot_session ctl-new --model no-such-model": "No model 'no-such-model' here",
    }
    for line, words in refusals.items():
        shown = usage_error_shown(ip, capsys, line)
        assert words in shown, (line, shown)
    assert fake_runtime.sessions() == before
    assert ip._copilot_magics.active_session == "ctl-bad"
    assert not (data_dir / "session-state" / "ctl-new").exists(), "--model touched the session"
    assert not (data_dir / "session-state" / "f3").exists()
