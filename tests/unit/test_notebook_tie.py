"""Which notebook a kernel runs, which session it owns, and the link file (no runtime)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from hypothesis import given
from hypothesis import strategies as st
from nbformat.v4 import new_code_cell, new_notebook, new_output

from copilot_magic.output_metadata import METADATA_KEY
from copilot_magic.sessions.ids import validate_session_id
from copilot_magic.sessions.notebooks import (
    NotebookLinks,
    find_notebook,
    new_session_id,
    sessions_of_notebook,
    sessions_recorded_in,
)


def test_configured_path_wins_over_vs_code_and_jupyter() -> None:
    found = find_notebook(
        "/a/set.ipynb",
        {"__vsc_ipynb_file__": "/b/vscode.ipynb"},
        {"JPY_SESSION_NAME": "/c/lab.ipynb"},
    )
    assert found == Path("/a/set.ipynb")


def test_vs_code_then_jupyter_and_the_setting_is_read_once() -> None:
    """COPILOT_MAGIC_NOTEBOOK is the setting's default, not read a second time here: a
    notebook_path set back to "" with %config means "not set"."""
    assert find_notebook("", {}, {"COPILOT_MAGIC_NOTEBOOK": "/e/env.ipynb"}) is None
    vsc = {"__vsc_ipynb_file__": "/b/vscode.ipynb"}
    assert find_notebook("", vsc, {"JPY_SESSION_NAME": "/c/lab.ipynb"}) == Path("/b/vscode.ipynb")
    assert find_notebook("", {}, {"JPY_SESSION_NAME": "/c/lab.ipynb"}) == Path("/c/lab.ipynb")


def test_a_notebook_suffix_in_capitals_is_a_notebook() -> None:
    assert find_notebook("", {}, {"JPY_SESSION_NAME": "/c/Lab.IPYNB"}) == Path("/c/Lab.IPYNB")
    assert find_notebook("/a/Set.Ipynb", {}, {}) == Path("/a/Set.Ipynb")


def test_a_console_session_name_is_not_a_notebook() -> None:
    assert find_notebook("", {}, {"JPY_SESSION_NAME": "/c/console-1-abc"}) is None
    assert find_notebook("", {}, {}) is None


def test_new_ids_are_readable_valid_and_unique() -> None:
    assert new_session_id("ada", Path("/x/Sales report.ipynb"), lambda _id: False) == (
        "ada-Sales-report"
    )
    taken = {"ada-Sales-report", "ada-Sales-report-2"}
    assert new_session_id("ada", Path("/x/Sales report.ipynb"), taken.__contains__) == (
        "ada-Sales-report-3"
    )


@pytest.mark.parametrize(
    ("user", "name", "expected"),
    [
        ("root", "Übersicht — 分析 (v2).ipynb", "root-Ubersicht-FenXi-v2"),
        ("ada", "отчёт -- final__.ipynb", "ada-otchet-final"),
        ("zoë", "Café crème.IPYNB", "zoe-Cafe-creme"),
        ("", "—.ipynb", "notebook"),
    ],
)
def test_other_scripts_are_spelled_in_ascii_with_single_dashes(
    user: str, name: str, expected: str
) -> None:
    chosen = new_session_id(user, Path("/x") / name, lambda _id: False)
    assert chosen == expected
    assert validate_session_id(chosen) == chosen


@given(user=st.text(max_size=40), stem=st.text(max_size=300))
def test_any_user_and_notebook_name_gives_a_valid_id(user: str, stem: str) -> None:
    name = (stem.replace("/", "_") or "x") + ".ipynb"
    chosen = new_session_id(user, Path(name), lambda _id: False)
    assert validate_session_id(chosen) == chosen


def test_links_remember_and_forget(tmp_path: Path) -> None:
    links = NotebookLinks(tmp_path)
    links.link(Path("/n/one.ipynb"), "s1")
    links.link(Path("/n/two.ipynb"), "s2")
    assert NotebookLinks(tmp_path).session_of(Path("/n/one.ipynb")) == "s1"
    links.forget_session("s1")
    assert links.session_of(Path("/n/one.ipynb")) is None
    assert links.session_of(Path("/n/two.ipynb")) == "s2"


def test_a_corrupt_link_file_of_an_older_version_is_treated_as_empty(tmp_path: Path) -> None:
    legacy = tmp_path / "copilot-magic" / "notebooks.json"
    legacy.parent.mkdir(parents=True)
    legacy.write_text("{not json", encoding="utf-8")
    links = NotebookLinks(tmp_path)
    assert links.session_of(Path("/n/one.ipynb")) is None
    assert not legacy.exists()
    links.link(Path("/n/one.ipynb"), "s1")
    assert links.session_of(Path("/n/one.ipynb")) == "s1"


def _saved_notebook(path: Path, *session_ids: str) -> Path:
    cells = []
    for number, session_id in enumerate(session_ids, start=1):
        cell = new_code_cell("%%copilot\nhi")
        meta = {METADATA_KEY: {"session_id": session_id, "turn": number}}
        cell.outputs = [new_output("display_data", data={"text/plain": "r"}, metadata=meta)]
        cells.append(cell)
    nbformat.write(new_notebook(cells=cells), str(path))
    return path


def test_sessions_are_read_from_the_saved_outputs(tmp_path: Path) -> None:
    path = _saved_notebook(tmp_path / "n.ipynb", "first", "second", "second")
    assert sessions_recorded_in(path) == ["first", "second", "second"]


@pytest.mark.parametrize(
    "content",
    [
        "",
        "not a notebook",
        '{"cells": 3}',
        "[1, 2]",
        '{"cells": [7, {"outputs": {"a": 1}}, {"outputs": [null, {"metadata": []}]}]}',
        b"\xff\xfe".decode("latin-1"),
    ],
)
def test_an_unreadable_notebook_records_nothing(tmp_path: Path, content: str) -> None:
    path = tmp_path / "broken.ipynb"
    path.write_text(content, encoding="utf-8")
    assert sessions_recorded_in(path) == []
    assert sessions_recorded_in(tmp_path / "missing.ipynb") == []


def test_the_link_comes_first_then_the_latest_output(tmp_path: Path) -> None:
    path = _saved_notebook(tmp_path / "n.ipynb", "older", "newer")
    links = NotebookLinks(tmp_path)
    assert sessions_of_notebook(path, links) == ["newer", "older"]
    links.link(path, "linked")
    assert sessions_of_notebook(path, links) == ["linked", "newer", "older"]
