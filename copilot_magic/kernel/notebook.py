"""The open notebook as Copilot's notebook tools see it, and what a session is told of it.

:class:`Notebook` is what the frontend that ran the cell does for the tools
(:mod:`~copilot_magic.ui.frontend_link` carries it over a comm): report every cell,
and show a :class:`Change` on its cell for the person to accept or reject. Nothing
here needs IPython.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from copilot_magic.kernel.review_diff import DiffLine

NO_FRONTEND = "not applied: the notebook's frontend is no longer connected."
WITH_FRONTEND = (
    "The person's notebook is open in JupyterLab or Notebook 7 with copilot_magic's "
    "extension: read_notebook reads its cells (each with its id); edit_cell, insert_cell "
    "and delete_cell propose changes, each of which the person reviews as a diff on its "
    "cell and accepts or rejects, and run_cell asks them to run a cell. Name cells by their "
    "id."
)
APPLYING_FRONTEND = (
    "The person's notebook is open in JupyterLab or Notebook 7 with copilot_magic's "
    "extension: read_notebook reads its cells (each with its id); edit_cell and insert_cell "
    "change the notebook at once (the person sees each change as a diff on its cell and may "
    "undo it), delete_cell proposes a deletion they accept or reject, and run_cell asks them "
    "to run a cell. Name cells by their id."
)
WITHOUT_FRONTEND = (
    "No notebook frontend answered in this kernel (a terminal, VS Code, a headless run, or "
    "JupyterLab without copilot_magic's extension), so you cannot read or edit the "
    "notebook's cells: put code in your reply instead (the person can take it into a new "
    "cell with --code)."
)


NOTEBOOK_TOOLS_OFF = (
    "Reading and changing the notebook's cells is turned off in this kernel: put code in "
    "your reply instead (the person can take it into a new cell with --code)."
)


def instructions(kernel_tools: bool, notebook_edits: str, notebook_tools: bool) -> str:
    """What a session is told of the notebook, added to the runtime's instructions: that
    the notebook tools act in it (under review, or at once), that they are turned off, or
    that no frontend answered ("" without kernel tools)."""
    if not kernel_tools:
        return ""
    if notebook_edits == "off":
        return NOTEBOOK_TOOLS_OFF
    if not notebook_tools:
        return WITHOUT_FRONTEND
    return APPLYING_FRONTEND if notebook_edits == "apply" else WITH_FRONTEND


class Lost(Exception):
    """The notebook's frontend went away (closed the link, or stopped answering)."""


class Notebook(Protocol):
    """The open notebook, as the frontend that ran the cell reports and changes it."""

    def cells(self) -> Sequence[Mapping[str, Any]]:
        """Every cell in order: ``id``, ``type`` (code, markdown, raw), ``source``,
        ``execution_count`` (``None`` if never run) and ``outputs`` (their text)."""
        ...

    def propose(self, change: Change) -> Mapping[str, Any]:
        """Show ``change`` on its cell as a diff and wait for the person.

        Returns ``outcome``: ``accepted``, ``rejected``, ``changed`` (the cell no longer
        held ``change.old``, or changed during the review: nothing was applied),
        ``missing`` (no such cell, or it went during the review) or ``unchanged`` (an edit
        to the source it holds); after an accepted insert, ``cell_id``: the new cell's.
        Raises :class:`Lost` when the frontend goes away before it answers."""
        ...

    def watch(self, applied: Callable[[AppliedChange], None]) -> None:
        """Call ``applied`` with each change the person accepts from now on."""
        ...


@dataclass(frozen=True)
class Change:
    """A change Copilot proposes: ``edit`` cell ``cell_id`` from ``old`` to ``source``,
    ``insert`` a ``cell_type`` cell holding ``source`` below it, ``delete`` it (which
    holds ``old``), or ``run`` it (it holds ``old``, which runs). ``lines`` is the diff
    shown; ``hidden`` how many characters of ``source`` it writes out as markers."""

    kind: str
    cell_id: str
    old: str
    source: str
    lines: tuple[DiffLine, ...]
    hidden: int
    cell_type: str = "code"
    purpose: str = "propose"  # or "rewind": putting back what a rewound turn changed
    new_id: str = ""  # an insert's: the id the new cell takes ("": a new one)


@dataclass(frozen=True)
class AppliedChange:
    """A change the person accepted, as it is kept with the turn that made it, so that a
    rewind of the turn can put the cell back: ``edit`` (cell ``cell_id`` went from
    ``before`` to ``after``), ``insert`` (the new cell ``cell_id`` holds ``after``, below
    ``above``) or ``delete`` (cell ``cell_id``, a ``cell_type`` cell holding ``before``,
    was below ``above``; "" at the top), in the notebook at ``notebook``."""

    kind: str
    cell_id: str
    before: str
    after: str
    cell_type: str = "code"
    above: str = ""
    notebook: str = ""
