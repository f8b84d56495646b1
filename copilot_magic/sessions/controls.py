"""Controls of a stored session between turns: title, rewind, fork, compact, usage, stars, models.

Each goes through the runtime where the runtime keeps the thing (titles,
history, compaction: :mod:`~copilot_magic.runtime.sdk.controls`) and through
:class:`~copilot_magic.sessions.marks.SessionMarks` where it does not (stars,
fork handles). Ids here are the runtime's; the store maps handles to them.
"""

from __future__ import annotations

import sqlite3
import unicodedata
from dataclasses import dataclass

from copilot_magic.errors import InvalidArgument, RuntimeUnavailable, SessionBusy, SessionExists
from copilot_magic.kernel.notebook import AppliedChange
from copilot_magic.runtime import sdk
from copilot_magic.runtime.disk import purge_rewound_turns
from copilot_magic.runtime.providers import provider_models
from copilot_magic.sessions.ids import validate_session_id
from copilot_magic.sessions.models import NAME_LIMIT, Usage, stored_title
from copilot_magic.sessions.reading import CALL_TIMEOUT
from copilot_magic.sessions.worker import SessionWorker
from copilot_magic.values import is_blank, plural


def valid_title(title: str) -> str:
    """``title`` without surrounding spaces; refused when empty, multi-line or too long."""
    line = title.strip()
    if is_blank(line):
        raise InvalidArgument("A title needs at least one visible character.")
    if any(unicodedata.category(c) == "Cc" for c in line):
        raise InvalidArgument("A title is one line of text, without control characters.")
    if len(line) > NAME_LIMIT:
        raise InvalidArgument(f"A title has at most {NAME_LIMIT} characters ({len(line)} given).")
    return line


@dataclass(frozen=True)
class Rewound:
    """What a rewind removed (the prompts, oldest first), how many turns are left, and the
    notebook changes the removed turns made (each with its turn, oldest first)."""

    prompts: tuple[str, ...]
    turns_left: int
    changes: tuple[tuple[int, AppliedChange], ...] = ()


class SessionControls(SessionWorker):
    """The controls of the sessions of the current data directory."""

    def _stored(self, session_id: str) -> None:
        if not self.reader.exists(session_id):
            raise self.reader.not_found(session_id)

    def rename(self, session_id: str, title: str) -> str:
        """Give the session a title (the runtime's name, seen by every Copilot tool)."""
        title = valid_title(title)
        self._stored(session_id)
        with self.live.controlled(session_id) as session:
            self.bridge.call(sdk.set_name(session, title), CALL_TIMEOUT)
        return title

    def rewind(self, session_id: str, count: int) -> Rewound:
        """Remove the last ``count`` turns from the history, from what the model sees next,
        and from every file under the data directory."""
        if count < 1:
            raise InvalidArgument("--rewind takes a number of turns, 1 or more.")
        self._stored(session_id)
        with self.live.controlled(session_id) as session:
            points = self.bridge.call(sdk.rewind_points(session), CALL_TIMEOUT)
            if count > len(points):
                have = plural(len(points), "turn")
                raise InvalidArgument(f"Session {session_id!r} has {have}; cannot rewind {count}.")
            first = points[-count]
            self.bridge.call(sdk.truncate(session, first.event_id), CALL_TIMEOUT)
        self.live.let_go(session_id)  # the runtime writes its last turn to its store now
        self.places.files.forget(session_id)
        removed = [p.prompt for p in points[-count:]]
        try:
            purge_rewound_turns(self.places.data_path, session_id, removed, first.timestamp)
        except sqlite3.Error as error:
            raise RuntimeUnavailable(
                f"Rewound {session_id!r}, but could not clean the runtime's database: {error}"
            ) from None
        return Rewound(tuple(removed), len(points) - count)

    def fork(self, source: str, title: str, at: int | None = None) -> str:
        """A new session holding ``source``'s turns (up to and including turn ``at``);
        returns its runtime id. ``source`` is only read, never resumed. A source whose reply
        is running now (here or in another kernel or process) is refused: its last turn is
        not whole yet, and a fork holds whole turns only."""
        self._stored(source)
        elsewhere = self.places.claims.replying(source)
        if elsewhere is not None or self.live.replying(source):
            where = (
                "here" if elsewhere is None else f"in another kernel or process (pid {elsewhere})"
            )
            raise SessionBusy(
                f"Session {source!r} is replying to a prompt {where}, so it was not forked: "
                "a fork holds whole turns; try again when that reply has ended."
            )
        prompts = self.places.files.prompt_events(source)
        if at is not None and not 1 <= at <= len(prompts):
            have = plural(len(prompts), "turn")
            raise InvalidArgument(f"--at takes a turn of {source!r}, which has {have}.")
        before = prompts[at] if at is not None and at < len(prompts) else None
        client = self.bridge.client()
        name = stored_title(title)
        return self.bridge.call(sdk.fork(client, source, name, before), CALL_TIMEOUT)

    def compact(self, session_id: str) -> sdk.Compacted:
        """Ask the runtime to summarise the session's context now."""
        self._stored(session_id)
        with self.live.controlled(session_id) as session:
            return self.bridge.call(sdk.compact(session), CALL_TIMEOUT * 5)

    def usage(self, session_id: str) -> Usage | None:
        """Tokens and requests from the runtime's usage records (``None``: none yet).

        Read from the session's files alone, so it answers while the runtime is down."""
        if not self.places.files.folder(validate_session_id(session_id)).is_dir():
            raise self.reader.not_found(session_id)
        return self.places.files.scan(session_id).usage

    def star(self, session_id: str, on: bool = True) -> None:
        """Star the session (kept first in lists, and by clean-ups), or take the star away."""
        self._stored(session_id)
        self.places.marks.star(session_id, on)

    def models(self) -> list[str]:
        """The models the provider (BYOK) or the Copilot sign-in offers."""
        settings = self.bridge.settings
        if settings.provider_url:
            key = settings.provider_api_key.reveal() if settings.provider_api_key else ""
            return provider_models(settings.provider_url, settings.provider_type, key)
        self.bridge.ensure_signed_in()
        return self.bridge.call(sdk.list_copilot_models(self.bridge.client()), CALL_TIMEOUT)

    def refuse_taken(self, handle: str) -> None:
        """Refuse a handle that a stored session already answers to."""
        if self.reader.exists(handle) or self.places.marks.runtime_id(handle):
            raise SessionExists(f"Session {handle!r} exists already: pick another name.")
