"""An error's way out is data; each front end words it in its own commands.

The layers below the front ends (sessions, runtime, kernel) say what happened and
attach :class:`~copilot_magic.errors.Advice`; the magics word it as
``%copilot_session ID --takeover`` or ``%config CopilotMagics.NAME``, the command
line as what it can do (no ``--takeover``; a setting is an environment variable).
"""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from copilot_magic.cli import advice as cli_advice
from copilot_magic.cli.console import Console
from copilot_magic.errors import (
    Advice,
    CopilotMagicError,
    NotSignedIn,
    Remedy,
    SessionBusy,
    SessionTakenOver,
)
from copilot_magic.runtime.bridge import NOT_SIGNED_IN, SET_PROVIDER
from copilot_magic.sessions.reading import SessionReader
from copilot_magic.ui import advice as ui_advice
from copilot_magic.ui.arguments import reported

PACKAGE = Path(__file__).resolve().parents[2] / "copilot_magic"
BELOW_THE_FRONT_ENDS = ("sessions", "runtime", "kernel")
FRONT_END_SYNTAX = ("%copilot", "%config", "CopilotMagics.", "--takeover")
MAGIC_ONLY = ("%", "--takeover", "CopilotMagics")


def _held_elsewhere(session_id: str) -> SessionBusy:
    """The refusal of a session another kernel holds, made by the real reader."""
    places: Any = SimpleNamespace(claims=SimpleNamespace(other_holder=lambda _: 4242))
    bridge: Any = SimpleNamespace(is_runtime=lambda _: False)
    return SessionReader(bridge, places, lambda _: False).busy(session_id)


def _shown_by_the_magic(error: CopilotMagicError) -> str:
    with pytest.raises(CopilotMagicError) as shown, reported(verbose=False):
        raise error
    return str(shown.value)


def _shown_by_the_command(error: CopilotMagicError, capsys: pytest.CaptureFixture[str]) -> str:
    Console([]).error(error)
    return capsys.readouterr().err.strip()


def test_a_session_held_elsewhere_says_what_happened_and_carries_the_takeover_as_data() -> None:
    error = _held_elsewhere("held")
    assert str(error) == (
        "Session 'held' is open in another kernel or process; using it here too would mix "
        "two conversations."
    )
    assert error.advice == Advice(Remedy.TAKE_OVER, "held")


def test_the_magic_words_a_held_session_with_takeover_and_the_command_without(
    capsys: pytest.CaptureFixture[str],
) -> None:
    magic = _shown_by_the_magic(_held_elsewhere("held"))
    assert magic.endswith(
        "would mix two conversations. Close it there, or take it over with "
        "%copilot_session held --takeover."
    )
    command = _shown_by_the_command(_held_elsewhere("held"), capsys)
    assert command == (
        "copilot-magic: error: Session 'held' is open in another kernel or process; using it "
        "here too would mix two conversations. Close it there (or stop that kernel), then run "
        "the command again."
    )
    assert not any(syntax in command for syntax in MAGIC_ONLY)


def test_a_setting_is_config_in_the_magic_and_an_environment_variable_on_the_command_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert "%config" not in NOT_SIGNED_IN
    magic = _shown_by_the_magic(NotSignedIn(NOT_SIGNED_IN, advice=SET_PROVIDER))
    assert magic.endswith(
        "Set it with %config CopilotMagics.provider_url = … (or COPILOT_MAGIC_PROVIDER_URL)."
    )
    command = _shown_by_the_command(NotSignedIn(NOT_SIGNED_IN, advice=SET_PROVIDER), capsys)
    assert command.endswith("Set it with the environment variable COPILOT_MAGIC_PROVIDER_URL.")
    assert not any(syntax in command for syntax in MAGIC_ONLY)


def test_a_value_is_quoted_for_config_and_given_plainly_to_a_variable() -> None:
    own = Advice(Remedy.SET_SETTING, setting="runtime", value="own")
    assert ui_advice.advice_words(own) == (
        "Set it with %config CopilotMagics.runtime = 'own' (or COPILOT_MAGIC_RUNTIME=own)."
    )
    assert cli_advice.advice_words(own) == (
        "Set it with the environment variable COPILOT_MAGIC_RUNTIME=own."
    )
    data_dir = Advice(Remedy.SET_SETTING, setting="data_dir")
    assert "--data-dir" in cli_advice.advice_words(data_dir)


@pytest.mark.parametrize("remedy", list(Remedy))
def test_every_remedy_is_worded_by_both_front_ends_the_command_without_magic_syntax(
    remedy: Remedy,
) -> None:
    advice = Advice(remedy, session_id="s1", setting="reply_timeout")
    magic, command = ui_advice.advice_words(advice), cli_advice.advice_words(advice)
    assert magic.endswith(".")
    assert command.endswith(".")
    assert not any(syntax in command for syntax in MAGIC_ONLY), command


def test_a_takeover_during_a_reply_is_a_notice_with_its_advice() -> None:
    notice = SessionReader.taken_over_mid_reply("mine", 99)
    assert "%" not in notice.message
    assert ui_advice.worded(notice.message, notice.advice).endswith(
        "Take it back with %copilot_session mine --takeover."
    )


def test_the_advice_is_worded_once_when_the_error_passes_the_policy_twice() -> None:
    error: SessionTakenOver = SessionReader.taken_over("twice", 7)
    once = _shown_by_the_magic(error)
    assert _shown_by_the_magic(error) == once
    assert once.count("--takeover") == 1


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring nodes of a module, its classes and its functions."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _front_end_syntax_in(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = _docstrings(tree)
    return [
        f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and any(syntax in node.value for syntax in FRONT_END_SYNTAX)
    ]


def test_no_message_below_the_front_ends_names_a_front_ends_syntax() -> None:
    """Strings only (f-string parts included); docstrings may name the magics they serve."""
    found = [
        line
        for layer in BELOW_THE_FRONT_ENDS
        for path in sorted((PACKAGE / layer).rglob("*.py"))
        for line in _front_end_syntax_in(path)
    ]
    assert found == []
