"""``describe``: type-aware, bounded and safe descriptions of kernel values."""

from __future__ import annotations

import collections
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copilot_magic.kernel.clipping import CLIPPED
from copilot_magic.kernel.describe import DEFAULT_LIMIT, Description, describe


def _bounded(description: Description, limit: int = DEFAULT_LIMIT) -> None:
    assert len(description.text) <= limit
    assert len(description.summary) <= 80
    assert "\n" not in description.summary


@pytest.fixture(scope="module")
def huge_frame() -> Iterator[pd.DataFrame]:
    rows = 10_000_000
    frame = pd.DataFrame(
        {
            "small": np.zeros(rows, dtype=np.int8),
            "ratio": np.ones(rows, dtype=np.float32),
            "flag": np.zeros(rows, dtype=bool),
        }
    )
    yield frame
    del frame


# pandas, polars, numpy


def test_a_pandas_frame_shows_its_shape_columns_dtypes_nulls_and_first_rows() -> None:
    frame = pd.DataFrame({"price": [1.5, None, 3.0, 4.0, 5.0, 6.0], "name": list("abcdef")})
    description = describe(frame)
    assert description.summary == "DataFrame 6 × 2"
    assert "6 rows × 2 columns" in description.text
    assert "price: float64, 1 null" in description.text
    assert "name: " in description.text
    assert "0 nulls" in description.text
    assert "first 5 rows:" in description.text
    assert "e" in description.text.splitlines()[-1]  # the fifth row
    assert "f" not in description.text.split("first 5 rows:")[1]  # not the sixth
    _bounded(description)


def test_a_frame_with_5000_columns_lists_the_first_ones_and_counts_the_rest() -> None:
    frame = pd.DataFrame(np.zeros((3, 5000)), columns=[f"c{i}" for i in range(5000)])
    description = describe(frame)
    assert description.summary == "DataFrame 3 × 5,000"
    assert "c0: float64, 0 nulls" in description.text
    assert "more columns" in description.text
    assert "c4999: float64" not in description.text
    _bounded(description)


def test_a_10_million_row_frame_mentions_its_shape_and_columns_and_skips_null_counts(
    huge_frame: pd.DataFrame,
) -> None:
    description = describe(huge_frame)
    assert description.summary == "DataFrame 10,000,000 × 3"
    assert "10,000,000 rows × 3 columns" in description.text
    for column in ("small: int8", "ratio: float32", "flag: bool"):
        assert column in description.text
    assert "nulls not counted" in description.text
    _bounded(description)


def test_a_pandas_series_shows_its_name_length_dtype_nulls_and_first_values() -> None:
    series = pd.Series([1.0, None, 3.0, 4.0, 5.0, 6.0, 7.0], name="price")
    description = describe(series)
    assert description.summary == "Series 'price' 7 (float64)"
    assert "7 values, dtype float64, 1 null" in description.text
    assert "first 5:" in description.text
    assert "7.0" not in description.text
    _bounded(description)


def test_a_pandas_series_without_a_name_leaves_the_name_out() -> None:
    assert describe(pd.Series([1, 2])).summary == "Series 2 (int64)"


def test_a_polars_frame_shows_its_shape_schema_nulls_and_head() -> None:
    frame = pl.DataFrame({"a": [1, None, 3], "b": ["x", "y", None]})
    description = describe(frame)
    assert description.summary == "polars DataFrame 3 × 2"
    assert "3 rows × 2 columns" in description.text
    assert "a: Int64, 1 null" in description.text
    assert "b: String, 1 null" in description.text
    assert "shape: (3, 2)" in description.text  # polars' own head
    _bounded(description)


def test_a_polars_series_shows_its_name_length_dtype_and_nulls() -> None:
    description = describe(pl.Series("a", [1, None, 3]))
    assert description.summary == "polars Series 'a' 3 (Int64)"
    assert "3 values, dtype Int64, 1 null" in description.text
    _bounded(description)


def test_a_0_d_array_shows_its_item() -> None:
    description = describe(np.array(3.5))
    assert description.summary == "ndarray 0-d float64"
    assert description.text.splitlines()[-1] == "3.5"


def test_a_1_d_array_shows_its_length_dtype_and_first_values() -> None:
    description = describe(np.arange(1000))
    assert description.summary == "ndarray 1,000 int64"
    assert "first 20:" in description.text
    assert "19" in description.text
    assert "999" not in description.text
    _bounded(description)


def test_a_3_d_array_shows_its_shape_joined_by_times() -> None:
    description = describe(np.zeros((1000, 3, 4)))
    assert description.summary == "ndarray 1,000 × 3 × 4 float64"
    assert "12,000 elements" in description.text
    _bounded(description)


# built-in values


