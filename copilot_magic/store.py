"""SessionStore: create or resume, list, read, delete and talk to Copilot sessions.

The one place that knows how sessions are kept. It uses the SDK (through a
:class:`~copilot_magic.runtime.RuntimeBridge`) for everything that changes a
session, and reads the runtime's own ``events.jsonl`` files for lists and
transcripts, so reading a history never resumes (and so never touches) the
session. No IPython here: the magics, the panel and the command line share it.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from textwrap import shorten
from typing import Any

from .errors import (
    RuntimeUnavailable,
    SessionBusy,
    SessionExists,
    SessionNotFound,
)
from .purge import purge_session_records
from .runtime import RuntimeBridge
from .session_id import validate_session_id
from .settings import Settings
from .transcript import Turn, turns_from_events
from .turn import EventInbox, TurnStream

CALL_TIMEOUT = 60.0
TITLE_WIDTH = 60
_USER_MESSAGE_PREFIX = b'{"type":"user.message"'


@dataclass(frozen=True)
class SessionSummary:
    """One line of the session list."""

    session_id: str
    title: str
    created: datetime | None
    last_active: datetime | None
    turns: int


@dataclass(frozen=True)
class Opened:
    """What :meth:`SessionStore.open` did."""

    session_id: str
    created: bool
    turns: int
    last_active: datetime | None


@dataclass
class _LiveSession:
    """A session object of the current client, with its mailbox and turn count."""

    session: Any
    inbox: EventInbox
    generation: int
    turns: int
    busy: threading.Lock = field(default_factory=threading.Lock)


def _approve_nothing(request: Any, invocation: Any) -> Any:
    """Copilot in a notebook only talks: every tool permission is refused."""
    from copilot.generated.rpc import PermissionDecisionReject

    return PermissionDecisionReject(feedback="Tools are disabled in copilot_magic.")


class SessionStore:
    """The sessions stored in one data directory, reached through one runtime."""

    def __init__(self, bridge: RuntimeBridge) -> None:
        self.bridge = bridge
        self._live: dict[str, _LiveSession] = {}

    @property
    def settings(self) -> Settings:
        return self.bridge.settings

    def _session_dir(self, session_id: str) -> Path:
        return self.settings.data_path / "session-state" / session_id

    def _call(self, coro: Any) -> Any:
        return self.bridge.call(coro, timeout=CALL_TIMEOUT)

    # -- reading ------------------------------------------------------------------
    def exists(self, session_id: str) -> bool:
        """Whether a session with this id is stored (or open in this process)."""
        validate_session_id(session_id)
        if session_id in self._live:
            return True
        client = self.bridge.client()
        return self._call(client.get_session_metadata(session_id)) is not None

    def _read_events(self, session_id: str) -> Iterator[dict[str, Any]]:
        path = self._session_dir(session_id) / "events.jsonl"
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            return
        with handle:
            for line in handle:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue  # a torn last line while the runtime writes
                if isinstance(record, dict):
                    yield record

    def history(self, session_id: str) -> list[Turn]:
        """The session's turns, oldest first. Raises :class:`SessionNotFound`."""
        if not self.exists(session_id):
            raise SessionNotFound(f"No session {session_id!r} in {self.settings.data_path}.")
        return turns_from_events(self._read_events(session_id), self.settings.abstain_signal)

    def count_turns(self, session_id: str) -> int:
        """The number of prompts in a session's history, read without parsing every event."""
        path = self._session_dir(session_id) / "events.jsonl"
        try:
            with path.open("rb") as handle:
                return sum(
                    1
                    for line in handle
                    if line.startswith(_USER_MESSAGE_PREFIX) and b'"agentId"' not in line
                )
        except FileNotFoundError:
            return 0

    def _first_prompt(self, session_id: str) -> str:
        for record in self._read_events(session_id):
            if record.get("type") == "user.message" and not record.get("agentId"):
                return str((record.get("data") or {}).get("content", ""))
        return ""

    def list(self) -> list[SessionSummary]:
        """Every stored session, most recently active first."""
        client = self.bridge.client()
        summaries = []
        for meta in self._call(client.list_sessions()):
            title = (meta.summary or "").strip()
            if not title or title == meta.session_id:
                title = self._first_prompt(meta.session_id)
            summaries.append(
                SessionSummary(
                    session_id=meta.session_id,
                    title=shorten(" ".join(title.split()), TITLE_WIDTH),
                    created=meta.start_time,
                    last_active=meta.modified_time,
                    turns=self.count_turns(meta.session_id),
                )
            )
        summaries.sort(key=lambda s: s.last_active or datetime.min.astimezone(), reverse=True)
        return summaries

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

    def open(self, session_id: str, *, new: bool = False, model: str | None = None) -> Opened:
        """Resume the session if it exists, else create it; never create over an existing id.

        With ``new=True`` an existing id is refused (:class:`SessionExists`).
        """
        validate_session_id(session_id)
        self.bridge.ensure_signed_in()
        client = self.bridge.client()  # restarts a runtime that died: then reopen below
        live = self._live.get(session_id)
        if live is not None and live.generation == self.bridge.generation and model is None:
            if new:
                raise SessionExists(f"Session {session_id!r} exists already.")
            return Opened(session_id, False, live.turns, self._last_active(session_id))
        self._live.pop(session_id, None)
        exists = self._call(client.get_session_metadata(session_id)) is not None
        if exists and new:
            raise SessionExists(
                f"Session {session_id!r} exists already: "
                "resume it without --new, or pick another id."
            )
        inbox = EventInbox()
        options = self._session_options(model)
        if exists:
            session = self._resume(client, session_id, inbox, options)
        else:
            session = self._call(
                client.create_session(
                    session_id=session_id, name=session_id, on_event=inbox, **options
                )
            )
        turns = self.count_turns(session_id)
        self._live[session_id] = _LiveSession(session, inbox, self.bridge.generation, turns)
        return Opened(session_id, not exists, turns, self._last_active(session_id))

    def _resume(
        self, client: Any, session_id: str, inbox: EventInbox, options: dict[str, Any]
    ) -> Any:
        from copilot._jsonrpc import JsonRpcError

        try:
            return self._call(client.resume_session(session_id, on_event=inbox, **options))
        except JsonRpcError as error:
            if "not found" in error.message.lower():
                raise SessionNotFound(
                    f"No session {session_id!r} in {self.settings.data_path}."
                ) from None
            raise RuntimeUnavailable(f"Could not resume {session_id!r}: {error.message}") from None

    def _last_active(self, session_id: str) -> datetime | None:
        path = self._session_dir(session_id) / "events.jsonl"
        try:
            return datetime.fromtimestamp(path.stat().st_mtime).astimezone()
        except FileNotFoundError:
            return None

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
    def start_turn(self, session_id: str, prompt: str) -> TurnStream:
        """Send ``prompt`` to the session; follow the reply by iterating the result.

        The stream's ``number`` is the turn's position in the history (the
        runtime stores every prompt, also when its reply fails). Call
        :meth:`end_turn` when done, whatever the outcome.
        """
        live = self._live_session(session_id)
        if not live.busy.acquire(blocking=False):
            raise SessionBusy(f"Session {session_id!r} is already replying to another prompt.")
        stream = TurnStream(self.bridge, live.session, live.inbox, number=live.turns + 1)
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
        validate_session_id(session_id)
        client = self.bridge.client()
        live = self._live.pop(session_id, None)
        if live is not None:
            with contextlib.suppress(Exception):  # a dead session object: delete goes on
                self._call(live.session.disconnect())
        elif self._call(client.get_session_metadata(session_id)) is None:
            raise SessionNotFound(f"No session {session_id!r} in {self.settings.data_path}.")
        try:
            self._call(client.delete_session(session_id))
        except RuntimeError as error:
            message = str(error)
            if "in use by another process" in message:
                raise SessionBusy(
                    f"Session {session_id!r} is in use by another process; close it there first."
                ) from None
            if "not found" not in message.lower():
                raise RuntimeUnavailable(f"Could not delete {session_id!r}: {message}") from None
        try:
            purge_session_records(self.settings.data_path, session_id)
        except sqlite3.Error as error:
            raise RuntimeUnavailable(
                f"Deleted {session_id!r}, but could not clean the runtime's database: {error}"
            ) from None

    def close(self) -> None:
        """Forget open sessions and stop the runtime."""
        self._live.clear()
        self.bridge.stop()
