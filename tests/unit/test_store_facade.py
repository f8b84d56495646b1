"""What callers ask the SessionStore for, without reaching into its parts: the list and
transcripts even when the runtime cannot start, a session's model, notebook ties and
cell links, each taking a fork's handle as the person gave it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from copilot_magic.config import Settings
from copilot_magic.errors import RuntimeRefused, SessionNotFound
from copilot_magic.runtime.bridge import RuntimeBridge
from copilot_magic.sessions.store import SessionStore


def _write_session(data_dir: Path, session_id: str, model: str, *prompts: str) -> None:
    folder = data_dir / "session-state" / session_id
    folder.mkdir(parents=True)
    events: list[dict[str, Any]] = [
        {"type": "session.start", "data": {"startTime": "2026-11-30T08:00:00.000Z"}}
    ]
    for prompt in prompts:
        events.append({"type": "user.message", "data": {"content": prompt}})
        events.append({"type": "assistant.message", "data": {"content": "ok", "model": model}})
    lines = "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in events)
    (folder / "events.jsonl").write_text(lines, encoding="utf-8")


@pytest.fixture
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SessionStore]:
    """A store whose runtime cannot start (no such program), on two sessions' files."""
    monkeypatch.setenv("COPILOT_CLI_PATH", "/nonexistent/copilot")
    settings = replace(Settings.from_environment(), data_dir=str(tmp_path))
    _write_session(tmp_path, "plain", "model-a", "about pandas", "and numpy?")
    _write_session(tmp_path, "forked-runtime-id", "model-b", "a fork's prompt")
    store = SessionStore(settings, RuntimeBridge(lambda: settings, starts_shared=False))
    store.places.marks.name("my-fork", "forked-runtime-id")
    store.places.marks.star("plain")
    yield store
    store.close()


def test_the_list_comes_from_the_files_when_the_runtime_cannot_start(
    offline: SessionStore,
) -> None:
    listed = offline.summaries_even_offline()
    assert [(s.session_id, s.turns, s.starred) for s in listed] == [
        ("plain", 2, True),
        ("my-fork", 1, False),
    ]


def test_a_transcript_comes_from_the_files_by_handle(offline: SessionStore) -> None:
    turns, damage = offline.history_even_offline("my-fork")
    assert ([t.prompt for t in turns], damage) == (["a fork's prompt"], "")
    with pytest.raises(SessionNotFound):
        offline.history_even_offline("nowhere")


def test_a_runtime_that_refused_is_never_worked_around(
    offline: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_: object) -> Any:
        raise RuntimeRefused("The runtime is not yours.", "not yours")

    monkeypatch.setattr(offline, "summaries", refuse)
    monkeypatch.setattr(offline, "history", refuse)
    with pytest.raises(RuntimeRefused):
        offline.summaries_even_offline()
    with pytest.raises(RuntimeRefused):
        offline.history_even_offline("plain")


def test_a_sessions_model_is_read_by_its_handle(offline: SessionStore) -> None:
    assert (offline.model_of("plain"), offline.model_of("my-fork")) == ("model-a", "model-b")


def test_notebook_ties_and_cell_links_go_through_the_store(
    offline: SessionStore, tmp_path: Path
) -> None:
    notebook = tmp_path / "analysis.ipynb"
    assert offline.notebook_sessions(notebook) == []
    offline.tie_notebook(notebook, "plain")
    assert offline.notebook_sessions(notebook) == ["plain"]
    assert offline.cell_link("cell-1") is None
    offline.link_cell("cell-1", "plain", 2, "and numpy?")
    link = offline.cell_link("cell-1")
    assert link is not None
    assert (link.session_id, link.turn, link.same_text("and numpy?")) == ("plain", 2, True)
    assert link.event == ""  # the events of this history have no ids
