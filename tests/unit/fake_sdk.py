"""A fake SDK client, session and bridge: the store's unit tests run without a runtime.

``FakeClient`` keeps sessions in a dict and records every call; a session's
``send`` answers through the ``on_event`` handler the store gave it, with SDK-like
events (a delta, the message, then ``session.idle``), on the bridge's loop
thread, as the real SDK does. ``FakeBridge`` is a real :class:`RuntimeBridge`
(its loop thread is real) whose client is the fake.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from copilot_magic.config import Settings
from copilot_magic.runtime.bridge import RuntimeBridge


def fake_event(kind: str, **data: Any) -> Any:
    return SimpleNamespace(type=SimpleNamespace(value=kind), data=SimpleNamespace(**data))


class _FakeSessionRpc:
    """The ``session.rpc`` namespaces the controls use: ``name`` and ``history``."""

    def __init__(self, session: FakeSession) -> None:
        self.name = SimpleNamespace(get=self._get_name, set=self._set_name)
        self.history = SimpleNamespace(
            list_rewind_points=self._points, truncate=self._truncate, compact=self._compact
        )
        self._session = session

    async def _get_name(self) -> Any:
        return SimpleNamespace(name=self._session.name)

    async def _set_name(self, request: Any) -> None:
        self._session.name = request.name

    async def _points(self) -> Any:
        points = [
            SimpleNamespace(event_id=f"event-{i}", user_message=p, timestamp=f"2026-12-01T00:0{i}")
            for i, p in enumerate(self._session.sent)
        ]
        return SimpleNamespace(points=points)

    async def _truncate(self, request: Any) -> Any:
        keep = int(request.event_id.removeprefix("event-"))
        removed = len(self._session.sent) - keep
        del self._session.sent[keep:]
        return SimpleNamespace(events_removed=removed * 3)

    async def _compact(self) -> Any:
        """As the runtime does: a compaction with no prompt since the last one is refused."""
        if self._session.compacted_at == len(self._session.sent):
            from copilot._jsonrpc import JsonRpcError

            message = "Request session.history.compact failed with message: Nothing to compact."
            raise JsonRpcError(-32603, message)
        since = len(self._session.sent) - (self._session.compacted_at or 0)
        self._session.compacted_at = len(self._session.sent)
        window = SimpleNamespace(messages_length=1, current_tokens=100, token_limit=1000)
        return SimpleNamespace(
            success=True,
            messages_removed=since,
            tokens_removed=self._session.tokens_compacted,
            context_window=window,
        )


@dataclass
class FakeSession:
    session_id: str
    options: dict[str, Any]
    reply: Callable[[str], str] = lambda prompt: f"echo: {prompt}"
    sent: list[str] = field(default_factory=list)
    shown: list[str | None] = field(default_factory=list)  # the display_prompt of each send
    aborted: int = 0
    silent: bool = False  # take the prompt, then never answer
    calls_tool: tuple[str, dict[str, Any]] | None = None  # ask for this tool, then say its result
    name: str = ""
    tokens_compacted: int = 50  # what a compaction reports as freed (the runtime may say 0)
    compacted_at: int | None = None  # how many prompts were sent at the last compaction

    @property
    def rpc(self) -> _FakeSessionRpc:
        return _FakeSessionRpc(self)

    def _emit(self, event: Any) -> None:
        self.options["on_event"](event)

    async def send(self, prompt: str, display_prompt: str | None = None) -> str:
        self.sent.append(prompt)
        self.shown.append(display_prompt)
        if self.calls_tool is not None:
            asyncio.get_running_loop().create_task(self._reply_after_tool())
        elif not self.silent:
            text = self.reply(prompt)
            loop = asyncio.get_running_loop()
            loop.call_soon(self._emit, fake_event("assistant.message_delta", delta_content=text))
            loop.call_soon(self._emit, fake_event("assistant.message", content=text))
            loop.call_soon(self._emit, fake_event("session.idle", aborted=False))
        return "message-id"

    async def _reply_after_tool(self) -> None:
        """As the runtime does: call the tool's handler, then reply with what it returned."""
        assert self.calls_tool is not None
        name, arguments = self.calls_tool
        tool = next(t for t in self.options.get("tools", []) if t.name == name)
        result = await tool.handler(SimpleNamespace(tool_name=name, arguments=arguments))
        text = f"the tool said: {result.text_result_for_llm}"
        self._emit(fake_event("assistant.message", content=text))
        self._emit(fake_event("session.idle", aborted=False))

    async def abort(self) -> None:
        self.aborted += 1
        asyncio.get_running_loop().call_soon(self._emit, fake_event("session.idle", aborted=True))

    async def disconnect(self) -> None:
        return None


