"""The references of a prompt: ``{df}``, ``{In[3]}``, ``{Out[3]}``, and the last error.

A prompt names kernel objects in braces, as in an f-string: ``{df}`` attaches
the description of the variable ``df``, ``{In[3]}`` the source of cell 3 and
``{Out[3]}`` its result. A name or a cell the kernel does not have is refused
in one line before anything is sent (``{dff}`` is most likely a typo, and a
model call on a prompt the person did not mean is wasted), except inside
backticks, where braces are code's own (`` `f"{name}"` ``). Doubled braces
around a word are literal (``{{df}}`` is the text ``{df}``); braces around
anything else (``{x + 1}``, ``{}``, a keyword, a builtin) stay as typed and
attach nothing (pasted code such as ``{"a": {"b": 1}}`` keeps every brace).
The references stay in the text, so the model reads ``{df}`` and finds ``df``
among the attachments.
"""

from __future__ import annotations

import builtins
import difflib
import keyword
import re
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from copilot_magic.errors import CellNotFound, NameNotFound
from copilot_magic.kernel.attachments import Attachment
from copilot_magic.kernel.clipping import clip, clip_start, plural, shorten
from copilot_magic.kernel.describe import DEFAULT_LIMIT, describe
from copilot_magic.kernel.guard import Guard, error_line

ERROR_NAME = "last error"
ERROR_MESSAGE_WIDTH = 60
MOST_LISTED_RESULTS = 10
NO_CELL = "{reference} names no cell: {cells}."
NO_RESULT = "{reference} names no result: {results}."
NO_NAME = (
    "Nothing named {name} in this kernel{guess}; write {{{{{name}}}}} to send the braces as typed."
)

_TOKEN = re.compile(r"\{\{([^{}]*)\}\}|\{([^{}]*)\}")  # an escape {{x}}, or {x}
_CELL = re.compile(r"(In|Out)\[(-?[0-9]+)\]")
_CODE = re.compile(r"(?<!`)(`+)(?!`).*?(?<!`)\1(?!`)", re.DOTALL)  # `code`, ``code``, ```fenced```


@dataclass(frozen=True, slots=True)
class Expanded:
    """A prompt with its references resolved.

    ``text`` is the prompt with each ``{{x}}`` made ``{x}`` and the
    references kept as typed; ``attachments`` holds what they name, in order
    of first appearance, each name once.
    """

    text: str
    attachments: tuple[Attachment, ...]


def expand(
    prompt: str,
    namespace: Mapping[str, object],
    inputs: Sequence[str],
    outputs: Mapping[int, object],
    limit: int = DEFAULT_LIMIT,
) -> Expanded:
    """Resolve the references of ``prompt`` against the kernel's variables, ``In`` and ``Out``.

    Raises :class:`~copilot_magic.errors.CellNotFound` for an ``{In[n]}`` or
    ``{Out[n]}`` that names no cell or no result, and
    :class:`~copilot_magic.errors.NameNotFound` for a ``{name}`` outside backticks
    that names no variable.
    """
    parts: list[str] = []
    attached: dict[str, Attachment] = {}
    position = 0
    code = [span.span() for span in _CODE.finditer(prompt)]
    for match in _TOKEN.finditer(prompt):
        parts.append(prompt[position : match.start()])
        position = match.end()
        token = match.group(0)
        if match.group(1) is not None:  # {{x}}: the text {x}
            parts.append("{" + match.group(1) + "}")
            continue
        parts.append(token)
        inner = match.group(2)
        cell = _CELL.fullmatch(inner)
        if cell is not None:
            kind, number = cell.group(1), int(cell.group(2))
            if f"{kind}[{number}]" not in attached:
                attachment = _cell(token, kind, number, inputs, outputs, limit=limit)
                attached[attachment.name] = attachment
        elif inner in namespace and inner.isidentifier():
            if inner not in attached:
                description = describe(namespace[inner], limit)
                attached[inner] = Attachment(inner, description.summary, description.text)
        elif _is_name(inner) and not any(start < match.start() < end for start, end in code):
            raise NameNotFound(_no_name(inner, namespace))
    parts.append(prompt[position:])
    return Expanded("".join(parts), tuple(attached.values()))


def _is_name(text: str) -> bool:
    """Whether ``text`` could only be a variable's name (not a keyword, not a builtin)."""
    return text.isidentifier() and not keyword.iskeyword(text) and not hasattr(builtins, text)


def _no_name(name: str, namespace: Mapping[str, object]) -> str:
    """The refusal of ``{name}``, with the kernel's closest name when one is close."""
    names = [n for n in namespace if isinstance(n, str) and n.isidentifier() and n[0] != "_"]
    close = difflib.get_close_matches(name, names, n=1)
    guess = f" (did you mean {{{close[0]}}}?)" if close else ""
    return NO_NAME.format(name=name, guess=guess)


def _cell(
    reference: str,
    kind: str,
    number: int,
    inputs: Sequence[str],
    outputs: Mapping[int, object],
    *,
    limit: int,
) -> Attachment:
    """The source (``In``) or the result (``Out``) of cell ``number``."""
    name = f"{kind}[{number}]"
    if kind == "In":
        if not 1 <= number < len(inputs):
            ran = f"this kernel has run cells 1 to {len(inputs) - 1}"
            cells = ran if len(inputs) > 1 else "this kernel has run no cells yet"
            raise CellNotFound(NO_CELL.format(reference=reference, cells=cells))
        source = inputs[number]
        lines = plural(len(source.splitlines()), "line")
        return Attachment(name, f"cell {number}, {lines}", clip(source, limit))
    if number < 1 or number not in outputs:
        raise CellNotFound(NO_RESULT.format(reference=reference, results=_results(outputs)))
    description = describe(outputs[number], limit)
    return Attachment(name, description.summary, description.text)


def _results(outputs: Mapping[int, object]) -> str:
    numbers = sorted(n for n in outputs if isinstance(n, int) and n >= 1)
    if not numbers:
        return "no cell has a result yet"
    listed = ", ".join(str(n) for n in numbers[:MOST_LISTED_RESULTS])
    more = (
        f" and {len(numbers) - MOST_LISTED_RESULTS:,} more"
        if len(numbers) > MOST_LISTED_RESULTS
        else ""
    )
    return f"cells with results are {listed}{more}"


def python_traceback(error: BaseException) -> str:
    """``error``'s traceback as Python prints it."""
    return "".join(traceback.format_exception(error))


def error_attachment(
    error: BaseException,
    limit: int = DEFAULT_LIMIT,
    written: Callable[[BaseException], str] = python_traceback,
) -> Attachment:
    """The last error as an attachment: its type and message, and the end of its traceback
    as ``written`` writes it (a kernel's :meth:`~copilot_magic.kernel.tool.Kernel.traceback_of`
    writes it as the person read it under their cell)."""
    guard = Guard(1.0)
    summary = shorten(guard.text("message", lambda: error_line(error, ERROR_MESSAGE_WIDTH)), 200)
    text = guard.text("traceback", lambda: written(error))
    return Attachment(ERROR_NAME, summary, clip_start(text.rstrip("\n"), max(limit, 0)))
