"""How a reply looks: Markdown rendered to sanitised HTML, with its status around it.

The Markdown itself, and everything about code blocks, is
:mod:`~copilot_magic.views.markdown`; the colours are
:mod:`~copilot_magic.views.styles`. A reply shows what Copilot looked at, the
text, one line for the runtime's notices (repeated retries are counted on it,
not listed), a "writing…" mark while it streams ("waiting for you" instead while
the person is asked something under it), and a closing status line.
Nothing here needs IPython.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Sequence

from copilot_magic.output_metadata import Stage
from copilot_magic.sessions.transcript import Turn, strip_signal
from copilot_magic.views.markdown import markdown_to_safe_html
from copilot_magic.views.styles import style_sheet
from copilot_magic.views.text import when

ABSTAINED_BANNER = "🛑 Copilot abstained"
UPDATES_PER_SECOND = 10
WRITING = "✎ writing…"
WAITING_FOR_YOU = "⏸ Waiting for you: answer the question below."

_STAGE_NOTES = {
    Stage.WAITING: "⏳ Waiting for Copilot…",
    Stage.WAITING_FOR_YOU: WAITING_FOR_YOU,
    Stage.INTERRUPTED: (
        "⏹ Interrupted: the rest of this reply was not generated; the session is ready for "
        "the next cell."
    ),
    Stage.FAILED: "⚠️ The reply failed.",
    Stage.FROM_HISTORY: "↺ From the history: this cell asked it before, so nothing was sent.",
}


def _stage_note(stage: Stage, error: str, shown_before: bool) -> str:
    """The status line under a reply ("" for none). Waiting shows only while nothing else
    does; a failure shows only with its reason (a cell shows the reason as its error)."""
    note = _STAGE_NOTES.get(stage, "")
    if stage is Stage.WAITING and shown_before:
        return ""
    if stage is Stage.FAILED and not error:
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
    code_command: str = "",
) -> str:
    """The whole HTML of a reply: banner, what Copilot looked at, body, notices, status.

    ``code_command`` (``%copilot_code 3``) is named under each Python code block.
    """
    classes = "copilot-reply copilot-abstained" if abstained else "copilot-reply"
    parts = [style_sheet(), f'<div class="{classes}">']
    if abstained:
        parts.append(
            '<div class="copilot-abstained-banner" style="border-left:4px solid #d32f2f;'
            'background:rgba(211,47,47,.08);padding:4px 8px;margin-bottom:6px;font-weight:600">'
            f"{ABSTAINED_BANNER}</div>"
        )
    parts.extend(steps_html(steps))
    if text:
        parts.append(markdown_to_safe_html(text, code_command))
    parts.extend(
        f'<div class="copilot-notice copilot-quiet">↻ {html.escape(n)}</div>' for n in notices
    )
    if stage is Stage.STREAMING:
        parts.append(f'<div class="copilot-writing">{WRITING}</div>')
    note = _stage_note(stage, error, bool(text or notices or steps))
    if note:
        parts.append(
            f'<div class="copilot-status copilot-quiet"><em>{html.escape(note)}</em></div>'
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
    code_command: str = "",
) -> str:
    """The plain-text form of a reply, for ``text/plain`` outputs."""
    lines = [ABSTAINED_BANNER] if abstained else []
    lines.extend(steps)
    if text:
        lines.append(text)
    lines.extend(f"↻ {notice}" for notice in notices)
    note = _stage_note(stage, error, bool(text or notices or steps))
    if note:
        lines.append(note)
    return "\n".join(lines)


def steps_html(steps: Sequence[str]) -> list[str]:
    """What Copilot looked at in the kernel, a line each ("🔎 looked at `df`"); the names in
    backticks are code."""
    return [f'<div class="copilot-step copilot-quiet">{_inline_code(step)}</div>' for step in steps]


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


def transcript_html(turns: Sequence[Turn], abstain_signal: str) -> str:
    """Turns of a transcript as one HTML block, with the style sheet."""
    body = "".join(turn_html(turn, abstain_signal) for turn in turns)
    return f'{style_sheet()}<div class="copilot-history-body">{body}</div>'


def turn_html(turn: Turn, abstain_signal: str) -> str:
    """One turn of a transcript as HTML: the prompt as text, the reply as sanitised Markdown."""
    meta = '<div class="copilot-turn-meta copilot-quiet">{}</div>'
    attached = (
        f'<div class="copilot-attached copilot-quiet">{_inline_code(turn.attached_words)}</div>'
        if turn.attached
        else ""
    )
    prompt = (
        '<div class="copilot-turn copilot-turn-user" style="margin:8px 0 4px 0">'
        + meta.format(f"[{turn.index}] You · {when(turn.asked_at, missing='')}")
        + f'<div style="white-space:pre-wrap">{html.escape(turn.prompt)}</div>{attached}</div>'
    )
    classes = "copilot-turn copilot-turn-assistant"
    edge = "3px solid var(--jp-border-color1,#90a4ae)"
    badge = ""
    if turn.abstained:
        classes += " copilot-abstained"
        edge = "4px solid #d32f2f"
        badge = f' <span class="copilot-badge">{ABSTAINED_BANNER}</span>'
    answered = when(turn.answered_at or turn.asked_at, missing="")
    if turn.reply:
        body = markdown_to_safe_html(strip_signal(turn.reply, abstain_signal))
    else:
        shown = markdown_to_safe_html(turn.partial) if turn.partial else ""
        body = f'{shown}<div class="copilot-quiet"><em>{html.escape(cut_short(turn))}</em></div>'

    reply = (
        f'<div class="{classes}" style="margin:4px 0 14px 0;padding:2px 10px;border-left:{edge}">'
        + meta.format(f"Copilot · {answered}{badge}")
        + f"{''.join(steps_html(turn.steps))}{body}</div>"
    )
    return prompt + reply


def cut_short(turn: Turn) -> str:
    """The line under a reply that was interrupted or failed, with its time."""
    at = when(turn.answered_at or turn.asked_at, missing="an unknown time")
    kept = " (above: what the cell showed)" if turn.partial else ""
    if turn.aborted:
        return f"⏹ Interrupted at {at}{kept}: the rest was not generated."
    why = f": {turn.error.rstrip('.')}" if turn.error else ""
    return f"⚠️ The reply failed at {at}{kept}{why}."
