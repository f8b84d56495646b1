"""The runtime's session operations beyond a turn, through the SDK's generated ``rpc`` objects.

Titles (``session.name``), rewind (``session.history.listRewindPoints`` and
``truncate``), fork (``sessions.fork``), compaction (``session.history.compact``)
and the Copilot sign-in's model list. Each function is a coroutine for
:meth:`~copilot_magic.runtime.bridge.RuntimeBridge.call` and returns plain
values, so nothing above the adapter sees the SDK's classes. The request
types come from ``copilot.rpc``, the SDK's stable import path for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class RewindPoint:
    """Where a user turn starts in the runtime's history: its event id, prompt and time."""

    event_id: str
    prompt: str
    timestamp: str  # ISO 8601, as the runtime writes it


@dataclass(frozen=True, slots=True)
class Compacted:
    """What a compaction did: messages and tokens removed, and the context after it."""

    done: bool
    messages_removed: int
    tokens_removed: int  # never below 0: a short conversation's summary often frees 0
    messages_after: int | None
    tokens_after: int | None
    token_limit: int | None


async def get_name(session: Any) -> str:
    """The session's title as the runtime keeps it (``""`` when it has none)."""
    result = await session.rpc.name.get()
    return str(getattr(result, "name", None) or "")


async def set_name(session: Any, name: str) -> None:
    """Set the title other Copilot tools see too."""
    from copilot.rpc import NameSetRequest

    await session.rpc.name.set(NameSetRequest(name=name))


async def close_in_runtime(client: Any, session_id: str) -> None:
    """Make the runtime close the session, whichever client has it open: it writes what it
    holds, lets go of its lock and forgets the session (and the tools registered with it)."""
    from copilot.rpc import SessionsCloseRequest

    await client.rpc.sessions.close(SessionsCloseRequest(session_id=session_id))


async def rewind_points(session: Any) -> list[RewindPoint]:
    """One point per user turn, oldest first."""
    result = await session.rpc.history.list_rewind_points()
    points = getattr(result, "points", [])
    return [RewindPoint(p.event_id, p.user_message, p.timestamp) for p in points]


async def truncate(session: Any, event_id: str) -> int:
    """Remove the event ``event_id`` and everything after it; returns the events removed."""
    from copilot.rpc import HistoryTruncateRequest

    result = await session.rpc.history.truncate(HistoryTruncateRequest(event_id=event_id))
    return int(getattr(result, "events_removed", 0) or 0)


async def fork(client: Any, session_id: str, name: str, before_event: str | None) -> str:
    """A new session holding ``session_id``'s history (up to, not including, ``before_event``
    when given); returns the id the runtime gave it."""
    from copilot.rpc import SessionsForkRequest

    request = SessionsForkRequest(session_id=session_id, name=name, to_event_id=before_event)
    result = await client.rpc.sessions.fork(request)
    return str(result.session_id)


async def compact(session: Any) -> Compacted:
    """Ask the runtime to summarise the session's context now. ``done`` is false when it
    finds nothing to summarise: it refuses with "Nothing to compact" when no message came
    since the last compaction."""
    from copilot._jsonrpc import JsonRpcError

    try:
        result = await session.rpc.history.compact()
    except JsonRpcError as error:
        if "nothing to compact" not in error.message.lower():
            raise
        return Compacted(False, 0, 0, None, None, None)
    window = getattr(result, "context_window", None)
    return Compacted(
        done=bool(getattr(result, "success", False)),
        messages_removed=int(getattr(result, "messages_removed", 0) or 0),
        tokens_removed=int(getattr(result, "tokens_removed", 0) or 0),
        messages_after=getattr(window, "messages_length", None),
        tokens_after=getattr(window, "current_tokens", None),
        token_limit=getattr(window, "token_limit", None),
    )


async def list_copilot_models(client: Any) -> list[str]:
    """The model ids a GitHub Copilot sign-in offers (the runtime refuses when signed out)."""
    return [str(model.id) for model in await client.list_models()]
