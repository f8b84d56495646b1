"""SessionStore: create or resume, list, read, delete and talk to Copilot sessions.

The one place that knows how sessions are kept. It uses the SDK (through a
:class:`~copilot_magic.runtime.RuntimeBridge`) for everything that changes a
session, and reads the runtime's own ``events.jsonl`` files for lists and
transcripts, so reading a history never resumes (and so never touches) the
session. No IPython here: the magics, the panel and the command line share it.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from copilot_magic.config import Settings
from copilot_magic.errors import (
    DataDirUnwritable,
    InvalidArgument,
    RuntimeRefused,
    RuntimeUnavailable,
    SessionBusy,
    SessionDamaged,
    SessionExists,
    SessionNotFound,
    SessionTakenOver,
)
from copilot_magic.runtime.bridge import PendingCall, RuntimeBridge
from copilot_magic.sessions.files import SessionFiles, SessionScan
from copilot_magic.sessions.ids import validate_session_id
from copilot_magic.sessions.notebooks import NotebookLinks, sessions_of_notebook
from copilot_magic.sessions.ownership import SessionClaims
from copilot_magic.sessions.purge import purge_session_records
from copilot_magic.sessions.transcript import Turn
from copilot_magic.sessions.turn import EventInbox, TurnStream
from copilot_magic.views.text import one_line_title

CALL_TIMEOUT = 60.0
NAME_LIMIT = 100  # the runtime refuses longer session names (ids may have 250 characters)
TITLE_WIDTH = 60
DAY = timedelta(days=1)


@dataclass(frozen=True)
class SessionSummary:
    """One line of the session list."""

    session_id: str
    title: str
    created: datetime | None
    last_active: datetime | None
    turns: int
    abstentions: int = 0
    held_elsewhere: bool = False  # open in another kernel or process right now
    active: bool = False  # this notebook's active session (set by the caller)
    damage: str = ""  # why the history file is not sound, if it is not

    def names(self, text: str) -> bool:
        """Whether the id or the title contains ``text``, ignoring case."""
        needle = text.casefold()
        return needle in self.session_id.casefold() or needle in self.title.casefold()


@dataclass(frozen=True)
class Opened:
    """What :meth:`SessionStore.open` did."""

    session_id: str
    created: bool
    turns: int
    last_active: datetime | None
    damage: str = ""  # the history has unreadable lines, which the runtime skipped


@dataclass(frozen=True)
class CleanupPlan:
    """Sessions a clean-up would delete, and those it leaves alone with the reason."""

    older_than_days: int
    doomed: tuple[SessionSummary, ...]
    spared: tuple[tuple[str, str], ...]  # (session id, reason)

    @property
    def turns(self) -> int:
        return sum(s.turns for s in self.doomed)


@dataclass
class _LiveSession:
    """A session object of the current client, with its mailbox and turn count."""

    session: Any
    inbox: EventInbox
    generation: int
    turns: int
    busy: threading.Lock = field(default_factory=threading.Lock)


def _in_utc(moment: datetime | None) -> datetime | None:
    """A runtime time in the standard library's UTC (the SDK's time zone objects are slow
    to compare, and a list of a thousand sessions compares and sorts them a lot)."""
    return moment.astimezone(UTC) if moment is not None else None


def _approve_nothing(request: Any, invocation: Any) -> Any:
    """Copilot in a notebook only talks: every tool permission is refused."""
    from copilot.generated.rpc import PermissionDecisionReject

    return PermissionDecisionReject(feedback="Tools are disabled in copilot_magic.")


class SessionStore:
    """The sessions stored in one data directory, reached through one runtime."""

    def __init__(self, bridge: RuntimeBridge) -> None:
        self.bridge = bridge
        self.files = SessionFiles(bridge.settings.data_path, bridge.settings.abstain_signal)
        self.links = NotebookLinks(bridge.settings.data_path)
        self.claims = SessionClaims(bridge.settings.data_path)
        self._live: dict[str, _LiveSession] = {}

    @property
    def settings(self) -> Settings:
        return self.bridge.settings

    def _call(self, coro: Any) -> Any:
        return self.bridge.call(coro, timeout=CALL_TIMEOUT)

    def _not_found(self, session_id: str) -> SessionNotFound:
        return SessionNotFound(f"No session {session_id!r} in {self.settings.data_path}.")

    @staticmethod
    def _damaged(session_id: str, damage: str) -> SessionDamaged:
        return SessionDamaged(
            f"Session {session_id!r} is damaged: {damage}, so it cannot be resumed. "
            f"Delete it with %copilot_session --delete {session_id} "
            f"(or copilot-magic delete {session_id}), or use another id."
        )

    def ensure_writable(self, session_id: str | None = None) -> None:
        """Raise :class:`DataDirUnwritable` unless a turn could be stored.

        The runtime does not report a read-only data directory: it takes the
        prompt and then waits for ever. So write a nameless file first.
        """
        folders = [self.settings.data_path]
        if session_id is not None and self.files.folder(session_id).is_dir():
            folders.append(self.files.folder(session_id))
        for folder in folders:
            try:
                folder.mkdir(parents=True, exist_ok=True)
                with tempfile.TemporaryFile(dir=folder):
                    pass
            except OSError as error:
                raise DataDirUnwritable(
                    f"Cannot write to {folder} ({error.strerror or error}), so no turn could "
                    "be stored: set COPILOT_HOME (or CopilotMagics.data_dir) to a writable "
                    "folder. Reading sessions still works."
                ) from None

    # -- reading ------------------------------------------------------------------
    def exists(self, session_id: str) -> bool:
        """Whether a session with this id is stored (or open in this process)."""
        validate_session_id(session_id)
        if session_id in self._live:
            return True
        client = self.bridge.client()
        return self._call(client.get_session_metadata(session_id)) is not None

    def history(self, session_id: str) -> list[Turn]:
        """The session's turns, oldest first. Raises :class:`SessionNotFound`."""
        if not self.exists(session_id):
            damage = self.files.scan(session_id).damage
            if damage:
                raise self._damaged(session_id, damage)
            raise self._not_found(session_id)
        return self.files.turns(session_id)

    def damage(self, session_id: str) -> str:
        """Why the session's history file is not sound, or ``""`` when it is."""
        return self.files.scan(session_id).damage

    def held_elsewhere(self, session_id: str, *, for_list: bool = False) -> bool:
        """Whether another process (not this kernel's runtime) holds the session open."""
        own = self.bridge.runtime_pid
        return any(pid != own for pid in self.files.holders(session_id, for_list=for_list))

    def _summary_of(
        self, meta: Any, scan: SessionScan | None = None, held: bool | None = None
    ) -> SessionSummary:
        """A list line from the runtime's metadata and one pass over the history file."""
        scan = scan or self.files.scan(meta.session_id)
        title = (meta.summary or "").strip()
        if not title or title == meta.session_id[:NAME_LIMIT]:
            title = scan.first_prompt
        return SessionSummary(
            session_id=meta.session_id,
            title=one_line_title(title, TITLE_WIDTH),
            created=_in_utc(meta.start_time),
            last_active=_in_utc(meta.modified_time),
            turns=scan.turns,
            abstentions=scan.abstentions,
            held_elsewhere=self.held_elsewhere(meta.session_id) if held is None else held,
            damage=scan.damage,
        )

    def _unlisted_summary(self, session_id: str) -> SessionSummary | None:
        """The list line of a session the runtime does not list, if it has one.

        The runtime omits a session whose history is gone (it is damaged) and a
        session created here that has no turn yet (it is new); others are not there.
        """
        damage = self.files.scan(session_id).damage
        if not damage and session_id not in self._live:
            return None
        try:
            changed = self.files.folder(session_id).stat().st_mtime
        except FileNotFoundError:
            return None
        moment = datetime.fromtimestamp(changed).astimezone()
        return SessionSummary(session_id, "", None if damage else moment, moment, 0, damage=damage)

    def summaries(self) -> list[SessionSummary]:
        """Every stored session, most recently active first; damaged ones say why."""
        return self.begin_summaries()()

    def begin_summaries(self) -> Callable[[], list[SessionSummary]]:
        """Ask the runtime for the list and return at once; call the result for :meth:`summaries`.

        The caller can do its own work while the runtime lists; calling the result
        reads the history files (while the runtime may still be listing) and waits.
        """
        listing = self.bridge.begin(self.bridge.client().list_sessions())
        return lambda: self._summaries_of(listing)

    def _summaries_of(self, listing: PendingCall[list[Any]]) -> list[SessionSummary]:
        on_disk = {
            session_id: (
                self.files.scan(session_id),
                self.held_elsewhere(session_id, for_list=True),
            )
            for session_id in self.files.session_ids()
        }
        summaries = [
            self._summary_of(meta, *on_disk.get(meta.session_id, (None, None)))
            for meta in listing.result(CALL_TIMEOUT)
        ]
        listed = {s.session_id for s in summaries}
        for session_id in on_disk:
            unlisted = None if session_id in listed else self._unlisted_summary(session_id)
            if unlisted is not None:
                summaries.append(unlisted)
        summaries.sort(key=lambda s: s.last_active or datetime.min.astimezone(), reverse=True)
        return summaries

    def summary(self, session_id: str) -> SessionSummary:
        """The list line of one session. Raises :class:`SessionNotFound`."""
        validate_session_id(session_id)
        meta = self._call(self.bridge.client().get_session_metadata(session_id))
        if meta is None:
            unlisted = self._unlisted_summary(session_id)
            if unlisted is None:
                raise self._not_found(session_id)
            return unlisted
        return self._summary_of(meta)

    def search(self, text: str, session_ids: Iterable[str]) -> set[str]:
        """The ids among ``session_ids`` whose prompts or replies contain ``text`` (any case)."""
        needle = text.casefold()
        return {
            session_id
            for session_id in session_ids
            if any(
                needle in turn.prompt.casefold() or needle in turn.reply.casefold()
                for turn in self.files.turns(session_id)
            )
        }

    # -- opening ------------------------------------------------------------------
    def _session_options(self, model: str | None) -> dict[str, Any]:
        options: dict[str, Any] = {
            "streaming": True,
            "available_tools": [],
            "on_permission_request": _approve_nothing,
        }
        chosen = model or self.settings.model
        if chosen:
            options["model"] = chosen
        provider = self.settings.provider_config()
        if provider is not None:
            options["provider"] = provider
        return options

    def open(
        self,
        session_id: str,
        *,
        new: bool = False,
        model: str | None = None,
        takeover: bool = False,
    ) -> Opened:
        """Resume the session if it exists, else create it; never create over an existing id.

        With ``new=True`` an existing id is refused (:class:`SessionExists`). A
        session that another kernel or process holds open is refused
        (:class:`SessionBusy`): two holders would each keep their own context and
        interleave both conversations in one history. ``takeover=True`` resumes it
        anyway, for when the other holder is abandoned.
        """
        validate_session_id(session_id)
        self.bridge.ensure_signed_in()
        self.ensure_writable(session_id)
        client = self.bridge.client()  # restarts a runtime that died: then reopen below
        live = self._live.get(session_id)
        if live is not None and live.generation == self.bridge.generation:
            if new:
                raise SessionExists(f"Session {session_id!r} exists already.")
            if model is None and not takeover and not self.claims.stale(session_id):
                return self._opened(session_id, created=False, turns=live.turns)
        self._let_go(session_id)  # reopen: a takeover reloads what the other holder wrote
        exists = self.exists(session_id)
        damage = self.files.scan(session_id).damage
        if damage and (not exists or self.files.scan(session_id).unusable):
            raise self._damaged(session_id, damage)
        if exists and new:
            raise SessionExists(
                f"Session {session_id!r} exists already: "
                "resume it without --new, or pick another id."
            )
        if exists and not takeover and self.held_elsewhere(session_id):
            raise SessionBusy(
                f"Session {session_id!r} is open in another kernel or process; using it here "
                "too would mix two conversations. Close it there, or take it over with "
                f"%copilot_session {session_id} --takeover."
            )
        inbox = EventInbox()
        options = self._session_options(model)
        if exists:
            session = self._resume(client, session_id, inbox, options)
        else:
            session = self._call(
                client.create_session(
                    session_id=session_id,
                    name=session_id[:NAME_LIMIT],
                    on_event=inbox,
                    **options,
                )
            )
        self.claims.claim(session_id)
        turns = self.files.scan(session_id).turns
        self._live[session_id] = _LiveSession(session, inbox, self.bridge.generation, turns)
        return self._opened(session_id, created=not exists, turns=turns)

    def _opened(self, session_id: str, *, created: bool, turns: int) -> Opened:
        damage = "" if created else self.files.scan(session_id).damage
        return Opened(session_id, created, turns, self.files.last_active(session_id), damage)

    def _let_go(self, session_id: str) -> None:
        """Close this process's session object, so the runtime forgets its context."""
        live = self._live.pop(session_id, None)
        if live is not None:
            with contextlib.suppress(Exception):  # a dead session object: nothing to close
                self._call(live.session.disconnect())

    def _resume(
        self, client: Any, session_id: str, inbox: EventInbox, options: dict[str, Any]
    ) -> Any:
        try:
            return self._call(client.resume_session(session_id, on_event=inbox, **options))
        except RuntimeRefused as error:
            if "not found" in error.detail.lower():
                raise self._not_found(session_id) from None
            raise RuntimeUnavailable(f"Could not resume {session_id!r}: {error.detail}") from None

    def _live_session(self, session_id: str) -> _LiveSession:
        live = self._live.get(session_id)
        if (
            live is None
            or live.generation != self.bridge.generation
            or not self.bridge.runtime_alive()
        ):
            self.open(session_id)  # the runtime was restarted: resume transparently
            live = self._live[session_id]
        return live

    # -- talking ------------------------------------------------------------------
    def start_turn(
        self, session_id: str, prompt: str, silence_timeout: float | None = None
    ) -> TurnStream:
        """Send ``prompt`` to the session; follow the reply by iterating the result.

        A reply stops with :class:`~copilot_magic.errors.TurnTimedOut` after
        ``silence_timeout`` seconds (default: the settings' ``reply_timeout``)
        without any sign from the runtime. A session another process took over
        is refused (:class:`~copilot_magic.errors.SessionTakenOver`).

        The stream's ``number`` is the turn's position in the history (the
        runtime stores every prompt, also when its reply fails). Call
        :meth:`end_turn` when done, whatever the outcome.
        """
        if self.claims.stale(session_id):  # another process opened it since: reload it
            holder = self.claims.other_holder(session_id)
            self._let_go(session_id)
            if holder is not None:
                raise SessionTakenOver(
                    f"Session {session_id!r} was taken over by another kernel or process "
                    f"(pid {holder}), so this kernel no longer writes to it. Take it back "
                    f"with %copilot_session {session_id} --takeover."
                )
        self.ensure_writable(session_id)
        live = self._live_session(session_id)
        if not live.busy.acquire(blocking=False):
            raise SessionBusy(f"Session {session_id!r} is already replying to another prompt.")
        stream = TurnStream(
            self.bridge,
            live.session,
            live.inbox,
            number=live.turns + 1,
            silence_timeout=silence_timeout or self.settings.reply_timeout,
        )
        try:
            stream.send(prompt)
        except BaseException:
            live.busy.release()
            raise
        live.turns += 1
        return stream

    def end_turn(self, session_id: str) -> None:
        """Let the session take its next prompt."""
        live = self._live.get(session_id)
        if live is not None and live.busy.locked():
            live.busy.release()

    # -- deleting -----------------------------------------------------------------
    def delete(self, session_id: str) -> None:
        """Delete the session and every trace of it under the data directory."""
        folder = self.files.folder(session_id)
        if not self.exists(session_id) and not folder.is_dir():
            raise self._not_found(session_id)
        client = self.bridge.client()
        if self.held_elsewhere(session_id):
            raise SessionBusy(self._held_message(session_id))
        self._let_go(session_id)
        try:
            self._call(client.delete_session(session_id))
        except RuntimeError as error:
            message = str(error)
            if "in use by another process" in message:
                raise SessionBusy(self._held_message(session_id)) from None
            if "not found" not in message.lower():
                raise RuntimeUnavailable(f"Could not delete {session_id!r}: {message}") from None
        if folder.is_dir():  # a damaged session the runtime does not know any more
            shutil.rmtree(folder, ignore_errors=True)
        self.files.forget(session_id)
        self.links.forget_session(session_id)
        self.claims.release(session_id)
        try:
            purge_session_records(self.settings.data_path, session_id)
        except sqlite3.Error as error:
            raise RuntimeUnavailable(
                f"Deleted {session_id!r}, but could not clean the runtime's database: {error}"
            ) from None

    @staticmethod
    def _held_message(session_id: str) -> str:
        return f"Session {session_id!r} is in use by another process; close it there first."

    def plan_cleanup(
        self,
        older_than_days: int,
        protect: Iterable[str] = (),
        now: datetime | None = None,
        notebook: str | None = None,
    ) -> CleanupPlan:
        """What deleting sessions idle for more than ``older_than_days`` would remove.

        With ``notebook``, only the sessions tied to that notebook count. Sessions
        in ``protect`` (the active one) and sessions held by another process are
        spared. Nothing is deleted here: pass the plan to :meth:`cleanup`.
        """
        if older_than_days < 0:
            raise InvalidArgument("The age for a clean-up is a number of days, 0 or more.")
        cutoff = (now or datetime.now().astimezone()) - older_than_days * DAY
        protected = set(protect)
        tied = (
            set(sessions_of_notebook(Path(notebook).expanduser().absolute(), self.links))
            if notebook
            else None
        )
        doomed, spared = [], []
        for summary in self.summaries():
            if tied is not None and summary.session_id not in tied:
                continue
            if summary.last_active is not None and summary.last_active > cutoff:
                continue
            if summary.session_id in protected:
                spared.append((summary.session_id, "the active session"))
            elif summary.held_elsewhere:
                spared.append((summary.session_id, "in use by another process"))
            else:
                doomed.append(summary)
        return CleanupPlan(older_than_days, tuple(doomed), tuple(spared))

    def cleanup(self, plan: CleanupPlan) -> list[str]:
        """Delete the sessions of a plan; returns the ids deleted (held ones are skipped)."""
        deleted = []
        for summary in plan.doomed:
            with contextlib.suppress(SessionBusy, SessionNotFound):  # changed since the plan
                self.delete(summary.session_id)
                deleted.append(summary.session_id)
        return deleted

    def close(self) -> None:
        """Forget open sessions and stop the runtime."""
        self._live.clear()
        self.bridge.stop()
