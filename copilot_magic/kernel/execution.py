"""Running the Python that Copilot asked to run (after the person said yes).

The code runs in the person's namespace, like a cell: its printed output is
captured, and the value of a last expression is kept. An exception does not
escape: its traceback is the output, as a cell would show it. Nothing here asks
anyone; :mod:`copilot_magic.kernel.tools` asks first.

:func:`run_python` gives what the model reads; :func:`cell_outputs` what a notebook
cell shows of the same run (its printed text, what it displayed, the value, the
error), as nbformat outputs, where a cell run from the notebook shows them under
that cell.
"""

from __future__ import annotations

import ast
import contextlib
import io
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from copilot_magic.kernel.describe import describe

FILENAME = "<code Copilot asked to run>"
Bundle = tuple[Mapping[str, Any], Mapping[str, Any]]  # a display's data and metadata


@dataclass(frozen=True)
class Ran:
    """What running code gave: its printed text (standard output and error, in order), the
    value of its last expression (``has_value``: there was one, not ``None``), its error."""

    printed: str
    value: Any = None
    has_value: bool = False
    error: BaseException | None = None

    def text(self, limit: int = 4000) -> str:
        """What the model reads: the printed text, ``Out:`` and the value, the traceback."""
        shown = self.printed
        if self.has_value:
            shown += f"Out: {describe(self.value, limit).text}\n"
        if self.error is not None:
            shown += "".join(traceback.format_exception(self.error))
        return shown


def run_code(code: str, namespace: dict[str, Any]) -> Ran:
    """Run ``code`` in ``namespace``, like a cell."""
    output = io.StringIO()
    try:
        tree = ast.parse(code, FILENAME, "exec")
        last = tree.body[-1] if tree.body else None
        if isinstance(last, ast.Expr):
            tree.body.pop()  # its value is kept, as a cell shows its last expression
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            exec(compile(tree, FILENAME, "exec"), namespace)
            if isinstance(last, ast.Expr):
                value = eval(compile(ast.Expression(last.value), FILENAME, "eval"), namespace)
                return Ran(output.getvalue(), value, value is not None)
    except (Exception, SystemExit) as error:  # noqa: BLE001 - the output, as in a cell
        return Ran(output.getvalue(), error=error)
    return Ran(output.getvalue())


def run_python(code: str, namespace: dict[str, Any], limit: int = 4000) -> str:
    """Run ``code`` in ``namespace``; its output, the last expression's value, or the error."""
    return run_code(code, namespace).text(limit)


def cell_outputs(
    ran: Ran,
    displayed: Sequence[Bundle],
    value: Bundle | None,
    execution_count: int | None,
    mask: Callable[[str], str] = str,
) -> list[dict[str, Any]]:
    """The nbformat outputs a cell shows for ``ran``: its printed text, each display in order,
    the value (``value``: its formatted bundle), the error; ``mask`` is applied to all their
    text (not to images)."""

    def masked(data: Mapping[str, Any]) -> dict[str, Any]:
        return {
            kind: mask(shown) if kind.startswith("text/") and isinstance(shown, str) else shown
            for kind, shown in data.items()
        }

    outputs: list[dict[str, Any]] = []
    if ran.printed:
        outputs.append({"output_type": "stream", "name": "stdout", "text": mask(ran.printed)})
    for data, metadata in displayed:
        outputs.append(
            {"output_type": "display_data", "data": masked(data), "metadata": dict(metadata)}
        )
    if value is not None:
        data, metadata = value
        outputs.append(
            {
                "output_type": "execute_result",
                "data": masked(data),
                "metadata": dict(metadata),
                "execution_count": execution_count,
            }
        )
    if ran.error is not None:
        lines = "".join(traceback.format_exception(ran.error)).splitlines()
        outputs.append(
            {
                "output_type": "error",
                "ename": type(ran.error).__name__,
                "evalue": mask(str(ran.error)),
                "traceback": [mask(line) for line in lines],
            }
        )
    return outputs
