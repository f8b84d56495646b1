"""Removing every trace of a deleted session from the runtime's SQLite store.

The runtime's ``delete_session`` removes the session's folder but leaves its
text in ``session-store.db``: its row in ``sessions``, rows keyed by
``session_id`` in other tables, and the terms of its full-text index. This
module removes them, compacts the full-text index, vacuums the database and
truncates its write-ahead log, so no word of the conversation stays on disk.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

STORE_FILE = "session-store.db"
BUSY_TIMEOUT = 10.0


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


def purge_session_records(data_dir: Path, session_id: str) -> None:
    """Remove ``session_id``'s rows and index terms from the store, then compact it.

    A missing store is fine (nothing to purge). Raises ``sqlite3.Error`` if the
    database stays locked longer than :data:`BUSY_TIMEOUT`.
    """
    path = data_dir / STORE_FILE
    if not path.exists():
        return
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        for table in _tables_with_column(db, "session_id"):
            db.execute(f'DELETE FROM "{table}" WHERE session_id = ?', (session_id,))
        if _has_table(db, "sessions"):
            db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
        if _has_table(db, "search_index"):
            db.execute("DELETE FROM search_index WHERE session_id = ?", (session_id,))
            db.execute("INSERT INTO search_index(search_index) VALUES ('optimize')")
        db.execute("COMMIT")
        db.execute("VACUUM")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
