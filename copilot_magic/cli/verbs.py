"""The verbs of the table of operations, as the command line runs them.

Each verb of :data:`~copilot_magic.operations.table.OPERATIONS` becomes a
subcommand with the same values in the same order as ``%copilot_session``'s
option (``rewind ID N``; here no session can be left out). One that destroys
shows what would go and asks on the terminal; ``--yes`` skips the question, and
without a terminal it is refused in one line (:func:`asking_on_terminal`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from copilot_magic.cli.console import EXIT_OK, EXIT_USAGE, Console, Verb
from copilot_magic.kernel.notebook_revert import summary
from copilot_magic.operations.grammar import (
    NobodyToAsk,
    Operation,
    Preview,
    answered_yes,
    perform,
)
from copilot_magic.views.results import SessionTable

if TYPE_CHECKING:
    from copilot_magic.sessions.models import SessionSummary, Usage
    from copilot_magic.sessions.store import SessionStore

CHANGES_STAY = (
    "Those changes stay in the notebook: the command line cannot reach it "
    "(%copilot_session --rewind in one of its cells would offer them back)."
)


def asking_on_terminal(out: Console) -> Callable[[str], bool]:
    """Ask on the terminal (the question with secrets masked); :class:`NobodyToAsk` where
    stdin is not one (a script)."""

    def ask(question: str) -> bool:
        if sys.stdin is None or not sys.stdin.isatty():
            raise NobodyToAsk("stdin is not a terminal")
        try:
            return answered_yes(input(out.scrub(question)))
        except EOFError:
            return False

    return ask


def _changes_stay(out: Console) -> Callable[[Preview], None]:
    def say(preview: Preview) -> None:
        if preview.changes:
            out.say(CHANGES_STAY)

    return say


def verb(op: Operation) -> Verb:
    """The function that runs ``op`` from parsed arguments."""

    def run(args: argparse.Namespace, store: SessionStore, out: Console) -> int:
        values = [getattr(args, argument.name) for argument in op.arguments]
        request = op.request(values, None, vars(args))
        ask = asking_on_terminal(out)
        outcome = perform(op, store, request, out.say, ask, before_asking=_changes_stay(out))
        if request.get("json") and isinstance(outcome.shown, SessionTable):
            rows = [_as_json(s) for s in outcome.shown.sessions]
            out.say(json.dumps(rows, indent=2, ensure_ascii=False))
            return EXIT_OK
        if outcome.declined:
            for line in outcome.lines:
                out.error(line)
            return EXIT_USAGE
        for line in outcome.lines:
            out.say(line)
        if outcome.shown is not None and not outcome.lines:
            out.say(str(outcome.shown))
        if outcome.changes and request.get("yes"):  # not asked: nothing said them yet
            out.say(summary(outcome.changes))
            out.say(CHANGES_STAY)
        return EXIT_OK

    run.__doc__ = f"{op.summary}\n\n{op.details}"
    return run


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
