"""Reading the list and transcripts from the session files alone, and the doctor's model probe."""

from __future__ import annotations

import json
import socket
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from copilot_magic import cli
from copilot_magic.cli import checks
from copilot_magic.cli.checks import provider_answers
from copilot_magic.config import Settings
from copilot_magic.errors import SessionDamaged, SessionNotFound
from copilot_magic.sessions.files import SessionFiles
from copilot_magic.sessions.offline import (
    history_from_files,
    summaries_from_files,
    summary_from_files,
)
from copilot_magic.testing.echo_model import EchoModelServer

SIGNAL = "[[POR_ABSTAIN]]"
FAKE_KEY = "sk-fake-probe-key-4711"


def _write_session(data_dir: Path, session_id: str, *exchanges: tuple[str, str]) -> None:
    folder = data_dir / "session-state" / session_id
    folder.mkdir(parents=True)
    events: list[dict[str, Any]] = [
        {"type": "session.start", "data": {"startTime": "2026-11-30T08:00:00.000Z"}}
    ]
    for prompt, reply in exchanges:
        events.append({"type": "user.message", "data": {"content": prompt}})
        events.append({"type": "assistant.message", "data": {"content": reply}})
    lines = "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in events)
    (folder / "events.jsonl").write_text(lines, encoding="utf-8")


@pytest.fixture
def files(tmp_path: Path) -> SessionFiles:
    _write_session(tmp_path, "plain", ("about pandas", "pandas is..."), ("and numpy?", "numpy..."))
    _write_session(tmp_path, "abstained", ("tricky", f"{SIGNAL} no idea"))
    (tmp_path / "session-state" / "no-history").mkdir()
    return SessionFiles(tmp_path, SIGNAL)


def test_the_list_from_files_has_titles_times_turns_and_damage(files: SessionFiles) -> None:
    listed = {s.session_id: s for s in summaries_from_files(files, set())}
    assert set(listed) == {"plain", "abstained", "no-history"}
    plain = listed["plain"]
    assert (plain.title, plain.turns, plain.abstentions) == ("about pandas", 2, 0)
    assert plain.created == datetime(2026, 11, 30, 8, tzinfo=UTC)
    assert plain.last_active is not None
    assert (listed["abstained"].turns, listed["abstained"].abstentions) == (1, 1)
    assert (listed["no-history"].turns, listed["no-history"].damage) == (0, "")  # not used yet


def test_a_transcript_from_files_and_its_refusals(files: SessionFiles) -> None:
    turns = history_from_files(files, "plain")
    assert [(t.prompt, t.reply) for t in turns] == [
        ("about pandas", "pandas is..."),
        ("and numpy?", "numpy..."),
    ]
    with pytest.raises(SessionNotFound, match="No session 'nowhere'"):
        history_from_files(files, "nowhere")
    assert history_from_files(files, "no-history") == []
    (files.folder("plain") / "events.jsonl").unlink()
    with sqlite3.connect(files.data_path / "session-store.db") as store:  # it had turns
        store.execute("CREATE TABLE turns (session_id TEXT, turn_index INTEGER)")
        store.execute("INSERT INTO turns VALUES ('plain', 0)")
    store.close()
    with pytest.raises(SessionDamaged, match=r"events\.jsonl is missing"):
        history_from_files(files, "plain")
    with pytest.raises(SessionNotFound):
        summary_from_files(files, "nowhere")


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def test_the_probe_lists_the_models_of_a_server_that_answers() -> None:
    with EchoModelServer() as server:
        said, problem = provider_answers(
            Settings(provider_url=server.url, provider_api_key=FAKE_KEY)
        )
    assert problem is None
    assert said.startswith("the model server answered in ")
    assert said.endswith(" ms, listing echo, echo-2")


def test_the_probe_names_the_url_and_the_reason_when_nobody_answers(
    silent_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checks, "PROBE_TIMEOUT", 0.5)
    dead = "http://127.0.0.1:1/v1"
    said, problem = provider_answers(Settings(provider_url=dead, provider_api_key=FAKE_KEY))
    assert said == "no: Connection refused"
    assert problem == f"The model server at {dead}/models could not be reached: Connection refused."

    silent = f"http://127.0.0.1:{silent_port}/v1/"
    said, problem = provider_answers(Settings(provider_url=silent))
    assert said == "no: no answer within 0.5 s"
    assert problem is not None
    assert problem.startswith(f"The model server at http://127.0.0.1:{silent_port}/v1/models ")
    assert FAKE_KEY not in said + problem


def test_the_command_lists_and_shows_from_files_without_a_runtime(
    files: SessionFiles, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COPILOT_CLI_PATH", "/nonexistent/copilot")
    data_dir = str(files.data_path)
    assert cli.main(["--data-dir", data_dir, "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {e["id"]: e["turns"] for e in listed} == {"plain": 2, "abstained": 1, "no-history": 0}
    assert cli.main(["--data-dir", data_dir, "show", "plain"]) == 0
    shown = capsys.readouterr()
    assert ("about pandas" in shown.out, "numpy..." in shown.out, shown.err) == (True, True, "")
    assert cli.main(["--data-dir", data_dir, "show", "nowhere"]) == 2  # a mistake
    assert "No session 'nowhere'" in capsys.readouterr().err
