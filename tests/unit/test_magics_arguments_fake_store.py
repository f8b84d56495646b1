"""Argument handling of %copilot_session and %%copilot over an in-memory fake store."""

from __future__ import annotations

import re

import pytest
from fake_store import LAST_ACTIVE, FakeStore
from IPython.core.error import StdinNotImplementedError, UsageError
from IPython.core.interactiveshell import InteractiveShell

from copilot_magic.errors import (
    CopilotMagicError,
    NotSignedIn,
    RuntimeUnavailable,
    SessionBusy,
    SessionNotFound,
    TurnFailed,
)
from copilot_magic.sessions.ids import RULE
from copilot_magic.sessions.transcript import Turn
from copilot_magic.sessions.turn import Delta, Notice
from copilot_magic.ui.magics import CopilotMagics


def _turn(index: int, prompt: str, reply: str) -> Turn:
    return Turn(index, prompt, reply, LAST_ACTIVE, LAST_ACTIVE)


@pytest.fixture
def magics(ip: InteractiveShell) -> CopilotMagics:
    ip.run_line_magic("load_ext", "copilot_magic")
    loaded = ip._copilot_magics
    assert isinstance(loaded, CopilotMagics)
    return loaded


@pytest.fixture
def fake(magics: CopilotMagics) -> FakeStore:
    store = FakeStore()
    magics._store = store  # type: ignore[assignment]
    return store


def _usage_error(ip: InteractiveShell, line: str, cell: str | None = None) -> str:
    if cell is None:
        with pytest.raises(UsageError) as excinfo:
            ip.run_line_magic("copilot_session", line)
    else:
        with pytest.raises(UsageError) as excinfo:
            ip.run_cell_magic("copilot", line, cell)
    message = str(excinfo.value).strip()
    assert message
    assert "\n" not in message
    return message


