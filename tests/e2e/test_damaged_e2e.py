"""Damaged history files: reported with the reason everywhere, and nothing else breaks.

Sessions are made for real, then their ``events.jsonl`` is cut short, spoiled,
emptied or removed, as a full disk, a crash or a careless hand would. The list
(magic, panel and command line) names each damaged session and why; a session
the runtime cannot resume is refused in one line and can still be deleted; one
with unreadable lines resumes with a warning; the sound session keeps working.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from reliability import Reliability
from runtime_support import converse

from copilot_magic.sessions.catalog import StoreCatalog
from copilot_magic.sessions.store import SessionStore
from copilot_magic.ui.panel import SessionBrowser

from .cells import copilot_cell, error_shown, reply_of
from .cli_runner import Ran
from .kernels import Kernel

SESSIONS = ("dmg-sound", "dmg-torn", "dmg-garbled", "dmg-emptied", "dmg-lost")
REASONS = {
    "dmg-torn": "its history ends in a torn line (an interrupted write)",
    "dmg-garbled": "1 unreadable line in its history (first at line ",
    "dmg-emptied": "its history file events.jsonl is empty",
    "dmg-lost": "its history file events.jsonl is missing",
}


def _damage(data_dir: Path) -> None:
    """Spoil four of the five sessions' history files, each in its own way."""
    state = data_dir / "session-state"
    torn = state / "dmg-torn" / "events.jsonl"
    content = torn.read_bytes()
    torn.write_bytes(content[: len(content) - 40])  # the last line loses its end
    garbled = state / "dmg-garbled" / "events.jsonl"
    lines = garbled.read_bytes().splitlines(keepends=True)
    lines.insert(3, b"\x00\xff{ not json at all\n")
    garbled.write_bytes(b"".join(lines))
    (state / "dmg-emptied" / "events.jsonl").write_bytes(b"")
    (state / "dmg-lost" / "events.jsonl").unlink()


@pytest.fixture
def damaged(open_store: Callable[[], SessionStore], data_dir: Path) -> None:
    store = open_store()
    for session_id in SESSIONS:
        converse(store, session_id, f"first words of {session_id}", "second words")
    store.close()
    _damage(data_dir)


@pytest.mark.reliability("Faults", "History file truncated or corrupted")
def test_damaged_sessions_are_reported_everywhere_and_the_sound_one_keeps_working(
    damaged: None,
    start_kernel: Callable[[], Kernel],
    open_store: Callable[[], SessionStore],
    run_cli: Callable[..., Ran],
    reliability: Reliability,
) -> None:
    reliability.tried(
        "five sessions; one history cut mid-line, one with a garbage line, one emptied, "
        "one deleted; then list (magic, panel, CLI), resume, history, a turn, delete",
        times=4,
    )
    kernel = start_kernel()
    listing = kernel.execute("%copilot_session --list").printed
    for session_id, reason in REASONS.items():
        row = next(line for line in listing.splitlines() if line.startswith(session_id))
        assert f"⚠ damaged: {reason}" in row, row
    sound = next(line for line in listing.splitlines() if line.startswith("dmg-sound"))
    assert "damaged" not in sound

    ran = run_cli("list", "--json")
    assert ran.status == 0, ran.err
    entries = {entry["id"]: entry for entry in json.loads(ran.out)}
    assert set(entries) == set(SESSIONS)
    assert entries["dmg-sound"]["damaged"] is None
    for session_id, reason in REASONS.items():
        assert entries[session_id]["damaged"].startswith(reason), entries[session_id]
    shown = run_cli("show", "dmg-garbled")
    assert shown.status == 0, shown.err
    assert shown.out.startswith(f"⚠ Session dmg-garbled is damaged: {REASONS['dmg-garbled']}")
    refused = run_cli("show", "dmg-lost")
    assert refused.status == 1
    assert refused.error_line.startswith("copilot-magic: error: Session 'dmg-lost' is damaged")

    browser = SessionBrowser(StoreCatalog(open_store()))
    labels = {value: label for label, value in browser.list.options}
    for session_id, reason in REASONS.items():
        assert f"⚠ damaged: {reason}" in labels[session_id]
    browser.list.value = "dmg-torn"
    browser.load_button.click()
    assert browser.status_text.startswith("⚠ Session dmg-torn is damaged")
    assert "first words of dmg-torn" in browser.history.value

    for session_id in ("dmg-emptied", "dmg-lost"):
        line = error_shown(kernel.execute(f"%copilot_session {session_id}"))
        assert line.startswith(f"SessionDamaged: Session '{session_id}' is damaged: ")
        assert f"--delete {session_id}" in line

    resumed = kernel.execute("%copilot_session dmg-garbled").stdout
    assert f"⚠ Session dmg-garbled is damaged: {REASONS['dmg-garbled']}" in resumed
    html = reply_of(kernel.execute(copilot_cell("still readable?")))["data"]["text/html"]
    assert 'I received 3 user messages. The first was: "first words of dmg-garbled"' in html

    kernel.execute("%copilot_session dmg-sound")
    html = reply_of(kernel.execute(copilot_cell("all well?")))["data"]["text/html"]
    assert 'I received 3 user messages. The first was: "first words of dmg-sound"' in html

    deleted = kernel.execute("%copilot_session --delete dmg-lost --yes")
    assert deleted.error is None, deleted.error_line
    after = kernel.execute("%copilot_session --list").printed
    assert "dmg-lost" not in after
    reliability.held(
        "each damaged session named with its reason in --list, the panel and `copilot-magic "
        "list`; unresumable ones refused in one line and deletable; one with a garbage line "
        "resumed with a warning and the model saw both turns; the sound session continued"
    )
