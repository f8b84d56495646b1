"""SessionStore: the sessions of one data directory, reached through one runtime.

The one object the magics, the panel and the command line use. It composes
the three concerns, each in its own module: reading
(:class:`~copilot_magic.sessions.reading.SessionReader`: list, summaries,
history, search), the life of open sessions
(:class:`~copilot_magic.sessions.live.LiveSessions`: open, claims, turns) and
removal (:class:`~copilot_magic.sessions.removal.SessionRemover`: delete,
purge, clean-up). Its settings are read afresh at every call, so a setting
changed with ``%config`` applies from the next command on. No IPython here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import datetime

from copilot_magic.config import Settings
from copilot_magic.runtime.bridge import RuntimeBridge
from copilot_magic.sessions.files import SessionFiles
from copilot_magic.sessions.live import LiveSessions
from copilot_magic.sessions.models import CleanupPlan, Opened, SessionSummary
from copilot_magic.sessions.notebooks import NotebookLinks
from copilot_magic.sessions.ownership import SessionClaims
from copilot_magic.sessions.places import DataPlaces
from copilot_magic.sessions.reading import SessionReader
from copilot_magic.sessions.removal import SessionRemover
from copilot_magic.sessions.transcript import Turn
from copilot_magic.sessions.turn import TurnStream

__all__ = ["CleanupPlan", "Opened", "SessionStore", "SessionSummary"]


class SessionStore:
    """The sessions stored in one data directory, reached through one runtime.

    ``settings`` is fixed :class:`~copilot_magic.config.Settings` (the command
    line) or a function returning the settings in force (the magics' traits).
    ``bridge`` is for tests that bring their own (a fake SDK client).
    """

    def __init__(
        self, settings: Settings | Callable[[], Settings], bridge: RuntimeBridge | None = None
    ) -> None:
        source = settings if callable(settings) else (lambda: settings)
        self.bridge = bridge if bridge is not None else RuntimeBridge(source)
        self.places = DataPlaces(lambda: self.bridge.settings)  # one source for both
        self.reader = SessionReader(self.bridge, self.places, lambda sid: sid in self.live)
        self.live = LiveSessions(self.bridge, self.places, self.reader)
        self.remover = SessionRemover(self.bridge, self.places, self.reader, self.live)

    @property
    def settings(self) -> Settings:
        return self.bridge.settings

    @property
    def files(self) -> SessionFiles:
        return self.places.files

    @property
    def links(self) -> NotebookLinks:
        return self.places.links

    @property
    def claims(self) -> SessionClaims:
        return self.places.claims

    # -- reading ------------------------------------------------------------------
    def exists(self, session_id: str) -> bool:
        """Whether a session with this id is stored (or open in this process)."""
        return self.reader.exists(session_id)

    def history(self, session_id: str) -> list[Turn]:
        """The session's turns, oldest first. Raises :class:`SessionNotFound`."""
        return self.reader.history(session_id)

    def damage(self, session_id: str) -> str:
        """Why the session's history file is not sound, or ``""`` when it is."""
        return self.reader.damage(session_id)

    def held_elsewhere(self, session_id: str) -> bool:
        """Whether another process (not this kernel's runtime) holds the session open."""
        return self.reader.held_elsewhere(session_id)

    def summaries(self) -> list[SessionSummary]:
        """Every stored session, most recently active first; damaged ones say why."""
        return self.reader.summaries()

    def begin_summaries(self) -> Callable[[], list[SessionSummary]]:
        """Start listing; calling the result returns :meth:`summaries` (see the reader)."""
        return self.reader.begin_summaries()

    def summary(self, session_id: str) -> SessionSummary:
        """The list line of one session. Raises :class:`SessionNotFound`."""
        return self.reader.summary(session_id)

    def search(self, text: str, session_ids: Iterable[str]) -> set[str]:
        """The ids among ``session_ids`` whose prompts or replies contain ``text``."""
        return self.reader.search(text, session_ids)

    # -- open sessions ------------------------------------------------------------
    def open(
        self,
        session_id: str,
        *,
        new: bool = False,
        model: str | None = None,
        takeover: bool = False,
        must_exist: bool = False,
    ) -> Opened:
        """Resume the session if it exists, else create it (see :meth:`LiveSessions.open`)."""
        return self.live.open(
            session_id, new=new, model=model, takeover=takeover, must_exist=must_exist
        )

    def turn(
        self,
        session_id: str,
        prompt: str,
        silence_timeout: float | None = None,
        shown: str | None = None,
    ) -> AbstractContextManager[TurnStream]:
        """``with store.turn(id, prompt) as stream:`` (see :meth:`LiveSessions.turn`)."""
        return self.live.turn(session_id, prompt, silence_timeout, shown)

    def converse(self, session_id: str, prompt: str) -> str:
        """One whole turn, without display: send ``prompt`` and return the reply."""
        with self.turn(session_id, prompt) as stream:
            for _update in stream:
                pass
        return stream.text

    # -- removal ------------------------------------------------------------------
    def delete(self, session_id: str) -> None:
        """Delete the session and every trace of it under the data directory."""
        self.remover.delete(session_id)

    def plan_cleanup(
        self,
        older_than_days: int,
        protect: Iterable[str] = (),
        now: datetime | None = None,
        notebook: str | None = None,
    ) -> CleanupPlan:
        """What a clean-up of sessions idle for more than ``older_than_days`` would delete."""
        return self.remover.plan_cleanup(older_than_days, protect, now, notebook)

    def cleanup(self, plan: CleanupPlan) -> list[str]:
        """Delete the sessions of a plan; returns the ids deleted."""
        return self.remover.cleanup(plan)

    def let_go(self, session_id: str) -> None:
        """Stop holding the session (its next turn here resumes it again)."""
        self.live.let_go(session_id)

    def close(self) -> None:
        """Forget open sessions and stop the runtime."""
        self.live.close()
        self.bridge.stop()
