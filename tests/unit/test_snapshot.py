"""The session browser's snapshot: what a saved notebook shows where the widget cannot be."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser

from copilot_magic.sessions.models import SessionSummary, Usage
from copilot_magic.views.snapshot import SNAPSHOT_CLASS, snapshot_bundle
from copilot_magic.views.text import when

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
SESSIONS = [
    SessionSummary("plain", "<b>bold</b> & more", NOW, NOW, 3, usage=Usage(1200, 40, 3, ())),
    SessionSummary("shy", "abstains", NOW, NOW, 2, abstentions=1, starred=True),
]


def test_the_snapshot_lists_every_session_as_inert_text() -> None:
    bundle = snapshot_bundle(SESSIONS)
    html = bundle["text/html"]
    assert f'<div class="{SNAPSHOT_CLASS}">' in html
    assert html.count("<tbody>") == 1
    assert html.count("<tr><td") == 2
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in html
    assert "<b>bold</b>" not in html
    assert "★ abstains" in html
    assert "1,200/40" in html
    assert "2 sessions as listed at" in html
    assert (
        bundle["text/plain"]
        == "Copilot sessions: 2 sessions. Run %copilot_sessions to browse them."
    )


def test_its_rules_hide_it_beside_the_live_browser_and_hide_the_widget_errors_whole_row() -> None:
    html = snapshot_bundle(SESSIONS)["text/html"]
    assert (
        f".jp-OutputArea-child:has(.{SNAPSHOT_CLASS}):has(~ .jp-OutputArea-child "
        ".copilot-session-browser){display:none}" in html
    )
    assert (  # the row with its Out[n] prompt, not only the error line: no empty row is left
        f".jp-OutputArea-child:has(.{SNAPSHOT_CLASS}) ~ .jp-OutputArea-child:has(> "
        ".jp-OutputArea-output.jupyter-widgets){display:none}" in html
    )


class _CellAlignments(HTMLParser):
    """Each table row's cells as (text, text-align of the cell's own style)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[tuple[str, str]]] = []
        self._align: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("th", "td"):
            style = dict(attrs).get("style") or ""
            self._align = style.partition("text-align:")[2].partition(";")[0] or "none"
            self.rows[-1].append(("", self._align))

    def handle_data(self, data: str) -> None:
        if self._align is not None and self.rows and self.rows[-1]:
            text, align = self.rows[-1][-1]
            self.rows[-1][-1] = (text + data, align)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td"):
            self._align = None


def test_each_cell_aligns_its_text_left_and_its_numbers_right_by_its_own_style() -> None:
    """JupyterLab right-aligns every cell of HTML output with a rule that outranks a style
    sheet's, and an untrusted notebook drops the style sheet: only a cell's own style holds."""
    parser = _CellAlignments()
    parser.feed(snapshot_bundle(SESSIONS)["text/html"])
    head, *rows = parser.rows
    assert head == [
        ("Session", "left"),
        ("Title", "left"),
        ("Last active", "left"),
        ("Turns", "right"),
        ("Tokens in/out", "right"),
        ("🛑", "right"),
    ]
    assert [(text, align) for text, align in rows[1] if text] == [
        ("shy", "left"),
        ("★ abstains", "left"),
        (when(NOW), "left"),
        ("2", "right"),
        ("-", "right"),
        ("1", "right"),
    ]


def test_no_sessions_is_a_line_without_a_table() -> None:
    html = snapshot_bundle([])["text/html"]
    assert "0 sessions as listed at" in html
    assert "<table>" not in html
