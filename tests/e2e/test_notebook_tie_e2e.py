"""Conversations tied to notebooks, and exported as notebooks, with real kernels (nbclient)."""

from __future__ import annotations

import getpass
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell
from reliability import Reliability

from copilot_magic.output_metadata import METADATA_KEY
from copilot_magic.sessions.files import SessionFiles

from .cells import error_shown
from .kernels import Kernel
from .notebooks import outputs_text, run_notebook, write_notebook

USER = getpass.getuser()


@pytest.mark.slow
def test_each_notebook_continues_its_own_conversation_in_a_fresh_kernel_even_renamed(
    kernel_env: dict[str, str], tmp_path: Path
) -> None:
    """Two notebooks get two sessions; the first, moved and renamed, finds its own again
    (from its outputs) in a fresh kernel, with its history."""
    path = write_notebook(
        tmp_path / "sales report.ipynb",
        "%load_ext copilot_magic",
        "%copilot_session",
        "%%copilot\nThe quarter ended with revenue up 12%.",
    )
    first = outputs_text(run_notebook(path, kernel_env))
    session_id = f"{USER}-sales-report"
    assert first[1].strip() == f"Created session {session_id}"

    cells = ("%load_ext copilot_magic", "%copilot_session", "%%copilot\nhello")
    two = outputs_text(run_notebook(write_notebook(tmp_path / "two.ipynb", *cells), kernel_env))
    assert two[1].strip() == f"Created session {USER}-two"
    assert "I received 1 user message." in two[2]

    moved = tmp_path / "moved" / "final version.ipynb"
    moved.parent.mkdir()
    shutil.move(path, moved)
    again = outputs_text(run_notebook(moved, kernel_env))
    assert again[1].startswith(f"Resumed session {session_id}: 1 turn")
    assert (
        'I received 2 user messages. The first was: "The quarter ended with revenue up 12%."'
        in again[2]
    )


@pytest.mark.reliability("Bad input", "Notebook name in other scripts: 'Übersicht — 分析 (v2)'")
def test_a_notebook_named_in_other_scripts_gets_an_ascii_id_and_resumes_it(
    kernel_env: dict[str, str], tmp_path: Path, data_dir: Path, reliability: Reliability
) -> None:
    name = "Übersicht — 分析 (v2).ipynb"
    reliability.tried(f"run the notebook {name!r} twice, each in a fresh kernel", times=2)
    path = write_notebook(
        tmp_path / name,
        "%load_ext copilot_magic",
        "%copilot_session",
        "%%copilot\nDie Zahlen für das dritte Quartal.",
    )
    session_id = f"{USER}-Ubersicht-FenXi-v2"  # spelled in ASCII, single dashes
    first = outputs_text(run_notebook(path, kernel_env))
    assert first[1].strip() == f"Created session {session_id}"
    again = outputs_text(run_notebook(path, kernel_env))
    assert again[1].startswith(f"Resumed session {session_id}: 1 turn")
    assert 'The first was: "Die Zahlen für das dritte Quartal."' in again[2]
    assert SessionFiles(data_dir, "").session_ids() == [session_id]
    reliability.held(f"created as {session_id}, then resumed with its 1 turn by the second run")


def test_vs_code_names_the_notebook_through_vsc_ipynb_file(
    start_kernel: object, kernel_env: dict[str, str], tmp_path: Path
) -> None:
    kernel = Kernel(kernel_env, cwd=str(tmp_path))
    try:
        kernel.execute("%load_ext copilot_magic")
        kernel.execute(f"__vsc_ipynb_file__ = {str(tmp_path / 'vscode notes.ipynb')!r}")
        opened = kernel.execute("%copilot_session")
        assert opened.stdout.strip() == f"Created session {USER}-vscode-notes"
    finally:
        kernel.shutdown()


def test_without_a_known_notebook_the_bare_magic_asks_for_an_id(
    kernel_env: dict[str, str], tmp_path: Path
) -> None:
    kernel = Kernel(kernel_env, cwd=str(tmp_path))
    try:
        kernel.execute("%load_ext copilot_magic")
        line = error_shown(kernel.execute("%copilot_session"))
        assert line.startswith("UsageError: No active Copilot session, and this kernel cannot tell")
    finally:
        kernel.shutdown()


def test_export_round_trips_and_the_exported_notebook_continues_the_conversation(
    kernel_env: dict[str, str], tmp_path: Path
) -> None:
    source = write_notebook(
        tmp_path / "source.ipynb",
        "%load_ext copilot_magic",
        "%copilot_session shared-convo",
        "%%copilot\nOur dataset has 3 tables.",
        "%%copilot\nIs this risky? [[echo:abstain]]",
        "%copilot_session --export shared-convo exported.ipynb",
        "%copilot_session --export shared-convo exported.md",
        "%copilot_session --history",
    )
    ran = run_notebook(source, kernel_env)
    assert outputs_text(ran)[4].strip() == "Exported session shared-convo to exported.ipynb"

    exported = nbformat.read(str(tmp_path / "exported.ipynb"), as_version=4)
    nbformat.validate(exported)
    header, load, resume, *turns = exported.cells
    assert header.cell_type == "markdown"
    assert "`shared-convo`" in header.source
    assert "| Turns | 2 (1 abstention) |" in header.source
    assert "| Model | echo |" in header.source
    assert (load.source, resume.source) == (
        "%load_ext copilot_magic",
        "%copilot_session shared-convo",
    )
    assert [cell.source for cell in turns] == [
        "%%copilot\nOur dataset has 3 tables.",
        "%%copilot\nIs this risky? [[echo:abstain]]",
    ]
    metadata = [cell.outputs[0].metadata[METADATA_KEY] for cell in turns]
    assert [(m["session_id"], m["turn"], m["abstained"]) for m in metadata] == [
        ("shared-convo", 1, False),
        ("shared-convo", 2, True),
    ]
    replies = [cell.outputs[0].data["text/plain"] for cell in turns]
    history = outputs_text(ran)[6]
    assert replies[0] in history
    assert replies[1].startswith("🛑 Copilot abstained\n")
    assert "[[POR_ABSTAIN]]" not in str(exported)

    markdown = (tmp_path / "exported.md").read_text(encoding="utf-8")
    assert "Our dataset has 3 tables." in markdown
    assert "🛑 Copilot abstained" in markdown

    # A colleague opens the export, runs its two set-up cells and adds a cell.
    exported.cells = [load, resume, new_code_cell("%%copilot\nWhat were we discussing?")]
    continued_path = tmp_path / "continued.ipynb"
    nbformat.write(exported, str(continued_path))
    continued = outputs_text(run_notebook(continued_path, kernel_env, as_jupyter_would=False))
    assert continued[1].startswith("Resumed session shared-convo: 2 turns")
    assert 'I received 3 user messages. The first was: "Our dataset has 3 tables."' in continued[2]
