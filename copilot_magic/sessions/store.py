"""SessionStore: the sessions of one data directory, reached through one runtime.

The one object the magics, the panel and the command line use. It composes
the three concerns, each in its own module: reading
(:class:`~copilot_magic.sessions.reading.SessionReader`: list, summaries,
history, search), the life of open sessions
(:class:`~copilot_magic.sessions.live.LiveSessions`: open, claims, turns) and
removal (:class:`~copilot_magic.sessions.removal.SessionRemover`: delete,
purge, clean-up) and the controls between turns
(:class:`~copilot_magic.sessions.controls.SessionControls`: title, rewind, fork,
compact, usage, stars, models). A fork is known by the handle the person chose
(the runtime gives it a generated id): the store takes and gives handles, and
everything below it sees the runtime's ids. Its settings are read afresh at every call, so a setting
changed with ``%config`` applies from the next command on. No IPython here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from copilot_magic.config import Settings
from copilot_magic.errors import (
    CopilotMagicError,
    DataDirUnwritable,
    RuntimeRefused,
    RuntimeUnavailable,
)
from copilot_magic.kernel.notebook import AppliedChange
from copilot_magic.runtime import sdk
from copilot_magic.runtime.bridge import RuntimeBridge
from copilot_magic.sessions.controls import Rewound, SessionControls
from copilot_magic.sessions.ids import validate_session_id
from copilot_magic.sessions.live import LiveSessions
from copilot_magic.sessions.marks import CellTurn
from copilot_magic.sessions.models import CleanupPlan, Opened, SessionSummary, Usage
from copilot_magic.sessions.notebooks import sessions_of_notebook
from copilot_magic.sessions.offline import history_from_files, summaries_from_files
from copilot_magic.sessions.places import DataPlaces
from copilot_magic.sessions.reading import SessionReader, starred_first
from copilot_magic.sessions.removal import SessionRemover
from copilot_magic.sessions.transcript import Turn
from copilot_magic.sessions.turn import TurnStream

__all__ = ["CleanupPlan", "Opened", "SessionStore", "SessionSummary"]


class SessionStore:
    """The sessions stored in one data directory, reached through one runtime.

    ``settings`` is fixed :class:`~copilot_magic.config.Settings` (the command
    line) or a function returning the settings in force (the magics' traits).
    ``bridge`` is for tests that bring their own (a fake SDK client).

    Callers use its methods, which take a session as the person names it (a fork's
    handle, or the id) and give it back so; the parts it composes (``places``,
    ``reader``, ``live``, ``remover``, ``controls``) see the runtime's ids and are its
    own. ``bridge`` is the one part callers may reach: the runtime itself (whether it
    runs, the doctor's checks).
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
        self.controls = SessionControls(self.bridge, self.places, self.reader, self.live)

    @property
    def settings(self) -> Settings:
        return self.bridge.settings

    # -- handles ------------------------------------------------------------------
    def _id(self, session_id: str) -> str:
        """The runtime's id of the session a person names (a fork's handle, or the id)."""
        return self.places.marks.runtime_id(session_id) or session_id

    @contextlib.contextmanager
    def _named(self, session_id: str) -> Iterator[str]:
        """The runtime's id of ``session_id``; an error names the session as the person did."""
        runtime_id = self._id(session_id)
        try:
            yield runtime_id
        except CopilotMagicError as error:
            if runtime_id != session_id and error.args:
                error.args = (str(error.args[0]).replace(runtime_id, session_id), *error.args[1:])
            if runtime_id != session_id and error.advice and error.advice.session_id == runtime_id:
                error.advice = replace(error.advice, session_id=session_id)  # its way out too
            raise

    def shown(self, summaries: Iterable[SessionSummary]) -> list[SessionSummary]:
        """List lines with each fork known by its handle."""
        handles = self.places.marks.handles()
        return [
            replace(s, session_id=handles[s.session_id]) if s.session_id in handles else s
            for s in summaries
        ]

    def _shown_plan(self, plan: CleanupPlan, back: bool = False) -> CleanupPlan:
        handles = self.places.marks.handles()
        if back:
            handles = {handle: runtime for runtime, handle in handles.items()}
        doomed = tuple(
            replace(s, session_id=handles.get(s.session_id, s.session_id)) for s in plan.doomed
        )
        spared = tuple((handles.get(sid, sid), why) for sid, why in plan.spared)
        return replace(plan, doomed=doomed, spared=spared)

    # -- reading ------------------------------------------------------------------
    def exists(self, session_id: str) -> bool:
        """Whether a session with this id is stored (or open in this process)."""
        return self.reader.exists(self._id(session_id))

    def history(self, session_id: str) -> list[Turn]:
        """The session's turns, oldest first, with what cells showed of replies cut short.
        Raises :class:`SessionNotFound`."""
        runtime_id = self._id(session_id)
        turns = self.reader.history(runtime_id)
        partials = self.places.marks.partials(runtime_id)
        return [
            replace(turn, partial=partials[turn.index])
            if turn.index in partials and not turn.reply
            else turn
            for turn in turns
        ]

    def keep_partial(self, session_id: str, turn: int, text: str) -> None:
        """Remember what a cell showed of turn ``turn``'s reply, interrupted or failed.

        Best effort: when it cannot be written (the disk that stopped the reply is
        full, the data directory is read-only) the cell's own reason is what counts,
        so the failure to keep it is not reported over that reason.
        """
        if text.strip():
            with contextlib.suppress(OSError, DataDirUnwritable):
                self.places.marks.keep_partial(self._id(session_id), turn, text)

    def notebook_changes(self, session_id: str, after: int) -> list[tuple[int, AppliedChange]]:
        """The notebook changes the session's turns after turn ``after`` made (each with its
        turn, oldest first): what a rewind to turn ``after`` offers back."""
        return self.places.marks.changes_after(after, session_id, self._id(session_id))

    def keep_notebook_change(self, session_id: str, turn: int, change: AppliedChange) -> bool:
        """Keep ``change`` with turn ``turn``, for a rewind; ``False`` if it cannot be written."""
        try:
            self.places.marks.keep_change(self._id(session_id), turn, change)
        except (OSError, DataDirUnwritable):
            return False
        return True

    def damage(self, session_id: str) -> str:
        """Why the session's history file is not sound, or ``""`` when it is."""
        return self.reader.damage(self._id(session_id))

    def held_elsewhere(self, session_id: str) -> bool:
        """Whether another process (not this kernel's runtime) holds the session open."""
        return self.reader.held_elsewhere(self._id(session_id))

    def turns(self, session_id: str) -> int:
        """How many turns the session's history holds (from the file, without the runtime)."""
        return self.places.files.scan(self._id(session_id)).turns

    def prompt_event(self, session_id: str, turn: int) -> str:
        """The id of the event whose prompt began turn ``turn`` ("" when there is none)."""
        events = self.places.files.prompt_events(self._id(session_id))
        return events[turn - 1] if 1 <= turn <= len(events) else ""

    def summaries(self) -> list[SessionSummary]:
        """Every stored session, most recently active first; damaged ones say why."""
        return self.shown(self.reader.summaries())

    def begin_summaries(self) -> Callable[[], list[SessionSummary]]:
        """Start listing; calling the result returns :meth:`summaries` (see the reader)."""
        finish = self.reader.begin_summaries()
        return lambda: self.shown(finish())

    def summary(self, session_id: str) -> SessionSummary:
        """The list line of one session. Raises :class:`SessionNotFound`."""
        return self.shown([self.reader.summary(self._id(session_id))])[0]

    def search(self, text: str, session_ids: Iterable[str]) -> set[str]:
        """The ids among ``session_ids`` whose prompts or replies contain ``text``."""
        handles = {self._id(handle): handle for handle in session_ids}
        return {handles[found] for found in self.reader.search(text, handles)}

    def model_of(self, session_id: str) -> str:
        """The model of the session's latest reply (or the one it started with), or ``""``."""
        return self.places.files.model(self._id(session_id))

    # -- without the runtime ------------------------------------------------------------
    def summaries_even_offline(self) -> list[SessionSummary]:
        """:meth:`summaries`; when the runtime cannot start, the list from the files alone,
        with stars, usage and forks' handles as the runtime's list has them. A runtime that
        refused (:class:`~copilot_magic.errors.RuntimeRefused`) is never worked around."""
        try:
            return self.summaries()
        except RuntimeUnavailable as error:
            if isinstance(error, RuntimeRefused):
                raise
        files, starred = self.places.files, self.places.marks.starred()
        sessions = [
            replace(s, starred=s.session_id in starred, usage=files.scan(s.session_id).usage)
            for s in summaries_from_files(files, self.places.claims.held_by_others())
        ]
        return self.shown(starred_first(sessions))

    def history_even_offline(self, session_id: str) -> tuple[list[Turn], str]:
        """:meth:`history` and :meth:`damage`; the turns from the files alone when the runtime
        cannot start (never when it refused). Raises :class:`SessionNotFound`, or
        :class:`SessionDamaged` when, offline, its history is missing or empty."""
        try:
            turns = self.history(session_id)
        except RuntimeUnavailable as error:
            if isinstance(error, RuntimeRefused):
                raise
            turns = history_from_files(self.places.files, self._id(session_id))
        return turns, self.damage(session_id)

    # -- notebooks and cells ------------------------------------------------------------
    def notebook_sessions(self, notebook: Path) -> list[str]:
        """The sessions tied to ``notebook``: the link kept here first, then those its
        outputs record."""
        return sessions_of_notebook(notebook, self.places.links)

    def tie_notebook(self, notebook: Path, session_id: str) -> None:
        """Tie ``notebook`` to the session (its next kernel opens that one)."""
        self.places.links.link(notebook, session_id)

    def cell_link(self, cell_id: str) -> CellTurn | None:
        """The turn the cell ``cell_id`` asked when it last ran, if kept."""
        return self.places.marks.cell_turn(cell_id)

    def link_cell(self, cell_id: str, session_id: str, turn: int, text: str) -> None:
        """Keep that the cell ``cell_id`` (its text ``text``) asked turn ``turn``."""
        event = self.prompt_event(session_id, turn)
        self.places.marks.link_cell(cell_id, session_id, turn, text, event)

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
        with self._named(session_id) as runtime_id:
            opened = self.live.open(
                runtime_id, new=new, model=model, takeover=takeover, must_exist=must_exist
            )
        return replace(opened, session_id=session_id)

    def turn(
        self,
        session_id: str,
        prompt: str,
        silence_timeout: float | None = None,
        shown: str | None = None,
        *,
        frontend: bool = False,
    ) -> AbstractContextManager[TurnStream]:
        """``with store.turn(id, prompt) as stream:`` (see :meth:`LiveSessions.turn`)."""
        return self._turn(session_id, prompt, silence_timeout, shown, frontend)

    @contextlib.contextmanager
    def _turn(
        self,
        session_id: str,
        prompt: str,
        silence_timeout: float | None,
        shown: str | None,
        frontend: bool,
    ) -> Iterator[TurnStream]:
        with (
            self._named(session_id) as runtime_id,
            self.live.turn(runtime_id, prompt, silence_timeout, shown, frontend=frontend) as stream,
        ):
            yield stream

    def converse(self, session_id: str, prompt: str) -> str:
        """One whole turn, without display: send ``prompt`` and return the reply."""
        with self.turn(session_id, prompt) as stream:
            for _update in stream:
                pass
        return stream.text

    # -- removal ------------------------------------------------------------------
    def delete(self, session_id: str) -> None:
        """Delete the session and every trace of it under the data directory."""
        with self._named(session_id) as runtime_id:
            self.remover.delete(runtime_id)
        self.places.marks.forget(session_id, runtime_id)
        self.places.links.forget_session(session_id)  # a fork's notebooks name its handle

    def plan_cleanup(
        self,
        older_than_days: int,
        protect: Iterable[str] = (),
        now: datetime | None = None,
        notebook: str | None = None,
    ) -> CleanupPlan:
        """What a clean-up of sessions idle for more than ``older_than_days`` would delete
        (starred sessions, those used in the last hour and ``protect`` are kept)."""
        protected = [self._id(s) for s in protect]
        plan = self.remover.plan_cleanup(older_than_days, protected, now, notebook)
        return self._shown_plan(plan)

    def cleanup(self, plan: CleanupPlan) -> list[str]:
        """Delete the sessions of a plan; returns the ids deleted."""
        handles = self.places.marks.handles()  # read before the deletes forget them
        deleted = self.remover.cleanup(self._shown_plan(plan, back=True))
        return [handles.get(sid, sid) for sid in deleted]

    def let_go(self, session_id: str) -> None:
        """Stop holding the session (its next turn here resumes it again)."""
        self.live.let_go(self._id(session_id))

    # -- controls -------------------------------------------------------------------
    def rename(self, session_id: str, title: str) -> str:
        """Set the session's title; returns it as stored (see :meth:`SessionControls.rename`)."""
        with self._named(session_id) as runtime_id:
            return self.controls.rename(runtime_id, title)

    def rewind(self, session_id: str, count: int) -> Rewound:
        """Remove the session's last ``count`` turns everywhere (:meth:`SessionControls.rewind`)."""
        with self._named(session_id) as runtime_id:
            rewound = self.controls.rewind(runtime_id, count)
        changes = self.notebook_changes(session_id, rewound.turns_left)
        self.places.marks.forget_after(rewound.turns_left, session_id, runtime_id)
        return replace(rewound, changes=tuple(changes))

    def fork(self, handle: str, source: str, at: int | None = None) -> Opened:
        """A new session ``handle`` holding ``source``'s turns (up to turn ``at``), opened."""
        validate_session_id(handle)
        self.controls.refuse_taken(handle)
        title = f"{self.summary(source).title or source} (fork)"
        runtime_id = self.controls.fork(self._id(source), title, at)
        self.places.marks.name(handle, runtime_id)
        return self.open(handle, must_exist=True)

    def compact(self, session_id: str) -> sdk.Compacted:
        """Summarise the session's context now (see :meth:`SessionControls.compact`)."""
        with self._named(session_id) as runtime_id:
            return self.controls.compact(runtime_id)

    def usage(self, session_id: str) -> Usage | None:
        """The session's tokens and requests; ``None`` when it made none yet (files only)."""
        with self._named(session_id) as runtime_id:
            return self.controls.usage(runtime_id)

    def star(self, session_id: str, on: bool = True) -> None:
        """Star (or unstar) the session: listed first, kept by clean-ups."""
        with self._named(session_id) as runtime_id:
            self.controls.star(runtime_id, on)

    def models(self) -> list[str]:
        """The models the provider or the Copilot sign-in offers, sorted."""
        return self.controls.models()

    def close(self) -> None:
        """Forget open sessions and stop the runtime."""
        self.live.close()
        self.bridge.stop()
