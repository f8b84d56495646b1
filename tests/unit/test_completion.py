"""Tab completion of session ids, read from the data directory without a runtime."""

from __future__ import annotations

from pathlib import Path

import pytest
from IPython.core.completer import provisionalcompleter
from IPython.core.interactiveshell import InteractiveShell

from copilot_magic.ui.completion import stored_session_ids


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
