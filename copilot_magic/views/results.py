"""What ``--list`` and ``--show`` return: values that render well wherever they land.

``sessions = %copilot_session --list`` captures a :class:`SessionTable`; in
Jupyter it shows as a Markdown table, in a terminal (and as ``text/plain``) as
the aligned text table the command line prints. A :class:`Transcript` shows as
sanitised HTML in Jupyter and as plain text elsewhere. Both keep their data
(``.sessions``, ``.turns``) for code to use. No IPython needed.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from copilot_magic.sessions.models import SessionSummary
from copilot_magic.sessions.transcript import Turn
from copilot_magic.views.text import (
    damage_warning,
    format_history,
    format_session_table,
    printable,
    titled,
    tokens_cell,
    when,
)

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>-])")


def _markdown_cell(text: str) -> str:
    """Text shown literally in a Markdown table cell: no markup, no HTML, one line."""
    flat = " ".join(printable(text).split())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(flat, quote=False))


def _pretty(text: str, printer: Any, cycle: bool) -> None:
    printer.text(text)


@dataclass(frozen=True)
class SessionTable:
    """The stored sessions, most recently active first (``%copilot_session --list``)."""

    sessions: tuple[SessionSummary, ...]

    def __iter__(self) -> Iterator[SessionSummary]:
        return iter(self.sessions)

    def __len__(self) -> int:
        return len(self.sessions)

    @property
    def ids(self) -> list[str]:
        return [s.session_id for s in self.sessions]

    def __str__(self) -> str:
        return format_session_table(list(self.sessions))

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        _pretty(str(self), printer, cycle)

    def _repr_markdown_(self) -> str:
        if not self.sessions:
            return str(self)
        rows = [
            "| ID | Title | Last active | Tokens in/out | Turns |",
            "|---|---|---|---:|---:|",
        ]
        rows += [
            f"| `{s.session_id}` | {_markdown_cell(titled(s))} | "
            f"{when(s.last_active)} | {tokens_cell(s.usage)} | {s.turns} |"
            for s in self.sessions
        ]
        return "\n".join(rows)


@dataclass(frozen=True)
class Transcript:
    """One session's turns, oldest first (``%copilot_session --show``)."""

    session_id: str
    turns: tuple[Turn, ...]
    abstain_signal: str
    damage: str = ""
    usage_line: str = ""  # shown under the heading when set (``copilot-magic show``)

    def __iter__(self) -> Iterator[Turn]:
        return iter(self.turns)

    def __len__(self) -> int:
        return len(self.turns)

    def __str__(self) -> str:
        text = format_history(self.session_id, list(self.turns), self.abstain_signal)
        if self.usage_line:
            head, _, rest = text.partition("\n")
            text = f"{head}\n{self.usage_line}" + (f"\n{rest}" if rest else "")
        return f"{damage_warning(self.session_id, self.damage)}\n{text}" if self.damage else text

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        _pretty(str(self), printer, cycle)

    def _repr_html_(self) -> str:
        from copilot_magic.views.render import transcript_html  # Markdown: when needed

        text = format_history(self.session_id, list(self.turns), self.abstain_signal)
        head = html.escape(text.split("\n", 1)[0])
        warning = (
            f"<p>{html.escape(damage_warning(self.session_id, self.damage))}</p>"
            if self.damage
            else ""
        )
        used = f"<p>{html.escape(self.usage_line)}</p>" if self.usage_line else ""
        body = transcript_html(self.turns, self.abstain_signal)
        return (
            f'<div class="copilot-transcript copilot-history">{warning}<p><b>{head}</b></p>'
            f"{used}{body}</div>"
        )
