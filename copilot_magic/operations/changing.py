"""The operations that change a session between turns: rename, fork, star, unstar, compact."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from copilot_magic.operations.grammar import Outcome, Request
from copilot_magic.views.text import compaction_words, plural

if TYPE_CHECKING:
    from copilot_magic.sessions.store import SessionStore


def rename(store: SessionStore, request: Request, plan: Any = None) -> Outcome:
    session_id: str = request["session_id"]
    title = store.rename(session_id, request["title"])
    return Outcome((f"Renamed session {session_id}: {title}",))


def fork(store: SessionStore, request: Request, plan: Any = None) -> Outcome:
    new, source, at = request["new_id"], request["source_id"], request.get("at")
    opened = store.fork(new, source, at)
    kept = f"all of {source}'s" if at is None else f"turns 1 to {at} of {source}"
    line = f"Forked {source} into {new}: {plural(opened.turns, 'turn')} ({kept})."
    return Outcome((line,), opened=opened)


def star(store: SessionStore, request: Request, plan: Any = None) -> Outcome:
    session_id: str = request["session_id"]
    store.star(session_id)
    return Outcome((f"Starred {session_id}: listed first, and clean-ups keep it.",))


def unstar(store: SessionStore, request: Request, plan: Any = None) -> Outcome:
    session_id: str = request["session_id"]
    store.star(session_id, on=False)
    return Outcome((f"Unstarred {session_id}: clean-ups may delete it again.",))


def compact(store: SessionStore, request: Request, plan: Any = None) -> Outcome:
    session_id: str = request["session_id"]
    return Outcome((compaction_words(session_id, store.compact(session_id)),))
