"""The ``copilot-magic`` command line without a runtime: parsing, exit status, refusals, secrets.

Tests that need a store use ``FakeStore``, an in-memory stand-in; the runtime
path is always a fake that does not exist, so nothing here can start a runtime.
"""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from shell_errors import error_line

from copilot_magic import cli
from copilot_magic.cli import checks
from copilot_magic.config import Settings, setting_names
from copilot_magic.errors import SessionNotFound
from copilot_magic.operations.table import OPERATIONS
from copilot_magic.sessions import store
from copilot_magic.sessions.store import CleanupPlan, SessionSummary
from copilot_magic.views.text import cleanup_plan_lines

VERBS = (*(op.name for op in OPERATIONS), "doctor", "serve")
FAKE_RUNTIME = "/nonexistent/fake-copilot-runtime"
FAKE_KEY = "sk-fake-unit-key-never-shown-4711"


class FakeTerminal(io.StringIO):
    """A stdin that claims to be a terminal, with the answers already typed."""

    def isatty(self) -> bool:
        return True


@dataclass
class FakeStore:
    """An in-memory SessionStore stand-in holding a few sessions."""

    settings: Settings
    ids: list[str] = field(default_factory=lambda: ["fake-a", "fake-b"])
    deleted: list[str] = field(default_factory=list)
    closed: bool = False

    def summary(self, session_id: str) -> SessionSummary:
        if session_id not in self.ids:
            raise SessionNotFound(f"No session {session_id!r} in the fake store.")
        return SessionSummary(session_id, "a title", None, datetime.now().astimezone(), 1)

    def delete(self, session_id: str) -> None:
        self.summary(session_id)
        self.ids.remove(session_id)
        self.deleted.append(session_id)

    def plan_cleanup(
        self, older_than_days: int, protect: object = (), notebook: str | None = None
    ) -> CleanupPlan:
        doomed = tuple(self.summary(session_id) for session_id in self.ids)
        return CleanupPlan(older_than_days, doomed, ())

    def cleanup(self, plan: CleanupPlan) -> list[str]:
        for summary in plan.doomed:
            self.delete(summary.session_id)
        return [s.session_id for s in plan.doomed]

    def close(self) -> None:
        self.closed = True


@pytest.fixture(autouse=True)
def fake_runtime_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPILOT_CLI_PATH", FAKE_RUNTIME)


@pytest.fixture
def fake_store(monkeypatch: pytest.MonkeyPatch) -> FakeStore:
    """Makes ``main`` use one FakeStore instead of a SessionStore on a runtime."""
    fake = FakeStore(Settings.from_environment())
    monkeypatch.setattr(store, "SessionStore", lambda settings, bridge=None: fake)
    return fake


def test_every_verb_parses_its_arguments() -> None:
    parser = cli.build_parser()
    listing = parser.parse_args(["list", "--json", "--search", "iris"])
    assert (listing.verb, listing.json, listing.search) == ("list", True, "iris")
    assert parser.parse_args(["show", "s1"]).session_id == "s1"
    removal = parser.parse_args(["delete", "s1", "--yes"])
    assert (removal.session_id, removal.yes) == ("s1", True)
    exporting = parser.parse_args(["export", "s1", "out.ipynb"])
    assert (exporting.session_id, exporting.file) == ("s1", "out.ipynb")
    tidy = parser.parse_args(["cleanup", "30", "--dry-run", "--notebook", "a.ipynb"])
    assert (tidy.days, tidy.dry_run, tidy.notebook, tidy.yes) == ("30", True, "a.ipynb", False)
    forking = parser.parse_args(["fork", "new", "src", "--at", "2"])
    assert (forking.new_id, forking.source_id, forking.at) == ("new", "src", "2")
    rewinding = parser.parse_args(["rewind", "s1", "2", "--yes"])
    assert (rewinding.session_id, rewinding.count, rewinding.yes) == ("s1", "2", True)
    assert parser.parse_args(["doctor"]).run is cli.doctor


