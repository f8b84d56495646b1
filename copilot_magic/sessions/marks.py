"""What copilot_magic remembers about sessions beyond the runtime: stars, handles, cells,
partial replies and notebook changes.

A star keeps a session at the top of lists and out of clean-ups. A handle is
the name a person chose for a fork: the runtime gives every fork a generated
id, and the handle answers for it everywhere (``%copilot_session NEW``, the
panel, the command line). A cell link says which turn a notebook cell asked
(by the cell id Jupyter sends) and which prompt event of the history that turn
began with, so running the cell again does not ask twice, and a link whose turn
was rewound, or whose number now names another cell's turn, is not trusted. A
partial reply is what a cell showed of a reply that was interrupted or failed
(the runtime keeps only whole replies), so the transcript shows it too. A
notebook change is one the person accepted from a turn's notebook tools (with
the cell's source before and after), so that rewinding the turn can put it back.
All live in copilot_magic's records database
(:mod:`~copilot_magic.sessions.records`), each change one transaction, so
kernels sharing a data directory never lose each other's changes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from copilot_magic.kernel.notebook import AppliedChange
from copilot_magic.sessions.records import records_of


class SessionMarks:
    """The stars, fork handles, cell links and partial replies of one data directory."""

    def __init__(self, data_path: Path) -> None:
        self.records = records_of(data_path)

    # -- stars --------------------------------------------------------------------
    def starred(self) -> set[str]:
        """The ids of the starred sessions."""
        return {row[0] for row in self.records.rows("SELECT session FROM stars")}

    def star(self, session_id: str, on: bool = True) -> None:
        """Star the session (``on=False``: take the star away)."""
        with self.records.changing() as db:
            db.execute("DELETE FROM stars WHERE session = ?", (session_id,))
            if on:
                db.execute("INSERT INTO stars VALUES (?)", (session_id,))

    # -- handles ------------------------------------------------------------------
    def runtime_id(self, handle: str) -> str | None:
        """The runtime's id of the fork named ``handle``, if there is one."""
        rows = self.records.rows("SELECT runtime_id FROM handles WHERE handle = ?", (handle,))
        return str(rows[0][0]) if rows else None

    def handles(self) -> dict[str, str]:
        """Runtime id -> handle, for every fork that has one."""
        return {
            str(runtime): str(handle)
            for handle, runtime in self.records.rows("SELECT handle, runtime_id FROM handles")
        }

    def name(self, handle: str, runtime_id: str) -> None:
        """Let ``handle`` answer for the session ``runtime_id`` from now on."""
        with self.records.changing() as db:
            db.execute("INSERT OR REPLACE INTO handles VALUES (?, ?)", (handle, runtime_id))

    # -- cells --------------------------------------------------------------------
    def cell_turn(self, cell_id: str) -> CellTurn | None:
        """The turn the cell ``cell_id`` asked last, if it is known."""
        rows = self.records.rows(
            "SELECT session, turn, text, event FROM cells WHERE cell = ?", (cell_id,)
        )
        if not rows or not isinstance(rows[0][1], int):
            return None
        session_id, turn, text, event = rows[0]
        return CellTurn(str(session_id), turn, str(text), str(event))

    def link_cell(self, cell_id: str, session_id: str, turn: int, text: str, event: str) -> None:
        """Remember that the cell ``cell_id``, holding ``text``, asked turn ``turn``, whose
        prompt is the history's event ``event``."""
        with self.records.changing() as db:
            db.execute(
                "INSERT OR REPLACE INTO cells VALUES (?, ?, ?, ?, ?)",
                (cell_id, session_id, turn, digest(text), event),
            )

    # -- partial replies ---------------------------------------------------------------
    def partials(self, session_id: str) -> dict[int, str]:
        """Turn number -> what the cell showed of that turn's interrupted or failed reply."""
        rows = self.records.rows("SELECT turn, text FROM partials WHERE session = ?", (session_id,))
        return {int(turn): str(text) for turn, text in rows}

    def keep_partial(self, session_id: str, turn: int, text: str) -> None:
        """Remember what turn ``turn`` of ``session_id`` showed before it was cut short."""
        with self.records.changing() as db:
            db.execute("INSERT OR REPLACE INTO partials VALUES (?, ?, ?)", (session_id, turn, text))

    # -- notebook changes -------------------------------------------------------------
    def keep_change(self, session_id: str, turn: int, change: AppliedChange) -> None:
        """Remember that turn ``turn`` of ``session_id`` made ``change`` in a notebook."""
        with self.records.changing() as db:
            db.execute(
                "INSERT INTO notebook_changes (session, turn, kind, cell, before, after, "
                "cell_type, above, notebook) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    session_id,
                    turn,
                    change.kind,
                    change.cell_id,
                    change.before,
                    change.after,
                    change.cell_type,
                    change.above,
                    change.notebook,
                ),
            )

    def changes_after(self, turns: int, *names: str) -> list[tuple[int, AppliedChange]]:
        """The notebook changes of a session's turns after ``turns`` (by any of its names),
        each with its turn, in the order they were made."""
        marks = ",".join("?" * len(names))
        rows = self.records.rows(
            "SELECT turn, kind, cell, before, after, cell_type, above, notebook FROM "
            f"notebook_changes WHERE session IN ({marks}) AND turn > ? ORDER BY number",
            (*names, turns),
        )
        return [(int(row[0]), AppliedChange(*map(str, row[1:]))) for row in rows]

    def forget_after(self, turns: int, *names: str) -> None:
        """Drop the partial replies, the cell links and the notebook changes of the turns
        after ``turns`` of a session (by any of its names): they were rewound, or are asked
        again."""
        marks = ",".join("?" * len(names))
        with self.records.changing() as db:
            db.execute(
                f"DELETE FROM notebook_changes WHERE session IN ({marks}) AND turn > ?",
                (*names, turns),
            )
            db.execute(
                f"DELETE FROM partials WHERE session IN ({marks}) AND turn > ?", (*names, turns)
            )
            db.execute(
                f"DELETE FROM cells WHERE session IN ({marks}) AND turn > ?", (*names, turns)
            )

    def forget(self, *names: str) -> None:
        """Drop the star, the handle, the cell links, the partial replies and the notebook
        changes of a deleted session (by any name)."""
        marks = ",".join("?" * len(names))
        with self.records.changing(forgetting=True) as db:
            db.execute(f"DELETE FROM notebook_changes WHERE session IN ({marks})", names)
            db.execute(f"DELETE FROM partials WHERE session IN ({marks})", names)
            db.execute(f"DELETE FROM stars WHERE session IN ({marks})", names)
            db.execute(
                f"DELETE FROM handles WHERE handle IN ({marks}) OR runtime_id IN ({marks})",
                (*names, *names),
            )
            db.execute(f"DELETE FROM cells WHERE session IN ({marks})", names)


@dataclass(frozen=True)
class CellTurn:
    """The turn a cell asked: the session (as the cell named it), its number, a digest of
    the cell's text then, and the id of the prompt event that began the turn ("" in links
    kept by an older copilot_magic)."""

    session_id: str
    turn: int
    digest: str
    event: str = ""

    def same_text(self, text: str) -> bool:
        return self.digest == digest(text)


def digest(text: str) -> str:
    """A short fingerprint of a cell's text (the text itself is not kept here)."""
    return hashlib.sha256(text.strip().encode()).hexdigest()[:16]
