"""Bad input refused before the store: malformed magic arguments, unclosed quotes, invalid
session ids and cells of only invisible characters, in an IPython shell over a fake store.

Each line runs as a cell (``InteractiveShell.run_cell``), so it goes through IPython's input
transformation and error display as in a kernel: a refusal is a ``UsageError`` that IPython
shows as one line on stderr, without a traceback. ``FakeStore`` records every call the
magics make; a refusal must make none, so no runtime could have started. One line of each
kind runs again in a real kernel, on the real runtime:
``tests/e2e/test_bad_input_e2e.py::test_bad_lines_in_a_real_kernel_are_one_line_usage_errors_and_start_no_runtime``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from fake_store import FakeStore
from IPython.core.interactiveshell import InteractiveShell
from reliability import Reliability
from shell_errors import usage_error_shown

from copilot_magic.sessions.ids import RULE
from copilot_magic.ui.arguments import EMPTY_CELL
from copilot_magic.ui.magics import CopilotMagics


def bad_input(case: str) -> pytest.MarkDecorator:
    return pytest.mark.reliability("Bad input", case)


def raw_controls(text: str) -> list[str]:
    """The control characters in ``text`` other than newline and tab, escaped."""
    return [ascii(c) for c in text if c not in "\n\t" and (ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F)]


@dataclass
class ShellOverFakeStore:
    """An IPython shell with copilot_magic loaded over a fake store, and what it printed."""

    ip: InteractiveShell
    magics: CopilotMagics
    store: FakeStore
    capsys: pytest.CaptureFixture[str]

    def refused(self, cell: str) -> str:
        """The one UsageError line IPython showed for ``cell``, without a traceback."""
        return usage_error_shown(self.ip, self.capsys, cell)

    def asked_nothing(self) -> bool:
        """Whether the store was asked nothing, and no real store (no runtime) was made."""
        return self.store.calls == [] and self.magics._store is self.store


@pytest.fixture
def shell(ip: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> ShellOverFakeStore:
    ip.run_line_magic("load_ext", "copilot_magic")
    magics = ip._copilot_magics
    assert isinstance(magics, CopilotMagics)
    store = FakeStore()
    magics._store = store  # type: ignore[assignment]
    return ShellOverFakeStore(ip, magics, store, capsys)


def files_under(root: Path) -> list[Path]:
    return sorted(root.rglob("*"))


# -- Unknown options and malformed arguments ------------------------------------------------------
MALFORMED = [
    ("%%copilot --bogus\nhello", "UsageError: unrecognized arguments: --bogus"),
    ("%copilot_session --export", "UsageError: argument --export: expected at least one arg"),
    ("%copilot_session --export only-a-file.md", "UsageError: No active Copilot session: run"),
    ("%copilot_session --export a b c", "UsageError: --export takes [ID] FILE; it was given 3"),
    ("%copilot_session some-id --model", "UsageError: argument --model/-m: expected one arg"),
    ("%copilot_session id-one id-two", "UsageError: unrecognized arguments: id-two"),
    ("%copilot_session -x", "UsageError: unrecognized arguments: -x"),
    ("%copilot_session --delete", "UsageError: argument --delete: expected 1 argument"),
    ("%copilot_session --list --history", "UsageError: Use one of ID, --list, --show"),
    ("%copilot_session --history one two", "UsageError: --show takes [ID]; it was given 2: one"),
    ("%copilot_session --new", "UsageError: --new, --model and --takeover go with a session"),
    ("%copilot_session --takeover", "UsageError: --new, --model and --takeover go with a sess"),
    ("%copilot_session --export some-id notes.txt", "UsageError: Export to a .ipynb or .md"),
    ("%copilot_sessions --list", "UsageError: %copilot_sessions takes no arguments."),
    ("%%copilot --session\nhello", "UsageError: argument --session/-s: expected one argument"),
    ("%%copilot -s one two\nhello", "UsageError: unrecognized arguments: two"),
    ("%%copilot --session some-id\n \t \n", "UsageError: The cell is empty"),
]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param(line, expected, marks=bad_input(f"Malformed arguments: {line!r}"))
        for line, expected in MALFORMED
    ],
)
def test_malformed_arguments_give_a_one_line_usage_error_before_the_fake_store(
    shell: ShellOverFakeStore,
    line: str,
    expected: str,
    reliability: Reliability,
) -> None:
    reliability.tried(f"run {line!r} in an IPython shell over a fake store")
    assert shell.refused(line).startswith(expected)
    assert shell.asked_nothing()
    reliability.held("one-line UsageError, no traceback, no call to the store")


@pytest.mark.parametrize(
    ("line", "quoted"),
    [
        pytest.param(line, quoted, marks=bad_input(f"Unclosed quote: {line!r}"))
        for line, quoted in (
            ('%copilot_session "unclosed', '"unclosed'),
            ("%copilot_session --export some-id 'notes.ipynb", "--export some-id 'notes.ipynb"),
            ('%%copilot --session "unclosed\nhello', '--session "unclosed'),
        )
    ],
)
def test_an_unclosed_quote_gives_a_one_line_usage_error_before_the_fake_store(
    shell: ShellOverFakeStore,
    line: str,
    quoted: str,
    reliability: Reliability,
) -> None:
    reliability.tried(f"run {line!r} in an IPython shell over a fake store")
    shown = shell.refused(line)
    assert shown == f"UsageError: No closing quotation in the arguments: {quoted}"
    assert shell.asked_nothing()
    reliability.held("one-line UsageError naming the unclosed quotation; no call to the store")


# -- Session ids the runtime would reject ---------------------------------------------------------
REJECTED_IDS = {  # what the person types after %copilot_session: description
    "../x": "parent folder",
    '"a b"': "a space (quoted)",
    "a.b": "a dot",
    ".hidden": "a leading dot",
    "a/b": "a slash",
    "a\\b": "a backslash",
    "café": "non-ASCII letter",
    "ＡＢ": "full-width letters",
    "a\u200db": "zero-width joiner",
    '"a\tb"': "a tab (quoted)",
    "a\x01b": "a control character",
    "a:b": "a colon",
    "a@b": "an at sign",
    "a+b": "a plus",
    "a=b": "an equals sign",
    "a;b": "a semicolon",
    "x" * 251: "251 characters",
    "y" * 300: "300 characters",
    '""': "empty (quoted)",
}


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param(typed, id=about, marks=bad_input(f"Session id with {about}"))
        for typed, about in REJECTED_IDS.items()
    ],
)
def test_an_id_the_runtime_rejects_is_refused_in_one_line_before_the_fake_store(
    shell: ShellOverFakeStore,
    isolated_home: Path,
    typed: str,
    reliability: Reliability,
) -> None:
    reliability.tried(f"%copilot_session {ascii(typed)[:60]} in an IPython shell over a fake store")
    before = files_under(isolated_home)
    shown = shell.refused(f"%copilot_session {typed}")
    assert shown.startswith(
        (
            "UsageError: Invalid session id ",
            "UsageError: Empty session id",
            "UsageError: Session id is ",
        )
    ), shown
    assert RULE in shown
    assert raw_controls(shown) == []
    assert shell.asked_nothing()
    assert shell.magics.active_session is None
    assert files_under(isolated_home) == before
    reliability.held("one line stating the rule; no call to the store; no file written")


@pytest.mark.parametrize(
    ("typed", "named"),
    [
        pytest.param(typed, named, marks=bad_input(f"Invalid id named as typed: {typed!a}"))
        for typed, named in [
            ("café", "'café'"),
            ("ＡＢ", "'ＡＢ'"),
            ("a\x01b", "'a\\x01b'"),
            ("a\u200db", "'a\\u200db'"),
        ]
    ],
)
def test_an_invalid_id_is_named_as_typed_in_the_error_before_the_fake_store(
    shell: ShellOverFakeStore,
    typed: str,
    named: str,
    reliability: Reliability,
) -> None:
    """Printable characters as they are, others as one escape (\\x01), not doubled (\\\\x01)."""
    reliability.tried(f"%copilot_session {typed!a} in an IPython shell over a fake store")
    shown = shell.refused(f"%copilot_session {typed}")
    assert shown == f"UsageError: Invalid session id {named}: {RULE}."
    assert shell.asked_nothing()
    reliability.held(f"named as {named}")


# -- A cell of only invisible characters ----------------------------------------------------------
INVISIBLE_CELLS = {
    "zero-width space": "\u200b",
    "byte order mark": "\ufeff",
    "word joiner and zero-width joiners": "\u2060\u200d\u200c",
    "no-break and ideographic spaces": "\u00a0\u3000",
    "Hangul filler": "\u3164",
    "controls": "\x00\x07\x1b",
    "a mix over three lines": " \u200b\n\ufeff\t\u2060\n\u00a0",
}


@bad_input("A cell of only invisible characters")
def test_a_cell_of_only_invisible_characters_is_refused_as_empty_and_not_sent_to_the_fake_store(
    shell: ShellOverFakeStore, reliability: Reliability
) -> None:
    reliability.tried(
        "send one %%copilot cell each of only: " + ", ".join(INVISIBLE_CELLS) + ", between two "
        "visible prompts, in an IPython shell over a fake store",
        times=len(INVISIBLE_CELLS),
    )
    assert shell.ip.run_cell("%copilot_session bi-blank").success
    assert shell.ip.run_cell("%%copilot\na visible first prompt").success
    for name, cell in INVISIBLE_CELLS.items():
        assert shell.refused(f"%%copilot\n{cell}") == f"UsageError: {EMPTY_CELL}", name
    assert shell.ip.run_cell("%%copilot\nand a visible second one").success
    sent = [call[1] for call in shell.store.calls if call[0] == "turn"]
    assert sent == ["a visible first prompt", "and a visible second one"]
    reliability.held(
        f"{len(INVISIBLE_CELLS)} of {len(INVISIBLE_CELLS)}: the one-line empty-cell UsageError; "
        "the store was asked for only the 2 visible prompts"
    )
