"""The operations that destroy: delete, rewind and cleanup, each with its preview.

The preview says what would go; the run does exactly that, or nothing if the session
changed meanwhile (see
:func:`~copilot_magic.operations.grammar.perform` for the question between them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from copilot_magic.errors import InvalidArgument, SessionBusy
from copilot_magic.kernel.notebook_revert import summary
from copilot_magic.operations.grammar import Outcome, Preview, Request
from copilot_magic.views.text import cleanup_plan_lines, clipped, plural, when

if TYPE_CHECKING:
    from copilot_magic.sessions.models import CleanupPlan
    from copilot_magic.sessions.store import SessionStore


def _quoted(prompts: list[str]) -> str:
    return ", ".join(f"“{clipped(prompt)}”" for prompt in prompts)


def delete_preview(store: SessionStore, request: Request) -> Preview:
    session_id: str = request["session_id"]
    found = store.summary(session_id)  # a session that does not exist: no question
    line = (
        f"Session {session_id}: {plural(found.turns, 'turn')}, last active "
        f"{when(found.last_active)}" + (f", “{clipped(found.title)}”" if found.title else "")
    )
    return Preview((line,), f"Delete session {session_id} and all its data? [y/N] ")


def delete(store: SessionStore, request: Request, plan: Any = None) -> Outcome:
    session_id: str = request["session_id"]
    store.delete(session_id)
    return Outcome((f"Deleted session {session_id} and all its data.",), deleted=(session_id,))


def rewind_preview(store: SessionStore, request: Request) -> Preview:
    session_id, count = request["session_id"], request["count"]
    turns = store.history(session_id)
    if count > len(turns):
        raise InvalidArgument(
            f"Session {session_id!r} has {plural(len(turns), 'turn')}; cannot rewind {count}."
        )
    prompts = [turn.prompt for turn in turns[-count:]]
    last = "The last turn" if count == 1 else f"The last {count} turns"
    lines = [f"{last} of {session_id} would go: {_quoted(prompts)}."]
    changes = store.notebook_changes(session_id, len(turns) - count)
    if changes:
        lines.append(summary(changes))
    question = f"Remove {'it' if count == 1 else 'them'}, from the history and from disk? [y/N] "
    return Preview(tuple(lines), question, len(turns), changes)


def rewind(store: SessionStore, request: Request, plan: int | None = None) -> Outcome:
    """Remove the turns; ``plan``, the turns the preview counted, must still be the count
    (a turn asked in another kernel meanwhile would shift what goes)."""
    session_id: str = request["session_id"]
    if plan is not None and (now := len(store.history(session_id))) != plan:
        raise SessionBusy(
            f"Session {session_id!r} changed while you were asked ({plural(now, 'turn')} now, "
            f"{plan} then): nothing was removed; rewind again to see what would go now."
        )
    rewound = store.rewind(session_id, request["count"])
    line = (
        f"Removed {plural(len(rewound.prompts), 'turn')} from {session_id} "
        f"({_quoted(list(rewound.prompts))}), from its history and from disk; "
        f"{plural(rewound.turns_left, 'turn')} left."
    )
    return Outcome((line,), changes=rewound.changes)


def cleanup_preview(store: SessionStore, request: Request) -> Preview:
    active = request.get("active")
    plan = store.plan_cleanup(
        request["days"], protect=[active] if active else [], notebook=request.get("notebook")
    )
    lines = cleanup_plan_lines(plan)
    if not plan.doomed:
        return Preview((*lines, "Nothing to delete."), None, plan)
    count = len(plan.doomed)
    them = "this session and all its" if count == 1 else f"these {count} sessions and all their"
    question = f"Delete {them} data? [y/N] "
    return Preview(tuple(lines), question, plan)


def cleanup(store: SessionStore, request: Request, plan: CleanupPlan) -> Outcome:
    deleted = store.cleanup(plan)
    turns = sum(s.turns for s in plan.doomed if s.session_id in deleted)
    lines = [f"Deleted {plural(len(deleted), 'session')} ({plural(turns, 'turn')})."]
    skipped = [s.session_id for s in plan.doomed if s.session_id not in deleted]
    if skipped:
        lines.append(f"Skipped, because they changed since the plan: {', '.join(skipped)}")
    return Outcome(tuple(lines), deleted=tuple(deleted))
