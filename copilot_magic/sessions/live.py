"""The life of the sessions this process has open: open, claim, talk, let go.

A session is opened (resumed, or created, never over an existing id), claimed
(see :mod:`~copilot_magic.sessions.ownership`), and talked to one turn at a
time through :meth:`LiveSessions.turn`, a context manager that always ends the
turn and frees the session, whatever happens inside it. A session whose
runtime was replaced, or whose model or provider settings changed since it
was opened, is resumed again before its next turn; it is never created behind
the person's back.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from copilot_magic.errors import (
    DataDirUnwritable,
    RuntimeRefused,
    RuntimeUnavailable,
    SessionBusy,
    SessionExists,
    SessionNotFound,
    SessionTakenOver,
)
from copilot_magic.runtime import sdk
from copilot_magic.runtime.bridge import RuntimeBridge
from copilot_magic.sessions.ids import validate_session_id
from copilot_magic.sessions.models import Opened
from copilot_magic.sessions.places import DataPlaces
from copilot_magic.sessions.reading import CALL_TIMEOUT, NAME_LIMIT, SessionReader
from copilot_magic.sessions.turn import EventInbox, TurnStream
from copilot_magic.values import Secret

# What a session is opened with: the model, and the provider's url, type and key.
Options = tuple[str, str, str, Secret]


@dataclass
class _LiveSession:
    """A session object of the current client, with its mailbox and turn count."""

    session: Any
    inbox: EventInbox
    generation: int
    turns: int
    options: Options
    model: str | None  # given with --model when opened, else None (the settings' model)


class LiveSessions:
    """The sessions open in this process, on the runtime of ``bridge``."""

    def __init__(self, bridge: RuntimeBridge, places: DataPlaces, reader: SessionReader) -> None:
        self.bridge = bridge
        self.places = places
        self.reader = reader
        self._live: dict[str, _LiveSession] = {}
        self._busy: dict[str, threading.Lock] = {}  # one turn at a time, per session id

    def __contains__(self, session_id: object) -> bool:
        return session_id in self._live

    def _options(self, model: str | None) -> Options:
        settings = self.bridge.settings
        chosen = settings.model if model is None else model
        return (chosen, settings.provider_url, settings.provider_type, settings.provider_api_key)

    def ensure_writable(self, session_id: str | None = None) -> None:
        """Raise :class:`DataDirUnwritable` unless a turn could be stored.

        The runtime does not report a read-only data directory: it takes the
        prompt and then waits for ever. So write a nameless file first.
        """
        folders = [self.places.data_path]
        if session_id is not None and self.places.files.folder(session_id).is_dir():
            folders.append(self.places.files.folder(session_id))
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

    def open(
        self,
        session_id: str,
        *,
        new: bool = False,
        model: str | None = None,
        takeover: bool = False,
        must_exist: bool = False,
    ) -> Opened:
        """Resume the session if it exists, else create it; never create over an existing id.

        With ``new=True`` an existing id is refused (:class:`SessionExists`); with
        ``must_exist=True`` a missing one is (:class:`SessionNotFound`). A session
        that another kernel or process holds open is refused (:class:`SessionBusy`):
        two holders would each keep their own context and interleave both
        conversations in one history. ``takeover=True`` resumes it anyway, for
        when the other holder is abandoned.
        """
        validate_session_id(session_id)
        self.bridge.ensure_signed_in()
        self.ensure_writable(session_id)
        client = self.bridge.client()  # restarts a runtime that died: then reopen below
        live = self._live.get(session_id)
        if live is not None and live.generation == self.bridge.generation:
            if new:
                raise SessionExists(f"Session {session_id!r} exists already.")
            unchanged = model is None and live.options == self._options(live.model)
            if unchanged and not takeover and not self.places.claims.stale(session_id):
                return self._opened(session_id, created=False, turns=live.turns)
            model = live.model if model is None else model
        self.let_go(session_id)  # reopen: a takeover reloads what the other holder wrote
        exists = self.reader.exists(session_id)
        files = self.places.files
        damage = files.scan(session_id).damage
        if damage and (not exists or files.scan(session_id).unusable):
            raise self.reader.damaged(session_id, damage)
        if exists and new:
            raise SessionExists(
                f"Session {session_id!r} exists already: "
                "resume it without --new, or pick another id."
            )
        if not exists and must_exist:
            raise SessionNotFound(
                f"Session {session_id!r} is not in {self.places.data_path} (the data "
                "directory or runtime changed since it was opened, or it was deleted), so "
                "nothing was sent: change the setting back, or start it here with "
                f"%copilot_session {session_id}."
            )
        if exists and not takeover and self.reader.held_elsewhere(session_id):
            raise SessionBusy(
                f"Session {session_id!r} is open in another kernel or process; using it here "
                "too would mix two conversations. Close it there, or take it over with "
                f"%copilot_session {session_id} --takeover."
            )
        inbox = EventInbox()
        options = self._options(model)
        provider = self.bridge.settings.provider_config()  # None for GitHub Copilot itself
        kwargs = sdk.session_options(options[0], provider, inbox)  # options[0]: the model
        if exists:
            session = self._resume(client, session_id, kwargs)
        else:
            session = self.bridge.call(
                client.create_session(
                    session_id=session_id, name=session_id[:NAME_LIMIT], **kwargs
                ),
                CALL_TIMEOUT,
            )
        self.places.claims.claim(session_id)
        turns = files.scan(session_id).turns
        self._live[session_id] = _LiveSession(
            session, inbox, self.bridge.generation, turns, options, model
        )
        return self._opened(session_id, created=not exists, turns=turns)

    def _opened(self, session_id: str, *, created: bool, turns: int) -> Opened:
        files = self.places.files
        damage = "" if created else files.scan(session_id).damage
        return Opened(session_id, created, turns, files.last_active(session_id), damage)

    def let_go(self, session_id: str) -> None:
        """Close this process's session object, so the runtime forgets its context."""
        live = self._live.pop(session_id, None)
        if live is not None:
            with contextlib.suppress(Exception):  # a dead session object: nothing to close
                self.bridge.call(live.session.disconnect(), CALL_TIMEOUT)

    def _resume(self, client: Any, session_id: str, kwargs: dict[str, Any]) -> Any:
        try:
            return self.bridge.call(client.resume_session(session_id, **kwargs), CALL_TIMEOUT)
        except RuntimeRefused as error:
            if sdk.says_missing(error.detail):
                raise self.reader.not_found(session_id) from None
            raise RuntimeUnavailable(f"Could not resume {session_id!r}: {error.detail}") from None

    def _ready(self, session_id: str) -> _LiveSession:
        """The live session, resumed again if its runtime or settings changed (never created)."""
        claims = self.places.claims
        known = self._live.get(session_id)
        model = known.model if known is not None else None  # a --model given at open stays
        if claims.stale(session_id):  # another process opened it since: reload it
            holder = claims.other_holder(session_id)
            self.let_go(session_id)
            if holder is not None:
                raise SessionTakenOver(
                    f"Session {session_id!r} was taken over by another kernel or process "
                    f"(pid {holder}), so this kernel no longer writes to it. Take it back "
                    f"with %copilot_session {session_id} --takeover."
                )
        self.ensure_writable(session_id)
        self.bridge.client()  # a new runtime if the settings name another one, or it died
        live = self._live.get(session_id)
        current = (
            live is not None
            and live.generation == self.bridge.generation
            and self.bridge.runtime_alive()
            and live.options == self._options(live.model)
        )
        if not current:
            self.open(session_id, model=model, must_exist=True)
        return self._live[session_id]

    @contextlib.contextmanager
    def turn(
        self, session_id: str, prompt: str, silence_timeout: float | None = None
    ) -> Iterator[TurnStream]:
        """Send ``prompt`` to the session; iterate the stream to follow the reply.

        ``with live.turn(session_id, prompt) as stream: ...``. On leaving the
        block the turn is over, whatever happened in it: a reply still running
        is aborted, and the session takes its next prompt. The stream's
        ``number`` is the turn's position in the history (the runtime stores
        every prompt, also when its reply fails). A reply stops with
        :class:`~copilot_magic.errors.TurnTimedOut` after ``silence_timeout``
        seconds (default: the settings' ``reply_timeout``) without any sign from
        the runtime. A session another process took over is refused
        (:class:`~copilot_magic.errors.SessionTakenOver`).
        """
        busy = self._busy.setdefault(session_id, threading.Lock())
        if not busy.acquire(blocking=False):  # held from before reopening to the turn's end
            raise SessionBusy(f"Session {session_id!r} is already replying to another prompt.")
        try:
            live = self._ready(session_id)
            stream = TurnStream(
                self.bridge,
                live.session,
                live.inbox,
                number=live.turns + 1,
                silence_timeout=silence_timeout or self.bridge.settings.reply_timeout,
            )
            try:
                stream.send(prompt)
            except KeyboardInterrupt:  # interrupted while sending: the reply may start anyway
                stream.abort()
                raise
            live.turns += 1
            try:
                yield stream
            finally:
                stream.abort()  # nothing to do once the reply is complete
        finally:
            busy.release()

    def close(self) -> None:
        """Forget every open session (the runtime is stopped by its owner)."""
        self._live.clear()
