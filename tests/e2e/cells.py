"""What the end-to-end tests read from cells: a reply, a one-line error, files holding a word."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from copilot_magic.config import DEFAULT_ABSTAIN_SIGNAL
from copilot_magic.output_metadata import METADATA_KEY
from copilot_magic.sessions.files import SessionFiles

from .kernels import CellResult, Kernel

SLOW_REPLY = "[[echo:chunks=80]] [[echo:delay=0.05]]"  # ~4 s of streaming
ECHO_SAYS = "[[echo:say=\n\n{}]]"  # the echo model adds this Markdown to its reply


def completed_turns(data_dir: Path, session_id: str) -> int:
    """Turns stored with a whole reply (not failed, not interrupted)."""
    turns = SessionFiles(data_dir, DEFAULT_ABSTAIN_SIGNAL).turns(session_id)
    return sum(1 for t in turns if t.reply and not t.aborted and not t.error)


def copilot_cell(prompt: str, options: str = "") -> str:
    return f"%%copilot {options}\n{prompt}"


def reply_of(result: CellResult) -> dict[str, Any]:
    """The single reply display of a %%copilot cell, after its final update (a reply that
    went on under the code Copilot asked to run is several: :func:`reply_parts_of`)."""
    (display,) = reply_parts_of(result)
    return display


def reply_parts_of(result: CellResult) -> list[dict[str, Any]]:
    """The displays of a %%copilot cell's reply in order, after their final updates: one, or
    one more after each time the cell showed code Copilot asked to run (the code, the
    question and what it printed show between them; the code is a display of its own,
    without the reply's metadata)."""
    assert result.error is None, result.error_line
    return [d for d in result.displays if METADATA_KEY in d["metadata"]]


def consent_of(result: CellResult) -> dict[str, Any]:
    """The display of the code Copilot asked to run in a %%copilot cell (there must be one)."""
    (display,) = [d for d in result.displays if METADATA_KEY not in d["metadata"]]
    return display


def error_shown(result: CellResult) -> str:
    """The one line a failed cell showed, ``Name: message``: ``UsageError: ...`` (the
    person's mistake, on stderr) or the environment's failure under its own name
    (``RuntimeUnavailable: ...``, as the error's only traceback line). Fails on a traceback
    or on more than one line."""
    assert result.error is not None, "the cell did not fail"
    if result.error["ename"] == "UsageError":
        assert result.error["traceback"] == [], "a traceback was shown"
        shown = result.shown_error
    else:
        assert len(result.error["traceback"]) == 1, "a traceback was shown"
        (shown,) = result.error["traceback"]
        assert shown == result.error_line, shown
    assert "\n" not in shown
    return shown


def files_containing(root: Path, word: str) -> list[str]:
    needle = word.lower().encode()
    return [
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and needle in path.read_bytes().lower()
    ]


class _Streaming(Exception):
    """Raised by the watcher of :func:`wait_for_streaming` to stop collecting."""


def _raise_once_streaming(message: dict[str, Any]) -> None:
    if message["msg_type"] == "update_display_data" and (
        message["content"]["metadata"]["copilot_magic"]["stage"] == "streaming"
    ):
        raise _Streaming


def wait_for_streaming(kernel: Kernel, msg_id: str) -> None:
    """Return once the reply of ``msg_id`` has visibly started streaming."""
    try:
        kernel.collect(msg_id, timeout=30, on_message=_raise_once_streaming)
    except _Streaming:
        return
    raise AssertionError("the reply never started streaming")