def test_data_dir_goes_before_or_after_the_verb() -> None:
    parser = cli.build_parser()
    assert parser.parse_args(["--data-dir", "/d1", "list"]).data_dir == "/d1"
    assert parser.parse_args(["list", "--data-dir", "/d2"]).data_dir == "/d2"
    assert parser.parse_args(["list"]).data_dir is None


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["list", "--colour"],
        ["show"],
        ["export", "s1"],
        ["cleanup"],
        ["cleanup", "--older-than", "3"],
        ["rewind", "s1"],
        ["--no-such-option", "list"],
    ],
)
def test_bad_usage_exits_2_with_argparse_message(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: copilot-magic")
    assert "copilot-magic" in err.splitlines()[-1]
    assert "error:" in err.splitlines()[-1]
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv", [["show", "a.b"], ["delete", "../x", "--yes"], ["export", "a b", "x.md"]]
)
def test_an_invalid_session_id_exits_2_in_one_line(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(argv) == 2
    assert "Invalid session id" in error_line(capsys.readouterr().err)


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["cleanup", "-1"], "DAYS: the number of days is 0 or more"),
        (["cleanup", "soon"], "DAYS: 'soon' is not a whole number of days"),
        (["rewind", "s1", "0"], "N: the number of turns is 1 or more"),
        (["fork", "new", "src", "--at", "two"], "--at: 'two' is not a whole number of turns"),
    ],
)
def test_a_wrong_number_exits_2_in_one_line_naming_the_value_as_the_magic_does(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(argv) == 2
    assert error_line(capsys.readouterr().err) == f"copilot-magic: error: {said}"


def test_an_unknown_verb_exits_2_naming_the_choices(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["frobnicate"]) == 2
    err = capsys.readouterr().err
    assert "argument COMMAND: invalid choice: 'frobnicate'" in err.splitlines()[-1]
    assert "Traceback" not in err


def test_export_to_a_file_that_is_neither_notebook_nor_markdown_exits_2_before_the_fake_store(
    fake_store: FakeStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The fake store has no history to read: the refusal comes before any session is read."""
    target = tmp_path / "x.txt"
    assert cli.main(["export", "fake-a", str(target)]) == 2
    assert error_line(capsys.readouterr().err) == (
        "copilot-magic: error: Export to a .ipynb or .md file, not 'x.txt'."
    )
    assert not target.exists()
    assert fake_store.closed


def test_help_mentions_every_verb_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    text = capsys.readouterr().out
    for verb in VERBS:
        assert f"    {verb} " in text, verb
    assert "COPILOT_HOME" in text
    assert cli.main(["cleanup", "--help"]) == 0
    assert "usage: copilot-magic cleanup [-h] [--data-dir DIR] [--notebook PATH] [--yes]" in (
        capsys.readouterr().out
    )


def test_delete_without_yes_is_refused_when_stdin_is_not_a_terminal_fake_store(
    fake_store: FakeStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))  # an answer, but no terminal
    assert cli.main(["delete", "fake-a"]) == 2
    assert error_line(capsys.readouterr().err) == (
        "copilot-magic: error: Nothing deleted: stdin is not a terminal, so nobody can "
        "confirm; add --yes to go ahead without asking, or --dry-run to see what would go."
    )
    assert fake_store.deleted == []
    assert fake_store.closed


def test_cleanup_without_yes_is_refused_when_stdin_is_not_a_terminal_fake_store(
    fake_store: FakeStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    assert cli.main(["cleanup", "0"]) == 2
    captured = capsys.readouterr()
    assert "2 sessions idle for more than 0 days would be deleted" in captured.out
    assert "add --yes" in error_line(captured.err)
    assert fake_store.deleted == []


@pytest.mark.parametrize(("answer", "confirmed"), [("y\n", True), ("yes\n", True), ("\n", False)])
def test_delete_on_a_fake_terminal_asks_first(
    answer: str,
    confirmed: bool,
    fake_store: FakeStore,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(sys, "stdin", FakeTerminal(answer))
    assert cli.main(["delete", "fake-a"]) == (0 if confirmed else 2)
    captured = capsys.readouterr()
    said = captured.out.splitlines()
    assert said[0].startswith("Session fake-a: 1 turn, last active ")  # what would go
    assert said[1].startswith("Delete session fake-a and all its data? [y/N] ")
    if confirmed:
        assert said[1].endswith("Deleted session fake-a and all its data.")
    else:
        assert error_line(captured.err) == "copilot-magic: error: Not confirmed: nothing deleted."
    assert fake_store.deleted == (["fake-a"] if confirmed else [])


def test_delete_on_a_fake_terminal_does_not_ask_about_a_missing_session(
    fake_store: FakeStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", FakeTerminal("y\n"))
    assert (
        cli.main(["delete", "fake-missing"]) == 2
    )  # the person's mistake: status 2, as argparse's
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "No session 'fake-missing'" in error_line(captured.err)


def test_doctor_with_a_missing_runtime_fails_in_one_line_without_the_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("COPILOT_MAGIC_PROVIDER_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("COPILOT_MAGIC_PROVIDER_API_KEY", FAKE_KEY)
    assert cli.main(["--data-dir", str(tmp_path), "doctor"]) == 1
    captured = capsys.readouterr()
    assert f"runtime: shared, none runs now: the first kernel starts {FAKE_RUNTIME} (" in (
        captured.out
    )
    assert "runtime starts: no: The Copilot runtime was not found at" in captured.out
    assert "model access: the default model via openai provider at http://127.0.0.1:9/v1" in (
        captured.out
    )
    assert "was not found at" in error_line(captured.err)
    assert FAKE_KEY not in captured.out + captured.err


def test_console_masks_the_provider_key_and_github_tokens(
    capsys: pytest.CaptureFixture[str],
) -> None:
    console = cli.Console(["sk-fake-provider-key", "ghp_fakeToken123", ""])
    console.say("key sk-fake-provider-key and token ghp_fakeToken123")
    console.error("failed with ghp_fakeToken123\nsecond line")
    captured = capsys.readouterr()
    assert captured.out == "key ******** and token ********\n"
    assert captured.err == "copilot-magic: error: failed with ********\n"


def test_sizes_are_human_readable() -> None:
    assert checks._human_size(0) == "0 B"
    assert checks._human_size(1023) == "1023 B"
    assert checks._human_size(1536) == "1.5 KiB"
    assert checks._human_size(5 * 1024**3) == "5.0 GiB"


def test_plan_lines_name_what_goes_and_what_stays() -> None:
    old = datetime.now().astimezone() - timedelta(days=40)
    plan = CleanupPlan(
        30,
        (SessionSummary("fake-old", "about iris", None, old, 3),),
        (("fake-held", "in use by another process"),),
    )
    lines = cleanup_plan_lines(plan)
    assert lines[0] == "1 session idle for more than 30 days would be deleted (3 turns):"
    assert lines[1].startswith("  fake-old  3 turns, last active ")
    assert lines[2:] == ["Kept:", "  fake-held (in use by another process)"]


def test_doctor_reports_every_declared_setting_with_its_source_and_no_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("COPILOT_MAGIC_PROVIDER_API_KEY", FAKE_KEY)
    monkeypatch.setenv("COPILOT_MAGIC_REPLY_TIMEOUT", "30")
    cli.main(["--data-dir", str(tmp_path), "doctor"])
    out = capsys.readouterr().out
    for name in setting_names():
        assert f"\nsetting {name}: " in out
    assert "setting reply_timeout: 30.0 (from COPILOT_MAGIC_REPLY_TIMEOUT)" in out
    assert "\ndata privacy: owner-only\n" in out
    assert "setting provider_api_key: '********' (from COPILOT_MAGIC_PROVIDER_API_KEY)" in out
    assert FAKE_KEY not in out


def test_doctor_warns_in_one_line_with_the_chmod_when_others_may_read_the_data_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = tmp_path / "copilot-home"
    data.mkdir(mode=0o700)
    (data / "session-store.db").write_text("prompts")
    (data / "session-store.db").chmod(0o644)  # as an older copilot_magic left it
    cli.main(["--data-dir", str(data), "doctor"])
    (line,) = [x for x in capsys.readouterr().out.splitlines() if x.startswith("data privacy:")]
    assert line == (
        "data privacy: WARNING: other users may read it: session-store.db is -rw-r--r--; "
        f"make it owner-only with: chmod -R go-rwx {data}"
    )


def test_a_bad_setting_in_the_environment_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COPILOT_MAGIC_PROVIDER_URL", "localhost:11434")
    assert cli.main(["list"]) == 2
    line = error_line(capsys.readouterr().err)
    assert "COPILOT_MAGIC_PROVIDER_URL='localhost:11434'" in line


def test_an_unexpected_error_says_it_is_a_bug_and_keeps_its_traceback(
    fake_store: FakeStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(
        older_than_days: int, protect: object = (), notebook: str | None = None
    ) -> CleanupPlan:
        raise KeyError("surprise")

    monkeypatch.setattr(fake_store, "plan_cleanup", broken)
    assert cli.main(["cleanup", "3"]) == 1
    first, *traceback = capsys.readouterr().err.splitlines()
    assert first == (
        "copilot-magic: error: unexpected error (KeyError: 'surprise'); this is a bug in "
        "copilot_magic: please report it with the traceback below."
    )
    assert traceback[0] == "Traceback (most recent call last):"
    assert traceback[-1] == "KeyError: 'surprise'"
