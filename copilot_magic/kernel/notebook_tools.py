"""The notebook tools Copilot may call while it replies, when a notebook frontend answers.

They act in the person's open notebook through copilot_magic's JupyterLab and
Notebook 7 extension (:mod:`~copilot_magic.ui.frontend_link` carries the calls):
``read_notebook`` reads every cell; ``edit_cell`` proposes a new source for a
cell, ``insert_cell`` a new cell below one, ``delete_cell`` to delete one, and
``run_cell`` asks to run one. A proposal changes nothing by itself: the person
sees it on the cell as a diff, with every character that can hide text written
out (:func:`~copilot_magic.kernel.hidden.made_visible`), and accepts or rejects
it (Run or Don't run); the model is told which. A cell is named by its id, which an insert above it
does not shift. Where no frontend answers (terminal IPython, VS Code, a headless run,
the extension not installed) these tools are not offered and the session's
instructions say so (:mod:`~copilot_magic.kernel.notebook`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from copilot_magic.kernel.clipping import clip
from copilot_magic.kernel.hidden import hiding_characters, made_visible
from copilot_magic.kernel.notebook import NO_FRONTEND, Change, Notebook
from copilot_magic.kernel.review_diff import diff_lines
from copilot_magic.kernel.tool import Kernel, KernelTool, no_parameters
from copilot_magic.values import plural

MOST_OUTPUT_SHARE = 0.5  # of a cell's share of the limit, at most, for its outputs


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


def _find(notebook: Notebook, cell_id: str) -> Mapping[str, Any] | None:
    return next((cell for cell in notebook.cells() if cell.get("id") == cell_id), None)


def _missing(cell_id: str) -> str:
    return f"The notebook has no cell {cell_id!r}; read_notebook gives the cells' ids."


LANDED = ("accepted", "applied")  # the person accepted; made at once (notebook_edits apply)
APPLIED_AT_ONCE = "(changes apply at once here: the person sees the diff and may undo it)"


def _landed(done: Mapping[str, Any], where: str) -> str:
    """What the model hears of a change that landed: as proposed, or as the person
    changed it before accepting (then the source it holds)."""
    if done.get("outcome") == "applied":
        return f"applied: {where} the source you proposed {APPLIED_AT_ONCE}."
    if done.get("edited"):
        return f"accepted after the person changed it: {where}:\n{done.get('source', '')}"
    return f"accepted: {where} the source you proposed."


def _not_applied(done: Mapping[str, Any], cell_id: str) -> str:
    """What the model hears of a proposal that did not land."""
    outcome = done.get("outcome")
    if outcome == "rejected":
        return f"rejected: the person kept cell {cell_id} as it was."
    if outcome == "missing":
        return _missing(cell_id)
    if outcome == "changed":
        return (
            f"not applied: cell {cell_id} changed while the person reviewed the change "
            "(they or another window edited it); read it again before proposing another."
        )
    return f"not applied: {done.get('error') or done.get('outcome') or 'no answer'}."


def proposal(kind: str, cell_id: str, old: str, source: str, cell_type: str = "code") -> Change:
    """The change and the lines it is shown as: a diff for an edit, the whole source for the
    rest (added for an insert, removed for a delete, as it is for a run)."""
    if kind == "edit":
        lines = diff_lines(old, source)
    else:
        sign, shown = {"insert": ("+", source), "delete": ("-", old)}.get(kind, (" ", old))
        lines = [(sign, made_visible(line)) for line in shown.split("\n")]
    hidden = len(hiding_characters(source or old))
    return Change(kind, cell_id, old, source, tuple(lines), hidden, cell_type)


def _type(cell: Mapping[str, Any]) -> str:
    found = cell.get("type")
    return found if found in ("markdown", "raw") else "code"


def edit(notebook: Notebook | None, arguments: Mapping[str, Any], limit: int) -> str:
    """Propose the edit and say what the person did with it."""
    if notebook is None:
        return NO_FRONTEND
    cell_id, source = str(arguments.get("cell_id", "")), arguments.get("source")
    if not isinstance(source, str):
        return "edit_cell needs the cell's whole new source as a string."
    cell = _find(notebook, cell_id)
    if cell is None:
        return _missing(cell_id)
    old = str(cell.get("source", ""))
    if old == source:
        return f"Cell {cell_id} already holds that source; nothing to change."
    done = notebook.propose(proposal("edit", cell_id, old, source))
    if done.get("outcome") not in LANDED:
        return _not_applied(done, cell_id)
    return _landed(done, f"cell {cell_id} now holds")


def insert(notebook: Notebook | None, arguments: Mapping[str, Any], limit: int) -> str:
    """Propose a new cell below ``after_cell_id`` and say what the person did with it."""
    if notebook is None:
        return NO_FRONTEND
    after, source = str(arguments.get("after_cell_id", "")), arguments.get("source")
    cell_type = arguments.get("cell_type", "code")
    if not isinstance(source, str) or cell_type not in ("code", "markdown"):
        return "insert_cell needs the new cell's source, and a cell_type of code or markdown."
    if _find(notebook, after) is None:
        return _missing(after)
    done = notebook.propose(proposal("insert", after, "", source, str(cell_type)))
    if done.get("outcome") not in LANDED:
        return _not_applied(done, after)
    new = f"a new {cell_type} cell {done.get('cell_id', '')}"
    if done.get("outcome") == "accepted" and not done.get("edited"):
        return f"accepted: {new} is below cell {after}."
    return _landed(done, f"{new} below cell {after} holds")


def delete(notebook: Notebook | None, arguments: Mapping[str, Any], limit: int) -> str:
    """Propose to delete a cell and say what the person did with it."""
    if notebook is None:
        return NO_FRONTEND
    cell_id = str(arguments.get("cell_id", ""))
    cell = _find(notebook, cell_id)
    if cell is None:
        return _missing(cell_id)
    done = notebook.propose(
        proposal("delete", cell_id, str(cell.get("source", "")), "", _type(cell))
    )
    if done.get("outcome") != "accepted":
        return _not_applied(done, cell_id)
    return f"accepted: cell {cell_id} is deleted."


def run(kernel: Kernel, arguments: Mapping[str, Any], limit: int) -> str:
    """Ask the person to run a code cell (Run / Don't run, on the cell); on Run, run its
    source, as the person saw it, in the kernel (its output shows under that cell), and
    give the model what it printed."""
    notebook = kernel.notebook()
    if notebook is None:
        return NO_FRONTEND
    cell_id = str(arguments.get("cell_id", ""))
    cell = _find(notebook, cell_id)
    if cell is None:
        return _missing(cell_id)
    if cell.get("type") != "code":
        return f"Cell {cell_id} is a {cell.get('type')} cell: only code cells run."
    source = str(cell.get("source", ""))
    done = notebook.propose(proposal("run", cell_id, source, source))
    if done.get("outcome") == "rejected":
        return f"denied: the person chose not to run cell {cell_id}, so nothing ran."
    if done.get("outcome") != "accepted":
        return _not_applied(done, cell_id)
    printed = kernel.run(source, cell_id) or "(it ran and printed nothing)"
    return clip(f"ran cell {cell_id} (the person said Run); it printed:\n{printed}", limit)


def read_line(arguments: Mapping[str, Any], result: str) -> str:
    return "🔎 read the notebook"


def _outcome_word(result: str) -> str:
    said = result.split(":", 1)[0]
    if said == "accepted after the person changed it":
        return "accepted with your changes"
    return said if said in ("accepted", "rejected", "applied") else "not applied"


def _hidden_note(arguments: Mapping[str, Any]) -> str:
    hidden = hiding_characters(str(arguments.get("source", "")))
    count = plural(len(hidden), "hidden character")
    return f" (it held {count}, shown as ⟨…⟩)" if hidden else ""


def edit_line(arguments: Mapping[str, Any], result: str) -> str:
    """``✏️ proposed an edit to cell ID: accepted`` (rejected, not applied)."""
    cell = arguments.get("cell_id", "")
    return f"✏️ proposed an edit to cell {cell}: {_outcome_word(result)}{_hidden_note(arguments)}"


def insert_line(arguments: Mapping[str, Any], result: str) -> str:
    after = arguments.get("after_cell_id", "")
    word = _outcome_word(result)
    return f"➕ proposed a new cell below cell {after}: {word}{_hidden_note(arguments)}"


def run_line(arguments: Mapping[str, Any], result: str) -> str:
    cell = arguments.get("cell_id", "")
    if result.startswith("ran cell"):
        return f"▶ ran cell {cell} (you said Run)"
    return f"✋ did not run cell {cell}"


def delete_line(arguments: Mapping[str, Any], result: str) -> str:
    return f"🗑 proposed to delete cell {arguments.get('cell_id', '')}: {_outcome_word(result)}"


def _object(**properties: dict[str, Any]) -> dict[str, Any]:
    """The JSON schema of a tool's arguments: an object of exactly these, all required."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def _in_notebook(
    respond: Callable[[Notebook | None, Mapping[str, Any], int], str],
) -> Callable[[Kernel, Mapping[str, Any], int], str]:
    """A notebook tool's answer, given the notebook of the kernel it is asked in."""
    return lambda kernel, arguments, limit: respond(kernel.notebook(), arguments, limit)


