"""Tab completion of session ids (read from the data directory, no runtime) and of options."""

from __future__ import annotations

from pathlib import Path

import pytest
from IPython.core.completer import provisionalcompleter
from IPython.core.interactiveshell import InteractiveShell

from copilot_magic.ui.arguments import SESSION_OPTIONS
from copilot_magic.ui.completion import complete_options, options_for, stored_session_ids


def _make_sessions(data_dir: Path, *ids: str) -> None:
    for session_id in ids:
        (data_dir / "session-state" / session_id).mkdir(parents=True)
    (data_dir / "session-state" / ".session-operation-locks").mkdir()


def test_stored_session_ids_lists_session_folders_only(
    ip: InteractiveShell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COPILOT_HOME", str(tmp_path))
    _make_sessions(tmp_path, "beta", "alpha")
    ip.run_line_magic("load_ext", "copilot_magic")
    assert stored_session_ids(ip._copilot_magics) == ["alpha", "beta"]


def test_no_data_directory_completes_nothing(
    ip: InteractiveShell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COPILOT_HOME", str(tmp_path / "missing"))
    ip.run_line_magic("load_ext", "copilot_magic")
    assert stored_session_ids(ip._copilot_magics) == []


def test_the_shell_completes_ids_after_copilot_session(
    ip: InteractiveShell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COPILOT_HOME", str(tmp_path))
    _make_sessions(tmp_path, "iris-analysis", "iris-cleanup", "sales")
    ip.run_line_magic("load_ext", "copilot_magic")
    line = "%copilot_session iris"
    with provisionalcompleter():
        matches = [c.text for c in ip.Completer.completions(line, len(line))]
    assert "iris-analysis" in matches
    assert "iris-cleanup" in matches
    assert "sales" not in matches


def _completions(ip: InteractiveShell, line: str) -> list[str]:
    with provisionalcompleter():
        return [c.text for c in ip.Completer.completions(line, len(line))]


SESSION_FLAGS = [n for names, _ in SESSION_OPTIONS for n in names if n.startswith("-")]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("%copilot_session --", [f for f in SESSION_FLAGS if f.startswith("--")]),
        ("%copilot_session -", SESSION_FLAGS),
        ("%copilot_session --l", ["--list"]),
        ("%copilot_session some-id --ta", ["--takeover"]),
        ("%%copilot --", ["--session", "--error", "--code", "--again", "--fork"]),
        ("%copilot_session --zzz", []),
    ],
)
def test_options_are_the_only_completions_after_a_dash(
    ip: InteractiveShell,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    line: str,
    expected: list[str],
) -> None:
    monkeypatch.setenv("COPILOT_HOME", str(tmp_path))
    ip.run_line_magic("load_ext", "copilot_magic")
    assert sorted(options_for(line, line.rsplit(maxsplit=1)[-1])) == sorted(expected)
    if expected:
        assert sorted(_completions(ip, line)) == sorted(expected)  # no Python names


def test_options_are_not_offered_in_python_code_or_other_magics() -> None:
    assert options_for("x = 1 --", "--") == []
    assert options_for("%timeit --", "--") == []
    assert options_for("%copilot_session iris", "iris") == []


def test_unloading_removes_the_option_matcher(ip: InteractiveShell) -> None:
    ip.run_line_magic("load_ext", "copilot_magic")
    assert complete_options in ip.Completer.custom_matchers
    ip.run_line_magic("unload_ext", "copilot_magic")
    assert complete_options not in ip.Completer.custom_matchers
    assert "--list" not in _completions(ip, "%copilot_session --")
