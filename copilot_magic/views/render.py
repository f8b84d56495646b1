"""How a reply looks: Markdown rendered to sanitised HTML, with its status around it.

Model output is untrusted. It is rendered by markdown-it-py with raw HTML
disabled (HTML in a reply shows as text), and the result is sanitised again by
nh3, so no script, event handler or ``javascript:`` link can reach the page.
Images are not rendered (``![alt](url)`` shows as a link): a picture loads by
itself, and its address could carry parts of the conversation to anyone.
Nothing here needs IPython.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import nh3

from copilot_magic.output_metadata import Stage
from copilot_magic.sessions.transcript import Turn, strip_signal
from copilot_magic.views.text import when

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

ABSTAINED_BANNER = "🛑 Copilot abstained"
UPDATES_PER_SECOND = 10


_STAGE_NOTES = {
    Stage.WAITING: "⏳ Waiting for Copilot…",
    Stage.INTERRUPTED: "⏹ Interrupted: the rest of this reply was not generated.",
    Stage.FAILED: "⚠️ The reply failed.",
    Stage.FROM_HISTORY: "↺ From the history: this cell asked it before, so nothing was sent.",
}

_ALLOWED_TAGS = (nh3.ALLOWED_TAGS | {"input"}) - {"img"}
_ALLOWED_ATTRIBUTES = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "code": {"class"},
    "input": {"type", "checked", "disabled"},
    "ol": {"start"},
}


@lru_cache(maxsize=1)
def markdown_renderer() -> MarkdownIt:
    """The Markdown parser (markdown-it-py, ~40 ms to import: loaded on first use)."""
    from markdown_it import MarkdownIt

    return (
        MarkdownIt("commonmark", {"html": False, "linkify": False})
        .enable("table")
        .enable("strikethrough")
        .disable("image")
    )


def markdown_to_safe_html(text: str) -> str:
    """Render untrusted Markdown to HTML that is safe to put in a page."""
    return nh3.clean(
        markdown_renderer().render(text),
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def _stage_note(text: str, stage: Stage, error: str) -> str:
    """The status line under a reply ("" for none): waiting only until text arrives."""
    note = _STAGE_NOTES.get(stage, "")
    if not note or (stage is Stage.WAITING and text):
        return ""
    return f"{note} {error}".rstrip()


def reply_html(
    text: str,
    stage: Stage,
    *,
    abstained: bool = False,
    notices: Sequence[str] = (),
    error: str = "",
    steps: Sequence[str] = (),
) -> str:
    """The whole HTML of a reply: banner, what Copilot looked at, body, notices, status."""
    parts = ['<div class="copilot-reply' + (' copilot-abstained"' if abstained else '"') + ">"]
    if abstained:
        parts.append(
            '<div class="copilot-abstained-banner" style="border-left:4px solid #d32f2f;'
            'background:rgba(211,47,47,.08);padding:4px 8px;margin-bottom:6px;font-weight:600">'
            f"{ABSTAINED_BANNER}</div>"
        )
    parts.extend(steps_html(steps))
    if text:
        parts.append(markdown_to_safe_html(text))
    parts.extend(
        f'<div class="copilot-notice" style="opacity:.7">↻ {html.escape(notice)}</div>'
        for notice in notices
    )
    note = _stage_note(text, stage, error)
    if note:
        parts.append(
            f'<div class="copilot-status" style="opacity:.7"><em>{html.escape(note)}</em></div>'
        )
    parts.append("</div>")
    return "".join(parts)


def reply_text(
    text: str,
    stage: Stage,
    *,
    abstained: bool = False,
    notices: Sequence[str] = (),
    error: str = "",
    steps: Sequence[str] = (),
) -> str:
    """The plain-text form of a reply, for terminals and ``text/plain`` outputs."""
    lines = [ABSTAINED_BANNER] if abstained else []
    lines.extend(steps)
    if text:
        lines.append(text)
    lines.extend(f"↻ {notice}" for notice in notices)
    note = _stage_note(text, stage, error)
    if note:
        lines.append(note)
    return "\n".join(lines)


def steps_html(steps: Sequence[str]) -> list[str]:
    """What Copilot looked at in the kernel, a line each ("🔎 looked at `df`"); the names in
    backticks are code."""
    return [
        f'<div class="copilot-step" style="opacity:.75;font-size:92%">{_inline_code(step)}</div>'
        for step in steps
    ]


def _inline_code(line: str) -> str:
    parts = html.escape(line).split("`")
    return "".join(f"<code>{part}</code>" if i % 2 else part for i, part in enumerate(parts))


class UpdateThrottle:
    """Lets through at most ``per_second`` updates a second; the final one is the caller's.

    Updates that are slow to make (a reply of hundreds of thousands of characters
    takes milliseconds to render and send) come less often: the caller reports
    what each one cost with :meth:`took`, and updating never takes more than
    1/``COST_SHARE`` of the time.
    """

    COST_SHARE = 40  # updates may take at most 2.5% of the time

    def __init__(
        self, per_second: float = UPDATES_PER_SECOND, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.fastest = self.interval = 1.0 / per_second
        self._clock = clock
        self._last: float | None = None

    def took(self, seconds: float) -> None:
        """The last update cost ``seconds``: space the next one out accordingly."""
        self.interval = max(self.fastest, seconds * self.COST_SHARE)

    def ready(self) -> bool:
        """Whether an update may be shown now (and if so, count it as shown)."""
        now = self._clock()
        if self._last is not None and now - self._last < self.interval:
            return False
        self._last = now
        return True


def turn_html(turn: Turn, abstain_signal: str) -> str:
    """One turn of a transcript as HTML: the prompt as text, the reply as sanitised Markdown."""
    prompt = (
        '<div class="copilot-turn copilot-turn-user" style="margin:6px 0">'
        f'<div class="copilot-turn-meta" style="opacity:.65;font-size:90%">[{turn.index}] You · '
        f"{when(turn.asked_at, missing='')}</div>"
        f'<div style="white-space:pre-wrap">{html.escape(turn.prompt)}</div>'
        + (
            f'<div class="copilot-attached" style="opacity:.75;font-size:92%">'
            f"{_inline_code(turn.attached_words)}</div>"
            if turn.attached
            else ""
        )
        + "</div>"
    )
    classes = "copilot-turn copilot-turn-assistant"
    style = "margin:6px 0 12px 0;padding:4px 8px;border-left:3px solid #90a4ae"
    badge = ""
    if turn.abstained:
        classes += " copilot-abstained"
        style = (
            "margin:6px 0 12px 0;padding:4px 8px;border-left:4px solid #d32f2f;"
            "background:rgba(211,47,47,.08)"
        )
        badge = (
            ' <span class="copilot-badge" style="color:#b71c1c;font-weight:600">'
            f"{ABSTAINED_BANNER}</span>"
        )
    if turn.reply:
        body = markdown_to_safe_html(strip_signal(turn.reply, abstain_signal))
    elif turn.aborted:
        at = f" at {when(turn.answered_at)}" if turn.answered_at else ""
        body = f"<em>Interrupted{at}: no reply.</em>"
    else:
        body = f"<em>No reply{': ' + html.escape(turn.error) if turn.error else ''}.</em>"
    reply = (
        f'<div class="{classes}" style="{style}">'
        f'<div class="copilot-turn-meta" style="opacity:.65;font-size:90%">Copilot · '
        f"{when(turn.answered_at, missing='')}{badge}</div>{''.join(steps_html(turn.steps))}"
        f"{body}</div>"
    )
    return prompt + reply
