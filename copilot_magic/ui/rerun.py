"""Running a ``%%copilot`` cell again: the rule that never asks the same question twice.

Jupyter sends each cell's id with its execution; the turn a cell asked is
kept beside the notebook links (:class:`~copilot_magic.sessions.marks.SessionMarks`).
When a cell that asked turn ``k`` of a session runs again:

- ``k`` is the **last** turn: the turn is replaced (rewound, then asked again);
- an **earlier** turn, its text unchanged: the stored reply is shown again,
  marked as from the history, and nothing is sent, so Run All on a reopened
  notebook restores the conversation and continues at the first new cell;
- an earlier turn, its text **edited**: refused in one line, naming the two
  meanings: ``--fork NEW`` (a new session from the turn before) or ``--again``
  (a new turn at the end).
"""

from __future__ import annotations

from dataclasses import dataclass

from IPython.core.error import UsageError

from copilot_magic.output_metadata import Stage
from copilot_magic.sessions.store import SessionStore
from copilot_magic.sessions.transcript import Turn
from copilot_magic.ui.live_reply import LiveReply


@dataclass(frozen=True)
class Plan:
    """What a cell run does: ``send`` (``replaced`` turns were rewound first) or ``replay``."""

    replay: Turn | None = None
    replaced: int = 0


SEND = Plan()


def plan_for(
    store: SessionStore, session_id: str, cell_id: str | None, cell: str, *, again: bool
) -> Plan:
    """What running this cell now means (see the module docstring)."""
    link = store.places.marks.cell_turn(cell_id) if cell_id else None
    if again or link is None or link.session_id != session_id:
        return SEND
    count = store.turns(session_id)
    if link.turn > count:  # rewound or replaced since: a new question
        return SEND
    if link.turn == count:
        return Plan(replaced=link.turn)
    if link.same_text(cell):
        turns = store.history(session_id)
        return Plan(replay=turns[link.turn - 1]) if len(turns) >= link.turn else SEND
    raise UsageError(
        f"This cell asked turn {link.turn} of {session_id}, which has "
        f"{count - link.turn} later turns, and its text has changed: run it with "
        f"--fork NEW to ask it in a new session NEW that holds turns 1 to {link.turn - 1}, "
        "or with --again to ask it as a new turn at the end."
    )


def edited_turn(store: SessionStore, session_id: str, cell_id: str | None) -> int | None:
    """The turn this cell asked in ``session_id``, for ``--fork`` (``None``: none known)."""
    link = store.places.marks.cell_turn(cell_id) if cell_id else None
    return link.turn if link is not None and link.session_id == session_id else None


def replace_last(store: SessionStore, session_id: str) -> None:
    """Rewind the session's last turn, which this cell asked, before asking again."""
    store.rewind(session_id, 1)


def remember(
    store: SessionStore, cell_id: str | None, session_id: str, turn: int, cell: str
) -> None:
    """Keep the turn this cell asked, for its next run."""
    if cell_id:
        store.places.marks.link_cell(cell_id, session_id, turn, cell)


def replay(store: SessionStore, session_id: str, turn: Turn, *, rich: bool) -> None:
    """Show a stored turn's reply again in the cell, marked as from the history."""
    view = LiveReply(session_id, turn.index, store.settings.abstain_signal, rich=rich)
    view.start()
    for step in turn.steps:
        view.step(step)
    view.finish(turn.reply, Stage.FROM_HISTORY)
