"""copilot_magic's own records, in one SQLite database with real transactions.

The runtime keeps the conversations; copilot_magic keeps what the runtime does
not: which session a notebook uses, which turn a cell asked, stars, the names
of forks, and what a cell showed of a reply cut short. All of it lives in
``<data dir>/copilot-magic/records.db`` (the standard library's ``sqlite3``, in
WAL mode), owner-only like everything copilot_magic writes. Every change is one
transaction, so kernels and commands sharing a data directory never lose each
other's changes, readers never wait for a writer, and a process killed in the
middle of a write leaves the records as they were before it.

Records kept by an older copilot_magic (``marks.json``, ``notebooks.json``) are
moved in once, the first time the database is opened, and those files removed.
A database that is not a database any more (a damaged file) is set aside as
``records.db.damaged`` with one line on standard error, and a new one begun:
the conversations themselves are the runtime's and are not touched.

The holds of sessions (``copilot-magic/owners/``, ``turns/``) stay files: each
says "this very process is alive and holds this session", is checked against
the process table rather than trusted, and is gone with one ``unlink``; a row
would need the same check and add nothing.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from copilot_magic.errors import DataDirUnwritable
from copilot_magic.owner_only import FILE_MODE, private_folder
from copilot_magic.sessions.space import storage_error

RECORDS_FILE = Path("copilot-magic") / "records.db"
LEGACY_MARKS = Path("copilot-magic") / "marks.json"
LEGACY_LINKS = Path("copilot-magic") / "notebooks.json"
BUSY_TIMEOUT = 30.0  # seconds a write waits for another process's write to end

_SCHEMA = """
CREATE TABLE IF NOT EXISTS notebooks (path TEXT PRIMARY KEY, session TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cells (
    cell TEXT PRIMARY KEY, session TEXT NOT NULL, turn INTEGER NOT NULL,
    text TEXT NOT NULL, event TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS stars (session TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS handles (handle TEXT PRIMARY KEY, runtime_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS partials (
    session TEXT NOT NULL, turn INTEGER NOT NULL, text TEXT NOT NULL,
    PRIMARY KEY (session, turn));
CREATE TABLE IF NOT EXISTS notebook_changes (
    number INTEGER PRIMARY KEY AUTOINCREMENT, session TEXT NOT NULL, turn INTEGER NOT NULL,
    kind TEXT NOT NULL, cell TEXT NOT NULL, before TEXT NOT NULL, after TEXT NOT NULL,
    cell_type TEXT NOT NULL, above TEXT NOT NULL, notebook TEXT NOT NULL);
"""


_OPEN: dict[Path, ProjectRecords] = {}
_OPEN_LOCK = threading.Lock()


def records_of(data_path: Path) -> ProjectRecords:
    """The records of a data directory: one object, so one connection, per process."""
    key = data_path.absolute()
    with _OPEN_LOCK:
        found = _OPEN.get(key)
        if found is None:
            found = _OPEN[key] = ProjectRecords(key)
        return found


class ProjectRecords:
    """The records database of one data directory (one connection per process: get it with
    :func:`records_of`)."""

    def __init__(self, data_path: Path) -> None:
        self.data_path = data_path
        self.path = data_path / RECORDS_FILE
        self._lock = threading.RLock()  # the connection serves every thread of the process
        self._connection: sqlite3.Connection | None = None
        self._pid = 0

    # -- reading and writing --------------------------------------------------------
    def rows(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of a query; none where there are no records yet or they cannot be read
        (a reader never fails: what cannot be read counts as not kept)."""
        with self._lock:
            if self._connection is None and not self._exists():
                return []
            try:
                return self._connect().execute(sql, parameters).fetchall()
            except (sqlite3.Error, OSError):
                return []

    @contextlib.contextmanager
    def changing(self, *, forgetting: bool = False) -> Iterator[sqlite3.Connection]:
        """One transaction: ``with records.changing() as db: db.execute(...)``; committed at
        the end of the block, rolled back if it raises. A write that fails (a full disk, a
        read-only folder) raises :class:`DataDirUnwritable` in one line.

        ``forgetting``: the transaction deletes what a person asked to be gone (a deleted
        session, a rewound turn). Deleted rows are overwritten (``secure_delete``) and the
        write-ahead log is emptied into the database after the commit, so no copy of the
        text stays in either file."""
        with self._lock:
            try:
                connection = self._connect()
                connection.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                raise self._unwritable(error) from None
            try:
                yield connection
                connection.execute("COMMIT")
                if forgetting:
                    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as error:
                with contextlib.suppress(sqlite3.Error):
                    connection.execute("ROLLBACK")
                raise self._unwritable(error) from None
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    connection.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._connection.close()
            self._connection = None

    # -- the connection ---------------------------------------------------------------
    def _exists(self) -> bool:
        return self.path.exists() or any(
            (self.data_path / legacy).exists() for legacy in (LEGACY_MARKS, LEGACY_LINKS)
        )

    def _connect(self) -> sqlite3.Connection:
        if self._connection is not None and self._pid == os.getpid():
            return self._connection
        self._connection = None  # a forked child opens its own
        try:
            connection = self._open()
        except sqlite3.DatabaseError as error:
            if isinstance(error, sqlite3.OperationalError):
                raise
            connection = self._set_aside(error)
        self._connection, self._pid = connection, os.getpid()
        _import_legacy(connection, self.data_path)
        return connection

    def _open(self) -> sqlite3.Connection:
        private_folder(self.path.parent)
        # Born owner-only: SQLite gives its -wal and -shm files the database's mode. Only
        # ever a new file: closing a descriptor of a database this process has open would
        # drop SQLite's locks on it (POSIX locks belong to the process, not the descriptor).
        with contextlib.suppress(FileExistsError):
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, FILE_MODE))
        connection = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
        )
        try:
            _set_up(connection)
        except BaseException:
            connection.close()
            raise
        return connection

    def _set_aside(self, error: sqlite3.Error) -> sqlite3.Connection:
        aside = self.path.with_name(self.path.name + ".damaged")
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                os.replace(f"{self.path}{suffix}", f"{aside}{suffix}")
        print(
            f"copilot_magic: its records file {self.path} was damaged ({error}); it was set "
            f"aside as {aside.name} and a new one begun (notebook and cell links, stars and "
            "fork names kept there are gone; the conversations are not touched).",
            file=sys.stderr,
        )
        return self._open()

    def _unwritable(self, error: sqlite3.Error) -> DataDirUnwritable:
        message = str(error)
        if "full" in message:
            code = errno.ENOSPC
        elif "readonly" in message or "read-only" in message or "unable to open" in message:
            code = errno.EROFS
        else:
            return DataDirUnwritable(
                f"Cannot write copilot_magic's records in {self.path}: {error}"
            )
        return storage_error(OSError(code, message), self.path.parent)


def _set_up(connection: sqlite3.Connection) -> None:
    """WAL mode and the tables. Switching a new database to WAL while another process
    opens it too can answer "database is locked" at once (SQLite calls no busy handler
    there): that is tried again, for up to :data:`BUSY_TIMEOUT` seconds."""
    deadline = time.monotonic() + BUSY_TIMEOUT
    while True:
        try:
            if connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(_SCHEMA)
            break
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)  # another process holds the lock for a moment: nothing to wait on
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA secure_delete=ON")


