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

import atexit
import contextlib
import shutil
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from copilot_magic.errors import (
    CopilotMagicError,
    SessionBusy,
    SessionExists,
)
from copilot_magic.kernel.notebook import instructions
from copilot_magic.kernel.tool import KernelTool
from copilot_magic.kernel.tools import offered
from copilot_magic.runtime import sdk
from copilot_magic.runtime.bridge import RuntimeBridge
from copilot_magic.sessions.ids import validate_session_id
from copilot_magic.sessions.inbox import EventInbox
from copilot_magic.sessions.models import NAME_LIMIT, Opened, stored_title
from copilot_magic.sessions.opening import create_session, resume_session
from copilot_magic.sessions.places import DataPlaces
from copilot_magic.sessions.reading import CALL_TIMEOUT, SessionReader
from copilot_magic.sessions.space import (
    MARGIN,
    full_during_turn,
    nearly_full,
    needed_for,
)
from copilot_magic.sessions.turn import Notice, TurnStream
from copilot_magic.values import Secret

TAKEOVER_GRACE = 10.0  # a takeover waits this much longer than a reply may be silent
LET_GO_TIMEOUT = 5.0  # seconds the runtime has to close a session this process lets go of

# What a session is opened with: the model; the provider's url, type and key; the tools; the
# instructions added to the runtime's own.
Options = tuple[str, str, str, Secret, tuple[str, ...], str]


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
        self.frontend = False  # a notebook frontend answered for the last turn: its tools too
        closing = weakref.WeakMethod(self.close)  # a shared runtime outlives this process
        atexit.register(lambda: (method := closing()) and method())

    def __contains__(self, session_id: object) -> bool:
        return session_id in self._live

    def replying(self, session_id: str) -> bool:
        """Whether a turn of the session runs in this process now."""
        busy = self._busy.get(session_id)
        return busy is not None and busy.locked()

    def _options(self, model: str | None) -> Options:
        settings = self.bridge.settings
        chosen = settings.model if model is None else model
        tools = tuple(tool.name for tool in self._tools())
        key = settings.provider_api_key
        told = instructions(settings.kernel_tools, settings.notebook_edits, self._in_notebook())
        return (chosen, settings.provider_url, settings.provider_type, key, tools, told)

    def _tools(self) -> tuple[KernelTool, ...]:
        settings = self.bridge.settings
        return offered(settings.kernel_tools, settings.run_code, self._in_notebook())

    def _in_notebook(self) -> bool:  # the notebook tools are on, and a frontend answered
        return self.bridge.settings.notebook_tools_on and self.frontend

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
        self.places.ensure_writable(session_id)
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
        scan = self.places.files.scan(session_id)  # no history yet (made elsewhere): created
        exists = self.reader.exists(session_id) and not scan.no_history
        if scan.damage and (not exists or scan.unusable):
            raise self.reader.damaged(session_id, scan.damage)
        if exists and new:
            raise SessionExists(
                f"Session {session_id!r} exists already: "
                "resume it without --new, or pick another id."
            )
        if not exists and must_exist and not scan.no_history:
            raise self.reader.moved_away(session_id)
        if not takeover and (exists or scan.no_history) and self.reader.held_elsewhere(session_id):
            raise self.reader.busy(session_id)
        limit = self.bridge.settings.reply_timeout + TAKEOVER_GRACE
        waited = self.places.claims.take(session_id, wait_limit=limit if takeover else None)
        inbox = EventInbox()
        options = self._options(model)
        provider = self.bridge.settings.provider_config()  # None for GitHub Copilot itself
        tools, told = self._tools(), options[5]  # options[0]: the model
        kwargs = sdk.session_options(
            options[0], provider, inbox, tools=tools, call_tool=inbox.call_tool, instructions=told
        )
        try:
            if exists:
                session = resume_session(self.bridge, self.reader, client, session_id, kwargs)
            else:
                session = create_session(self.bridge, self.places, client, session_id, kwargs)
        except BaseException:
            self.places.claims.release(session_id)
            raise
        turns = self.places.files.scan(session_id).turns
        self._live[session_id] = _LiveSession(
            session, inbox, self.bridge.generation, turns, options, model
        )
        return self._opened(session_id, created=not exists, turns=turns, waited=waited)

    def _opened(self, session_id: str, *, created: bool, turns: int, waited: float = 0.0) -> Opened:
        files = self.places.files
        damage = "" if created else files.scan(session_id).damage
        return Opened(session_id, created, turns, files.last_active(session_id), damage, waited)

    def let_go(self, session_id: str) -> None:
        """Close the session object (the runtime forgets its context) and let go of the hold."""
        self.places.claims.release(session_id)
        live = self._live.pop(session_id, None)
        if live is not None:
            with contextlib.suppress(Exception):  # a dead session object: nothing to close
                self.bridge.call(live.session.disconnect(), LET_GO_TIMEOUT)

    def _ready(self, session_id: str, needed: int = MARGIN) -> _LiveSession:
        """The live session, resumed again if its runtime or settings changed (never created).

        Refused if another process took it over, if it was deleted meanwhile, or
        if ``needed`` bytes are not free for the turn.
        """
        claims = self.places.claims
        known = self._live.get(session_id)
        model = known.model if known is not None else None  # a --model given at open stays
        if claims.stale(session_id):  # another process opened it since: reload it
            holder = claims.other_holder(session_id)
            self.let_go(session_id)
            if holder is not None:
                raise self.reader.taken_over(session_id, holder)
        self.places.ensure_writable(session_id, needed)
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
        elif not self.places.files.folder(session_id).is_dir():  # the runtime would wait
            self.let_go(session_id)
            # closing writes a last event, which makes the folder again: it stays deleted
            shutil.rmtree(self.places.files.folder(session_id), ignore_errors=True)
            self.places.files.forget(session_id)
            raise self.reader.deleted(session_id)
        return self._live[session_id]

    @contextlib.contextmanager
    def turn(
        self,
        session_id: str,
        prompt: str,
        silence_timeout: float | None = None,
        shown: str | None = None,
        *,
        frontend: bool = False,
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
        (:class:`~copilot_magic.errors.SessionTakenOver`). ``shown`` is what the
        history shows as the prompt, when ``prompt`` carries more (attached context).
        ``frontend``: a notebook frontend answered for the cell, so the notebook tools
        are offered.
        """
        busy = self._busy.setdefault(session_id, threading.Lock())
        if not busy.acquire(blocking=False):  # held from before reopening to the turn's end
            raise SessionBusy(f"Session {session_id!r} is already replying to another prompt.")
        claims = self.places.claims
        try:
            claims.begin_turn(session_id)  # before the hold is checked; see SessionClaims.take
            self.frontend = frontend
            live = self._ready(session_id, needed_for(prompt))
            stream = TurnStream(
                self.bridge,
                live.session,
                live.inbox,
                number=live.turns + 1,
                silence_timeout=silence_timeout or self.bridge.settings.reply_timeout,
                watch=self.places.watch_disk,
                epilogue=lambda: self._after_reply(session_id, shown or prompt),
            )
            try:
                stream.send(prompt, shown)
            except KeyboardInterrupt:  # interrupted while sending: the reply may start anyway
                stream.abort()
                raise
            live.turns += 1
            try:
                yield stream
            finally:
                stream.abort()  # nothing to do once the reply is complete
        finally:
            claims.end_turn(session_id)
            busy.release()

    def _after_reply(self, session_id: str, title: str = "") -> Notice | None:
        """After a reply: whether it was stored and is still ours; a first one names the session."""
        files = self.places.files
        if nearly_full(self.places.data_path, MARGIN) and not files.ends_whole(session_id):
            raise full_during_turn(self.places.data_path, shown=True)
        if title and self._live[session_id].turns == 1:
            self._name_after_first_turn(session_id, title)
        holder = self.places.claims.other_holder(session_id)  # None while the hold is ours
        return None if holder is None else self.reader.taken_over_mid_reply(session_id, holder)

    def _name_after_first_turn(self, session_id: str, prompt: str) -> None:
        """A session still named after its id is titled with its first prompt (whole, up to
        the runtime's limit: see :func:`~copilot_magic.sessions.models.stored_title`)."""
        session = self._live[session_id].session
        with contextlib.suppress(CopilotMagicError):
            if self.bridge.call(sdk.get_name(session), CALL_TIMEOUT) in (
                "",
                session_id[:NAME_LIMIT],
            ):
                self.bridge.call(sdk.set_name(session, stored_title(prompt)), CALL_TIMEOUT)

    @contextlib.contextmanager
    def controlled(self, session_id: str) -> Iterator[Any]:
        """The session's runtime object for an operation between turns (rename, rewind,
        compact): resumed if it is not open here, and let go of afterwards if it was not."""
        busy = self._busy.setdefault(session_id, threading.Lock())
        if not busy.acquire(blocking=False):
            raise SessionBusy(f"Session {session_id!r} is replying to a prompt; try when it ends.")
        was_open = session_id in self._live
        try:
            if not was_open:
                self.open(session_id, must_exist=True)
            live = self._ready(session_id)
            yield live.session
            live.turns = self.places.files.scan(session_id).turns
        finally:
            if not was_open:
                self.let_go(session_id)
            busy.release()

    def close(self) -> None:
        """Close every open session and let go of the holds. A runtime that lives on (the
        shared one) writes what it holds of each session now, not after this process."""
        if self.bridge.runtime_alive():
            for session_id in list(self._live):
                self.let_go(session_id)
        self._live.clear()
        self.places.release_holds()
