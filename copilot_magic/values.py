"""The kinds of value a setting takes, the checks that say what a good value is, and how a
setting is declared (:func:`setting`).

:class:`Secret` hides a key wherever it goes; each check returns ``""`` for a
good value, else the words for a good one ("a number of seconds above 0"),
which :mod:`copilot_magic.config` puts into one sentence. :func:`is_blank`
says whether a prompt has anything to see in it. Two small helpers of text that
every layer writes: :func:`plural` and :func:`cut_line`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

MOST_UPDATES_PER_SECOND = 100.0
T = TypeVar("T")


MASK = "********"

# Controls, formats (zero-width space U+200B, word joiner U+2060, BOM U+FEFF...), spaces and
# separators; and the letters and marks that render as nothing (Hangul fillers, braille
# blank, variation selectors, the combining grapheme joiner).
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})
_INVISIBLE = frozenset(
    "\u034f\u115f\u1160\u3164\uffa0\u2800"
    + "".join(map(chr, range(0xFE00, 0xFE10)))
    + "".join(map(chr, range(0xE0100, 0xE01F0)))
)
# Formats that do show: the prepended concatenation marks (Arabic number sign...).
_VISIBLE_FORMATS = frozenset("\u0600\u0601\u0602\u0603\u0604\u0605\u06dd\u070f\u0890\u0891\u08e2")


def is_blank(text: str) -> bool:
    """Whether ``text`` shows nothing: only whitespace, controls and invisible characters."""
    return all(
        c.isspace()
        or c in _INVISIBLE
        or (unicodedata.category(c) in _INVISIBLE_CATEGORIES and c not in _VISIBLE_FORMATS)
        for c in text
    )


CUT_MARKS = ("… (clipped)", "…", "...")  # where a clipped text (or pandas, in a cell) was cut


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 turn``, ``1,234 turns`` (``nouns``: a plural that is not ``noun`` + s)."""
    return f"{count:,} {noun if count == 1 else (nouns or noun + 's')}"


def cut_line(line: str, width: int) -> str:
    """``line`` within ``width`` characters: its end replaced by "…" where it is longer.

    Not :func:`textwrap.shorten`, which cuts between words only: a long first word (a
    path, a URL, an id) would leave nothing but the mark. Making the text one line is the
    caller's: a prompt has its white space folded, a name keeps its inner spaces.
    """
    return line if len(line) <= width else line[: max(width - 1, 0)] + "…"


def mask_secrets(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each secret (four characters or more) replaced by asterisks, also a
    secret cut short by clipping: its start before a cut mark, or its end after one."""
    for secret in sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, MASK)
        for mark in CUT_MARKS:
            if mark not in text:
                continue
            for kept in range(len(secret) - 1, 3, -1):
                text = text.replace(secret[:kept] + mark, MASK + mark)
                text = text.replace(mark + secret[-kept:], mark + MASK)
    return text


class Secret:
    """A string that never shows itself: ``repr`` and ``str`` print asterisks.

    Use :meth:`reveal` at the single place where the value is handed to the SDK.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "'********'" if self._value else "''"

    __str__ = __repr__


def above_zero(value: object) -> str:
    return "" if isinstance(value, float) and value > 0 else "a number of seconds above 0"


def display_rate(value: object) -> str:
    good = isinstance(value, float) and 0 < value <= MOST_UPDATES_PER_SECOND
    return "" if good else f"a number above 0 and at most {MOST_UPDATES_PER_SECOND:g}"


def http_url(value: object) -> str:
    if not isinstance(value, str) or not value:
        return ""
    parts = urlsplit(value)
    good = parts.scheme in ("http", "https") and bool(parts.netloc)
    return "" if good else "empty, or an http:// or https:// URL such as http://localhost:11434/v1"


def at_least(lowest: int) -> Callable[[object], str]:
    def check(value: object) -> str:
        good = isinstance(value, int) and value >= lowest
        return "" if good else f"a whole number of at least {lowest}"

    return check


def one_of(choices: tuple[str, ...]) -> Callable[[object], str]:
    def check(value: object) -> str:
        return "" if value in choices else "one of " + ", ".join(choices)

    return check


def notebook_file(value: object) -> str:
    good = isinstance(value, str) and (not value or value.lower().endswith(".ipynb"))
    return "" if good else "empty, or the path of an .ipynb file"


def kind_words(kind: type) -> str:
    """How a setting's type reads in a sentence ("a whole number")."""
    words = {int: "a whole number", float: "a number", bool: "True or False"}
    return words.get(kind, "a string")


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def parse_text(kind: type, text: str) -> Any:
    """A value of ``kind`` (str, int, float, bool or Secret) from its text form (an
    environment variable's value). Raises :class:`ValueError` with what a good value is."""
    if kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            raise ValueError(kind_words(kind)) from None
    if kind is bool:
        if text.strip().lower() in _TRUE + _FALSE:
            return text.strip().lower() in _TRUE
        raise ValueError("one of 1, true, yes, on, 0, false, no, off")
    if kind is Secret:
        return Secret(text)
    return text


_ADDRESS = re.compile(r"^(?P<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):(?P<port>\d{1,5})$")


def runtime_choice(value: object) -> str:
    """The check of the ``runtime`` setting: ``shared``, ``own``, or ``HOST:PORT`` of a
    served runtime."""
    text = str(value)
    found = _ADDRESS.match(text)
    if text in ("shared", "own") or (found and 0 < int(found.group("port")) < 65536):
        return ""
    return (
        "shared (one runtime for all your kernels), own (a runtime of this kernel's own) "
        "or HOST:PORT of one `copilot-magic serve` runs"
    )


@dataclass(frozen=True)
class Declaration:
    """What :func:`setting` records about one field of :class:`Settings`."""

    env: str
    help: str
    check: Callable[[object], str] | None = None
    choices: tuple[str, ...] = ()


def setting(
    default: T,
    *,
    env: str,
    help: str,  # noqa: A002 - the traitlets word for it
    check: Callable[[object], str] | None = None,
    choices: tuple[str, ...] = (),
) -> T:
    """Declare one setting: a dataclass field carrying its :class:`Declaration`."""
    declared = Declaration(env, help, check or (one_of(choices) if choices else None), choices)
    made: T = field(default=default, metadata={"declaration": declared})
    return made
