"""The files copilot_magic and the runtime keep in the data directory in force now.

The data directory and the abstain signal are settings, and a setting changed
with ``%config`` applies from the next command on: :class:`DataPlaces` makes its
readers anew whenever either changes.
"""

from __future__ import annotations

import atexit
import weakref
from collections.abc import Callable
from pathlib import Path

from copilot_magic.config import Settings
from copilot_magic.sessions.files import SessionFiles
from copilot_magic.sessions.marks import SessionMarks
from copilot_magic.sessions.notebooks import NotebookLinks
from copilot_magic.sessions.ownership import SessionClaims, new_holder_token
from copilot_magic.sessions.space import MARGIN, ensure_room, full_during_turn, nearly_full

DISK_CHECK_AFTER = 1.0  # seconds of silence in a reply before the disk is looked at


class DataPlaces:
    """The session files, notebook links, marks and owner claims of the current data directory."""

    def __init__(self, settings: Callable[[], Settings]) -> None:
        self._settings = settings
        self._holder = new_holder_token()  # one holder across data directories
        self._made_for: tuple[Path, str] | None = None
        self._files: SessionFiles
        self._links: NotebookLinks
        self._marks: SessionMarks
        self._claims: SessionClaims
        self._all_claims: list[SessionClaims] = []
        let_go = weakref.WeakMethod(self.release_holds)
        atexit.register(lambda: (method := let_go()) and method())  # a clean exit lets go

    def _current(self) -> None:
        settings = self._settings()
        wanted = (settings.data_path, settings.abstain_signal)
        if wanted != self._made_for:
            data_path, signal = wanted
            self._files = SessionFiles(data_path, signal)
            self._links = NotebookLinks(data_path)
            self._marks = SessionMarks(data_path)
            self._claims = SessionClaims(data_path, self._holder)
            self._all_claims.append(self._claims)
            self._made_for = wanted

    @property
    def data_path(self) -> Path:
        return self._settings().data_path

    @property
    def files(self) -> SessionFiles:
        self._current()
        return self._files

    @property
    def links(self) -> NotebookLinks:
        self._current()
        return self._links

    @property
    def marks(self) -> SessionMarks:
        self._current()
        return self._marks

    @property
    def claims(self) -> SessionClaims:
        self._current()
        return self._claims

    def ensure_writable(self, session_id: str | None = None, needed: int = MARGIN) -> None:
        """Raise :class:`~copilot_magic.errors.DataDirUnwritable` unless a turn could be stored
        (:func:`~copilot_magic.sessions.space.ensure_room`)."""
        folders = [self.data_path]
        if session_id is not None and self.files.folder(session_id).is_dir():
            folders.append(self.files.folder(session_id))
        ensure_room(folders, needed)

    def watch_disk(self, silent: float) -> None:
        """While the runtime is silent in a reply: a full disk is why, if there is no room left."""
        if silent >= DISK_CHECK_AFTER and nearly_full(self.data_path):
            raise full_during_turn(self.data_path)

    def release_holds(self) -> None:
        """Let go of every session held from here, in every data directory used."""
        for claims in self._all_claims:
            claims.release_all()
