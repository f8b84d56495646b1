"""The verbs that read and remove sessions: list, show, delete, export, cleanup.

Each is a function whose docstring is its ``--help`` text; the names are the
operations' names in ``%copilot_session`` too (``--list``, ``--show``...).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from copilot_magic.cli.console import EXIT_OK, NO_TERMINAL, Console, NotConfirmed, confirm
from copilot_magic.errors import RuntimeRefused, RuntimeUnavailable
from copilot_magic.sessions.ids import validate_session_id
from copilot_magic.sessions.offline import history_from_files, summaries_from_files
from copilot_magic.sessions.reading import starred_first
from copilot_magic.views.results import SessionTable, Transcript, transcript_of
from copilot_magic.views.text import cleanup_plan_lines, plural, usage_words

if TYPE_CHECKING:
    from copilot_magic.sessions.models import SessionSummary, Usage
    from copilot_magic.sessions.store import SessionStore


def list_sessions(args: argparse.Namespace, store: SessionStore, out: Console) -> int:
    """List the stored sessions, most recently active first.

    Starred sessions come first, their title after a ★. Shows each session's
    id, title (its first prompt, or the one rename gave it), last activity,
    tokens in/out ("-" before any model request) and number of turns.
    --search TEXT keeps the sessions whose id or title contains TEXT, or whose
    prompts and replies do (ignoring case). A session made in another client
    of the runtime (jupyter-ai's Copilot chat...) shows its name before the
    title, [Jupyter AI]; --client NAME keeps the sessions whose recorded client
    contains NAME (ignoring case): copilot_magic, sdk (any SDK program, and
    copilot_magic before it gave its name), Jupyter AI. --json prints a JSON
    array of objects with id, title, created, last_active (ISO 8601), turns,
    abstentions, in_use_elsewhere, damaged (why the history file is not
    sound, or null), starred, usage (null, or input_tokens, output_tokens,
    requests and models) and client (the client that made it, or null).
    Works from the files alone when the runtime cannot start.
    """
    try:
        sessions = store.summaries()
    except RuntimeUnavailable as error:
        if isinstance(error, RuntimeRefused):
            raise
        sessions = _summaries_from_files(store)
    if args.search is not None:
        sessions = _matching(store, sessions, args.search)
    if args.client is not None:
        sessions = [s for s in sessions if s.made_by(args.client)]
    if args.json:
        out.say(json.dumps([_as_json(s) for s in sessions], indent=2, ensure_ascii=False))
    elif args.search is not None and not sessions:
        out.say(f"No session matches {args.search!r}.")
    elif args.client is not None and not sessions:
        out.say(f"No session was made by a client named {args.client!r}.")
    else:
        out.say(str(SessionTable(tuple(sessions))))
    return EXIT_OK


def _matching(
    store: SessionStore, sessions: list[SessionSummary], text: str
) -> list[SessionSummary]:
    named = {s.session_id for s in sessions if s.names(text)}
    said = store.search(text, [s.session_id for s in sessions if s.session_id not in named])
    return [s for s in sessions if s.session_id in named | said]


def _summaries_from_files(store: SessionStore) -> list[SessionSummary]:
    """The list from the files, with stars, usage and forks' handles as the runtime's list has."""
    starred = store.places.marks.starred()
    sessions = [
        replace(s, starred=s.session_id in starred, usage=store.files.scan(s.session_id).usage)
        for s in summaries_from_files(store.files, store.claims.held_by_others())
    ]
    return store.shown(starred_first(sessions))


def _usage_json(usage: Usage | None) -> dict[str, Any] | None:
    if usage is None:
        return None
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "requests": usage.requests,
        "models": list(usage.models),
    }


def _as_json(summary: SessionSummary) -> dict[str, Any]:
    return {
        "id": summary.session_id,
        "title": summary.title,
        "created": summary.created.isoformat() if summary.created else None,
        "last_active": summary.last_active.isoformat() if summary.last_active else None,
        "turns": summary.turns,
        "abstentions": summary.abstentions,
        "in_use_elsewhere": summary.held_elsewhere,
        "damaged": summary.damage or None,
        "starred": summary.starred,
        "usage": _usage_json(summary.usage),
        "client": summary.client or None,
    }


def show(args: argparse.Namespace, store: SessionStore, out: Console) -> int:
    """Print a session's transcript: every prompt and reply, with its time.

    Under the heading, the tokens and model requests the session used.
    Replies in which Copilot abstained are marked "🛑 Copilot abstained".
    Reading a session never changes it; it works from the files alone when the
    runtime cannot start.
    """
    try:
        transcript = transcript_of(store, args.session_id)
    except RuntimeUnavailable as error:
        if isinstance(error, RuntimeRefused):
            raise
        runtime_id = store.places.marks.runtime_id(args.session_id) or args.session_id
        turns = history_from_files(store.files, runtime_id)
        signal, damage = store.settings.abstain_signal, store.damage(args.session_id)
        transcript = Transcript(args.session_id, tuple(turns), signal, damage)
    usage = f"Used: {usage_words(store.usage(args.session_id))}"
    out.say(str(replace(transcript, usage_line=usage)))
    return EXIT_OK


def delete(args: argparse.Namespace, store: SessionStore, out: Console) -> int:
    """Delete a session and all its data, for good.

    Removes its history, its rows in the runtime's database and its full-text
    index entries. Asks first on a terminal; without a terminal (a script),
    pass --yes. A session open in another process is refused.
    """
    session_id = validate_session_id(args.session_id)
    if not args.yes:
        if sys.stdin is None or not sys.stdin.isatty():
            raise NotConfirmed(NO_TERMINAL)
        store.summary(session_id)  # no question about a session that does not exist
        confirm(f"Delete session {session_id} and all its data? [y/N] ")
    store.delete(session_id)
    out.say(f"Deleted session {session_id} and all its data.")
    return EXIT_OK


def export(args: argparse.Namespace, store: SessionStore, out: Console) -> int:
    """Write a session to FILE: a notebook for .ipynb, a document for .md.

    The notebook holds one %%copilot cell per turn, with the reply as its
    output, and the two cells that reconnect to the session.
    """
    from copilot_magic.views.export import export_session

    export_session(store, args.session_id, Path(args.file))
    out.say(f"Exported {args.session_id} to {args.file}")
    return EXIT_OK


def cleanup(args: argparse.Namespace, store: SessionStore, out: Console) -> int:
    """Delete the sessions idle for more than DAYS days (0: all of them).

    Prints the plan first: the sessions that would go, their turns, and those
    kept and why (a session open in another process is never deleted).
    --dry-run stops there. Otherwise asks on a terminal; without a terminal,
    pass --yes. --notebook PATH limits the clean-up to that notebook's sessions.
    """
    plan = store.plan_cleanup(args.older_than, notebook=args.notebook)
    for line in cleanup_plan_lines(plan):
        out.say(line)
    if args.dry_run or not plan.doomed:
        out.say("Dry run: nothing deleted." if args.dry_run else "Nothing to delete.")
        return EXIT_OK
    if not args.yes:
        confirm(f"Delete these {plural(len(plan.doomed), 'session')} and all their data? [y/N] ")
    deleted = store.cleanup(plan)
    turns = sum(s.turns for s in plan.doomed if s.session_id in deleted)
    out.say(f"Deleted {plural(len(deleted), 'session')} ({plural(turns, 'turn')}).")
    skipped = [s.session_id for s in plan.doomed if s.session_id not in deleted]
    if skipped:
        out.say(f"Skipped, because they changed since the plan: {', '.join(skipped)}")
    return EXIT_OK
