"""FakeCatalog: an in-memory SessionCatalog (sessions.catalog) for the panel tests.

Sessions and their turns live in dicts; nothing touches the runtime or the disk.
Helpers add sessions with any number of turns, a chosen last-active time,
abstained turns, a "held by another process" mark, a star and a usage; the
controls (rename, fork, rewind, star) follow the real store's rules and
messages where the panel depends on them; :meth:`FakeCatalog.fail_next`
makes the next call (of any method, or of one named method) raise a given error.
Every call of the protocol is counted in :attr:`FakeCatalog.calls`.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from copilot_magic.errors import InvalidArgument, SessionBusy, SessionExists, SessionNotFound
from copilot_magic.kernel.notebook import AppliedChange
from copilot_magic.sessions.catalog import SessionCatalog
from copilot_magic.sessions.controls import Rewound, valid_title
from copilot_magic.sessions.ids import validate_session_id
from copilot_magic.sessions.models import CleanupPlan, Opened, SessionSummary, Usage
from copilot_magic.sessions.removal import plan_cleanup
from copilot_magic.sessions.transcript import Turn

ABSTAIN_SIGNAL = "[[POR_ABSTAIN]]"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@dataclass
class FakeSession:
    """One stored session."""

    session_id: str
    created: datetime
    last_active: datetime | None
    turns: list[Turn] = field(default_factory=list)
    title: str | None = None  # None: the first prompt, as the real store does
    held_elsewhere: bool = False
    starred: bool = False
    usage: Usage | None = None
    client: str = ""  # the program that made it, as the runtime recorded it


class FakeCatalog:
    """Sessions in a dict; ``active`` is the notebook's active session id."""

    def __init__(self, now: datetime = NOW, abstain_signal: str = ABSTAIN_SIGNAL) -> None:
        self.now = now
        self._abstain_signal = abstain_signal
        self.stored: dict[str, FakeSession] = {}
        self.active: str | None = None
        self.calls: Counter[str] = Counter()
        self.deleted: list[str] = []
        self.changes: dict[str, list[tuple[int, AppliedChange]]] = {}  # by session id
        self.frontend_says: list[str] | None = None  # what offer_back answers
        self.offered_back: list[list[tuple[int, AppliedChange]]] = []
        self._failure: tuple[str | None, BaseException] | None = None

    # -- helpers for tests -----------------------------------------------------------
    def add_session(
        self,
        session_id: str,
        turns: int = 0,
        *,
        idle_days: float = 0.0,
        last_active: datetime | None = None,
        abstained: Iterable[int] = (),
        title: str | None = None,
        held_elsewhere: bool = False,
        active: bool = False,
        starred: bool = False,
        usage: Usage | None = None,
        client: str = "",
    ) -> FakeSession:
        """Store a session with ``turns`` turns; ``abstained`` lists 1-based turn numbers.

        The last activity is ``last_active`` if given, else ``idle_days`` before :attr:`now`.
        """
        moment = last_active if last_active is not None else self.now - idle_days * DAY
        session = FakeSession(
            session_id=session_id,
            created=moment - DAY,
            last_active=moment,
            title=title,
            held_elsewhere=held_elsewhere,
            starred=starred,
            usage=usage,
            client=client,
        )
        self.stored[session_id] = session
        refusals = set(abstained)
        for number in range(1, turns + 1):
            if number in refusals:
                self.add_turn(
                    session_id,
                    f"{session_id} question {number}",
                    f"{self._abstain_signal} {session_id} declines {number}",
                    abstained=True,
                )
            else:
                self.add_turn(
                    session_id, f"{session_id} question {number}", f"{session_id} answer {number}"
                )
        if active:
            self.active = session_id
        return session

    def add_turn(
        self, session_id: str, prompt: str, reply: str, *, abstained: bool = False
    ) -> Turn:
        """Append a turn; an abstained one carries the abstain signal in its reply."""
        session = self.stored[session_id]
        if abstained and self._abstain_signal not in reply:
            reply = f"{self._abstain_signal} {reply}".strip()
        moment = session.last_active or self.now
        turn = Turn(
            index=len(session.turns) + 1,
            prompt=prompt,
            reply=reply,
            asked_at=moment,
            answered_at=moment,
            abstained=abstained,
        )
        session.turns.append(turn)
        return turn

    def fail_next(self, error: BaseException, method: str | None = None) -> None:
        """Make the next call (of ``method`` only, if named) raise ``error``, once."""
        self._failure = (method, error)

    def session_ids(self) -> set[str]:
        """The ids stored now."""
        return set(self.stored)

    # -- internals -------------------------------------------------------------------
    def _enter(self, method: str) -> None:
        self.calls[method] += 1
        if self._failure is not None and self._failure[0] in (None, method):
            error = self._failure[1]
            self._failure = None
            raise error

    def _get(self, session_id: str) -> FakeSession:
        session = self.stored.get(session_id)
        if session is None:
            raise SessionNotFound(f"No session {session_id!r} in the fake catalog.")
        return session

    def _summary(self, session: FakeSession) -> SessionSummary:
        title = session.title
        if title is None:
            title = session.turns[0].prompt if session.turns else ""
        return SessionSummary(
            session_id=session.session_id,
            title=title,
            created=session.created,
            last_active=session.last_active,
            turns=len(session.turns),
            abstentions=sum(turn.abstained for turn in session.turns),
            held_elsewhere=session.held_elsewhere,
            active=session.session_id == self.active,
            starred=session.starred,
            usage=session.usage,
            client=session.client,
        )

    def _summaries(self) -> list[SessionSummary]:
        """Starred first, each part most recently active first (as the real store lists)."""
        oldest = datetime.min.replace(tzinfo=UTC)
        summaries = [self._summary(session) for session in self.stored.values()]
        summaries.sort(key=lambda s: (s.starred, s.last_active or oldest), reverse=True)
        return summaries

    def _controlled(self, session_id: str) -> FakeSession:
        """A session to change between turns: refused when another process holds it."""
        session = self._get(session_id)
        if session.held_elsewhere:
            raise SessionBusy(f"Session {session_id!r} is in use by another process.")
        return session

    def _delete(self, session_id: str) -> None:
        session = self._get(session_id)
        if session.held_elsewhere:
            raise SessionBusy(f"Session {session_id!r} is in use by another process.")
        del self.stored[session_id]
        self.deleted.append(session_id)
        if self.active == session_id:
            self.active = None

    # -- the SessionCatalog protocol ---------------------------------------------------
    @property
    def abstain_signal(self) -> str:
        return self._abstain_signal

    def sessions(self) -> list[SessionSummary]:
        self._enter("sessions")
        return self._summaries()

    def begin_sessions(self) -> Callable[[], list[SessionSummary]]:
        return self.sessions

    def search(self, text: str, session_ids: Iterable[str]) -> set[str]:
        self._enter("search")
        needle = text.casefold()
        return {
            session_id
            for session_id in session_ids
            if session_id in self.stored
            and any(
                needle in turn.prompt.casefold() or needle in turn.reply.casefold()
                for turn in self.stored[session_id].turns
            )
        }

    def history(self, session_id: str) -> list[Turn]:
        self._enter("history")
        return list(self._get(session_id).turns)

    def delete(self, session_id: str) -> None:
        self._enter("delete")
        self._delete(session_id)

    def plan_cleanup(self, older_than_days: int) -> CleanupPlan:
        self._enter("plan_cleanup")
        summaries = self._summaries()
        active = [s.session_id for s in summaries if s.active]
        return plan_cleanup(
            summaries,
            older_than_days,
            now=self.now,
            protect=active,
        )

    def cleanup(self, plan: CleanupPlan) -> list[str]:
        self._enter("cleanup")
        deleted = []
        for summary in plan.doomed:
            with contextlib.suppress(SessionBusy, SessionNotFound):  # changed since the plan
                self._delete(summary.session_id)
                deleted.append(summary.session_id)
        return deleted

    def activate(self, session_id: str) -> Opened:
        self._enter("activate")
        session = self._get(session_id)
        self.active = session_id
        return Opened(
            session_id, created=False, turns=len(session.turns), last_active=session.last_active
        )

    def rename(self, session_id: str, title: str) -> str:
        self._enter("rename")
        title = valid_title(title)
        self._controlled(session_id).title = title
        return title

    def fork(self, handle: str, source: str, at: int | None = None) -> Opened:
        self._enter("fork")
        validate_session_id(handle)
        if handle in self.stored:
            raise SessionExists(f"Session {handle!r} exists already: pick another name.")
        original = self._get(source)
        have = len(original.turns)
        if at is not None and not 1 <= at <= have:
            turns = f"{have} turn{'s' if have != 1 else ''}"
            raise InvalidArgument(f"--at takes a turn of {source!r}, which has {turns}.")
        kept = original.turns[: have if at is None else at]
        title = f"{self._summary(original).title or source} (fork)"
        self.stored[handle] = FakeSession(
            handle, created=self.now, last_active=self.now, turns=list(kept), title=title
        )
        return Opened(handle, created=False, turns=len(kept), last_active=self.now)

    def rewind(self, session_id: str, count: int) -> Rewound:
        self._enter("rewind")
        if count < 1:
            raise InvalidArgument("--rewind takes a number of turns, 1 or more.")
        session = self._controlled(session_id)
        have = len(session.turns)
        if count > have:
            turns = f"{have} turn{'s' if have != 1 else ''}"
            raise InvalidArgument(f"Session {session_id!r} has {turns}; cannot rewind {count}.")
        removed = session.turns[-count:]
        del session.turns[-count:]
        changes = self.notebook_changes(session_id, len(session.turns))
        kept = self.changes.get(session_id, [])
        self.changes[session_id] = [made for made in kept if made[0] <= len(session.turns)]
        return Rewound(tuple(t.prompt for t in removed), len(session.turns), tuple(changes))

    def notebook_changes(self, session_id: str, after: int) -> list[tuple[int, AppliedChange]]:
        return [made for made in self.changes.get(session_id, []) if made[0] > after]

    def offer_back(
        self, changes: Sequence[tuple[int, AppliedChange]], announce: Callable[[], object]
    ) -> list[str] | None:
        """``None`` (no frontend) unless ``frontend_says`` holds the lines to answer."""
        self.offered_back.append(list(changes))
        if self.frontend_says is None:
            return None
        announce()
        return self.frontend_says

    def star(self, session_id: str, on: bool = True) -> None:
        self._enter("star")
        self._get(session_id).starred = on


def _fakes_are_catalogs(fake: FakeCatalog) -> SessionCatalog:
    """mypy checks this (``make lint``): the fake implements the panel's typed Protocol."""
    return fake
