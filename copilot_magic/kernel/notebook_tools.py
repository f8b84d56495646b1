"""The notebook tools Copilot may call while it replies, when a notebook frontend answers.

They act in the person's open notebook through copilot_magic's JupyterLab and
Notebook 7 extension (:mod:`~copilot_magic.ui.frontend_link` carries the calls):
``read_notebook`` reads every cell, ``edit_cell`` proposes a new source for one
cell. A proposed edit changes nothing by itself: the person sees it on the cell
as a diff, with every character that can hide text written out
(:func:`~copilot_magic.kernel.hidden.made_visible`), and accepts or rejects it;
the model is told which, and what the cell holds after an accepted edit that the
person changed first. A cell is named by its id, which an insert above it does
not shift. Where no frontend answers (terminal IPython, VS Code, a headless run,
the extension not installed) these tools are not offered and the session's
instructions say so (:data:`WITHOUT_FRONTEND`).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from copilot_magic.kernel.clipping import clip
from copilot_magic.kernel.hidden import hiding_characters, made_visible

MOST_OUTPUT_SHARE = 0.5  # of a cell's share of the limit, at most, for its outputs
CONTEXT_LINES = 3  # unchanged lines a diff shows on each side of a change
DiffLine = tuple[str, str]  # (" ", "-", "+" or "…", the line with hidden characters written out)

NO_FRONTEND = "not applied: the notebook's frontend is no longer connected."
WITH_FRONTEND = (
    "The person's notebook is open in JupyterLab or Notebook 7 with copilot_magic's "
    "extension: read_notebook reads its cells (each with its id), and edit_cell proposes "
    "a new source for a cell, which the person reviews as a diff and accepts or rejects. "
    "Name cells by their id."
)
WITHOUT_FRONTEND = (
    "No notebook frontend answered in this kernel (a terminal, VS Code, a headless run, or "
    "JupyterLab without copilot_magic's extension), so you cannot read or edit the "
    "notebook's cells: put code in your reply instead (the person can take it into a new "
    "cell with --code)."
)


def instructions(kernel_tools: bool, notebook_tools: bool) -> str:
    """What a session is told of the notebook, added to the runtime's instructions: that
    the notebook tools act in it, or why there are none ("" without kernel tools)."""
    if not kernel_tools:
        return ""
    return WITH_FRONTEND if notebook_tools else WITHOUT_FRONTEND


class Notebook(Protocol):
    """The open notebook, as the frontend that ran the cell reports and changes it."""

    def cells(self) -> Sequence[Mapping[str, Any]]:
        """Every cell in order: ``id``, ``type`` (code, markdown, raw), ``source``,
        ``execution_count`` (``None`` if never run) and ``outputs`` (their text)."""
        ...

    def propose_edit(
        self, cell_id: str, old: str, source: str, lines: Sequence[DiffLine], hidden: int
    ) -> Mapping[str, Any]:
        """Show the edit of cell ``cell_id`` from ``old`` to ``source`` as the diff
        ``lines`` (``hidden``: how many characters of ``source`` are written out as markers
        there) and wait for the person.

        Returns ``outcome``: ``accepted``, ``rejected``, ``changed`` (the cell no longer
        held ``old``, or changed during the review: nothing was applied), ``missing`` (no
        such cell), ``unchanged`` (it holds ``source`` already) or ``withdrawn`` (the cell
        ended first); with ``source``, what the cell holds after an accepted edit."""
        ...


def _cell_text(cell: Mapping[str, Any], share: int) -> str:
    count = cell.get("execution_count")
    ran = f", In [{count}]" if isinstance(count, int) else ""
    kind = cell.get("type", "code")
    part = f"--- cell {cell.get('id', '?')} ({kind}{ran})\n{cell.get('source', '')}"
    outputs = "\n".join(str(text) for text in cell.get("outputs") or [] if text)
    if outputs:
        part += "\n--- output:\n" + clip(outputs, max(int(share * MOST_OUTPUT_SHARE), 100))
    return clip(part, share)


def read(notebook: Notebook | None, arguments: Mapping[str, Any], limit: int) -> str:
    """What ``read_notebook`` gives the model: every cell, within ``limit`` characters."""
    if notebook is None:
        return NO_FRONTEND
    cells = list(notebook.cells())
    if not cells:
        return "The notebook has no cells."
    share = max(limit // len(cells), 200)
    return clip("\n\n".join(_cell_text(cell, share) for cell in cells), limit)


def edit(notebook: Notebook | None, arguments: Mapping[str, Any], limit: int) -> str:
    """Propose the edit and say what the person did with it."""
    if notebook is None:
        return NO_FRONTEND
    cell_id = str(arguments.get("cell_id", ""))
    source = arguments.get("source")
    if not isinstance(source, str):
        return "edit_cell needs the cell's whole new source as a string."
    cell = next((cell for cell in notebook.cells() if cell.get("id") == cell_id), None)
    if cell is None:
        return f"The notebook has no cell {cell_id!r}; read_notebook gives the cells' ids."
    old = str(cell.get("source", ""))
    if old == source:
        return f"Cell {cell_id} already holds that source; nothing to change."
    lines = diff_lines(old, source)
    done = notebook.propose_edit(cell_id, old, source, lines, len(hiding_characters(source)))
    outcome = done.get("outcome")
    if outcome == "accepted":
        final = done.get("source", source)
        if final == source:
            return f"accepted: cell {cell_id} now holds the source you proposed."
        return clip(
            f"accepted after the person changed it: cell {cell_id} now holds:\n{final}", limit
        )
    if outcome == "rejected":
        return f"rejected: the person kept cell {cell_id} as it was."
    if outcome == "unchanged":
        return f"Cell {cell_id} already holds that source; nothing to change."
    if outcome == "missing":
        return f"The notebook has no cell {cell_id!r}; read_notebook gives the cells' ids."
    if outcome == "changed":
        return (
            f"not applied: cell {cell_id} changed while the person reviewed the edit "
            "(they or another window edited it); read it again before proposing another."
        )
    return f"not applied: {done.get('error') or 'the notebook did not say why'}."


def diff_lines(old: str, new: str) -> list[DiffLine]:
    """The lines of the diff from ``old`` to ``new``: removed ("-"), added ("+"), unchanged
    (" ") near a change, and "…" for a run of unchanged lines left out. Lines are split at
    newlines only, so a carriage return or a line separator stays in its line, written out
    as a marker with every other character that can hide text."""
    before, after = old.split("\n"), new.split("\n")
    found: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for tag, start, end, new_start, new_end in matcher.get_opcodes():
        if tag != "equal":
            found += [("-", line) for line in before[start:end]]
            found += [("+", line) for line in after[new_start:new_end]]
            continue
        same = before[start:end]
        head = same[:CONTEXT_LINES] if found else []
        tail = same[-CONTEXT_LINES:] if end < len(before) else []
        if len(head) + len(tail) >= len(same):
            found += [(" ", line) for line in same]
            continue
        left_out = len(same) - len(head) - len(tail)
        found += [(" ", line) for line in head]
        found.append(("…", f"{left_out} unchanged line{'s' if left_out != 1 else ''}"))
        found += [(" ", line) for line in tail]
    return [(kind, made_visible(text)) for kind, text in found]


def read_line(arguments: Mapping[str, Any], result: str) -> str:
    return "🔎 read the notebook"


def edit_line(arguments: Mapping[str, Any], result: str) -> str:
    """``✏️ proposed an edit to cell ID: accepted`` (rejected, not applied)."""
    hidden = hiding_characters(str(arguments.get("source", "")))
    count = f"{len(hidden)} hidden character{'s' if len(hidden) != 1 else ''}"
    note = f" (it held {count}, shown as ⟨…⟩)" if hidden else ""
    said = result.split(":", 1)[0].split(" after", 1)[0]
    word = said if said in ("accepted", "rejected") else "not applied"
    return f"✏️ proposed an edit to cell {arguments.get('cell_id', '')}: {word}{note}"
