"""What ``%copilot_session`` says after opening a session, and its clean-up, as lines."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from copilot_magic.sessions.models import Opened
from copilot_magic.views.text import cleanup_plan_lines, damage_warning, plural, when

if TYPE_CHECKING:  # the store is imported on first use (see copilot_magic.__init__)
    from copilot_magic.sessions.store import SessionStore


def opened_lines(opened: Opened) -> list[str]:
    """ "Created session x", or "Resumed session x: 3 turns, last active ...", and warnings."""
    lines = []
    if opened.waited:
        lines.append(
            f"Waited {opened.waited:.1f} s for the reply running in the other kernel to "
            "end, so it is stored whole before this kernel takes the session over."
        )
    if opened.created:
        lines.append(f"Created session {opened.session_id}")
    else:
        lines.append(
            f"Resumed session {opened.session_id}: {plural(opened.turns, 'turn')}, "
            f"last active {when(opened.last_active)}"
        )
    if opened.damage:
        lines.append(damage_warning(opened.session_id, opened.damage))
    return lines


def cleanup(store: SessionStore, days: int, *, delete: bool, protect: Iterable[str]) -> list[str]:
    """``--cleanup DAYS [--yes]``: the plan, and with ``delete`` what was deleted."""
    plan = store.plan_cleanup(days, protect=protect)
    lines = cleanup_plan_lines(plan)
    if not plan.doomed:
        return lines
    if not delete:
        hint = f"Nothing deleted yet: run %copilot_session --cleanup {days} --yes to delete."
        return [*lines, hint]
    deleted = store.cleanup(plan)
    turns = sum(s.turns for s in plan.doomed if s.session_id in deleted)
    return [*lines, f"Deleted {plural(len(deleted), 'session')} ({plural(turns, 'turn')})."]
