"""The Copilot runtime's private on-disk formats: the one module that reads or writes them.

The runtime keeps, in its data directory (none of it a published interface):

- ``session-state/<id>/events.jsonl``: a session's history, one compact JSON record a
  line that begins ``{"type":"<kind>"``; a sub-agent's records carry ``"agentId"``;
- ``session-state/<id>/inuse.<pid>.lock``: one file per process that holds it open;
- ``session-state/<id>/workspace.yaml``: ``client_name:``, the client that made it;
- ``session-store.db`` (SQLite): ``sessions``, ``turns``, ``checkpoints``,
  ``assistant_usage_events`` and the full-text ``search_index``. Its ``delete_session``
  leaves the session's rows and index terms there, and a truncation keeps the rewound
  turns' rows: :func:`purge_session_records` and :func:`purge_rewound_turns` remove them,
  then compact the index, vacuum the database and truncate its write-ahead log.

:data:`WRITTEN_FOR` is the runtime version these formats were read from: the contract
tests (``tests/unit/test_runtime_disk_contract.py``, and on the real runtime
``tests/e2e/test_made_elsewhere_e2e.py``) fail when the Makefile pins another runtime
until this module has been checked against it, as the SDK adapter
(:mod:`~copilot_magic.runtime.sdk`) is against its SDK.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

WRITTEN_FOR = "1.0.102"  # the runtime version (Makefile RUNTIME_VERSION) these are read from
STATE_FOLDER = "session-state"
HISTORY_FILE = "events.jsonl"
WORKSPACE_FILE = "workspace.yaml"
STORE_FILE = "session-store.db"
TYPED = b'{"type":"'  # how every history line begins
SUB_AGENT = b'"agentId"'  # in a sub-agent's records
_CLIENT_KEY = "client_name:"
_LOCK_PREFIX, _LOCK_SUFFIX = "inuse", "lock"
# The store's tables and the columns read or written here (tests check the real runtime's).
STORE_COLUMNS = {
    "sessions": ("id", "summary"),
    "turns": ("session_id", "turn_index", "user_message"),
    "checkpoints": ("session_id", "checkpoint_number", "created_at"),
    "assistant_usage_events": ("session_id", "turn_index"),
    "search_index": ("session_id", "source_id"),  # full-text (virtual)
}
BUSY_TIMEOUT = 10.0
READ_TIMEOUT = 1.0  # a list does not wait long for a store being compacted


def state_folder(data_path: Path | str) -> str:
    """The folder of every session's folder (a ``str``: lists stat a lot)."""
    return os.path.join(data_path, STATE_FOLDER)


def history_path(folder: Path | str) -> str:
    """The history file of the session folder ``folder``."""
    return os.path.join(folder, HISTORY_FILE)


def line_prefix(kind: bytes) -> bytes:
    """How a history line of event type ``kind`` (``b"user.message"``) begins."""
    return TYPED + kind + b'"'


def lock_pid(name: str) -> int | None:
    """The pid an in-use lock's file name (``inuse.<pid>.lock``) names; ``None`` for
    another file."""
    parts = name.split(".")
    if len(parts) == 3 and parts[0] == _LOCK_PREFIX and parts[2] == _LOCK_SUFFIX:
        with contextlib.suppress(ValueError):
            return int(parts[1])
    return None


def made_by(folder: Path) -> str:
    """The client that made the session in ``folder``, or ``""`` when none is recorded.

    The runtime writes ``client_name`` when a client creates a session: the name an SDK
    program gives (``sdk`` when it gives none) or an ACP client sends (jupyter-ai's Copilot
    chat: ``Jupyter AI``); a later resume by another client does not change it.
    """
    try:
        with (folder / WORKSPACE_FILE).open(encoding="utf-8", errors="replace") as lines:
            found = next((line for line in lines if line.startswith(_CLIENT_KEY)), "")
    except OSError:
        return ""
    return _scalar(found[len(_CLIENT_KEY) :].strip())


def _scalar(text: str) -> str:
    """A one-line YAML scalar as written by the runtime: plain, "double" or 'single' quoted."""
    if text.startswith('"'):
        try:
            return str(json.loads(text))
        except ValueError:
            return text.strip('"')
    if text.startswith("'") and text.endswith("'") and len(text) > 1:
        return text[1:-1].replace("''", "'")
    return text


def store_columns(data_dir: Path) -> dict[str, set[str]]:
    """The store's ordinary tables and their columns, read only (empty when it is missing
    or cannot be read)."""
    path = data_dir / STORE_FILE
    if not path.exists():
        return {}
    try:
        db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=READ_TIMEOUT)
        try:
            return {name: _columns(db, name) for name in _tables(db, virtual=True)}
        finally:
            db.close()
    except sqlite3.Error:
        return {}


def _tables(db: sqlite3.Connection, *, virtual: bool = False) -> list[str]:
    query = "SELECT name, sql FROM sqlite_master WHERE type = 'table'"
    rows = db.execute(query).fetchall()
    names = [
        n for n, sql in rows if virtual or not (sql or "").upper().startswith("CREATE VIRTUAL")
    ]
    return [n for n in names if not n.startswith(("sqlite_", "search_index_"))]


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f'PRAGMA table_info("{table}")')}


def _tables_with_column(db: sqlite3.Connection, column: str) -> list[str]:
    return [name for name in _tables(db) if column in _columns(db, name)]


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
