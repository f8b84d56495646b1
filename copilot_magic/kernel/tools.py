"""The kernel tools Copilot may call while it replies, and how each call is answered.

Four read the kernel and change nothing: its variables, one variable's
description, the recent cells, the last error. The fifth runs Python, and only
after the person says yes (:meth:`Kernel.approve`); code that holds a character
that can hide what it does (:mod:`~copilot_magic.kernel.hidden`) is shown with
those characters written out and refused without asking (:meth:`Kernel.refuse`).
Every answer is bounded and passes through the one redaction step of
:func:`~copilot_magic.kernel.tool.answer` before the model gets it. Each call is
also one short line in the cell ("🔎 looked at `df`"). Where a notebook frontend
answers, the notebook tools (:mod:`~copilot_magic.kernel.notebook_tools`) are
offered too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from copilot_magic.kernel.clipping import clip
from copilot_magic.kernel.describe import describe
from copilot_magic.kernel.hidden import REFUSED, hiding_characters, refusal, refused_result
from copilot_magic.kernel.notebook_tools import NOTEBOOK, RUN_CELL
from copilot_magic.kernel.references import error_attachment
from copilot_magic.kernel.tool import Kernel, KernelTool, no_parameters

MOST_VARIABLES = 200  # listed by the variables tool
MOST_CELLS = 20  # read at once by the cells tool
DENIED = "denied: the person did not allow running this code, so nothing ran."
NO_CODE = "There was no code to run."
# How every result that ran nothing begins: denied, refused (hiding characters), no code,
# interrupted before it ran, or the refusals of a call nobody answered ("This tool is not…").
NOT_RUN = ("denied", REFUSED, "There was no code", "interrupted", "This tool is not")


def _variables(kernel: Kernel, arguments: Mapping[str, Any], limit: int) -> str:
    names = sorted(kernel.variables().items())
    if not names:
        return "The kernel has no variables yet."
    lines = [
        f"{name}: {describe(value, 200, time_limit=0.1).summary}"
        for name, value in names[:MOST_VARIABLES]
    ]
    if len(names) > MOST_VARIABLES:
        lines.append(f"… and {len(names) - MOST_VARIABLES} more")
    return clip("\n".join(lines), limit)


def _describe(kernel: Kernel, arguments: Mapping[str, Any], limit: int) -> str:
    name = str(arguments.get("name", ""))
    variables = kernel.variables()
    if name not in variables:
        return f"The kernel has no variable {name!r}; list_variables names them."
    return describe(variables[name], limit).text


def _cells(kernel: Kernel, arguments: Mapping[str, Any], limit: int) -> str:
    cells = kernel.cells()[-_count(arguments) :]
    if not cells:
        return "No cell has run yet."
    share = max(limit // len(cells), 100)
    parts = []
    for number, source, result in cells:
        part = f"In [{number}]:\n{source}"
        if result is not None:
            part += f"\nOut[{number}]: {describe(result, share).text}"
        parts.append(clip(part, share))
    return clip("\n\n".join(parts), limit)


def _count(arguments: Mapping[str, Any]) -> int:
    """How many cells the model asked for, within 1 and ``MOST_CELLS`` (default 5)."""
    count = arguments.get("count", 5)
    return min(max(count if isinstance(count, int) else 5, 1), MOST_CELLS)


def _last_error(kernel: Kernel, arguments: Mapping[str, Any], limit: int) -> str:
    error = kernel.last_error()
    if error is None:
        return "No cell has failed in this kernel."
    return error_attachment(error, limit, kernel.traceback_of).text


def _run(kernel: Kernel, arguments: Mapping[str, Any], limit: int) -> str:
    code = str(arguments.get("code", ""))
    if not code.strip():
        return NO_CODE
    hiding = hiding_characters(code)
    if hiding:
        with contextlib.suppress(Exception):  # not shown: refused all the same
            kernel.refuse(code, refusal(len(hiding)))
        return refused_result(code)
    if not kernel.approve(code):
        return DENIED
    return clip(kernel.run(code) or "(it ran and printed nothing)", limit)


def _named(arguments: Mapping[str, Any], result: str) -> str:
    return f"🔎 looked at `{arguments.get('name', '')}`"


def _ran(arguments: Mapping[str, Any], result: str) -> str:
    if result.startswith(REFUSED):
        return "✋ did not run the code Copilot asked to run (it held hidden characters)"
    if result.startswith(NOT_RUN):
        return "✋ did not run the code Copilot asked to run"
    return "▶ ran the code Copilot asked to run (you said yes)"


LIST_VARIABLES = KernelTool(
    "list_variables",
    "List the variables of the person's Jupyter kernel: each name with its type and size "
    "(a DataFrame's rows and columns, an array's shape). Read-only.",
    no_parameters(),
    _variables,
    lambda arguments, result: "🔎 listed the variables",
)
DESCRIBE_VARIABLE = KernelTool(
    "describe_variable",
    "Describe one variable of the person's Jupyter kernel: for a DataFrame its shape, "
    "columns, dtypes, null counts and first rows; for an array its shape, dtype and a "
    "sample; for other values their type and a clipped repr. Read-only.",
    {
        "type": "object",
        "properties": {"name": {"type": "string", "description": "The variable's name."}},
        "required": ["name"],
        "additionalProperties": False,
    },
    _describe,
    _named,
)
READ_CELLS = KernelTool(
    "read_cells",
    "Read the most recent cells the person ran in the notebook, with their results. Read-only.",
    {
        "type": "object",
        "properties": {
            "count": {
                "type": "integer",
                "minimum": 1,
                "maximum": MOST_CELLS,
                "description": "How many of the latest cells (default 5).",
            }
        },
        "additionalProperties": False,
    },
    _cells,
    lambda arguments, result: f"🔎 read the last {_count(arguments)} cells",
)
READ_LAST_ERROR = KernelTool(
    "read_last_error",
    "Read the last exception raised in the person's kernel, with its traceback. Read-only.",
    no_parameters(),
    _last_error,
    lambda arguments, result: "🔎 read the last error",
)
RUN_CODE = KernelTool(
    "run_code",
    "Run Python code in the person's kernel, to check an answer. The person sees the code "
    "and is asked before it runs; the result is the code's printed output and the value of "
    "its last expression, or 'denied' if they said no. Code holding control, zero-width or "
    "bidirectional characters is refused without asking: write them as escapes in strings.",
    {
        "type": "object",
        "properties": {"code": {"type": "string", "description": "The Python code to run."}},
        "required": ["code"],
        "additionalProperties": False,
    },
    _run,
    _ran,
)
READ_ONLY = (LIST_VARIABLES, DESCRIBE_VARIABLE, READ_CELLS, READ_LAST_ERROR)
EVERY_TOOL = (*READ_ONLY, RUN_CODE, *NOTEBOOK)


def offered(kernel_tools: bool, run_code: str, notebook: bool = False) -> tuple[KernelTool, ...]:
    """The tools a session offers under these settings (``run_code`` "ask" adds the ones that
    run code; there is no setting that runs code without asking), and the notebook tools
    where they act (``notebook``: they are on and a notebook frontend answers)."""
    if not kernel_tools:
        return ()
    tools = (*READ_ONLY, RUN_CODE) if run_code == "ask" else READ_ONLY
    if not notebook:
        return tools
    return (*tools, *(tool for tool in NOTEBOOK if run_code == "ask" or tool is not RUN_CELL))


def by_name(name: str) -> KernelTool | None:
    return next((tool for tool in EVERY_TOOL if tool.name == name), None)


def step_line(name: str, arguments: Mapping[str, Any], result: str) -> str:
    """The line a call of the tool ``name`` shows in the cell and the history ("" for a tool
    that is not one of these)."""
    tool = by_name(name)
    return tool.shown(arguments, result) if tool is not None else ""