@dataclass
class FakeClient:
    data_dir: str = ""  # where the runtime keeps its session folders, as the real one does
    stored: dict[str, FakeSession] = field(default_factory=dict)
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    async def get_session_metadata(self, session_id: str) -> Any:
        if session_id not in self.stored:
            return None
        moment = datetime(2026, 12, 1, tzinfo=UTC)
        summary = self.stored[session_id].name
        return SimpleNamespace(
            session_id=session_id, summary=summary, start_time=moment, modified_time=moment
        )

    async def create_session(self, *, session_id: str, name: str, **options: Any) -> FakeSession:
        self.calls.append(("create", session_id, options))
        if self.data_dir:  # the folder, locked as in use by this process, as the runtime does
            folder = Path(self.data_dir) / "session-state" / session_id
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"inuse.{os.getpid()}.lock").write_text(str(os.getpid()))
            history = folder / "events.jsonl"  # begun at once, with a session.start event
            if not history.exists():
                history.write_text('{"type":"session.start","data":{}}\n', encoding="utf-8")
        self.stored[session_id] = FakeSession(session_id, options, name=name)
        return self.stored[session_id]

    async def resume_session(self, session_id: str, **options: Any) -> FakeSession:
        self.calls.append(("resume", session_id, options))
        old = self.stored[session_id]
        self.stored[session_id] = FakeSession(
            session_id, options, old.reply, old.sent, name=old.name
        )
        return self.stored[session_id]

    @property
    def rpc(self) -> Any:
        return SimpleNamespace(sessions=SimpleNamespace(fork=self._fork))

    async def _fork(self, request: Any) -> Any:
        """As the runtime does: a generated id, the given name, turns before ``to_event_id``."""
        self.calls.append(("fork", request.session_id, {"to": request.to_event_id}))
        source = self.stored[request.session_id]
        keep = len(source.sent)
        if request.to_event_id is not None:
            keep = int(request.to_event_id.removeprefix("event-"))
        new_id = f"fork-{len(self.stored)}-generated"
        if self.data_dir:  # the runtime writes the fork's history at once
            folder = Path(self.data_dir) / "session-state" / new_id
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "events.jsonl").write_text('{"type":"session.start","data":{}}\n')
        self.stored[new_id] = FakeSession(
            new_id, {}, source.reply, source.sent[:keep], name=request.name
        )
        return SimpleNamespace(session_id=new_id, name=request.name)

    async def delete_session(self, session_id: str) -> None:
        self.calls.append(("delete", session_id, {}))
        self.stored.pop(session_id, None)
        if self.data_dir:
            folder = Path(self.data_dir) / "session-state" / session_id
            for path in sorted(folder.rglob("*"), reverse=True):
                path.unlink() if path.is_file() else path.rmdir()
            if folder.is_dir():
                folder.rmdir()

    async def list_models(self) -> list[Any]:
        return [SimpleNamespace(id="gpt-fake"), SimpleNamespace(id="claude-fake")]

    async def list_sessions(self) -> list[Any]:
        return [await self.get_session_metadata(sid) for sid in self.stored]

    async def force_stop(self) -> None:
        return None


class FakeBridge(RuntimeBridge):
    """A real bridge (loop thread and all) whose runtime is a :class:`FakeClient` per data dir."""

    def __init__(self, settings: Callable[[], Settings]) -> None:
        super().__init__(settings)
        self.clients: dict[str, FakeClient] = {}
        self._current: str | None = None

    def client(self) -> Any:
        data_dir = self.settings.data_dir
        if data_dir != self._current:  # another data directory: another runtime
            self._current = data_dir
            self.generation += 1
        return self.clients.setdefault(data_dir, FakeClient(str(self.settings.data_path)))

    @property
    def runtime_pid(self) -> int | None:
        return os.getpid()  # the fake runtime runs in this process

    def runtime_alive(self) -> bool:
        return self._current is not None

    def runtime_exit_code(self) -> int | None:
        return None

    def ensure_signed_in(self) -> None:
        return None
