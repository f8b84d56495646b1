"""Purging a deleted session from the runtime's SQLite store leaves none of its words on disk."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from copilot_magic.runtime.disk import STORE_FILE, purge_session_records

WORDS = {"s1": "Zanzibarquux", "s2": "Quokkavelder"}


def _build_store(folder: Path) -> sqlite3.Connection:
    db = sqlite3.connect(folder / STORE_FILE, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE sessions(id TEXT PRIMARY KEY, summary TEXT)")
    db.execute("CREATE TABLE turns(id INTEGER PRIMARY KEY, session_id TEXT, user_message TEXT)")
    db.execute("CREATE VIRTUAL TABLE search_index USING fts5(content, session_id UNINDEXED)")
    for session_id, word in WORDS.items():
        text = f"Tell me about {word} please"
        db.execute("INSERT INTO sessions VALUES (?, ?)", (session_id, f"About {word}"))
        db.execute("INSERT INTO turns(session_id, user_message) VALUES (?, ?)", (session_id, text))
        db.execute("INSERT INTO search_index VALUES (?, ?)", (text, session_id))
    return db


def _files_containing(folder: Path, word: str) -> list[str]:
    needle = word.lower().encode()
    return sorted(
        path.name
        for path in folder.iterdir()
        if path.is_file() and needle in path.read_bytes().lower()
    )


def _rows(folder: Path) -> dict[str, list[tuple[str, ...]]]:
    db = sqlite3.connect(folder / STORE_FILE)
    try:
        return {
            "sessions": db.execute("SELECT id FROM sessions ORDER BY id").fetchall(),
            "turns": db.execute("SELECT session_id FROM turns ORDER BY id").fetchall(),
            "search_index": db.execute("SELECT session_id FROM search_index").fetchall(),
            "s1_match": db.execute(
                "SELECT session_id FROM search_index WHERE search_index MATCH ?",
                (WORDS["s1"].lower(),),
            ).fetchall(),
            "s2_match": db.execute(
                "SELECT session_id FROM search_index WHERE search_index MATCH ?",
                (WORDS["s2"].lower(),),
            ).fetchall(),
        }
    finally:
        db.close()


def _assert_only_s2_left(folder: Path) -> None:
    assert _rows(folder) == {
        "sessions": [("s2",)],
        "turns": [("s2",)],
        "search_index": [("s2",)],
        "s1_match": [],
        "s2_match": [("s2",)],
    }


def test_purge_removes_rows_and_words_of_one_session(tmp_path: Path) -> None:
    _build_store(tmp_path).close()
    assert _files_containing(tmp_path, WORDS["s1"])

    purge_session_records(tmp_path, "s1")

    assert _files_containing(tmp_path, WORDS["s1"]) == []
    assert _files_containing(tmp_path, WORDS["s2"])
    _assert_only_s2_left(tmp_path)


def test_purge_while_another_connection_holds_the_wal(tmp_path: Path) -> None:
    runtime = _build_store(tmp_path)  # like the runtime, keeps the store open
    try:
        assert (tmp_path / f"{STORE_FILE}-wal").exists()
        assert _files_containing(tmp_path, WORDS["s1"])

        purge_session_records(tmp_path, "s1")

        assert _files_containing(tmp_path, WORDS["s1"]) == []
        assert _files_containing(tmp_path, WORDS["s2"])
        assert runtime.execute("SELECT id FROM sessions").fetchall() == [("s2",)]
    finally:
        runtime.close()
    _assert_only_s2_left(tmp_path)


def test_purge_of_unknown_session_keeps_everything(tmp_path: Path) -> None:
    _build_store(tmp_path).close()
    purge_session_records(tmp_path, "s3")
    assert _files_containing(tmp_path, WORDS["s1"])
    assert _files_containing(tmp_path, WORDS["s2"])
    assert _rows(tmp_path)["sessions"] == [("s1",), ("s2",)]


def test_purge_without_store_does_nothing(tmp_path: Path) -> None:
    purge_session_records(tmp_path, "s1")
    assert list(tmp_path.iterdir()) == []


def test_purge_of_store_without_search_index(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / STORE_FILE, isolation_level=None)
    db.execute("CREATE TABLE sessions(id TEXT PRIMARY KEY, summary TEXT)")
    db.execute("INSERT INTO sessions VALUES ('s1', 'About Zanzibarquux'), ('s2', 'other')")
    db.close()
    purge_session_records(tmp_path, "s1")
    assert _files_containing(tmp_path, WORDS["s1"]) == []
