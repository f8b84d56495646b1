"""Running the Python that Copilot asked to run (after the person said yes).

The code runs in the person's namespace, like a cell: its printed output is
captured, and the value of a last expression is added as ``Out:``. An
exception does not escape: its traceback is the output, as a cell would show
it. Nothing here asks anyone; :mod:`copilot_magic.kernel.tools` asks first.
"""

from __future__ import annotations

import ast
import contextlib
import io
import traceback
from typing import Any

from copilot_magic.kernel.describe import describe

FILENAME = "<code Copilot asked to run>"


def run_python(code: str, namespace: dict[str, Any], limit: int = 4000) -> str:
    """Run ``code`` in ``namespace``; its output, the last expression's value, or the error."""
    output = io.StringIO()
    try:
        tree = ast.parse(code, FILENAME, "exec")
        last = tree.body[-1] if tree.body else None
        if isinstance(last, ast.Expr):
            tree.body.pop()  # its value is shown, as a cell shows its last expression
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            exec(compile(tree, FILENAME, "exec"), namespace)
            if isinstance(last, ast.Expr):
                value = eval(compile(ast.Expression(last.value), FILENAME, "eval"), namespace)
                if value is not None:
                    output.write(f"Out: {describe(value, limit).text}\n")
    except (Exception, SystemExit) as error:  # noqa: BLE001 - the output, as in a cell
        output.write("".join(traceback.format_exception(error)))
    return output.getvalue()
