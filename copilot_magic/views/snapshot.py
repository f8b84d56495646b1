"""The session browser as a saved notebook shows it: a static table, no widget error.

A saved notebook keeps the browser's widget output, but a reopened notebook
has no widget state, and JupyterLab and Notebook 7 show "Error displaying
widget: model not found" there. So ``%copilot_sessions`` also shows this
snapshot, kept up to date while the browser lists sessions, and its style
sheet decides which of the two a person sees: while the live browser is on the
page, the snapshot is hidden; where the widget cannot be shown, the error's
whole output row is hidden and the snapshot reads in its place. (Frontends
without JupyterLab's output classes, VS Code among them, show the snapshot
folded under the live browser.) No IPython needed.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime

from copilot_magic.sessions.models import SessionSummary
from copilot_magic.views.styles import ABSTAIN_BADGE
from copilot_magic.views.text import plural, tokens_cell, when

SNAPSHOT_CLASS = "copilot-panel-static"
_CHILD = ".jp-OutputArea-child"
_RULES = (
    f"{_CHILD}:has(.{SNAPSHOT_CLASS}):has(~ {_CHILD} .copilot-session-browser)"
    "{display:none}"
    # the whole output row of the widget error, its Out[n] prompt too: no empty row is left
    f"{_CHILD}:has(.{SNAPSHOT_CLASS}) ~ {_CHILD}:has(> .jp-OutputArea-output.jupyter-widgets)"
    "{display:none}"
    f".{SNAPSHOT_CLASS} table{{border-collapse:collapse;margin:4px 0}}"
    f".{SNAPSHOT_CLASS} table th{{border-bottom:2px solid var(--jp-border-color1,#bdbdbd);"
    "padding:2px 10px;white-space:nowrap}}"
    f".{SNAPSHOT_CLASS} table td{{padding:2px 10px;white-space:nowrap;"
    "border-bottom:1px solid var(--jp-border-color3,#eee)}}"
)
_HEADINGS = ("Session", "Title", "Last active", "Turns", "Tokens in/out", "🛑")
_FIRST_NUMBER = _HEADINGS.index("Turns")  # the columns from here on hold numbers


def snapshot_html(summaries: Sequence[SessionSummary], at: datetime | None = None) -> str:
    """The sessions as a static table, with the rules that show it only where the live
    browser is not."""
    moment = when(at or datetime.now().astimezone())
    rows = "".join(
        _row(
            "td",
            f"<code>{html.escape(s.session_id)}</code>",
            f"{'★ ' if s.starred else ''}{html.escape(s.title or '(no prompt yet)')}",
            when(s.last_active),
            f"{s.turns:,}",
            html.escape(tokens_cell(s.usage)),
            _abstentions(s.abstentions),
        )
        for s in summaries
    )
    table = (
        f"<table><thead>{_row('th', *_HEADINGS)}</thead><tbody>{rows}</tbody></table>"
        if summaries
        else ""
    )
    return (
        f'<div class="{SNAPSHOT_CLASS}"><style>{_RULES}</style>'
        f"<p><b>Copilot sessions</b> · {plural(len(summaries), 'session')} as listed at "
        f"{moment}. Run this cell (<code>%copilot_sessions</code>) to browse, read and change "
        f"them.</p>{table}</div>"
    )


def snapshot_bundle(summaries: Sequence[SessionSummary]) -> dict[str, str]:
    """The snapshot as a display's MIME bundle (HTML, and a line of text)."""
    text = (
        f"Copilot sessions: {plural(len(summaries), 'session')}. "
        "Run %copilot_sessions to browse them."
    )
    return {"text/html": snapshot_html(summaries), "text/plain": text}


def _row(tag: str, *cells: str) -> str:
    """One row, its text aligned left and its numbers right by each cell's own style: a style
    sheet's rule loses to JupyterLab's (``:not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon td``
    aligns right), and an untrusted notebook's output keeps no style sheet."""
    aligned = (
        f'<{tag} style="text-align:{"right" if column >= _FIRST_NUMBER else "left"}">{cell}</{tag}>'
        for column, cell in enumerate(cells)
    )
    return f"<tr>{''.join(aligned)}</tr>"


def _abstentions(count: int) -> str:
    if not count:
        return ""
    return f'<span style="{ABSTAIN_BADGE};border-radius:9px;padding:0 7px">{count}</span>'
