"""copilot_magic's own records (records.db): transactions across processes, a kill -9 in the
middle of a write, records of an older version moved in once, a damaged file, owner-only."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from copilot_magic.sessions.marks import SessionMarks
from copilot_magic.sessions.notebooks import NotebookLinks
from copilot_magic.sessions.records import records_of

REPO = Path(__file__).resolve().parents[2]
WRITER = """
import sys
from pathlib import Path
from copilot_magic.sessions.marks import SessionMarks
from copilot_magic.sessions.notebooks import NotebookLinks
data, name, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
links, marks = NotebookLinks(data), SessionMarks(data)
print("ready", flush=True)
sys.stdin.readline()  # every writer starts at once
for number in range(count):
    links.link(Path(f"/notebooks/{name}-{number}.ipynb"), f"{name}-{number}")
    marks.link_cell(f"{name}-cell-{number}", f"{name}-{number}", 1, "text", "event")
"""


def _writers(data: Path, names: list[str], count: int) -> list[subprocess.Popen[str]]:
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(data), name, str(count)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        for name in names
    ]
    for writer in writers:
        assert writer.stdout is not None
        assert writer.stdout.readline() == "ready\n"
    for writer in writers:
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.flush()
    return writers


def test_two_processes_linking_200_notebooks_and_cells_each_at_once_keep_all_400(
    tmp_path: Path,
) -> None:
    writers = _writers(tmp_path, ["a", "b"], 200)
    assert [writer.wait(timeout=120) for writer in writers] == [0, 0]
    links = NotebookLinks(tmp_path)
    marks = SessionMarks(tmp_path)
    for name in ("a", "b"):
        for number in range(200):
            assert links.session_of(Path(f"/notebooks/{name}-{number}.ipynb")) == (
                f"{name}-{number}"
            )
            assert marks.cell_turn(f"{name}-cell-{number}") is not None
    (count,) = links.records.rows("SELECT count(*) FROM notebooks")[0]
    assert count == 400


def test_a_writer_killed_in_the_middle_of_writing_leaves_a_readable_store(
    tmp_path: Path,
) -> None:
    (writer,) = _writers(tmp_path, ["k"], 100_000)
    records = records_of(tmp_path)
    deadline = time.monotonic() + 60
    while not records.rows("SELECT 1 FROM notebooks LIMIT 1 OFFSET 50"):
        assert time.monotonic() < deadline, "the writer wrote nothing"
        assert writer.poll() is None
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    check = sqlite3.connect(tmp_path / "copilot-magic" / "records.db")
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    check.close()
    links = NotebookLinks(tmp_path)
    assert links.session_of(Path("/notebooks/k-0.ipynb")) == "k-0"
    links.link(Path("/notebooks/after.ipynb"), "after")  # and it takes writes again
    assert links.session_of(Path("/notebooks/after.ipynb")) == "after"


def test_records_of_an_older_version_are_moved_in_once_and_their_files_removed(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "copilot-magic"
    folder.mkdir()
    marks_file, links_file = folder / "marks.json", folder / "notebooks.json"
    marks_file.write_text(
        json.dumps(
            {
                "starred": ["s1", 7],
                "handles": {"mine": "runtime-1", "bad": 3},
                "cells": {"c1": {"session": "s1", "turn": 2, "text": "abc"}, "c2": "bad"},
                "partials": {"s1": {"2": "half", "x": "no turn"}},
            }
        )
    )
    links_file.write_text(json.dumps({"/n/one.ipynb": "s1", "/n/bad.ipynb": 5}))
    marks, links = SessionMarks(tmp_path), NotebookLinks(tmp_path)
    assert marks.starred() == {"s1"}
    assert marks.handles() == {"runtime-1": "mine"}
    link = marks.cell_turn("c1")
    assert link is not None
    assert (link.session_id, link.turn, link.event) == ("s1", 2, "")
    assert marks.cell_turn("c2") is None
    assert marks.partials("s1") == {2: "half"}
    assert links.session_of(Path("/n/one.ipynb")) == "s1"
    assert links.session_of(Path("/n/bad.ipynb")) is None
    assert not marks_file.exists()
    assert not links_file.exists()


def test_a_damaged_records_file_is_set_aside_in_one_line_and_a_new_one_begun(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = tmp_path / "copilot-magic" / "records.db"
    records.parent.mkdir()
    records.write_bytes(b"this is not a database, it is damaged" * 100)
    marks = SessionMarks(tmp_path)
    marks.star("s1")
    assert marks.starred() == {"s1"}
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"copilot_magic: its records file {records} was damaged (")
    assert "set aside as records.db.damaged" in line
    assert (records.parent / "records.db.damaged").read_bytes().startswith(b"this is not")


def test_the_records_are_owner_only_from_the_first_write_even_with_a_lax_umask(
    tmp_path: Path,
) -> None:
    old = os.umask(0o022)
    try:
        SessionMarks(tmp_path).star("s1")
        NotebookLinks(tmp_path).link(Path("/n/one.ipynb"), "s1")
    finally:
        os.umask(old)
    folder = tmp_path / "copilot-magic"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    made = list(folder.glob("records.db*"))
    assert made
    for path in made:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_reading_where_nothing_was_recorded_creates_nothing(tmp_path: Path) -> None:
    assert SessionMarks(tmp_path).starred() == set()
    assert NotebookLinks(tmp_path).session_of(Path("/n/one.ipynb")) is None
    assert not (tmp_path / "copilot-magic").exists()
