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
    """The single reply display of a %%copilot cell, after its final update (the code
    Copilot asked to run is a display of its own, without the reply's metadata)."""
    assert result.error is None, result.error_line
    (display,) = [d for d in result.displays if METADATA_KEY in d["metadata"]]
    return display


def consent_of(result: CellResult) -> dict[str, Any]:
    """The display of the code Copilot asked to run in a %%copilot cell (there must be one)."""
    (display,) = [d for d in result.displays if METADATA_KEY not in d["metadata"]]
    return display


def usage_error(result: CellResult) -> str:
    """The one line a failed cell showed; fails unless it is a UsageError without traceback."""
    assert result.error is not None, "the cell did not fail"
    assert result.error["ename"] == "UsageError", result.error_line
    assert result.error["traceback"] == [], "a traceback was shown"
    assert "\n" not in result.shown_error
    return result.shown_error


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
