"""FakeStore: an in-memory stand-in for SessionStore that records every call the magics make.

The magics' unit tests put one in place of the real store (``magics._store = FakeStore()``):
nothing they do can start a runtime or write a session to disk, and ``calls`` says whether a
command reached the store at all.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from copilot_magic.config import Settings
from copilot_magic.errors import CopilotMagicError, SessionExists, SessionNotFound
from copilot_magic.sessions.inbox import ToolCall
from copilot_magic.sessions.models import CleanupPlan, Opened, SessionSummary
from copilot_magic.sessions.notebooks import sessions_of_notebook
from copilot_magic.sessions.removal import plan_cleanup
from copilot_magic.sessions.transcript import Turn
from copilot_magic.sessions.turn import Delta, Notice

Update = Delta | Notice | ToolCall  # what a turn's stream yields

LAST_ACTIVE = datetime(2026, 11, 25, 8, 31, tzinfo=UTC)


class FakeStream:
    """A turn whose reply is a fixed list of updates (tool calls too), optionally ending in an
    error."""

    def __init__(self, number: int, updates: list[Update], error: BaseException | None):
        self.number = number
        self.text = ""
        self.aborted = False
        self._updates = updates
        self._error = error

    def __iter__(self) -> Iterator[Update]:
        for update in self._updates:
            if isinstance(update, Delta):
                self.text = update.text
            yield update
        if self._error is not None:
            raise self._error

    def abort(self) -> None:
        self.aborted = True


class FakeLinks:
    """The notebook -> session map of a :class:`FakeStore`, in a dict."""

    def __init__(self) -> None:
        self.sessions: dict[Path, str] = {}

    def session_of(self, notebook: Path) -> str | None:
        return self.sessions.get(notebook)

    def link(self, notebook: Path, session_id: str) -> None:
        self.sessions[notebook] = session_id


class FakeStore:
    """Sessions in a dict; records every call the magics make."""

    def __init__(self) -> None:
        self.links = FakeLinks()
        self.settings = Settings()
        self.sessions: dict[str, list[Turn]] = {}
        self.calls: list[tuple[str, str]] = []
        self.open_error: CopilotMagicError | None = None
        self.reply: list[Update] = [Delta("Hello"), Delta("Hello, world.")]
        self.reply_error: BaseException | None = None
        self.streams: list[FakeStream] = []
        self.closed = False

    def open(
        self,
        session_id: str,
        new: bool = False,
        model: str | None = None,
        takeover: bool = False,
    ) -> Opened:
        self.calls.append(("open", session_id))
        if self.open_error is not None:
            raise self.open_error
        if session_id in self.sessions:
            if new:
                raise SessionExists(f"Session {session_id!r} exists already.")
            turns = len(self.sessions[session_id])
            return Opened(session_id, created=False, turns=turns, last_active=LAST_ACTIVE)
        self.sessions[session_id] = []
        return Opened(session_id, created=True, turns=0, last_active=None)

    def summaries(self) -> list[SessionSummary]:
        self.calls.append(("list", ""))
        return [
            SessionSummary(sid, f"title of {sid}", LAST_ACTIVE, LAST_ACTIVE, len(turns))
            for sid, turns in self.sessions.items()
        ]

    def summary(self, session_id: str) -> SessionSummary:
        if session_id not in self.sessions:
            raise SessionNotFound(f"No session {session_id!r}.")
        turns = len(self.sessions[session_id])
        return SessionSummary(session_id, f"title of {session_id}", LAST_ACTIVE, LAST_ACTIVE, turns)

    def usage(self, session_id: str) -> None:
        return None

    def summaries_even_offline(self) -> list[SessionSummary]:
        return self.summaries()

    def history_even_offline(self, session_id: str) -> tuple[list[Turn], str]:
        return self.history(session_id), self.damage(session_id)

    def history(self, session_id: str) -> list[Turn]:
        self.calls.append(("history", session_id))
        if session_id not in self.sessions:
            raise SessionNotFound(f"No session {session_id!r}.")
        return self.sessions[session_id]

    def delete(self, session_id: str) -> None:
        self.calls.append(("delete", session_id))
        if self.sessions.pop(session_id, None) is None:
            raise SessionNotFound(f"No session {session_id!r}.")

    def notebook_sessions(self, notebook: Path) -> list[str]:
        return sessions_of_notebook(notebook, self.links)  # type: ignore[arg-type]

    def tie_notebook(self, notebook: Path, session_id: str) -> None:
        self.links.link(notebook, session_id)

    def exists(self, session_id: str) -> bool:
        self.calls.append(("exists", session_id))
        return session_id in self.sessions

    def damage(self, session_id: str) -> str:
        return ""

    def keep_partial(self, session_id: str, turn: int, text: str) -> None:
        self.calls.append(("keep partial", session_id, turn, text))

    def keep_notebook_change(self, session_id: str, turn: int, change: object) -> bool:
        self.calls.append(("keep notebook change", session_id, turn, change))
        return True

    @contextlib.contextmanager
    def turn(
        self,
        session_id: str,
        prompt: str,
        silence_timeout: float | None = None,
        shown: str | None = None,
        *,
        frontend: bool = False,
    ) -> Iterator[FakeStream]:
        """Like the real store's: the turn ends (``turn ended``) whatever happens inside."""
        self.calls.append(("turn", prompt))
        stream = FakeStream(len(self.sessions[session_id]) + 1, self.reply, self.reply_error)
        self.streams.append(stream)
        try:
            yield stream
        finally:
            self.calls.append(("turn ended", session_id))

    def plan_cleanup(
        self, older_than_days: int, protect: list[str], notebook: str | None = None
    ) -> CleanupPlan:
        self.calls.append(("plan_cleanup", str(older_than_days)))
        now = LAST_ACTIVE + timedelta(days=40)
        return plan_cleanup(self.summaries(), older_than_days, now=now, protect=protect)

    def cleanup(self, plan: CleanupPlan) -> list[str]:
        for summary in plan.doomed:
            self.delete(summary.session_id)
        return [s.session_id for s in plan.doomed]

    def close(self) -> None:
        self.closed = True
