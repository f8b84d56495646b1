"""The code Copilot asks to run, as the person sees it before answering (or being refused).

The whole code is shown, never cut: in a notebook as a highlighted Python
block (the reply's own code-block look, from
:mod:`~copilot_magic.views.markdown`), whose long lines wrap instead of running
off to the side and whose characters are drawn in the order they run (no
right-to-left reordering); in a terminal as its lines indented under the
heading, so no line of the code can pass for the heading or the question. The
heading counts the lines. Code that holds a character that can hide what it
does is shown with each one written out as a marker (``⟨U+0008 BACKSPACE⟩``,
see :mod:`~copilot_magic.kernel.hidden`) and the one line that says why it did
not run. Nothing here needs IPython.
"""

from __future__ import annotations

import html
import re

from copilot_magic.kernel.hidden import pieces
from copilot_magic.values import plural
from copilot_magic.views.markdown import CODE_CLASS, markdown_to_safe_html
from copilot_magic.views.styles import style_sheet

INDENT = "    "
HIDDEN_CLASS = "copilot-hidden-char"
_BACKTICKS = re.compile(r"`+")


def heading(shown: str) -> str:
    """The line above the code: what it is and how many lines it has."""
    count = len(_lines(shown))
    return f"Copilot wants to run this code in the kernel ({plural(count, 'line')}):"


def _lines(shown: str) -> list[str]:
    """The lines of the code as shown (a last newline ends the last line; it adds none)."""
    lines = shown.split("\n")
    return lines[:-1] if len(lines) > 1 and lines[-1] == "" else lines


def consent_text(code: str, refusal: str = "") -> str:
    """The code as plain text: the heading, every line indented, and ``refusal`` (the line
    that says why it did not run) when there is one."""
    shown = "".join(text for text, _ in pieces(code))
    lines = [heading(shown), *(f"{INDENT}{line}" if line else "" for line in _lines(shown))]
    if refusal:
        lines.append(refusal)
    return "\n".join(lines)


def consent_html(code: str, refusal: str = "") -> str:
    """The code as HTML, with the style sheet: the heading, the code block, and ``refusal``
    when there is one."""
    parts = pieces(code)
    shown = "".join(text for text, _ in parts)
    if any(marked for _, marked in parts):
        block = _marked_block(parts)
    else:
        block = markdown_to_safe_html(_fenced(code))
    end = f'<div class="copilot-consent-refused">{html.escape(refusal)}</div>' if refusal else ""
    return (
        f'{style_sheet()}<div class="copilot-consent">'
        f'<div class="copilot-consent-head">{html.escape(heading(shown))}</div>{block}{end}</div>'
    )


def _fenced(code: str) -> str:
    """``code`` as one Markdown Python block whose fence no run of backticks in it can close."""
    longest = max((len(run) for run in _BACKTICKS.findall(code)), default=0)
    fence = "`" * max(3, longest + 1)
    body = code.removesuffix("\n")  # a last newline would show as an empty line
    return f"{fence}python\n{body}\n{fence}"


def _marked_block(parts: list[tuple[str, bool]]) -> str:
    """The code block of code with hiding characters: plain text (not highlighted), each
    marker set apart."""
    body = "".join(
        f'<span class="{HIDDEN_CLASS}">{html.escape(text)}</span>' if marked else html.escape(text)
        for text, marked in parts
    )
    bar = (
        '<span class="copilot-code-lang">python</span>'
        '<span class="copilot-code-hint">hidden characters written out as ⟨…⟩</span>'
    )
    return (
        f'<div class="copilot-code-block"><div class="copilot-code-bar">{bar}</div>'
        f'<pre class="{CODE_CLASS}" data-lang="python"><code>{body}</code></pre></div>'
    )
