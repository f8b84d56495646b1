"""A reply in a terminal: its Markdown drawn for the terminal by rich, block by block.

Headings, lists, quotes, tables and code blocks (highlighted in the
terminal's own colours) are drawn by rich as they complete: a block is
printed once the next one has begun, and the last one when the reply ends, so
nothing is printed twice. Control characters in the reply are shown as
escapes, never sent to the terminal. Where standard output is not a terminal
the caller prints plain text instead. Nothing here needs IPython.
"""

from __future__ import annotations

import io
import shutil
from typing import IO

from copilot_magic.views.markdown import markdown_renderer
from copilot_magic.views.text import printable

CODE_THEME = "ansi_dark"  # the terminal's own colour names, whatever its palette


def draw_markdown(text: str, width: int, colours: bool = True) -> str:
    """``text`` (Markdown) drawn for a terminal ``width`` columns wide, as ANSI text."""
    from rich.console import Console
    from rich.markdown import Markdown

    out = io.StringIO()
    console = Console(
        file=out, width=width, force_terminal=colours, no_color=not colours, highlight=False
    )
    console.print(Markdown(printable(text), code_theme=CODE_THEME, hyperlinks=False))
    return "\n".join(line.rstrip() for line in out.getvalue().split("\n"))  # no padding


def _block_ends(text: str) -> list[int]:
    """The line after each top-level Markdown block of ``text``, in order."""
    tokens = markdown_renderer().parse(text)
    return sorted({token.map[1] for token in tokens if token.level == 0 and token.map})


class TerminalMarkdown:
    """Prints a streaming reply's Markdown to ``out`` as its blocks complete."""

    def __init__(self, out: IO[str], width: int | None = None) -> None:
        self.out = out
        self.width = width or shutil.get_terminal_size().columns
        self._printed_lines = 0  # lines of the reply already drawn

    def feed(self, text: str) -> None:
        """The reply so far: draw the blocks that are complete (all but the last)."""
        lines = text.split("\n")
        ends = [end for end in _block_ends(text) if end > self._printed_lines]
        if len(ends) < 2:  # the last block may still grow
            return
        self._draw(lines[self._printed_lines : ends[-2]])
        self._printed_lines = ends[-2]

    def finish(self, text: str) -> None:
        """The whole reply: draw what is left."""
        rest = text.split("\n")[self._printed_lines :]
        if any(line.strip() for line in rest):
            self._draw(rest)
        self._printed_lines = len(text.split("\n"))

    def _draw(self, lines: list[str]) -> None:
        self.out.write(draw_markdown("\n".join(lines), self.width))
        self.out.flush()
