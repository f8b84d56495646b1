"""Text cut to size: clipped descriptions, one-line summaries, and short reprs of nested values.

:func:`short_repr` writes a value the way ``repr`` does but within a width,
at most a few levels deep, and safely for containers that hold themselves: it
walks dicts, lists, tuples and sets (and their subclasses) through the
built-in types' own methods, and leaves everything else to a guarded
``repr``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from copilot_magic.kernel.classes import short_name
from copilot_magic.kernel.guard import Guard
from copilot_magic.values import cut_line
from copilot_magic.values import plural as plural  # noqa: PLC0414 - imported from here too

CLIPPED = "… (clipped)"
MOST_DEPTH = 4
MOST_INT_BITS = 13_000  # about 4,000 digits: Python refuses to write out much longer ints


def clip(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, ending with ``… (clipped)`` when cut."""
    if len(text) <= limit:
        return text
    if limit <= len(CLIPPED):
        return text[: max(limit, 0)]
    return text[: limit - len(CLIPPED)] + CLIPPED


def clip_start(text: str, limit: int) -> str:
    """The end of ``text`` within ``limit`` characters, starting with ``… (clipped)`` when cut."""
    if len(text) <= limit:
        return text
    if limit <= len(CLIPPED) + 1:
        return text[len(text) - max(limit, 0) :]
    return CLIPPED + "\n" + text[len(text) - (limit - len(CLIPPED) - 1) :]


def shorten(text: str, width: int) -> str:
    """``text`` on one line (its lines stripped and joined), within ``width``, ``…`` if cut."""
    return cut_line(" ".join(part.strip() for part in text.splitlines() if part.strip()), width)


def short_repr(value: object, width: int, guard: Guard) -> str:
    """``repr(value)`` within ``width`` characters (``…`` when cut), never raising."""
    return shorten(_ShortRepr(guard, width).of(value, 0, frozenset()), width)


class _ShortRepr:
    def __init__(self, guard: Guard, width: int) -> None:
        self.guard = guard
        self.width = max(width, 1)

    def of(self, value: Any, depth: int, seen: frozenset[int]) -> str:
        cls = type(value)
        if value is None or cls in (bool, float, complex):
            return repr(value)
        if cls is int:
            bits = int.bit_length(value)
            return repr(value) if bits <= MOST_INT_BITS else f"<int of {bits:,} bits>"
        if issubclass(cls, str):
            text = str.__str__(value)
            return repr(text[: self.width]) + ("…" if len(text) > self.width else "")
        if issubclass(cls, bytes):
            return repr(bytes.__getitem__(value, slice(0, self.width)))
        if issubclass(cls, list | tuple | dict | set | frozenset):
            if id(value) in seen or depth >= MOST_DEPTH:
                return "[...]" if issubclass(cls, list | tuple) else "{...}"
            try:
                return self._container(value, cls, depth, seen | {id(value)})
            except Exception as error:  # noqa: BLE001 - changed while walked, by an item's repr
                return f"<repr failed: {type(error).__name__}>"
        return self.guard.text("repr", lambda: repr(value))[: self.width + 1]

    def _container(self, value: Any, cls: type, depth: int, seen: frozenset[int]) -> str:
        if issubclass(cls, dict):
            pairs: Iterable[tuple[object, object]] = dict.items(value)
            inner = "{" + ", ".join(self._parts(pairs, depth, seen, keyed=True)) + "}"
            return inner if cls is dict else f"{short_name(cls)}({inner})"
        base: Any = next(b for b in (list, tuple, set, frozenset) if issubclass(cls, b))
        items = ((None, item) for item in base.__iter__(value))
        parts = self._parts(items, depth, seen, keyed=False)
        if base is list:
            inner = "[" + ", ".join(parts) + "]"
        elif base is tuple:
            inner = "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
        else:
            inner = "{" + ", ".join(parts) + "}" if parts else ""
        if cls in (list, tuple) or (cls is set and parts):
            return inner
        return f"{short_name(cls)}({inner})"

    def _parts(
        self,
        pairs: Iterable[tuple[object, object]],
        depth: int,
        seen: frozenset[int],
        *,
        keyed: bool,
    ) -> list[str]:
        parts: list[str] = []
        used = 0
        for key, item in pairs:
            if used > self.width:
                parts.append("…")
                break
            part = self.of(item, depth + 1, seen)
            if keyed:
                part = f"{self.of(key, depth + 1, seen)}: {part}"
            parts.append(part)
            used += len(part) + 2
        return parts
