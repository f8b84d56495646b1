"""Bounded descriptions of the values in a kernel: what the model is told about ``{df}``.

:func:`describe` knows the shapes of common values (frames, arrays, containers,
text, functions, classes, modules) and writes a one-line summary and a text of
at most ``limit`` characters. It is safe on any object: whatever the object's
own code does (raise, hang, return a non-string, lie about its class), the
description finishes within about ``time_limit`` seconds and says what failed;
see :mod:`copilot_magic.kernel.guard` for how the time limit works and where
it cannot stop a call. It imports neither pandas nor numpy nor polars.
"""

from __future__ import annotations

import inspect
import itertools
import types
from dataclasses import dataclass
from typing import Any

from copilot_magic.kernel.classes import qualified_name, short_name
from copilot_magic.kernel.clipping import (
    MOST_INT_BITS,
    clip,
    plural,
    short_repr,
    shorten,
)
from copilot_magic.kernel.guard import Failed, Guard, error_line
from copilot_magic.kernel.tables import table_describer

DEFAULT_LIMIT = 4000
SUMMARY_WIDTH = 80
MOST_ITEMS = 20
ITEM_WIDTH = 200
KEY_WIDTH = 60
DOC_WIDTH = 1000

_NUMBERS = (bool, int, float, complex)
_FUNCTIONS = (types.FunctionType, types.BuiltinFunctionType, types.MethodType)
_CONTAINERS = (dict, list, tuple, set, frozenset)


@dataclass(frozen=True, slots=True)
class Description:
    """What the model is told about one value.

    ``summary`` is one short line for people (``list of 12``); ``text``
    is the bounded, multi-line description given to the model.
    """

    summary: str
    text: str


def describe(value: object, limit: int = DEFAULT_LIMIT, time_limit: float = 1.0) -> Description:
    """Describe ``value`` in at most ``limit`` characters, within about ``time_limit`` seconds.

    Never raises (but for ``KeyboardInterrupt`` and ``SystemExit``): a part of
    the value that fails to show is replaced by a line such as
    ``<repr failed: ValueError: bad>`` or ``<repr took longer than 1 s>``.
    """
    limit = max(int(limit), 0)
    guard = Guard(time_limit)
    try:
        summary, text = _describe(value, guard, limit)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # noqa: BLE001 - an object that defeats every guard
        summary = qualified_name(type(value))
        text = f"{summary}\n<description failed: {error_line(error)}>"
    return Description(shorten(summary, SUMMARY_WIDTH), clip(text, limit))


def _describe(value: Any, guard: Guard, limit: int) -> tuple[str, str]:
    cls = type(value)
    table = table_describer(cls)
    if table is not None:
        return table(value, guard)
    if value is None:
        return "None", "None"
    if issubclass(cls, _NUMBERS):
        return _number(value, cls, guard)
    if issubclass(cls, str):
        text = str.__str__(value)
        return f"{short_name(cls)} of {plural(len(text), 'character')}", clip(text, limit)
    if issubclass(cls, bytes | bytearray):
        data = (bytes if issubclass(cls, bytes) else bytearray).__getitem__(value, slice(0, limit))
        size = (bytes if issubclass(cls, bytes) else bytearray).__len__(value)
        return f"{short_name(cls)} of {size:,}", repr(bytes(data))
    if issubclass(cls, _CONTAINERS):
        return _container(value, cls, guard)
    if issubclass(cls, _FUNCTIONS):
        return _function(value, cls, guard)
    if issubclass(cls, type):
        return _class(value, guard)
    if issubclass(cls, types.ModuleType):
        return _module(value, guard)
    name = qualified_name(cls)
    return name, f"{name}\n{guard.text('repr', lambda: repr(value))[: limit + 1]}"


def _number(value: Any, cls: type, guard: Guard) -> tuple[str, str]:
    name = short_name(cls)
    if cls is int and int.bit_length(value) > MOST_INT_BITS:
        return name, f"an int of {int.bit_length(value):,} bits, too long to write out"
    if cls in _NUMBERS:
        return name, repr(value)
    return name, guard.text("repr", lambda: repr(value))


def _container(value: Any, cls: type, guard: Guard) -> tuple[str, str]:
    """The length and the first items, copied first: an item's repr may change the container."""
    base: Any = next(b for b in _CONTAINERS if issubclass(cls, b))
    size = base.__len__(value)
    name = short_name(cls)
    if base is dict:
        summary = f"{name} of {plural(size, 'key')}"
        lines = [summary]
        for key, item in list(itertools.islice(dict.items(value), MOST_ITEMS)):
            shown = short_repr(key, KEY_WIDTH, guard)
            lines.append(f"{shown}: {short_repr(item, ITEM_WIDTH - len(shown), guard)}")
        more = "more key"
    else:
        summary = f"{name} of {size:,}"
        lines = [f"{name} of {plural(size, 'item')}"]
        first = list(itertools.islice(base.__iter__(value), MOST_ITEMS))
        for index, item in enumerate(first):
            label = f"[{index}] " if base in (list, tuple) else "- "
            lines.append(label + short_repr(item, ITEM_WIDTH, guard))
        more = "more item"
    if size > MOST_ITEMS:
        lines.append(f"… and {plural(size - MOST_ITEMS, more)}")
    return summary, "\n".join(lines)


def _function(value: Any, cls: type, guard: Guard) -> tuple[str, str]:
    kind = "method" if issubclass(cls, types.MethodType) else "function"
    if issubclass(cls, types.BuiltinFunctionType):
        kind = "built-in function"
    name = guard.text("name", lambda: value.__qualname__)
    signature = _signature(value, guard)
    module = guard.call("module", lambda: value.__module__)
    where = f" in module {str.__str__(module)}" if isinstance(module, str) and module else ""
    return f"{kind} {name}{signature}", f"{kind} {name}{signature}{where}{_doc(value, guard)}"


def _class(value: Any, guard: Guard) -> tuple[str, str]:
    name = qualified_name(value)
    return (
        f"class {short_name(value)}",
        f"class {name}{_signature(value, guard)}{_doc(value, guard)}",
    )


def _module(value: Any, guard: Guard) -> tuple[str, str]:
    name = guard.text("name", lambda: value.__name__)
    file = guard.call("file", lambda: value.__file__)
    where = f"\nfile: {str.__str__(file)}" if isinstance(file, str) else ""
    return f"module {name}", f"module {name}{where}{_doc(value, guard)}"


def _signature(value: Any, guard: Guard) -> str:
    signature = guard.call("signature", lambda: str(_unquoted(inspect.signature(value))))
    return "(…)" if isinstance(signature, Failed) else signature


class _Written:
    """An annotation kept as a string (``from __future__ import annotations``), shown unquoted."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _unquoted(signature: inspect.Signature) -> inspect.Signature:
    def bare(annotation: object) -> object:
        return _Written(annotation) if isinstance(annotation, str) else annotation

    parameters = [p.replace(annotation=bare(p.annotation)) for p in signature.parameters.values()]
    return signature.replace(
        parameters=parameters, return_annotation=bare(signature.return_annotation)
    )


def _doc(value: Any, guard: Guard) -> str:
    """The first paragraph of the docstring, on a line of its own, or ``""``."""
    doc = guard.call("docstring", lambda: inspect.getdoc(value))
    if isinstance(doc, Failed):
        return f"\n{doc.line}"
    if not isinstance(doc, str) or not doc.strip():
        return ""
    return "\n" + clip(str.__str__(doc).strip().split("\n\n")[0], DOC_WIDTH)