READ_NOTEBOOK = KernelTool(
    "read_notebook",
    "Read the person's open notebook: every cell in order with its id, type (code or "
    "markdown), source, execution count and text outputs. Read-only.",
    no_parameters(),
    _in_notebook(read),
    read_line,
)
EDIT_CELL = KernelTool(
    "edit_cell",
    "Propose a new source for one cell of the person's notebook, named by its id from "
    "read_notebook. The person sees the change as a diff on the cell and accepts or rejects "
    "it (unless your instructions say changes apply at once). The result says which, and "
    "what the cell holds after an accepted edit.",
    _object(
        cell_id={"type": "string", "description": "The cell's id, from read_notebook."},
        source={"type": "string", "description": "The cell's whole new source."},
    ),
    _in_notebook(edit),
    edit_line,
)
INSERT_CELL = KernelTool(
    "insert_cell",
    "Propose a new cell (code or markdown) below one cell of the person's notebook, named "
    "by its id from read_notebook. The person sees it as a diff and accepts or rejects it; "
    "the result says which, and the new cell's id.",
    _object(
        after_cell_id={"type": "string", "description": "The cell above the new one."},
        cell_type={"type": "string", "enum": ["code", "markdown"]},
        source={"type": "string", "description": "The new cell's source."},
    ),
    _in_notebook(insert),
    insert_line,
)
DELETE_CELL = KernelTool(
    "delete_cell",
    "Propose to delete one cell of the person's notebook, named by its id from "
    "read_notebook. The person sees it and accepts or rejects; the result says which.",
    _object(cell_id={"type": "string", "description": "The cell's id, from read_notebook."}),
    _in_notebook(delete),
    delete_line,
)
RUN_CELL = KernelTool(
    "run_cell",
    "Ask the person to run one code cell of their notebook, named by its id from "
    "read_notebook. They see the cell and choose Run or Don't run; on Run its source runs "
    "in the kernel and the result is what it printed, else 'denied'.",
    _object(cell_id={"type": "string", "description": "The cell's id, from read_notebook."}),
    run,
    run_line,
)
# Offered where a notebook frontend answers (run_cell only where run_code asks, too).
NOTEBOOK = (READ_NOTEBOOK, EDIT_CELL, INSERT_CELL, DELETE_CELL, RUN_CELL)