@pytest.mark.parametrize(
    ("value", "summary", "shown"),
    [
        ({"a": 1, "b": [1, 2]}, "dict of 2 keys", "'b': [1, 2]"),
        ({"only": 1}, "dict of 1 key", "'only': 1"),
        (list(range(12)), "list of 12", "[11] 11"),
        ((1, "two", 3.0), "tuple of 3", "[1] 'two'"),
        ({7}, "set of 1", "- 7"),
        (frozenset({"x"}), "frozenset of 1", "- 'x'"),
        (collections.OrderedDict(a=1), "OrderedDict of 1 key", "'a': 1"),
    ],
)
def test_a_container_shows_its_length_and_first_items(
    value: object, summary: str, shown: str
) -> None:
    description = describe(value)
    assert description.summary == summary
    assert shown in description.text


def test_a_long_list_shows_the_first_20_items_and_counts_the_rest() -> None:
    description = describe(list(range(100)))
    assert "[19] 19" in description.text
    assert "[20]" not in description.text
    assert "… and 80 more items" in description.text


def test_a_container_item_is_clipped_to_about_200_characters() -> None:
    description = describe(["x" * 10_000])
    item = description.text.splitlines()[1]
    assert 150 < len(item) <= 210
    assert item.endswith("…")


def test_a_str_shows_its_length_and_its_text() -> None:
    description = describe("héllo\nworld")
    assert description.summary == "str of 11 characters"
    assert description.text == "héllo\nworld"


def test_a_long_str_is_clipped() -> None:
    description = describe("y" * 10_000, limit=500)
    assert description.summary == "str of 10,000 characters"
    assert len(description.text) == 500
    assert description.text.endswith(CLIPPED)


def test_bytes_show_their_length_and_repr() -> None:
    description = describe(b"\x00abc")
    assert description.summary == "bytes of 4"
    assert description.text == repr(b"\x00abc")


@pytest.mark.parametrize(
    ("value", "summary"),
    [(3, "int"), (2.5, "float"), (True, "bool"), (None, "None"), (1 + 2j, "complex")],
)
def test_a_number_or_none_is_its_type_and_repr(value: object, summary: str) -> None:
    assert describe(value) == Description(summary, repr(value))


def test_an_int_too_long_to_write_out_gives_its_size() -> None:
    description = describe(2**100_000)
    assert description.summary == "int"
    assert "100,001 bits" in description.text


def load(path: str, sep: str = ",") -> list[str]:
    """Load a delimited file.

    Further details that stay out of the description.
    """
    return path.split(sep)


class Thing:
    """A thing with a repr."""

    def __init__(self, size: int) -> None:
        self.size = size

    def __repr__(self) -> str:
        return f"Thing(size={self.size})"


def test_a_function_shows_its_signature_and_first_paragraph_of_docstring() -> None:
    description = describe(load)
    assert description.summary == "function load(path: str, sep: str = ',') -> list[str]"
    assert "Load a delimited file." in description.text
    assert "Further details" not in description.text


def test_a_class_shows_its_name_signature_and_docstring() -> None:
    description = describe(Thing)
    assert description.summary == "class Thing"
    assert "(size: int) -> None" in description.text
    assert "A thing with a repr." in description.text


def test_a_module_shows_its_name_and_docstring() -> None:
    description = describe(json)
    assert description.summary == "module json"
    assert "JSON (JavaScript Object Notation)" in description.text


def test_an_arbitrary_object_shows_its_qualified_type_and_repr() -> None:
    description = describe(Thing(3))
    assert description.summary == f"{__name__}.Thing"
    assert description.text == f"{__name__}.Thing\nThing(size=3)"


# size caps


@pytest.mark.parametrize("limit", [0, 5, 13, 50, 200, 1000, 4000])
@pytest.mark.parametrize(
    "value",
    [
        "z" * 50_000,
        list(range(10_000)),
        {str(i): "v" * 300 for i in range(100)},
        pd.DataFrame(np.zeros((100, 50))),
        np.zeros((100, 100)),
        Thing(10**6),
        load,
    ],
    ids=["str", "list", "dict", "frame", "array", "object", "function"],
)
def test_the_text_never_exceeds_the_limit(value: object, limit: int) -> None:
    description = describe(value, limit)
    _bounded(description, limit)
    if len(description.text) == limit and limit > len(CLIPPED):
        assert description.text.endswith(CLIPPED)


# objects that fight back


class RaisingRepr:
    def __repr__(self) -> str:
        raise ValueError("no repr for you")


class RaisingProperty:
    @property
    def size(self) -> int:
        raise KeyError("size")

    def __repr__(self) -> str:
        return f"RaisingProperty({self.size})"


class HangingRepr:
    def __repr__(self) -> str:
        count = 0
        while True:
            try:
                while True:
                    count += 1
            except Exception:  # noqa: BLE001 - it tries to swallow the interruption
                continue


class NonStrRepr:
    def __repr__(self) -> str:
        return 42  # type: ignore[return-value]


class EnormousRepr:
    def __repr__(self) -> str:
        return "e" * 20_000_000


class LyingClass:
    @property  # type: ignore[misc]
    def __class__(self) -> type:
        raise RuntimeError("ask someone else")


class RaisingLen(list[int]):
    def __len__(self) -> int:
        raise ValueError("no length")


class RaisingStrError(Exception):
    def __str__(self) -> str:
        raise TypeError("no message either")


class ReprRaisingUnprintable:
    def __repr__(self) -> str:
        raise RaisingStrError


