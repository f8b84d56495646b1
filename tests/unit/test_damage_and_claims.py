"""History damage detection, session claims, and the reply timeout, without a runtime.

Histories are written by hand in the runtime's line format; the turn tests use
a fake bridge and a fake session (named so) that never answer.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from copilot_magic.config import DEFAULT_REPLY_TIMEOUT, Settings
from copilot_magic.errors import InvalidSetting, TurnTimedOut
from copilot_magic.sessions.files import EMPTY, MISSING, SessionFiles
from copilot_magic.sessions.inbox import EventInbox
from copilot_magic.sessions.turn import TurnStream

SIGNAL = "[[POR_ABSTAIN]]"


def _line(kind: str, **data: Any) -> bytes:
    return json.dumps({"type": kind, "data": data}, separators=(",", ":")).encode() + b"\n"


def _write(root: Path, session_id: str, content: bytes | None) -> SessionFiles:
    folder = root / "session-state" / session_id
    folder.mkdir(parents=True)
    if content is not None:
        (folder / "events.jsonl").write_bytes(content)
    return SessionFiles(root, SIGNAL)


SOUND = (
    _line("session.start")
    + _line("user.message", content="hello")
    + _line("assistant.message", content="hi")
    + _line("user.message", content="again")
    + _line("assistant.message", content=f"{SIGNAL} no")
)


def test_a_sound_history_has_no_damage(tmp_path: Path) -> None:
    scan = _write(tmp_path, "s", SOUND).scan("s")
    assert (scan.turns, scan.abstentions, scan.first_prompt, scan.damage) == (2, 1, "hello", "")


def test_a_torn_last_line_is_damage_but_the_rest_counts(tmp_path: Path) -> None:
    scan = _write(tmp_path, "s", SOUND[:-10]).scan("s")
    assert scan.damage == "its history ends in a torn line (an interrupted write)"
    assert scan.turns == 2
    assert not scan.unusable


def test_garbage_lines_are_counted_with_the_first_line_number(tmp_path: Path) -> None:
    lines = SOUND.splitlines(keepends=True)
    spoiled = lines[0] + b"\x00\xffgarbage\n" + lines[1] + b"{half a record\n" + b"".join(lines[2:])
    scan = _write(tmp_path, "s", spoiled).scan("s")
    assert scan.damage == "2 unreadable lines in its history (first at line 2)"
    assert scan.turns == 2


def test_missing_and_empty_histories_of_recorded_turns_are_unusable(tmp_path: Path) -> None:
    files = _write(tmp_path, "gone", None)
    _write(tmp_path, "empty", b"")
    with sqlite3.connect(tmp_path / "session-store.db") as store:  # the runtime's, with turns
        store.execute("CREATE TABLE turns (session_id TEXT, turn_index INTEGER)")
        store.executemany("INSERT INTO turns VALUES (?, 0)", [("gone",), ("empty",)])
    store.close()
    assert files.scan("gone").damage == MISSING
    assert files.scan("empty").damage == EMPTY
    assert files.scan("gone").unusable
    assert files.scan("empty").unusable
    assert files.scan("never-existed").damage == ""


def test_a_session_being_created_is_not_damaged_while_its_holder_lives(tmp_path: Path) -> None:
    files = _write(tmp_path, "new", None)
    (files.folder("new") / f"inuse.{os.getpid()}.lock").write_text("")
    assert files.scan("new").damage == ""


@pytest.mark.parametrize(("value", "expected"), [("", DEFAULT_REPLY_TIMEOUT), ("7.5", 7.5)])
def test_the_reply_timeout_comes_from_the_environment(value: str, expected: float) -> None:
    settings = Settings.from_environment({"COPILOT_MAGIC_REPLY_TIMEOUT": value})
    assert settings.reply_timeout == expected


@pytest.mark.parametrize("value", ["0", "-3", "x"])
def test_a_reply_timeout_from_the_environment_that_cannot_be_used_is_refused(value: str) -> None:
    with pytest.raises(InvalidSetting, match="COPILOT_MAGIC_REPLY_TIMEOUT"):
        Settings.from_environment({"COPILOT_MAGIC_REPLY_TIMEOUT": value})


class FakeSilentBridge:
    """A bridge whose runtime lives but never sends an event; records aborts."""

    def __init__(self) -> None:
        self.aborted = False

    def runtime_exit_code(self) -> None:
        return None

    def run(self, coro: Any, timeout: float | None = None) -> None:
        coro.close()
        self.aborted = True


class FakeSilentSession:
    async def abort(self) -> None:
        return None


def test_a_silent_turn_is_aborted_and_times_out_with_one_line() -> None:
    bridge = FakeSilentBridge()
    stream = TurnStream(
        bridge,  # type: ignore[arg-type]
        FakeSilentSession(),
        EventInbox(),
        number=1,
        silence_timeout=0.3,
        abort_settle=0.2,  # the runtime never confirms: the abort waits this long, not 5 s
    )
    with pytest.raises(TurnTimedOut, match=r"^Copilot sent nothing for 0.3 s, so the reply was"):
        list(stream)
    assert bridge.aborted
    assert stream.finished


def test_reading_a_history_leaves_no_file_open(tmp_path: Path) -> None:
    """Bug 4 of issue 11: a history file was left open (a ResourceWarning in the e2e run)."""
    import gc
    import warnings

    from copilot_magic.sessions.files import SessionFiles

    folder = tmp_path / "session-state" / "s"
    folder.mkdir(parents=True)
    (folder / "events.jsonl").write_text(
        '{"type":"user.message","data":{"content":"hi"}}\n'
        '{"type":"assistant.message","data":{"content":"hello"}}\n'
    )
    files = SessionFiles(tmp_path, "[[POR_ABSTAIN]]")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        events = files.events("s", (b"user.message",))
        assert [e["type"] for e in events] == ["user.message"]
        assert [t.reply for t in files.turns("s")] == ["hello"]
        del events
        gc.collect()


def test_a_prompt_line_written_twice_after_a_full_disk_counts_once(tmp_path: Path) -> None:
    prompt = json.dumps(
        {"type": "user.message", "data": {"content": "hello"}, "id": "u1"}, separators=(",", ":")
    )
    twice = (prompt.encode() + b"\n") * 2 + _line("assistant.message", content="hi")
    files = _write(tmp_path, "s", _line("session.start") + twice)
    assert files.scan("s").turns == 1
    assert len(files.turns("s")) == 1
