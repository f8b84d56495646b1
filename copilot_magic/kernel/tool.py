"""What a tool of Copilot's is: how the model is told of it, how a call is answered (within a
size, with every secret masked), and what of the kernel and the notebook it may use.

The kernel tools are in :mod:`~copilot_magic.kernel.tools`, the notebook tools in
:mod:`~copilot_magic.kernel.notebook_tools`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from copilot_magic.kernel.clipping import clip
from copilot_magic.values import mask_secrets

if TYPE_CHECKING:
    from copilot_magic.kernel.notebook import Notebook


def no_parameters() -> dict[str, Any]:
    return {"type": "object", "properties": {}, "additionalProperties": False}


class Kernel(Protocol):
    """What the tools may use of the kernel (the IPython side is in the ui layer)."""

    def variables(self) -> Mapping[str, object]:
        """The person's variables (no modules, no IPython internals)."""
        ...

    def cells(self) -> Sequence[tuple[int, str, object | None]]:
        """Every cell run so far: its number, its source and its result (``None`` for none)."""
        ...

    def last_error(self) -> BaseException | None: ...

    def traceback_of(self, error: BaseException) -> str:
        """``error``'s traceback as the person read it under their cell."""
        ...

    def approve(self, code: str) -> bool:
        """Show ``code`` and ask the person whether to run it; ``False`` when they cannot
        be asked (no standard input). The tool asks only about code that holds no hiding
        character."""
        ...

    def refuse(self, code: str, reason: str) -> None:
        """Show ``code`` with its hiding characters written out, and ``reason``, the one line
        that says why it does not run; nothing is asked."""
        ...

    def run(self, code: str, cell_id: str | None = None) -> str:
        """Run ``code`` in the person's namespace and return its output; the output shows
        under notebook cell ``cell_id`` (where the notebook's frontend can show it there),
        else in the running cell."""
        ...

    def notebook(self) -> Notebook | None:
        """The open notebook, when a frontend that can act in it ran the cell."""
        ...


@dataclass(frozen=True)
class KernelTool:
    """A tool as the model is told of it, with how to answer a call and the line to show."""

    name: str
    description: str
    parameters: Mapping[str, Any]
    respond: Callable[[Kernel, Mapping[str, Any], int], str] = field(repr=False)
    shown: Callable[[Mapping[str, Any], str], str] = field(repr=False)  # (arguments, result)


def answer(
    tool: KernelTool,
    kernel: Kernel,
    arguments: Mapping[str, Any],
    limit: int,
    secrets: Sequence[str],
) -> str:
    """The tool's result for the model: bounded, with every secret masked. A tool that fails
    says so in its result; the turn goes on."""
    try:
        text = tool.respond(kernel, arguments, limit)
    except Exception as error:  # noqa: BLE001 - the model hears why; the reply continues
        text = f"The tool failed: {type(error).__name__}: {error}"
    return mask_secrets(clip(text, limit), secrets)
