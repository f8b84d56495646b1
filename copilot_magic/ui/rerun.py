"""Running a ``%%copilot`` cell again: the rule that never asks the same question twice.

Jupyter sends each cell's id with its execution; the turn a cell asked is
kept beside the notebook links (:class:`~copilot_magic.sessions.marks.SessionMarks`),
with the id of the prompt event that began it. A link counts only while that
event still begins that turn: after a rewind, the turn with that number is
another cell's, and the cell asks anew (it never replaces that turn). When a
cell that asked turn ``k`` of a session runs again, its text unchanged:

- the **first run of the cell in this kernel** (Run All on a reopened
  notebook) shows the stored reply again, marked as from the history, and
  sends nothing, the last turn included;
- running it **again in the same kernel** (after it asked or replayed here)
  asks the last turn again in its place (rewound, then asked), and replays an
  earlier one.

A cell whose text was **edited** asks the last turn again in its place; for an
earlier turn it is refused in one line, naming the two meanings: ``--fork NEW``
(a new session from the turn before) or ``--again`` (a new turn at the end),
and the cell shows its stored reply again, so the person keeps what they had.
"""

from __future__ import annotations

from dataclasses import dataclass

from IPython.core.error import UsageError

from copilot_magic.output_metadata import Stage
from copilot_magic.sessions.marks import CellTurn
from copilot_magic.sessions.store import SessionStore
from copilot_magic.sessions.transcript import Turn
from copilot_magic.ui.live_reply import LiveReply
from copilot_magic.values import plural


@dataclass(frozen=True)
class Plan:
    """What a cell run does: ``send`` (``replaced`` turns were rewound first) or ``replay``."""

    replay: Turn | None = None
    replaced: int = 0


SEND = Plan()


def plan_for(
    store: SessionStore,
    session_id: str,
    cell_id: str | None,
    cell: str,
    *,
    again: bool,
    ran_here: bool,
) -> Plan:
    """What running this cell now means (see the module docstring); ``ran_here``: the cell
    asked or replayed in this kernel before."""
    link = None if again else _link(store, session_id, cell_id)
    if link is None:
        return SEND
    count = store.turns(session_id)
    unchanged = link.same_text(cell)
    if link.turn == count and (ran_here or not unchanged):
        return Plan(replaced=link.turn)
    turns = store.history(session_id)
    stored = turns[link.turn - 1] if len(turns) >= link.turn else None
    if unchanged:
        return SEND if stored is None else Plan(replay=stored)
    raise EditedEarlierCell(_edited(session_id, link.turn, count), stored)


class EditedEarlierCell(UsageError):
    """An edited cell that asked an earlier turn: the choice, and the turn it asked."""

    def __init__(self, message: str, stored: Turn | None) -> None:
        super().__init__(message)
        self.stored = stored


def _edited(session_id: str, turn: int, count: int) -> str:
    later = count - turn
    kept = f"that holds turns 1 to {turn - 1}" if turn > 2 else "that holds turn 1"
    fork = (
        "to ask it in a new, empty session NEW"
        if turn == 1
        else f"to ask it in a new session NEW {kept}"
    )
    return (
        f"This cell asked turn {turn} of {session_id}, which has "
        f"{plural(later, 'later turn')}, and its text has changed: run it with "
        f"--fork NEW {fork}, or with --again to ask it as a new turn at the end."
    )


def _link(store: SessionStore, session_id: str, cell_id: str | None) -> CellTurn | None:
    """The cell's link to a turn of ``session_id``, if that turn is still the one it asked:
    begun by the same prompt event (a link kept by an older copilot_magic, without the
    event: the stored prompt is the cell's text)."""
    link = store.cell_link(cell_id) if cell_id else None
    if link is None or link.session_id != session_id:
        return None
    if link.event:
        return link if store.prompt_event(session_id, link.turn) == link.event else None
    turns = store.history(session_id)
    asked = turns[link.turn - 1] if 1 <= link.turn <= len(turns) else None
    return link if asked is not None and link.same_text(asked.prompt) else None


def edited_turn(store: SessionStore, session_id: str, cell_id: str | None) -> int | None:
    """The turn this cell asked in ``session_id``, for ``--fork`` (``None``: none known)."""
    link = _link(store, session_id, cell_id)
    return link.turn if link is not None else None


def replace_last(store: SessionStore, session_id: str) -> None:
    """Rewind the session's last turn, which this cell asked, before asking again. The
    notebook changes it made stay, and stay kept with the turn that replaces it (the same
    number): rewinding that one offers them back too."""
    rewound = store.rewind(session_id, 1)
    for turn, change in rewound.changes:
        store.keep_notebook_change(session_id, turn, change)


def remember(
    store: SessionStore, cell_id: str | None, session_id: str, turn: int, cell: str
) -> None:
    """Keep the turn this cell asked, for its next run."""
    if cell_id:
        store.link_cell(cell_id, session_id, turn, cell)


def replay(store: SessionStore, session_id: str, turn: Turn, *, rich: bool) -> None:
    """Show a stored turn's reply again in the cell, marked as from the history."""
    view = LiveReply(session_id, turn.index, store.settings.abstain_signal, rich=rich)
    view.start()
    for step in turn.steps:
        view.step(step)
    view.finish(turn.reply, Stage.FROM_HISTORY)
