"""The operations that read: list, show, usage, models and export.

``list``, ``show`` and ``usage`` work from the files alone when the runtime cannot
start (never when it refused: a runtime that is not yours is not worked around).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from copilot_magic.operations.grammar import Outcome, Request
from copilot_magic.views.results import SessionTable, Transcript
from copilot_magic.views.text import usage_words

if TYPE_CHECKING:
    from copilot_magic.sessions.store import SessionStore


def listing(store: SessionStore, request: Request, plan: Any = None) -> Outcome:
    """The session table, narrowed by ``search`` and ``client``."""
    sessions = store.summaries_even_offline()
    search, client = request.get("search"), request.get("client")
    if search is not None:
        named = {s.session_id for s in sessions if s.names(search)}
        others = [s.session_id for s in sessions if s.session_id not in named]
        said = store.search(search, others)
        sessions = [s for s in sessions if s.session_id in named | said]
    if client is not None:
        sessions = [s for s in sessions if s.made_by(client)]
    table = SessionTable(tuple(sessions))
    if not sessions and search is not None:
        return Outcome((f"No session matches {search!r}.",), shown=table)
    if not sessions and client is not None:
        return Outcome((f"No session was made by a client named {client!r}.",), shown=table)
    return Outcome(shown=table)


def show(store: SessionStore, request: Request, plan: Any = None) -> Outcome:
    """A session's transcript, with what it used under its heading."""
    session_id: str = request["session_id"]
    turns, damage = store.history_even_offline(session_id)
    used = f"Used: {usage_words(store.usage(session_id))}"
    signal = store.settings.abstain_signal
    return Outcome(shown=Transcript(session_id, tuple(turns), signal, damage, used))


def usage(store: SessionStore, request: Request, plan: Any = None) -> Outcome:
    """Tokens in and out, requests and models of a session."""
    session_id: str = request["session_id"]
    return Outcome((f"{session_id}: {usage_words(store.usage(session_id))}",))


def models(store: SessionStore, request: Request, plan: Any = None) -> Outcome:
    """The models the provider or the sign-in offers, the configured one starred."""
    configured = store.settings.model
    names = store.models()
    lines = [f"{'*' if name == configured else ' '} {name}" for name in names]
    if not names:
        lines.append("No models listed.")
    if configured and configured not in names:
        lines.append(f"(the configured model {configured!r} is not in this list)")
    return Outcome(tuple(lines))


def export(store: SessionStore, request: Request, plan: Any = None) -> Outcome:
    """A session written to a notebook or a Markdown file."""
    from copilot_magic.views.export import export_session  # nbformat: when needed

    session_id: str = request["session_id"]
    written = export_session(store, session_id, Path(request["file"]).expanduser())
    return Outcome((f"Exported session {session_id} to {written}",))