def test_a_raising_repr_becomes_a_line() -> None:
    description = describe(RaisingRepr())
    assert "<repr failed: ValueError: no repr for you>" in description.text


def test_a_raising_property_used_by_repr_becomes_a_line() -> None:
    assert "<repr failed: KeyError: 'size'>" in describe(RaisingProperty()).text


def test_a_hanging_repr_is_stopped_with_a_line() -> None:
    description = describe(HangingRepr(), time_limit=0.2)
    assert "<repr took longer than 0.2 s>" in description.text


def test_a_hanging_item_stops_the_rest_of_the_description() -> None:
    description = describe([HangingRepr(), HangingRepr(), 1], time_limit=0.2)
    lines = description.text.splitlines()
    assert lines[1] == "[0] <repr took longer than 0.2 s>"
    assert "skipped" in lines[2]
    assert lines[3] == "[2] 1"


@pytest.fixture
def own_alarm() -> Iterator[list[int]]:
    """A recording SIGALRM handler of the test's own; pytest-timeout's is put back after."""
    fired: list[int] = []
    saved_handler = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(signum))
    saved_timer = signal.setitimer(signal.ITIMER_REAL, 0)
    yield fired
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, saved_handler)
    if saved_timer[0] > 0:
        signal.setitimer(signal.ITIMER_REAL, *saved_timer)


def test_the_previous_alarm_handler_and_timer_are_restored(own_alarm: list[int]) -> None:
    handler = signal.getsignal(signal.SIGALRM)
    signal.setitimer(signal.ITIMER_REAL, 30)
    describe(HangingRepr(), time_limit=0.05)
    assert signal.getsignal(signal.SIGALRM) is handler
    assert 20 < signal.getitimer(signal.ITIMER_REAL)[0] <= 30
    assert own_alarm == []


def test_an_earlier_alarm_set_before_still_fires(own_alarm: list[int]) -> None:
    signal.setitimer(signal.ITIMER_REAL, 0.05)
    description = describe(HangingRepr(), time_limit=5)
    time.sleep(0.2)  # the earlier alarm, due during the description, fires once it ends
    assert "took longer than 5 s" in description.text
    assert own_alarm == [signal.SIGALRM]


def test_a_repr_returning_a_non_str_becomes_a_line() -> None:
    description = describe(NonStrRepr())
    assert "<repr failed: TypeError: __repr__ returned non-string (type int)>" in description.text


def test_an_enormous_repr_is_clipped() -> None:
    description = describe(EnormousRepr(), limit=300)
    assert len(description.text) == 300
    assert description.text.endswith(CLIPPED)


def test_a_lying_class_property_is_ignored() -> None:
    description = describe(LyingClass())
    assert description.summary == f"{__name__}.LyingClass"


def test_a_raising_len_on_a_list_subclass_is_not_called() -> None:
    description = describe(RaisingLen([1, 2]))
    assert description.summary == "RaisingLen of 2"


def test_an_exception_whose_message_fails_still_gives_its_type() -> None:
    assert (
        "<repr failed: RaisingStrError: <str() failed>>" in describe(ReprRaisingUnprintable()).text
    )


def test_recursive_list_and_dict_are_described() -> None:
    items: list[object] = [1]
    items.append(items)
    mapping: dict[str, object] = {}
    mapping["self"] = mapping
    assert describe(items).text == "list of 2 items\n[0] 1\n[1] [1, [...]]"
    assert describe(mapping).text == "dict of 1 key\n'self': {'self': {...}}"


def test_a_deeply_nested_list_is_described() -> None:
    nested: list[object] = []
    for _ in range(100_000):
        nested = [nested]
    description = describe(nested, 200)
    assert description.summary == "list of 1"
    _bounded(description, 200)


def test_a_description_on_another_thread_works_without_the_alarm() -> None:
    found: list[Description] = []
    worker = threading.Thread(target=lambda: found.append(describe(RaisingRepr())))
    worker.start()
    worker.join(10)
    assert "<repr failed: ValueError" in found[0].text


def test_importing_describe_loads_no_table_library() -> None:
    probe = (
        "import sys, copilot_magic.kernel.describe; "
        "print(sorted(m for m in ('pandas', 'numpy', 'polars') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.complex_numbers()
    | st.text()
    | st.binary()
)
_HASHABLE = st.recursive(
    _LEAVES, lambda inner: st.tuples(inner, inner) | st.frozensets(inner, max_size=4), max_leaves=8
)
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: (
        st.lists(inner, max_size=30)
        | st.tuples(inner, inner)
        | st.dictionaries(_HASHABLE, inner, max_size=10)
        | st.sets(_HASHABLE, max_size=10)
    ),
    max_leaves=60,
)


@settings(max_examples=200, deadline=None)
@given(value=_VALUES, limit=st.integers(min_value=50, max_value=5000))
def test_any_nested_value_is_described_within_the_limit_on_one_summary_line(
    value: object, limit: int
) -> None:
    description = describe(value, limit)
    _bounded(description, limit)
    assert len(description.summary.splitlines()) <= 1
