"""What copilot_magic remembers about sessions beyond the runtime: stars, handles, cells and
partial replies.

A star keeps a session at the top of lists and out of clean-ups. A handle is
the name a person chose for a fork: the runtime gives every fork a generated
id, and the handle answers for it everywhere (``%copilot_session NEW``, the
panel, the command line). A cell link says which turn a notebook cell asked
(by the cell id Jupyter sends), so running the cell again does not ask twice. A
partial reply is what a cell showed of a reply that was interrupted or failed
(the runtime keeps only whole replies), so the transcript shows it too.
All live in ``<data dir>/copilot-magic/marks.json``,
changed under a file lock, so kernels sharing a data directory never lose
each other's changes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from copilot_magic.owner_only import private_file, private_folder

MARKS_FILE = Path("copilot-magic") / "marks.json"


class SessionMarks:
    """The stars and fork handles of one data directory."""

    def __init__(self, data_path: Path) -> None:
        self.path = data_path / MARKS_FILE
        self._cache: tuple[tuple[int, int], dict[str, Any]] | None = None

    def _read(self) -> dict[str, Any]:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return _clean({})
        key = (stat.st_mtime_ns, stat.st_size)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        try:
            marks = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            marks = {}
        clean = _clean(marks if isinstance(marks, dict) else {})
        self._cache = (key, clean)
        return clean

    @contextlib.contextmanager
    def _changing(self) -> Iterator[dict[str, Any]]:
        """The marks, to change in place; written back atomically under the lock."""
        private_folder(self.path.parent)
        with private_file(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._cache = None
            marks = self._read()
            marks = {
                "starred": list(marks["starred"]),
                "handles": dict(marks["handles"]),
                "cells": dict(marks["cells"]),
                "partials": {k: dict(v) for k, v in marks["partials"].items()},
            }
            yield marks
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".marks-")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(marks, out, indent=1, sort_keys=True)
            os.replace(temporary, self.path)

    # -- stars --------------------------------------------------------------------
    def starred(self) -> set[str]:
        """The ids of the starred sessions."""
        return set(self._read()["starred"])

    def star(self, session_id: str, on: bool = True) -> None:
        """Star the session (``on=False``: take the star away)."""
        with self._changing() as marks:
            stars = [s for s in marks["starred"] if s != session_id]
            marks["starred"] = [*stars, session_id] if on else stars

    # -- handles ------------------------------------------------------------------
    def runtime_id(self, handle: str) -> str | None:
        """The runtime's id of the fork named ``handle``, if there is one."""
        found = self._read()["handles"].get(handle)
        return found if isinstance(found, str) else None

    def handles(self) -> dict[str, str]:
        """Runtime id -> handle, for every fork that has one."""
        return {runtime: handle for handle, runtime in self._read()["handles"].items()}

    def name(self, handle: str, runtime_id: str) -> None:
        """Let ``handle`` answer for the session ``runtime_id`` from now on."""
        with self._changing() as marks:
            marks["handles"][handle] = runtime_id

    # -- cells --------------------------------------------------------------------
    def cell_turn(self, cell_id: str) -> CellTurn | None:
        """The turn the cell ``cell_id`` asked last, if it is known."""
        link = self._read()["cells"].get(cell_id)
        if not isinstance(link, dict) or not isinstance(link.get("turn"), int):
            return None
        return CellTurn(str(link.get("session", "")), link["turn"], str(link.get("text", "")))

    def link_cell(self, cell_id: str, session_id: str, turn: int, text: str) -> None:
        """Remember that the cell ``cell_id``, holding ``text``, asked turn ``turn``."""
        with self._changing() as marks:
            marks["cells"][cell_id] = {"session": session_id, "turn": turn, "text": digest(text)}

    # -- partial replies ---------------------------------------------------------------
    def partials(self, session_id: str) -> dict[int, str]:
        """Turn number -> what the cell showed of that turn's interrupted or failed reply."""
        kept = self._read()["partials"].get(session_id, {})
        return {int(turn): text for turn, text in kept.items()}

    def keep_partial(self, session_id: str, turn: int, text: str) -> None:
        """Remember what turn ``turn`` of ``session_id`` showed before it was cut short."""
        with self._changing() as marks:
            marks["partials"].setdefault(session_id, {})[str(turn)] = text

    def forget_partials_after(self, session_id: str, turns: int) -> None:
        """Drop the partial replies of the turns after ``turns`` (rewound, or asked again)."""
        with self._changing() as marks:
            kept = marks["partials"].get(session_id, {})
            marks["partials"][session_id] = {t: v for t, v in kept.items() if int(t) <= turns}

    def forget(self, *names: str) -> None:
        """Drop the star, the handle, the cell links and the partial replies of a deleted
        session (by any name)."""
        with self._changing() as marks:
            marks["partials"] = {s: v for s, v in marks["partials"].items() if s not in names}
            marks["starred"] = [s for s in marks["starred"] if s not in names]
            marks["handles"] = {
                h: r for h, r in marks["handles"].items() if h not in names and r not in names
            }
            marks["cells"] = {
                c: v for c, v in marks["cells"].items() if v.get("session") not in names
            }


@dataclass(frozen=True)
class CellTurn:
    """The turn a cell asked: the session (as the cell named it), its number, and a digest
    of the cell's text then."""

    session_id: str
    turn: int
    digest: str

    def same_text(self, text: str) -> bool:
        return self.digest == digest(text)


def digest(text: str) -> str:
    """A short fingerprint of a cell's text (the text itself is not kept here)."""
    return hashlib.sha256(text.strip().encode()).hexdigest()[:16]


def _entries(found: object, kind: type) -> dict[str, Any]:
    """The entries of a mapping read from marks.json whose values are ``kind``."""
    if not isinstance(found, dict):
        return {}
    return {key: value for key, value in found.items() if isinstance(value, kind)}


def _clean(marks: dict[str, Any]) -> dict[str, Any]:
    """What marks.json holds, with whatever a damaged or older file has wrong left out."""
    starred = marks.get("starred", [])
    partials = {
        session_id: {turn: text for turn, text in _entries(turns, str).items() if turn.isdigit()}
        for session_id, turns in _entries(marks.get("partials"), dict).items()
    }
    return {
        "starred": [s for s in starred if isinstance(s, str)] if isinstance(starred, list) else [],
        "handles": _entries(marks.get("handles"), str),
        "cells": _entries(marks.get("cells"), dict),
        "partials": partials,
    }
