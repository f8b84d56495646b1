"""Removing every trace of a deleted session from the runtime's SQLite store.

The runtime's ``delete_session`` removes the session's folder but leaves its
text in ``session-store.db``: its row in ``sessions``, rows keyed by
``session_id`` in other tables, and the terms of its full-text index. This
module removes them, compacts the full-text index, vacuums the database and
truncates its write-ahead log, so no word of the conversation stays on disk.
It also tells, reading only, whether the store records turns of a session
(:func:`records_turns`).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

STORE_FILE = "session-store.db"
BUSY_TIMEOUT = 10.0
READ_TIMEOUT = 1.0  # a list does not wait long for a store being compacted


def _tables_with_column(db: sqlite3.Connection, column: str) -> list[str]:
    names = [
        row[0]
        for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%'"
        )
    ]
    return [
        name
        for name in names
        if not name.startswith(("sqlite_", "search_index_"))
        and any(row[1] == column for row in db.execute(f'PRAGMA table_info("{name}")'))
    ]


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone() is not None


@contextlib.contextmanager
def _rewriting(path: Path) -> Iterator[sqlite3.Connection]:
    """The store in one write transaction; after it, the full-text index is compacted, the
    database vacuumed and its write-ahead log truncated, so removed text leaves the disk."""
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        yield db
        if _has_table(db, "search_index"):
            db.execute("INSERT INTO search_index(search_index) VALUES ('optimize')")
        db.execute("COMMIT")
        db.execute("VACUUM")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()


def records_turns(data_dir: Path, session_id: str) -> bool:
    """Whether the store records turns of ``session_id`` (``False`` when it cannot be read).

    The runtime writes a turn's row when the session is closed or its next turn
    starts. A session with such rows whose history file is missing or empty has
    lost its history; one without them has had no turn yet.
    """
    path = data_dir / STORE_FILE
    if not path.exists():
        return False
    try:
        db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=READ_TIMEOUT)
        try:
            if not _has_table(db, "turns"):
                return False
            query = "SELECT 1 FROM turns WHERE session_id = ? LIMIT 1"
            return db.execute(query, (session_id,)).fetchone() is not None
        finally:
            db.close()
    except sqlite3.Error:
        return False


def purge_session_records(data_dir: Path, session_id: str) -> None:
    """Remove ``session_id``'s rows and index terms from the store, then compact it.

    A missing store is fine (nothing to purge). Raises ``sqlite3.Error`` if the
    database stays locked longer than :data:`BUSY_TIMEOUT`.
    """
    path = data_dir / STORE_FILE
    if not path.exists():
        return
    with _rewriting(path) as db:
        for table in _tables_with_column(db, "session_id"):
            db.execute(f'DELETE FROM "{table}" WHERE session_id = ?', (session_id,))
        if _has_table(db, "sessions"):
            db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
        if _has_table(db, "search_index"):
            db.execute("DELETE FROM search_index WHERE session_id = ?", (session_id,))


def purge_rewound_turns(
    data_dir: Path, session_id: str, prompts: Sequence[str], since: str
) -> None:
    """Remove what the store keeps of a session's last turns, rewound at ``since``.

    The runtime's truncation rewrites the history file but keeps the turns'
    rows, their usage rows and their terms in the full-text index, and the
    checkpoints (compaction summaries) made since then. It writes a turn's row
    late (when the session is closed or the next turn starts), so close the
    session before calling this. ``prompts``: the removed turns' prompts (a row
    among the last ones is removed only if its prompt is one of them);
    ``since``: the ISO time of the first. The store is compacted after.
    """
    path = data_dir / STORE_FILE
    if not path.exists():
        return
    with _rewriting(path) as db:
        if _has_table(db, "turns"):
            _remove_turns(db, session_id, prompts)
        if _has_table(db, "checkpoints"):
            _remove_checkpoints(db, session_id, since)


def _remove_turns(db: sqlite3.Connection, session_id: str, prompts: Sequence[str]) -> None:
    rows = db.execute(
        "SELECT turn_index, user_message FROM turns WHERE session_id = ? "
        "ORDER BY turn_index DESC LIMIT ?",
        (session_id, len(prompts)),
    ).fetchall()
    for index, prompt in rows:
        if not any(p and (p == prompt or p in (prompt or "")) for p in prompts):
            continue
        db.execute("DELETE FROM turns WHERE session_id = ? AND turn_index = ?", (session_id, index))
        if _has_table(db, "assistant_usage_events"):
            db.execute(
                "DELETE FROM assistant_usage_events WHERE session_id = ? AND turn_index = ?",
                (session_id, index),
            )
        if _has_table(db, "search_index"):
            db.execute(
                "DELETE FROM search_index WHERE session_id = ? AND source_id = ?",
                (session_id, f"{session_id}:turn:{index}"),
            )
        if _has_table(db, "sessions"):  # its summary is the first prompt
            db.execute(
                "UPDATE sessions SET summary = NULL WHERE id = ? AND summary = ?",
                (session_id, prompt),
            )


def _remove_checkpoints(db: sqlite3.Connection, session_id: str, since: str) -> None:
    numbers = db.execute(
        "SELECT checkpoint_number FROM checkpoints WHERE session_id = ? AND created_at >= ?",
        (session_id, since),
    ).fetchall()
    for (number,) in numbers:
        db.execute(
            "DELETE FROM checkpoints WHERE session_id = ? AND checkpoint_number = ?",
            (session_id, number),
        )
        if _has_table(db, "search_index"):
            db.execute(
                "DELETE FROM search_index WHERE session_id = ? AND source_id LIKE ?",
                (session_id, f"{session_id}:ckpt:{number}:%"),
            )
