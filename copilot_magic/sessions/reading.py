"""Reading sessions: whether one exists, the list, one line of it, a history, a search.

Lists and transcripts come from the runtime's own ``events.jsonl`` files (see
:mod:`~copilot_magic.sessions.files`), so reading a history never resumes, and
so never touches, the session; the runtime is asked only for its list and for
whether an id is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from copilot_magic.errors import (
    Advice,
    Remedy,
    SessionBusy,
    SessionDamaged,
    SessionNotFound,
    SessionTakenOver,
)
from copilot_magic.runtime.bridge import PendingCall, RuntimeBridge
from copilot_magic.runtime.disk import made_by
from copilot_magic.sessions.files import SessionScan
from copilot_magic.sessions.ids import validate_session_id
from copilot_magic.sessions.models import NAME_LIMIT, SessionSummary, in_utc, stored_title
from copilot_magic.sessions.places import DataPlaces
from copilot_magic.sessions.transcript import Turn
from copilot_magic.sessions.turn import Notice

CALL_TIMEOUT = 60.0


def starred_first(summaries: list[SessionSummary]) -> list[SessionSummary]:
    """Starred sessions first, each part most recently active first."""
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(summaries, key=lambda s: (s.starred, s.last_active or oldest), reverse=True)


class SessionReader:
    """Reads the sessions of the current data directory; ``is_open`` names the ones open here."""

    def __init__(
        self, bridge: RuntimeBridge, places: DataPlaces, is_open: Callable[[str], bool]
    ) -> None:
        self.bridge = bridge
        self.places = places
        self._is_open = is_open

    def not_found(self, session_id: str) -> SessionNotFound:
        return SessionNotFound(f"No session {session_id!r} in {self.places.data_path}.")

    def moved_away(self, session_id: str) -> SessionNotFound:
        """A session this kernel had open is not where the settings point now."""
        return SessionNotFound(
            f"Session {session_id!r} is not in {self.places.data_path} (the data "
            "directory or runtime changed since it was opened, or it was deleted), so "
            "nothing was sent; changing the setting back finds it again.",
            advice=Advice(Remedy.START_ANEW, session_id),
        )

    def deleted(self, session_id: str) -> SessionNotFound:
        """A session this kernel holds open was deleted behind its back."""
        return SessionNotFound(
            f"Session {session_id!r} was deleted (its files are gone from "
            f"{self.places.data_path}), so nothing was sent.",
            advice=Advice(Remedy.START_ANEW, session_id),
        )

    def busy(self, session_id: str) -> SessionBusy:
        """Refusal of a session held elsewhere: by another copilot_magic, or by another
        program (the runtime's in-use lock only: jupyter-ai's chat, another Copilot client)."""
        holder = "another kernel or process"
        if self.places.claims.other_holder(session_id) is None:
            pids = [
                p for p in self.places.files.holders(session_id) if not self.bridge.is_runtime(p)
            ]
            holder = "another program" + (f" (pid {pids[0]}, a Copilot client)" if pids else "")
        return SessionBusy(
            f"Session {session_id!r} is open in {holder}; using it here "
            "too would mix two conversations.",
            advice=Advice(Remedy.TAKE_OVER, session_id),
        )

    @staticmethod
    def taken_over(session_id: str, holder: int) -> SessionTakenOver:
        return SessionTakenOver(
            f"Session {session_id!r} was taken over by another kernel or process "
            f"(pid {holder}), so this kernel no longer writes to it.",
            advice=Advice(Remedy.TAKE_BACK, session_id),
        )

    @staticmethod
    def taken_over_mid_reply(session_id: str, holder: int) -> Notice:
        return Notice(
            f"Session {session_id!r} was taken over by another kernel or process (pid "
            f"{holder}) while this reply ran: the reply is stored whole, and this kernel no "
            "longer writes to it.",
            Advice(Remedy.TAKE_BACK, session_id),
        )

    @staticmethod
    def damaged(session_id: str, damage: str) -> SessionDamaged:
        return SessionDamaged(
            f"Session {session_id!r} is damaged: {damage}, so it cannot be resumed.",
            advice=Advice(Remedy.DELETE, session_id),
        )

    def exists(self, session_id: str) -> bool:
        """Whether a session with this id is stored (or open in this process)."""
        validate_session_id(session_id)
        if self._is_open(session_id):
            return True
        client = self.bridge.client()
        return self.bridge.call(client.get_session_metadata(session_id), CALL_TIMEOUT) is not None

    def history(self, session_id: str) -> list[Turn]:
        """The session's turns, oldest first. Raises :class:`SessionNotFound`."""
        if not self.exists(session_id) or not self.places.files.folder(session_id).is_dir():
            if self.places.files.scan(session_id).no_history:
                return []  # made by another client and never used: the runtime omits it
            damage = self.damage(session_id)
            if damage:
                raise self.damaged(session_id, damage)
            raise self.not_found(session_id)
        return self.places.files.turns(session_id)

    def damage(self, session_id: str) -> str:
        """Why the session's history file is not sound, or ``""`` when it is."""
        return self.places.files.scan(session_id).damage

    def held_elsewhere(
        self, session_id: str, *, for_list: bool = False, holds: set[str] | None = None
    ) -> bool:
        """Whether another kernel or process holds the session open.

        That is a hold of another copilot_magic (from the moment it opened the
        session), or an in-use lock of another runtime (it appears once a message
        is sent). ``holds``: the ids others hold, read once for a whole list.
        """
        if session_id in (self.places.claims.held_by_others() if holds is None else holds):
            return True
        holders = self.places.files.holders(session_id, for_list=for_list)
        return any(not self.bridge.is_runtime(pid) for pid in holders)

    def _summary_of(
        self,
        meta: Any,
        scan: SessionScan | None = None,
        held: bool | None = None,
        starred: set[str] | None = None,
    ) -> SessionSummary:
        """A list line from the runtime's metadata and one pass over the history file."""
        scan = scan or self.places.files.scan(meta.session_id)
        title = (meta.summary or "").strip()
        if not title or title == meta.session_id[:NAME_LIMIT]:
            title = scan.first_prompt
        return SessionSummary(
            session_id=meta.session_id,
            title=stored_title(title),  # whole: views that need less cut it
            created=in_utc(meta.start_time),
            last_active=in_utc(meta.modified_time),
            turns=scan.turns,
            abstentions=scan.abstentions,
            held_elsewhere=self.held_elsewhere(meta.session_id) if held is None else held,
            damage=scan.damage,
            starred=meta.session_id
            in (self.places.marks.starred() if starred is None else starred),
            usage=scan.usage,
            client=made_by(self.places.files.folder(meta.session_id)),
        )

    def _unlisted_summary(self, session_id: str) -> SessionSummary | None:
        """The list line of a session the runtime does not list, if it has one.

        The runtime omits a session whose history is gone (it is damaged), one
        with no history yet (another client made it and never used it) and a
        session created here that has no turn yet (it is new); others are not there.
        """
        scan = self.places.files.scan(session_id)
        if not (scan.damage or scan.no_history or self._is_open(session_id)):
            return None
        folder = self.places.files.folder(session_id)
        try:
            changed = folder.stat().st_mtime
        except FileNotFoundError:
            return None
        moment = datetime.fromtimestamp(changed).astimezone()
        created = None if scan.damage else moment
        return SessionSummary(
            session_id, "", created, moment, 0, damage=scan.damage, client=made_by(folder)
        )

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
        files = self.places.files
        holds = self.places.claims.held_by_others()
        on_disk = {
            session_id: (
                files.scan(session_id),
                self.held_elsewhere(session_id, for_list=True, holds=holds),
            )
            for session_id in files.session_ids()
        }
        starred = self.places.marks.starred()
        summaries = []
        for meta in listing.result(CALL_TIMEOUT):
            scan, held = on_disk.get(meta.session_id, (None, None))
            summaries.append(self._summary_of(meta, scan, held, starred))
        listed = {s.session_id for s in summaries}
        for session_id in on_disk:
            unlisted = None if session_id in listed else self._unlisted_summary(session_id)
            if unlisted is not None:
                summaries.append(unlisted)
        return starred_first(summaries)

    def summary(self, session_id: str) -> SessionSummary:
        """The list line of one session. Raises :class:`SessionNotFound`."""
        validate_session_id(session_id)
        client = self.bridge.client()
        meta = self.bridge.call(client.get_session_metadata(session_id), CALL_TIMEOUT)
        if meta is None:
            unlisted = self._unlisted_summary(session_id)
            if unlisted is None:
                raise self.not_found(session_id)
            return unlisted
        return self._summary_of(meta)

    def search(self, text: str, session_ids: Iterable[str]) -> set[str]:
        """The ids among ``session_ids`` whose prompts or replies contain ``text`` (any case)."""
        needle = text.casefold()
        files = self.places.files
        return {
            session_id
            for session_id in session_ids
            if any(
                needle in turn.prompt.casefold() or needle in turn.reply.casefold()
                for turn in files.turns(session_id)
            )
        }
