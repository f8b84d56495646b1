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
from copilot_magic.sessions.notebooks import NotebookLinks
from copilot_magic.sessions.ownership import SessionClaims, new_holder_token


class DataPlaces:
    """The session files, notebook links and owner claims of the current data directory."""

    def __init__(self, settings: Callable[[], Settings]) -> None:
        self._settings = settings
        self._holder = new_holder_token()  # one holder across data directories
        self._made_for: tuple[Path, str] | None = None
        self._files: SessionFiles
        self._links: NotebookLinks
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
    def claims(self) -> SessionClaims:
        self._current()
        return self._claims

    def release_holds(self) -> None:
        """Let go of every session held from here, in every data directory used."""
        for claims in self._all_claims:
            claims.release_all()
