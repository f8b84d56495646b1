"""What copilot_magic remembers about sessions beyond the runtime: stars and handles.

A star keeps a session at the top of lists and out of clean-ups. A handle is
the name a person chose for a fork: the runtime gives every fork a generated
id, and the handle answers for it everywhere (``%copilot_session NEW``, the
panel, the command line). Both live in ``<data dir>/copilot-magic/marks.json``,
changed under a file lock, so kernels sharing a data directory never lose
each other's changes.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
            return {"starred": [], "handles": {}}
        key = (stat.st_mtime_ns, stat.st_size)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        try:
            marks = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            marks = {}
        if not isinstance(marks, dict):
            marks = {}
        starred = [s for s in marks.get("starred", []) if isinstance(s, str)]
        handles = marks.get("handles", {})
        handles = (
            {k: v for k, v in handles.items() if isinstance(v, str)}
            if isinstance(handles, dict)
            else {}
        )
        clean = {"starred": starred, "handles": handles}
        self._cache = (key, clean)
        return clean

    @contextlib.contextmanager
    def _changing(self) -> Iterator[dict[str, Any]]:
        """The marks, to change in place; written back atomically under the lock."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._cache = None
            marks = self._read()
            marks = {"starred": list(marks["starred"]), "handles": dict(marks["handles"])}
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

    def forget(self, runtime_id: str) -> None:
        """Drop the star and the handle of a deleted session."""
        if runtime_id not in self.starred() and runtime_id not in self.handles():
            return
        with self._changing() as marks:
            marks["starred"] = [s for s in marks["starred"] if s != runtime_id]
            marks["handles"] = {h: r for h, r in marks["handles"].items() if r != runtime_id}
