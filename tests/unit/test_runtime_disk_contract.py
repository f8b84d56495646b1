"""The runtime's private on-disk formats, as the one adapter (``copilot_magic.runtime.disk``)
reads them, tied to the pinned runtime version.

None of these formats is published: a runtime upgrade (the Makefile's RUNTIME_VERSION)
fails here first until the adapter has been checked against the new runtime and its
``WRITTEN_FOR`` moved; ``tests/e2e/test_made_elsewhere_e2e.py`` checks the same formats
on the real runtime.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from pathlib import Path

import pytest

from copilot_magic.runtime import disk
from copilot_magic.sessions.files import SessionFiles

ROOT = Path(__file__).resolve().parents[2]


def _pinned_runtime() -> str:
    found = re.search(r"^RUNTIME_VERSION\s*:?=\s*(\S+)", (ROOT / "Makefile").read_text(), re.M)
    assert found, "the Makefile pins no RUNTIME_VERSION"
    return found.group(1)


def test_the_adapter_was_checked_against_the_pinned_runtime() -> None:
    assert _pinned_runtime() == disk.WRITTEN_FOR, (
        "The Makefile pins another Copilot runtime than copilot_magic.runtime.disk was "
        "written for: check its formats (events.jsonl, inuse.<pid>.lock, workspace.yaml, "
        "session-store.db) against it, run tests/e2e/test_made_elsewhere_e2e.py, then move "
        "WRITTEN_FOR."
    )


def test_the_installed_runtime_is_the_pinned_one() -> None:
    package = ROOT / ".runtime" / "node_modules" / "@github" / "copilot" / "package.json"
    if not package.exists():
        pytest.skip("no runtime installed under .runtime (make runtime)")
    assert json.loads(package.read_text())["version"] == disk.WRITTEN_FOR


def test_history_lines_are_told_by_their_compact_type_prefix() -> None:
    # A line as runtime 1.0.102 writes it: compact JSON, "type" first.
    line = b'{"type":"user.message","data":{"content":"hi"},"id":"e1","timestamp":"t"}\n'
    assert line.startswith(disk.TYPED)
    assert line.startswith(disk.line_prefix(b"user.message"))
    assert not line.startswith(disk.line_prefix(b"user.messages"))
    assert disk.SUB_AGENT in b'{"type":"assistant.message","agentId":"a1","data":{}}'


@pytest.mark.parametrize(
    ("name", "pid"),
    [
        ("inuse.4242.lock", 4242),
        ("inuse.x.lock", None),
        ("inuse.4242.lock.tmp", None),
        ("events.jsonl", None),
        ("workspace.yaml", None),
    ],
)
def test_an_in_use_lock_names_its_pid(name: str, pid: int | None) -> None:
    assert disk.lock_pid(name) == pid


def test_the_session_files_read_through_the_adapter(tmp_path: Path) -> None:
    folder = Path(disk.state_folder(tmp_path)) / "s1"
    folder.mkdir(parents=True)
    Path(disk.history_path(folder)).write_bytes(
        b'{"type":"session.start","data":{}}\n'
        b'{"type":"user.message","data":{"content":"first words"}}\n'
        b'{"type":"assistant.message","data":{"content":"a reply"}}\n'
    )
    (folder / f"inuse.{os.getpid()}.lock").write_text("")
    (folder / disk.WORKSPACE_FILE).write_text("id: s1\nclient_name: 'it''s me'\n")
    files = SessionFiles(tmp_path, "")
    assert (files.scan("s1").turns, files.scan("s1").first_prompt) == (1, "first words")
    assert files.holders("s1") == [os.getpid()]
    assert disk.made_by(folder) == "it's me"


def test_the_store_columns_it_relies_on_are_read_only_when_there(tmp_path: Path) -> None:
    assert disk.store_columns(tmp_path) == {}
    with sqlite3.connect(tmp_path / disk.STORE_FILE) as db:
        for table, columns in disk.STORE_COLUMNS.items():
            db.execute(f"CREATE TABLE {table} ({', '.join(columns)})")
    found = disk.store_columns(tmp_path)
    assert {t: set(c) for t, c in disk.STORE_COLUMNS.items()} == found
    assert disk.records_turns(tmp_path, "s1") is False
