"""What a cell showed of a reply cut short: kept beside the session, shown in its transcript,
gone with the session or the turn."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from copilot_magic.sessions.marks import SessionMarks
from copilot_magic.sessions.transcript import Turn
from copilot_magic.views.render import turn_html
from copilot_magic.views.text import format_history

AT = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
SIGNAL = "[[POR_ABSTAIN]]"


def test_partial_replies_are_kept_per_turn_and_forgotten_with_the_turn_or_session(
    tmp_path: Path,
) -> None:
    marks = SessionMarks(tmp_path)
    marks.keep_partial("s", 2, "half of **two**")
    marks.keep_partial("s", 3, "a third")
    marks.keep_partial("other", 1, "elsewhere")
    assert marks.partials("s") == {2: "half of **two**", 3: "a third"}
    marks.forget_after(2, "s")  # turn 3 rewound
    assert marks.partials("s") == {2: "half of **two**"}
    marks.forget("s")
    assert marks.partials("s") == {}
    kept = [p.read_bytes() for p in (tmp_path / "copilot-magic").glob("records.db*")]
    assert kept, "the records database was not written"
    assert not any(b"half of" in content for content in kept), "a forgotten reply stayed"
    assert marks.partials("other") == {1: "elsewhere"}


def test_a_transcript_shows_the_partial_reply_and_when_it_was_cut() -> None:
    turn = Turn(3, "tell me", "", AT, AT, aborted=True, partial="The first **half**")
    html = turn_html(turn, SIGNAL)
    assert "The first <strong>half</strong>" in html
    assert "⏹ Interrupted at " in html
    assert "the rest was not generated." in html
    text = format_history("s", [turn], SIGNAL)
    assert "[3] Copilot: (interrupted at " in text
    assert "what the cell showed:)\nThe first **half**" in text
    failed = Turn(4, "again", "", AT, AT, error="Could not connect.", partial="Begun")
    assert "⚠️ The reply failed at " in turn_html(failed, SIGNAL)
    assert ": Could not connect." in turn_html(failed, SIGNAL)


def test_damaged_partial_replies_in_an_older_marks_json_are_left_out_and_a_rewind_still_works(
    tmp_path: Path,
) -> None:
    legacy = tmp_path / "copilot-magic" / "marks.json"
    legacy.parent.mkdir()
    damaged = {"partials": {"s": {"2": "kept", "x": "no turn", "3": 7}, "t": "not a dict"}}
    legacy.write_text(json.dumps(damaged))
    marks = SessionMarks(tmp_path)
    assert marks.partials("s") == {2: "kept"}
    assert marks.partials("t") == {}
    marks.forget_after(1, "s")  # no ValueError from the damaged key
    assert marks.partials("s") == {}


def test_a_rewind_forgets_the_cell_links_of_the_turns_it_removed(tmp_path: Path) -> None:
    marks = SessionMarks(tmp_path)
    marks.link_cell("cell-a", "s", 1, "A", "event-1")
    marks.link_cell("cell-x", "s", 2, "X", "event-2")
    marks.link_cell("cell-other", "t", 2, "X", "event-9")
    marks.forget_after(1, "s", "runtime-id-of-s")  # turn 2 rewound
    assert marks.cell_turn("cell-x") is None
    kept = marks.cell_turn("cell-a")
    assert kept is not None
    assert (kept.turn, kept.event) == (1, "event-1")
    assert marks.cell_turn("cell-other") is not None
