"""SessionList: the session browser's list of sessions, a real table (an anywidget).

One row per session with aligned columns: star, id, title (whole on hover),
last active ("3 min ago", the exact time on hover), turns, tokens, abstentions
and state. A click or the arrow keys (Home, End, Page Up/Down too) select a
row; ``value`` is the selected session's id. The rows are plain data; the
table's script (``session_list.js``) writes every text with ``textContent``,
never as HTML. :func:`option_label` is a row as one line of text (what a terminal,
or a test, reads).
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path

import anywidget
import traitlets

from copilot_magic.sessions.models import SessionSummary
from copilot_magic.views.text import plural, when
from copilot_magic.views.times import ago

HERE = Path(__file__).parent
EMPTY = "No sessions match."


class SessionList(anywidget.AnyWidget):
    """The list of sessions; ``value`` is the selected id (``None``: no selection)."""

    _esm = HERE / "session_list.js"
    _css = HERE / "session_list.css"
    rows = traitlets.List(traitlets.Dict()).tag(sync=True)
    value = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    empty_text = traitlets.Unicode(EMPTY).tag(sync=True)

    def __init__(self) -> None:
        super().__init__()
        self.summaries: list[SessionSummary] = []

    def show(self, summaries: list[SessionSummary], now: datetime | None = None) -> None:
        """Show these sessions, in this order; the selection stays if its session does."""
        moment = now or datetime.now().astimezone()
        self.summaries = list(summaries)
        self.rows = [row(summary, moment) for summary in summaries]

    @property
    def ids(self) -> list[str]:
        return [summary.session_id for summary in self.summaries]

    @property
    def options(self) -> list[tuple[str, str]]:
        """Each row as one line of text and its id (what a terminal, or a test, reads)."""
        return [(option_label(summary), summary.session_id) for summary in self.summaries]


def row(summary: SessionSummary, now: datetime) -> dict[str, object]:
    """What a row shows, and the tips of its cells."""
    usage = summary.usage
    states = [
        *(["● active here"] if summary.active else []),
        *(["🔒 in use elsewhere"] if summary.held_elsewhere else []),
        *([f"⚠ damaged: {summary.damage}"] if summary.damage else []),
        *([f"made in {summary.made_elsewhere}"] if summary.made_elsewhere else []),
    ]
    return {
        "id": summary.session_id,
        "star": "★" if summary.starred else "",
        "title": summary.title or "(no prompt yet)",
        "title_tip": summary.title,
        "last": ago(summary.last_active, now),
        "last_tip": f"last active {when(summary.last_active)}; created {when(summary.created)}",
        "turns": f"{summary.turns:,}",
        "tokens": f"{usage.input_tokens:,} / {usage.output_tokens:,}" if usage else "—",
        "tokens_tip": usage.line() if usage else "no model request yet",
        "abstentions": f"{summary.abstentions}" if summary.abstentions else "",
        "abstentions_tip": plural(summary.abstentions, "abstention"),
        "state": " · ".join(states),
        "state_tip": " · ".join(states),
    }


@lru_cache(maxsize=4096)
def option_label(summary: SessionSummary) -> str:
    """One line of the list: id first (tests select by it), then what helps choosing.

    Cached: a list of a thousand sessions is drawn again on every filter keystroke.
    """
    parts = [summary.session_id, *(["★"] if summary.starred else [])]
    parts += [
        summary.title or "(no prompt yet)",
        f"last active {when(summary.last_active)}",
        f"created {when(summary.created, '%Y-%m-%d')}",
    ]
    parts.append(plural(summary.turns, "turn"))
    if summary.abstentions:
        parts.append(f"🛑 {summary.abstentions}")
    if summary.active:
        parts.append("● active here")
    if summary.held_elsewhere:
        parts.append("🔒 in use elsewhere")
    if summary.damage:
        parts.append(f"⚠ damaged: {summary.damage}")
    if summary.made_elsewhere:
        parts.append(f"made in {summary.made_elsewhere}")
    return "  ·  ".join(parts)
