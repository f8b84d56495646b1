"""Descriptions of pandas and polars frames and series, and numpy arrays, without importing them.

A value is recognised by its class's package and name (``pandas`` and
``DataFrame``), so a kernel without these libraries pays nothing, and it is
described through its own cheap methods: ``shape``, ``dtypes``, ``head(5)``.
Nothing here touches every row except the null counts, which are left out of
frames bigger than :data:`MOST_COUNTED_CELLS`. Each call goes through the
:class:`~copilot_magic.kernel.guard.Guard`, so a broken or exotic object
gives a line saying what failed instead of an exception.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from copilot_magic.kernel.classes import ancestry
from copilot_magic.kernel.clipping import plural, short_repr, shorten
from copilot_magic.kernel.guard import Failed, Guard

MOST_COUNTED_CELLS = 20_000_000
MOST_LISTED_COLUMNS = 30
MOST_SHOWN_COLUMNS = 12
MOST_CELL_WIDTH = 30
LABEL_WIDTH = 60
HEAD = 5

Describer = Callable[[Any, Guard], tuple[str, str]]


def table_describer(cls: type) -> Describer | None:
    """How to describe an instance of ``cls`` if it is one of the known tables or arrays."""
    for package, name in ancestry(cls):
        describer = _DESCRIBERS.get((package, name))
        if describer is not None:
            return describer
    return None


def _pandas_frame(value: Any, guard: Guard) -> tuple[str, str]:
    shape = guard.call("shape", lambda: (int(value.shape[0]), int(value.shape[1])))
    if isinstance(shape, Failed):
        return "DataFrame", f"pandas DataFrame\n{shape.line}"
    rows, columns = shape
    listed = min(columns, MOST_LISTED_COLUMNS)
    names = guard.call("columns", lambda: [_label(n) for n in value.columns[:listed].tolist()])
    dtypes = guard.call("dtypes", lambda: [str(d) for d in value.dtypes.iloc[:listed].tolist()])
    nulls: list[int] | Failed | None = None
    if rows * columns <= MOST_COUNTED_CELLS:
        nulls = guard.call(
            "null count", lambda: [int(n) for n in value.iloc[:, :listed].isna().sum().tolist()]
        )
    lines = [f"pandas DataFrame: {plural(rows, 'row')} × {plural(columns, 'column')}"]
    lines += _columns(names, dtypes, nulls, rows * columns, columns)
    head = f"head({HEAD}).to_string"
    shown = guard.text(
        head,
        lambda: value.head(HEAD).to_string(
            max_cols=MOST_SHOWN_COLUMNS, max_colwidth=MOST_CELL_WIDTH
        ),
    )
    lines += [f"first {min(rows, HEAD)} rows:", shown]
    return f"DataFrame {rows:,} × {columns:,}", "\n".join(lines)


def _pandas_series(value: Any, guard: Guard) -> tuple[str, str]:
    facts = guard.call("length", lambda: (len(value), str(value.dtype)))
    if isinstance(facts, Failed):
        return "Series", f"pandas Series\n{facts.line}"
    length, dtype = facts
    name = _series_name(guard, lambda: value.name)
    nulls = "nulls skipped for size"
    if length <= MOST_COUNTED_CELLS:
        counted = guard.call("null count", lambda: int(value.isna().sum()))
        nulls = counted.line if isinstance(counted, Failed) else plural(counted, "null")
    head = guard.text(f"head({HEAD}).to_string", lambda: value.head(HEAD).to_string())
    return (
        f"Series {name}{length:,} ({dtype})",
        f"pandas Series {name}{plural(length, 'value')}, dtype {dtype}, {nulls}\n"
        f"first {min(length, HEAD)}:\n{head}",
    )


def _polars_frame(value: Any, guard: Guard) -> tuple[str, str]:
    shape = guard.call("shape", lambda: (int(value.shape[0]), int(value.shape[1])))
    if isinstance(shape, Failed):
        return "polars DataFrame", f"polars DataFrame\n{shape.line}"
    rows, columns = shape
    listed = min(columns, MOST_LISTED_COLUMNS)
    names = guard.call("columns", lambda: [str(n) for n in value.columns[:listed]])
    dtypes = guard.call("dtypes", lambda: [str(d) for d in value.dtypes[:listed]])
    nulls = guard.call(
        "null count",
        lambda: [int(n) for n in value.select(value.columns[:listed]).null_count().row(0)],
    )
    lines = [f"polars DataFrame: {plural(rows, 'row')} × {plural(columns, 'column')}"]
    lines += _columns(names, dtypes, nulls, rows * columns, columns)
    lines += [f"first {min(rows, HEAD)} rows:", guard.text("head", lambda: str(value.head(HEAD)))]
    return f"polars DataFrame {rows:,} × {columns:,}", "\n".join(lines)


def _polars_series(value: Any, guard: Guard) -> tuple[str, str]:
    facts = guard.call("length", lambda: (int(value.len()), str(value.dtype)))
    if isinstance(facts, Failed):
        return "polars Series", f"polars Series\n{facts.line}"
    length, dtype = facts
    name = _series_name(guard, lambda: value.name)
    counted = guard.call("null count", lambda: int(value.null_count()))
    nulls = counted.line if isinstance(counted, Failed) else plural(counted, "null")
    head = guard.text("head", lambda: str(value.head(HEAD)))
    return (
        f"polars Series {name}{length:,} ({dtype})",
        f"polars Series {name}{plural(length, 'value')}, dtype {dtype}, {nulls}\n{head}",
    )


def _ndarray(value: Any, guard: Guard) -> tuple[str, str]:
    facts = guard.call("shape", lambda: (tuple(int(n) for n in value.shape), str(value.dtype)))
    if isinstance(facts, Failed):
        return "ndarray", f"numpy ndarray\n{facts.line}"
    shape, dtype = facts
    dimensions = " × ".join(f"{n:,}" for n in shape) if shape else "0-d"
    size = 1
    for n in shape:
        size *= n
    lines = [f"numpy ndarray: shape {dimensions}, dtype {dtype}, {plural(size, 'element')}"]
    if not shape:
        item = guard.call("item", lambda: value.item())  # noqa: PLW0108 - guarded
        lines.append(item.line if isinstance(item, Failed) else short_repr(item, 2000, guard))
    elif len(shape) == 1:
        lines += [f"first {min(shape[0], 20)}:", guard.text("repr", lambda: repr(value[:20]))]
    else:
        lines += [f"first {min(shape[0], HEAD)}:", guard.text("repr", lambda: repr(value[:HEAD]))]
    return f"ndarray {dimensions} {dtype}", "\n".join(lines)


def _columns(
    names: list[str] | Failed,
    dtypes: list[str] | Failed,
    nulls: list[int] | Failed | None,
    cells: int,
    columns: int,
) -> list[str]:
    if isinstance(names, Failed):
        return [names.line]
    if nulls is None:
        heading = f"columns (dtype; nulls not counted in so many cells, {cells:,}):"
    else:
        heading = "columns (dtype, nulls):"
    lines = [heading]
    for index, name in enumerate(names):
        facts = [dtypes.line if isinstance(dtypes, Failed) else dtypes[index]]
        if isinstance(nulls, Failed):
            facts.append(nulls.line)
        elif nulls is not None:
            facts.append(plural(nulls[index], "null"))
        lines.append(f"  {shorten(name, LABEL_WIDTH)}: {', '.join(facts)}")
    if columns > len(names):
        lines.append(f"  … and {plural(columns - len(names), 'more column')}")
    return lines


def _label(name: object) -> str:
    return str.__str__(name) if isinstance(name, str) else repr(name)


def _series_name(guard: Guard, read: Callable[[], object]) -> str:
    """``'price' `` with its trailing space, or ``""`` for a series without a name."""
    name = guard.call("name", read)
    if name is None:
        return ""
    if isinstance(name, Failed):
        return f"{name.line} "
    return f"{short_repr(name, 30, guard)} "


_DESCRIBERS: dict[tuple[str, str], Describer] = {
    ("pandas", "DataFrame"): _pandas_frame,
    ("pandas", "Series"): _pandas_series,
    ("polars", "DataFrame"): _polars_frame,
    ("polars", "Series"): _polars_series,
    ("numpy", "ndarray"): _ndarray,
}
