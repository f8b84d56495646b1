"""Putting back what rewound turns changed in the notebook.

A rewind (``%copilot_session --rewind N``) removes turns from the conversation;
the changes those turns made in the notebook (kept with each turn, see
:class:`~copilot_magic.kernel.notebook.AppliedChange`) are then offered back,
newest first, each reviewed on its cell like any proposal: an edit is shown as
the diff back to the cell's old source, a cell the turn added as a deletion, a
cell it deleted as a new cell in its old place (with its old id). A cell the
person edited since is not overwritten: the frontend answers ``changed`` and the
line says so. The kernel's variables are not rewound. Nothing here needs IPython.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from copilot_magic.kernel.notebook import AppliedChange, Change, Lost, Notebook
from copilot_magic.kernel.notebook_tools import proposal

Changes = Sequence[tuple[int, AppliedChange]]  # each with the turn that made it
NO_FRONTEND_TO_REVERT = (
    "They stay as they are: no notebook frontend answers here to put them back (JupyterLab's "
    "undo, or by hand)."
)
OFFERED_BACK = "Each is offered back on its cell, newest first: Revert or Keep."
NOT_REWOUND = "The kernel's variables are not rewound: what those turns ran still holds."


def what_changed(change: AppliedChange) -> str:
    """``edited cell ID``, ``added cell ID below cell ABOVE``, ``deleted cell ID``."""
    if change.kind == "insert":
        return f"added cell {change.cell_id} below cell {change.above}"
    if change.kind == "delete":
        return f"deleted cell {change.cell_id}"
    return f"edited cell {change.cell_id}"


def summary(changes: Changes) -> str:
    """One line: which notebook changes the rewound turns made."""
    by_turn: dict[int, list[str]] = {}
    for turn, change in changes:
        by_turn.setdefault(turn, []).append(what_changed(change))
    parts = [f"turn {turn} {', '.join(done)}" for turn, done in sorted(by_turn.items())]
    return f"In the notebook, {'; '.join(parts)}."


def changed_turns(changes: Changes) -> str:
    """What a rewind's question adds when turns changed notebook cells ("" when none did)."""
    turns = sorted({turn for turn, _ in changes})
    if not turns:
        return ""
    return (
        f"Turn{'s' if len(turns) > 1 else ''} {', '.join(map(str, turns))} changed notebook "
        "cells: the changes of the turns removed are then offered back on their cells "
        "(Revert or Keep)."
    )


def undoing(change: AppliedChange) -> Change:
    """The proposal that puts ``change`` back (reviewed as a rewind)."""
    if change.kind == "insert":
        back = proposal("delete", change.cell_id, change.after, "", change.cell_type)
    elif change.kind == "delete":
        back = proposal("insert", change.above, "", change.before, change.cell_type)
        back = replace(back, new_id=change.cell_id)
    else:
        back = proposal("edit", change.cell_id, change.after, change.before, change.cell_type)
    return replace(back, purpose="rewind")


_DONE = {"insert": "removed", "delete": "put back", "edit": "put back as it was"}
_OUTCOMES = {
    "rejected": "kept as it is (you chose Keep)",
    "changed": "left as it is: it was edited since",
    "missing": "left: the cell is no longer in the notebook",
    "present": "left: the cell is back already",
    "withdrawn": "left as it is: the review was withdrawn",
    "unchanged": "left: it is as it was already",
}


def revert(notebook: Notebook, changes: Changes, here: str) -> list[str]:
    """Offer each change back, newest first, on its cell, and say what became of each
    (``here``: the open notebook's path; changes made in another notebook are named, not
    offered). A frontend that goes away meanwhile (the page closed), or an interrupt, ends
    the offers: the rest are named as not offered."""
    lines: list[str] = []
    gone = ""
    for turn, change in reversed(changes):
        what = f"turn {turn} {what_changed(change)}"
        if gone:
            lines.append(f"↩ {what}: not offered, {gone}")
            continue
        if change.notebook and here and change.notebook != here:
            lines.append(f"↩ {what}: left, it was made in {change.notebook}")
            continue
        try:
            done = notebook.propose(undoing(change))
        except (Lost, KeyboardInterrupt) as error:
            gone = str(error) if isinstance(error, Lost) else "you interrupted the rewind"
            lines.append(f"↩ {what}: not offered, {gone}")
            continue
        outcome = str(done.get("outcome"))
        said = _DONE[change.kind] if outcome == "accepted" else _OUTCOMES.get(outcome, "")
        said = said or f"not put back: {done.get('error') or outcome}"
        lines.append(f"↩ {what}: {said}")
    return lines