def test_no_args_outside_a_known_notebook_with_fake_store_asks_for_an_id(
    ip: InteractiveShell, fake: FakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    with pytest.raises(UsageError) as excinfo:
        ip.run_line_magic("copilot_session", "")
    message = str(excinfo.value)
    assert message.startswith("No active Copilot session, and this kernel cannot tell")
    assert "%copilot_session ID" in message
    assert "\n" not in message
    assert fake.calls == []


def test_open_with_fake_store_creates_then_resumes(
    ip: InteractiveShell,
    magics: CopilotMagics,
    fake: FakeStore,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ip.run_line_magic("copilot_session", "demo")
    assert capsys.readouterr().out == "Created session demo\n"
    assert magics.active_session == "demo"
    fake.sessions["demo"] += [_turn(1, "a", "b"), _turn(2, "c", "d")]
    ip.run_line_magic("copilot_session", "demo")
    out = capsys.readouterr().out
    assert re.fullmatch(
        r"Resumed session demo: 2 turns, last active \d{4}-\d{2}-\d{2} \d{2}:\d{2}\n", out
    )
    ip.run_line_magic("copilot_session", "")
    assert capsys.readouterr().out == "Active session: demo\n"


def test_resume_with_fake_store_uses_singular_turn(
    ip: InteractiveShell, fake: FakeStore, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.sessions["demo"] = [_turn(1, "a", "b")]
    ip.run_line_magic("copilot_session", "demo")
    assert capsys.readouterr().out.startswith("Resumed session demo: 1 turn, last active ")


def test_new_on_existing_id_with_fake_store_raises_usage_error(
    ip: InteractiveShell, magics: CopilotMagics, fake: FakeStore
) -> None:
    fake.sessions["demo"] = []
    message = _usage_error(ip, "demo --new")
    assert "demo" in message
    assert "exists" in message
    assert magics.active_session is None


@pytest.mark.parametrize(
    "error",
    [
        SessionBusy("Session 'demo' is in use by another process."),
        RuntimeUnavailable("The Copilot runtime did not answer in time."),
        NotSignedIn("Copilot has no GitHub sign-in."),
    ],
)
def test_the_environments_failure_is_one_line_under_its_own_name(
    ip: InteractiveShell, fake: FakeStore, error: CopilotMagicError
) -> None:
    fake.open_error = error
    with pytest.raises(type(error)) as raised:
        ip.run_line_magic("copilot_session", "demo")
    assert raised.value._render_traceback_() == [f"{type(error).__name__}: {error}"]


def test_the_persons_mistake_from_the_fake_store_is_a_one_line_usage_error(
    ip: InteractiveShell, fake: FakeStore
) -> None:
    fake.open_error = SessionNotFound("No session 'demo'.")
    assert _usage_error(ip, "demo") == "No session 'demo'."


def test_bad_id_to_delete_is_rejected_before_reaching_the_fake_store(
    ip: InteractiveShell, fake: FakeStore
) -> None:
    assert RULE in _usage_error(ip, "--delete bad.id")
    assert fake.calls == []


@pytest.mark.parametrize(
    "line",
    [
        "--list --delete x",
        "demo --list",
        "demo --delete demo",
        "--list --history",
        "demo --history",
    ],
)
def test_one_action_at_a_time_with_fake_store(
    ip: InteractiveShell, fake: FakeStore, line: str
) -> None:
    assert "one of" in _usage_error(ip, line)
    assert fake.calls == []


@pytest.mark.parametrize("line", ["--new", "--model gpt-x", "--list --new"])
def test_new_and_model_need_an_id_with_fake_store(
    ip: InteractiveShell, fake: FakeStore, line: str
) -> None:
    _usage_error(ip, line)
    assert fake.calls == []


def test_list_with_fake_store_returns_a_table_for_terminals_and_jupyter(
    ip: InteractiveShell, fake: FakeStore, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.sessions = {"demo": [_turn(1, "a", "b")], "other-session": []}
    table = ip.run_line_magic("copilot_session", "--list")
    assert capsys.readouterr().out == ""  # returned, not printed: it can be captured
    assert table.ids == ["demo", "other-session"]
    markdown = table._repr_markdown_().splitlines()
    assert markdown[0] == "| ID | Title | Last active | Tokens in/out | Turns |"
    assert markdown[2].startswith("| `demo` | title of demo |")
    lines = str(table).splitlines()
    assert lines[0].split() == ["ID", "TITLE", "LAST", "ACTIVE", "TOKENS", "IN/OUT", "TURNS"]
    assert lines[1].startswith("demo ")
    assert "title of demo" in lines[1]
    assert lines[1].endswith(" 1")
    assert lines[2].startswith("other-session ")
    assert lines[2].endswith(" 0")


def test_list_with_empty_fake_store_says_none_stored(
    ip: InteractiveShell, fake: FakeStore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert str(ip.run_line_magic("copilot_session", "--list")) == "No sessions stored yet."


def test_history_without_active_session_with_fake_store_raises_usage_error(
    ip: InteractiveShell, fake: FakeStore
) -> None:
    assert "No active Copilot session" in _usage_error(ip, "--history")
    assert fake.calls == []


def test_history_with_fake_store_returns_transcript_without_signal(
    ip: InteractiveShell, fake: FakeStore, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.sessions["demo"] = [
        _turn(1, "first question", "first answer"),
        Turn(2, "hard one", "[[POR_ABSTAIN]] not sure", LAST_ACTIVE, LAST_ACTIVE, abstained=True),
        Turn(3, "stopped", "", LAST_ACTIVE, None, aborted=True),
        Turn(4, "broken", "", LAST_ACTIVE, None, error="model exploded"),
    ]
    ip.run_line_magic("copilot_session", "demo")
    capsys.readouterr()
    transcript = ip.run_line_magic("copilot_session", "--history")
    assert len(transcript) == 4
    assert ip.run_line_magic("copilot_session", "--show") == transcript  # the CLI's word
    assert "[[POR_ABSTAIN]]" not in transcript._repr_html_()
    out = str(transcript)
    assert out.startswith("Session demo: 4 turns")
    assert "first question" in out
    assert "first answer" in out
    assert "🛑 Copilot abstained" in out
    assert "not sure" in out
    assert "[[POR_ABSTAIN]]" not in out
    assert "(interrupted, no reply)" in out
    assert "(failed: model exploded)" in out
    assert ("history", "demo") in fake.calls


def test_history_of_named_unknown_session_with_fake_store_raises_usage_error(
    ip: InteractiveShell, fake: FakeStore
) -> None:
    assert "nope" in _usage_error(ip, "--history nope")


def test_history_of_bad_id_with_fake_store_raises_usage_error(
    ip: InteractiveShell, fake: FakeStore
) -> None:
    assert RULE in _usage_error(ip, "--history bad.id")
    assert fake.calls == []


def test_delete_active_session_with_fake_store_clears_it(
    ip: InteractiveShell,
    magics: CopilotMagics,
    fake: FakeStore,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ip.run_line_magic("copilot_session", "demo")
    capsys.readouterr()
    ip.run_line_magic("copilot_session", "--delete demo --yes")
    out = capsys.readouterr().out
    assert out.startswith("Deleted session demo")
    assert "no session is active" in out
    assert magics.active_session is None
    assert "demo" not in fake.sessions


def test_delete_other_session_with_fake_store_keeps_active_one(
    ip: InteractiveShell,
    magics: CopilotMagics,
    fake: FakeStore,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake.sessions["old"] = []
    ip.run_line_magic("copilot_session", "demo")
    capsys.readouterr()
    ip.run_line_magic("copilot_session", "--delete old --yes")
    assert capsys.readouterr().out == "Deleted session old and all its data.\n"
    assert magics.active_session == "demo"


def test_delete_unknown_session_with_fake_store_raises_usage_error(
    ip: InteractiveShell, fake: FakeStore
) -> None:
    assert "nope" in _usage_error(ip, "--delete nope")


def test_cell_without_active_session_with_fake_store_raises_usage_error(
    ip: InteractiveShell, fake: FakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    assert "%copilot_session" in _usage_error(ip, "", "hello")
    assert fake.calls == []


def test_a_notebooks_first_cell_without_a_session_opens_its_own_with_fake_store(
    ip: InteractiveShell,
    magics: CopilotMagics,
    fake: FakeStore,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JPY_SESSION_NAME", "/work/sales report.ipynb")
    monkeypatch.setenv("USER", "ada")
    ip.run_cell_magic("copilot", "", "say hello")
    assert capsys.readouterr().out == "Created session ada-sales-report\nHello, world.\n"
    assert magics.active_session == "ada-sales-report"
    assert fake.calls[-2:] == [("turn", "say hello"), ("turn ended", "ada-sales-report")]


@pytest.mark.parametrize(
    "cell",
    ["", "   ", "\n\t\n", "\u200b", "\ufeff\u2060 \u200b\n", "\u3000\u00a0\u3164", "\x00\x1b"],
)
def test_empty_cell_with_fake_store_raises_usage_error(
    ip: InteractiveShell, magics: CopilotMagics, fake: FakeStore, cell: str
) -> None:
    magics.active_session = "demo"
    assert "empty" in _usage_error(ip, "", cell)
    assert fake.calls == []


def test_unknown_option_with_fake_store_raises_usage_error(
    ip: InteractiveShell, magics: CopilotMagics, fake: FakeStore
) -> None:
    assert "--bogus" in _usage_error(ip, "--bogus")
    magics.active_session = "demo"
    assert "--bogus" in _usage_error(ip, "--bogus", "hello")
    assert fake.calls == []


def test_cell_to_unknown_session_with_fake_store_raises_usage_error(
    ip: InteractiveShell, fake: FakeStore
) -> None:
    message = _usage_error(ip, "--session nope", "hello")
    assert "%copilot_session nope" in message
    assert ("turn", "hello") not in fake.calls


def test_cell_to_bad_session_id_with_fake_store_raises_usage_error(
    ip: InteractiveShell, fake: FakeStore
) -> None:
    assert RULE in _usage_error(ip, "--session bad.id", "hello")
    assert fake.calls == []


def test_cell_with_fake_store_prints_reply_and_ends_turn(
    ip: InteractiveShell,
    magics: CopilotMagics,
    fake: FakeStore,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ip.run_line_magic("copilot_session", "demo")
    capsys.readouterr()
    ip.run_cell_magic("copilot", "", "  say hello  \n")
    assert capsys.readouterr().out == "Hello, world.\n"
    assert fake.calls[-2:] == [("turn", "say hello"), ("turn ended", "demo")]


def test_cell_with_fake_store_talks_to_named_session_without_activating_it(
    ip: InteractiveShell,
    magics: CopilotMagics,
    fake: FakeStore,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake.sessions["other"] = []
    ip.run_cell_magic("copilot", "--session other", "hi")
    assert capsys.readouterr().out == "Hello, world.\n"
    assert fake.calls[-1] == ("turn ended", "other")
    assert magics.active_session is None


def test_cell_with_fake_store_shows_notices_on_stderr(
    ip: InteractiveShell, fake: FakeStore, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.reply = [Delta("Hi"), Notice("Retrying after a rate limit"), Delta("Hi there")]
    ip.run_line_magic("copilot_session", "demo")
    capsys.readouterr()
    ip.run_cell_magic("copilot", "", "hi")
    captured = capsys.readouterr()
    assert captured.out == "Hi there\n"
    assert "Retrying after a rate limit" in captured.err


def test_a_failed_reply_is_one_line_under_its_name_after_the_partial_text(
    ip: InteractiveShell, fake: FakeStore, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.reply_error = TurnFailed("Copilot could not reply: model exploded")
    ip.run_line_magic("copilot_session", "demo")
    capsys.readouterr()
    ip.run_cell("%%copilot\nhi")
    shown = capsys.readouterr().out
    assert "Hello, world." in shown
    assert shown.rstrip().endswith("TurnFailed: Copilot could not reply: model exploded")
    assert "Traceback" not in shown
    assert fake.calls[-1] == ("turn ended", "demo")


def test_cell_with_fake_store_interrupt_aborts_and_keeps_partial_reply(
    ip: InteractiveShell, fake: FakeStore, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.reply = [Delta("Partial")]
    fake.reply_error = KeyboardInterrupt()
    ip.run_line_magic("copilot_session", "demo")
    capsys.readouterr()
    ip.run_cell_magic("copilot", "", "hi")  # no error: the person asked for the stop
    assert fake.streams[-1].aborted
    assert ("keep partial", "demo", 1, "Partial") in fake.calls
    printed = capsys.readouterr()
    assert "Partial" in printed.out
    assert "⏹ Interrupted" in printed.err
    assert fake.calls[-1] == ("turn ended", "demo")


def test_cell_with_fake_store_abstention_prints_banner_without_signal(
    ip: InteractiveShell, fake: FakeStore, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.reply = [Delta("[[POR_ABSTAIN]]"), Delta("[[POR_ABSTAIN]] Not sure.")]
    ip.run_line_magic("copilot_session", "demo")
    capsys.readouterr()
    ip.run_cell_magic("copilot", "", "hard question")
    out = capsys.readouterr().out
    assert out == "🛑 Copilot abstained\nNot sure.\n"


def test_close_closes_the_fake_store(magics: CopilotMagics, fake: FakeStore) -> None:
    magics.close()
    assert fake.closed
    assert magics._store is None


def test_an_unexpected_error_keeps_its_traceback_under_a_line_that_says_it_is_a_bug(
    ip: InteractiveShell, fake: FakeStore, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 26: a bug's traceback was hidden unless the person set verbose_errors and ran
    the command (and a paid model call) again."""
    fake.open_error = KeyError("surprise")  # type: ignore[assignment]
    capsys.readouterr()
    result = ip.run_cell("%copilot_session demo")
    assert isinstance(result.error_in_exec, KeyError)
    shown = capsys.readouterr()
    assert "This is a bug in copilot_magic (KeyError)" in shown.err
    assert "Traceback" in shown.out + shown.err
    assert "fake_store.py" in shown.out + shown.err  # where it happened


def test_verbose_errors_adds_the_traceback_to_the_environments_failure(
    ip: InteractiveShell, magics: CopilotMagics, fake: FakeStore, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.open_error = RuntimeUnavailable("The Copilot runtime did not answer in time.")
    capsys.readouterr()
    ip.run_cell("%copilot_session demo")
    assert capsys.readouterr().out.strip() == (
        "RuntimeUnavailable: The Copilot runtime did not answer in time."
    )
    ip.run_line_magic("config", "CopilotMagics.verbose_errors = True")
    ip.run_cell("%copilot_session demo")
    shown = capsys.readouterr()
    assert "Traceback" in shown.out + shown.err
    assert "RuntimeUnavailable: The Copilot runtime did not answer in time." in shown.out


def test_a_failing_display_ends_the_turn(
    ip: InteractiveShell, fake: FakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bug 2 of issue 11: a failure while showing the reply left the turn open."""
    from copilot_magic.ui import live_reply

    def broken(self: object, text: object) -> None:
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr(live_reply.LiveReply, "stream", broken)
    ip.run_line_magic("copilot_session", "demo")
    result = ip.run_cell("%%copilot\nhi")
    assert isinstance(result.error_in_exec, ZeroDivisionError)  # a bug: its own traceback
    assert fake.calls[-1] == ("turn ended", "demo")


def test_cleanup_lists_first_and_deletes_only_with_yes_sparing_the_active_session(
    ip: InteractiveShell, fake: FakeStore, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.sessions = {"old-a": [_turn(1, "a", "b")], "old-b": [], "mine": []}
    ip.run_line_magic("copilot_session", "mine")
    capsys.readouterr()
    ip.run_line_magic("copilot_session", "--cleanup 30 --dry-run")
    preview = capsys.readouterr().out
    assert preview.startswith("2 sessions idle for more than 30 days would be deleted (1 turn):")
    assert "mine (the active session)" in preview
    assert preview.endswith("Dry run: nothing deleted.\n")
    assert set(fake.sessions) == {"old-a", "old-b", "mine"}
    ip.run_line_magic("copilot_session", "--cleanup 30 --yes")
    assert capsys.readouterr().out.endswith("Deleted 2 sessions (1 turn).\n")
    assert set(fake.sessions) == {"mine"}


@pytest.mark.parametrize(("answer", "confirmed"), [("y", True), ("yes", True), ("", False)])
def test_delete_asks_through_the_kernels_input_after_saying_what_would_go(
    *,
    ip: InteractiveShell,
    fake: FakeStore,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    answer: str,
    confirmed: bool,
) -> None:
    fake.sessions["old"] = [_turn(1, "a question", "an answer")]
    asked: list[str] = []
    monkeypatch.setattr("builtins.input", lambda question: asked.append(question) or answer)
    ip.run_line_magic("copilot_session", "--delete old")
    said = capsys.readouterr().out.splitlines()
    assert asked == ["Delete session old and all its data? [y/N] "]
    assert said[0].startswith("Session old: 1 turn, last active ")
    assert said[-1] == (
        "Deleted session old and all its data." if confirmed else "Not confirmed: nothing deleted."
    )
    assert ("old" in fake.sessions) is not confirmed


def test_a_destructive_operation_where_nobody_can_answer_is_refused_in_one_line(
    ip: InteractiveShell, fake: FakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A frontend without input (nbclient, a script) raises StdinNotImplementedError."""
    fake.sessions["old"] = [_turn(1, "a question", "an answer")]

    def no_input(question: str) -> str:
        raise StdinNotImplementedError(
            "raw_input was called, but this frontend does not support input requests."
        )

    monkeypatch.setattr("builtins.input", no_input)
    assert _usage_error(ip, "--delete old") == (
        "Nothing deleted: this frontend takes no typed answer, so nobody can confirm; add "
        "--yes to go ahead without asking, or --dry-run to see what would go."
    )
    assert "old" in fake.sessions


def test_an_operations_option_without_it_is_a_usage_error_naming_where_it_goes(
    ip: InteractiveShell, fake: FakeStore
) -> None:
    assert _usage_error(ip, "--list --yes") == "--yes goes with --rewind, --delete or --cleanup."
    assert _usage_error(ip, "--show --at 2") == (
        "--at goes with --fork: --fork NEW [SRC] [--at TURN]."
    )


def test_the_fork_grammar_before_the_table_is_refused_naming_the_new_one(
    ip: InteractiveShell, fake: FakeStore
) -> None:
    assert _usage_error(ip, "try-b --fork src --at 2") == (
        "--fork takes NEW [SRC]: %copilot_session --fork try-b src"
    )
    assert fake.calls == []


def test_a_forgotten_title_is_refused_rather_than_renaming_the_active_session_to_an_id(
    ip: InteractiveShell, fake: FakeStore, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.sessions["other"] = []
    ip.run_line_magic("copilot_session", "demo")
    assert _usage_error(ip, "--rename other") == (
        "other is a stored session: give its TITLE too (--rename other TITLE), or leave the "
        "session out for the active one."
    )
    assert ("exists", "other") in fake.calls