def _import_legacy(connection: sqlite3.Connection, data_path: Path) -> None:
    """Move the records of an older copilot_magic (``marks.json``, ``notebooks.json``) in,
    once: read and written in one transaction, the files removed after it commits."""
    marks_file, links_file = data_path / LEGACY_MARKS, data_path / LEGACY_LINKS
    if not marks_file.exists() and not links_file.exists():
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        marks = _legacy_marks(_read_json(marks_file))
        links = _read_json(links_file)
        connection.executemany(
            "INSERT OR IGNORE INTO notebooks VALUES (?, ?)",
            [(path, sid) for path, sid in links.items() if isinstance(sid, str)],
        )
        connection.executemany(
            "INSERT OR IGNORE INTO stars VALUES (?)", [(sid,) for sid in marks["starred"]]
        )
        connection.executemany(
            "INSERT OR IGNORE INTO handles VALUES (?, ?)", list(marks["handles"].items())
        )
        connection.executemany(
            "INSERT OR IGNORE INTO cells VALUES (?, ?, ?, ?, ?)",
            [
                (cell, str(link.get("session", "")), link["turn"], str(link.get("text", "")), "")
                for cell, link in marks["cells"].items()
                if isinstance(link.get("turn"), int)
            ],
        )
        connection.executemany(
            "INSERT OR IGNORE INTO partials VALUES (?, ?, ?)",
            [
                (sid, int(turn), text)
                for sid, turns in marks["partials"].items()
                for turn, text in turns.items()
            ],
        )
        connection.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            connection.execute("ROLLBACK")
        raise
    for legacy in (marks_file, marks_file.with_suffix(".lock"), links_file):
        with contextlib.suppress(OSError):
            legacy.unlink()


def _read_json(path: Path) -> dict[str, Any]:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _entries(found: object, kind: type) -> dict[str, Any]:
    """The entries of a mapping read from a legacy file whose values are ``kind``."""
    if not isinstance(found, dict):
        return {}
    return {key: value for key, value in found.items() if isinstance(value, kind)}


def _legacy_marks(marks: dict[str, Any]) -> dict[str, Any]:
    """What marks.json held, with whatever a damaged or older file has wrong left out."""
    starred = marks.get("starred", [])
    partials = {
        session_id: {turn: text for turn, text in _entries(turns, str).items() if turn.isdigit()}
        for session_id, turns in _entries(marks.get("partials"), dict).items()
    }
    return {
        "starred": [s for s in starred if isinstance(s, str)] if isinstance(starred, list) else [],
        "handles": _entries(marks.get("handles"), str),
        "cells": _entries(marks.get("cells"), dict),
        "partials": partials,
    }
