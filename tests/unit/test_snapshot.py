"""The session browser's snapshot: what a saved notebook shows where the widget cannot be."""

from __future__ import annotations

from datetime import UTC, datetime

from copilot_magic.sessions.models import SessionSummary, Usage
from copilot_magic.views.snapshot import SNAPSHOT_CLASS, snapshot_bundle

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
SESSIONS = [
    SessionSummary("plain", "<b>bold</b> & more", NOW, NOW, 3, usage=Usage(1200, 40, 3, ())),
    SessionSummary("shy", "abstains", NOW, NOW, 2, abstentions=1, starred=True),
]


def test_the_snapshot_lists_every_session_as_inert_text() -> None:
    bundle = snapshot_bundle(SESSIONS)
    html = bundle["text/html"]
    assert f'<div class="{SNAPSHOT_CLASS}">' in html
    assert html.count("<tr><td>") == 2
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in html
    assert "<b>bold</b>" not in html
    assert "★ abstains" in html
    assert "1,200/40" in html
    assert "2 sessions as listed at" in html
    assert (
        bundle["text/plain"]
        == "Copilot sessions: 2 sessions. Run %copilot_sessions to browse them."
    )


def test_its_rules_hide_it_beside_the_live_browser_and_hide_the_widget_error_instead() -> None:
    html = snapshot_bundle(SESSIONS)["text/html"]
    assert (
        f".jp-OutputArea-child:has(.{SNAPSHOT_CLASS}):has(~ .jp-OutputArea-child "
        ".copilot-session-browser){display:none}" in html
    )
    assert (
        f".jp-OutputArea-child:has(.{SNAPSHOT_CLASS}) ~ .jp-OutputArea-child > "
        ".jp-OutputArea-output.jupyter-widgets{display:none}" in html
    )


def test_no_sessions_is_a_line_without_a_table() -> None:
    html = snapshot_bundle([])["text/html"]
    assert "0 sessions as listed at" in html
    assert "<table>" not in html
