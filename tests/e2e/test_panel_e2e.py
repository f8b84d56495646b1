"""The session browser on the real runtime, driven like a person would, without a browser."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from reliability import Reliability
from runtime_support import converse

from copilot_magic.sessions.catalog import StoreCatalog
from copilot_magic.sessions.store import SessionStore
from copilot_magic.ui.panel import SessionBrowser

from .cells import copilot_cell, error_shown, files_containing, reply_of
from .kernels import Kernel
from .synthetic_sessions import age_session


def _ids(browser: SessionBrowser) -> list[str]:
    return [value for _label, value in browser.list.options]


def _labels(browser: SessionBrowser) -> dict[str, str]:
    return {value: label for label, value in browser.list.options}


def test_panel_lists_loads_and_marks_abstentions(open_store: Callable[[], SessionStore]) -> None:
    store = open_store()
    converse(store, "panel-plain", "about pandas", "about plots")
    converse(store, "panel-abstain", "first", "tricky one [[echo:abstain]]")
    browser = SessionBrowser(StoreCatalog(store))

    assert set(_ids(browser)) == {"panel-plain", "panel-abstain"}
    labels = _labels(browser)
    assert "2 turns" in labels["panel-abstain"]
    assert "🛑 1" in labels["panel-abstain"]
    assert "🛑" not in labels["panel-plain"]

    browser.list.value = "panel-abstain"
    browser.load_button.click()
    assert browser.status_text == "Loaded panel-abstain."
    assert browser.history.value.count("copilot-abstained") == 1
    assert "🛑 Copilot abstained" in browser.history.value
    assert "[[POR_ABSTAIN]]" not in browser.history.value
    assert "🛑 1 abstained" in browser.history_header.value

    browser.search.value = "PLAIN"
    assert _ids(browser) == ["panel-plain"]
    browser.search.value = "plots"
    assert _ids(browser) == []
    browser.full_text.value = True
    assert _ids(browser) == ["panel-plain"]


def test_a_session_created_here_is_listed_before_its_first_turn(
    open_store: Callable[[], SessionStore],
) -> None:
    """The runtime lists a session only once it has a turn; the panel shows it at once."""
    store = open_store()
    converse(store, "panel-older", "an older question")
    store.open("panel-brand-new")
    browser = SessionBrowser(StoreCatalog(store))
    assert set(_ids(browser)) == {"panel-older", "panel-brand-new"}
    assert "0 turns" in _labels(browser)["panel-brand-new"]
    assert store.summary("panel-brand-new").turns == 0
    assert store.summary("panel-brand-new").damage == ""


@pytest.mark.reliability("Delete means gone", "Panel delete")
def test_panel_delete_needs_confirmation_and_leaves_no_word(
    open_store: Callable[[], SessionStore], data_dir: Path, reliability: Reliability
) -> None:
    reliability.tried("Delete, Confirm delete in the panel; search every file")
    store = open_store()
    converse(store, "panel-doomed", "the word is quetzalcoatlus")
    converse(store, "panel-kept", "keep me")
    browser = SessionBrowser(StoreCatalog(store))

    browser.list.value = "panel-doomed"
    browser.delete_button.click()
    assert browser.confirm_row.layout.display != "none"
    assert "panel-doomed" in _ids(browser), "deleted before confirmation"
    browser.confirm_button.click()

    assert _ids(browser) == ["panel-kept"]
    assert browser.status_text == "Deleted panel-doomed and all its data."
    assert files_containing(data_dir, "quetzalcoatlus") == []
    reliability.held("nothing deleted before the confirmation; then its word in no file")


@pytest.mark.reliability("Delete means gone", "Panel clean-up")
def test_panel_cleanup_previews_then_deletes_but_spares_the_active_session(
    open_store: Callable[[], SessionStore], data_dir: Path, reliability: Reliability
) -> None:
    reliability.tried(
        "clean-up of sessions idle 0+ days (two last used 2 h ago, one just now, the active "
        "one): preview, confirm; search every file"
    )
    store = open_store()
    words = {
        "old-a": "axolotlword",
        "old-b": "blobfishword",
        "fresh": "quetzalword",
        "mine": "manateeword",
    }
    for session_id, word in words.items():
        converse(store, session_id, f"hello from {session_id}: {word}")
    store.close()
    for session_id in ("old-a", "old-b"):
        age_session(data_dir, session_id, hours=2)
    store = open_store()
    catalog = StoreCatalog(store)
    catalog.activate("mine")
    browser = SessionBrowser(catalog)

    browser.days.value = 0
    browser.preview_button.click()
    preview = browser.cleanup_text.value
    assert "<div>2 sessions idle for more than 0 days would be deleted (2 turns):</div>" in preview
    assert "<li><b>old-a</b>" in preview
    assert "<li><b>old-b</b>" in preview
    assert "<li><b>fresh</b> (used in the last hour)</li>" in preview
    assert "<li><b>mine</b> (the active session)</li>" in preview
    assert set(_ids(browser)) == set(words), "the dry run deleted something"

    browser.cleanup_button.click()
    assert sorted(_ids(browser)) == ["fresh", "mine"]
    assert browser.status_text == "Clean-up deleted 2 sessions (2 turns)."
    assert files_containing(data_dir, "axolotlword") == []
    assert files_containing(data_dir, "blobfishword") == []
    assert files_containing(data_dir, "manateeword"), "the spared session lost its words"
    assert files_containing(data_dir, "quetzalword"), "the session used just now lost its words"
    reliability.held(
        "the preview deleted nothing and kept the session used just now; the 2 deleted "
        "sessions' words in no file"
    )


def test_use_here_makes_the_session_active_and_the_next_turn_continues_it(
    open_store: Callable[[], SessionStore],
) -> None:
    writer = open_store()
    converse(writer, "panel-reopen", "remember the word okapi")
    writer.close()

    store = open_store()
    catalog = StoreCatalog(store)
    browser = SessionBrowser(catalog)
    browser.list.value = "panel-reopen"
    browser.use_button.click()
    assert browser.status_text.startswith("panel-reopen is now the active session (1 turn)")
    assert "active here" in _labels(browser)["panel-reopen"]
    (reply,) = converse(store, "panel-reopen", "what was the word?")
    assert 'I received 2 user messages. The first was: "remember the word okapi"' in reply


def test_a_session_held_by_another_process_is_marked_and_not_deleted(
    open_store: Callable[[], SessionStore],
) -> None:
    other = open_store()
    converse(other, "panel-held", "I am open in another process")
    browser = SessionBrowser(StoreCatalog(open_store()))

    assert "in use elsewhere" in _labels(browser)["panel-held"]
    browser.list.value = "panel-held"
    browser.delete_button.click()
    assert browser.status_text == "Cannot delete panel-held: it is in use by another process."
    assert browser.confirm_row.layout.display == "none"
    assert _ids(browser) == ["panel-held"]


def test_a_vanished_session_gives_one_status_line_and_the_panel_stays_usable(
    open_store: Callable[[], SessionStore],
) -> None:
    store = open_store()
    converse(store, "panel-vanish", "soon gone")
    converse(store, "panel-stay", "still here")
    browser = SessionBrowser(StoreCatalog(store))
    store.delete("panel-vanish")  # behind the panel's back

    browser.list.value = "panel-vanish"
    browser.load_button.click()
    assert browser.status_text.startswith("No session 'panel-vanish'")
    assert "\n" not in browser.status_text
    browser.refresh_button.click()
    browser.list.value = "panel-stay"
    browser.load_button.click()
    assert browser.status_text == "Loaded panel-stay."


def test_the_magic_shows_the_panel_in_a_kernel(start_kernel: Callable[[], Kernel]) -> None:
    kernel = start_kernel()
    shown = kernel.execute("%copilot_sessions")
    assert shown.error is None, shown.error_line
    snapshot, panel = [
        o for o in shown.outputs if o.get("output_type") in ("display_data", "execute_result")
    ]
    assert "copilot-panel-static" in snapshot["data"]["text/html"]  # for the saved notebook
    assert snapshot["data"]["text/plain"].startswith("Copilot sessions: 0 sessions.")
    assert "application/vnd.jupyter.widget-view+json" in panel["data"]
    line = error_shown(kernel.execute("%copilot_sessions extra"))
    assert line == "UsageError: %copilot_sessions takes no arguments."


def test_use_here_in_a_kernel_switches_the_magics_active_session(
    start_kernel: Callable[[], Kernel],
) -> None:
    kernel = start_kernel()
    kernel.execute("%copilot_session kernel-first")
    kernel.execute(copilot_cell("remember the word axolotl"))
    kernel.execute("%copilot_session kernel-second")
    kernel.execute(copilot_cell("something else"))

    clicked = kernel.execute(
        "import copilot_magic\n"
        "browser = copilot_magic.SessionBrowser()\n"
        "browser.list.value = 'kernel-first'\n"
        "browser.use_button.click()\n"
        "print(browser.status_text)"
    )
    assert clicked.stdout.startswith("kernel-first is now the active session (1 turn)")
    assert kernel.execute("%copilot_session").stdout.strip() == "Active session: kernel-first"
    kernel.execute("panel = %copilot_sessions")
    html = reply_of(kernel.execute(copilot_cell("which word?")))["data"]["text/html"]
    assert 'I received 2 user messages. The first was: "remember the word axolotl"' in html
    seen = kernel.execute(  # the panel opened on the active session, and has the new turn
        "print(panel.loaded, dict(panel.list.rows[0]), 'which word?' in panel.history.value)"
    ).stdout
    assert seen.startswith("kernel-first {'id': 'kernel-first'")
    assert "'turns': '2'" in seen
    assert "'last': 'just now'" in seen
    assert seen.rstrip().endswith("True")


@pytest.mark.sdk_smoke
def test_panel_star_rename_and_rewind_change_what_the_store_reports(
    open_store: Callable[[], SessionStore],
) -> None:
    """The buttons call the store's controls and say what they did; what each control does
    (the model, every file) is proven at the store in ``test_controls_contract_e2e.py``."""
    store = open_store()
    converse(store, "panel-ctl", "keep this one", "forget wombatword")
    converse(store, "panel-ctl-other", "a newer session")
    browser = SessionBrowser(StoreCatalog(store))
    assert _ids(browser)[0] == "panel-ctl-other"
    browser.list.value = "panel-ctl"
    assert "requests (echo)" in browser.details.value, browser.details.value

    browser.star_button.click()
    assert browser.status_text == "Starred panel-ctl: listed first, and clean-ups keep it."
    assert _ids(browser)[0] == "panel-ctl"
    first = store.summaries()[0]
    assert (first.session_id, first.starred) == ("panel-ctl", True)

    browser.rename_button.click()
    browser.controls.title_box.value = "Wombat <b>study</b>"
    browser.controls.rename_ok_button.click()
    assert browser.status_text == "Renamed panel-ctl: Wombat <b>study</b>"
    assert store.summary("panel-ctl").title == "Wombat <b>study</b>"
    assert "Wombat <b>study</b>" in _labels(browser)["panel-ctl"]
    assert "Wombat &lt;b&gt;study&lt;/b&gt;" in browser.details.value

    browser.load_button.click()
    browser.rewind_button.click()
    assert store.history("panel-ctl")[-1].prompt == "forget wombatword", "rewound unasked"
    browser.controls.rewind.confirm_button.click()
    assert browser.status_text == (
        "Removed 1 turn from panel-ctl (“forget wombatword”); 1 turn left."
    )
    assert [turn.prompt for turn in store.history("panel-ctl")] == ["keep this one"]
    assert "wombatword" not in browser.history.value
    assert "1 turn" in _labels(browser)["panel-ctl"]
    summary = store.summary("panel-ctl")
    assert (summary.turns, summary.starred, summary.title) == (1, True, "Wombat <b>study</b>")


@pytest.mark.sdk_smoke
def test_panel_fork_keeps_the_active_session_and_a_held_session_is_one_line(
    open_store: Callable[[], SessionStore],
) -> None:
    other = open_store()
    converse(other, "panel-ctl-held", "I am open in another process")
    store = open_store()
    converse(store, "panel-ctl-src", "one apricot", "two banana")
    catalog = StoreCatalog(store)
    catalog.activate("panel-ctl-src")
    browser = SessionBrowser(catalog)

    browser.list.value = "panel-ctl-src"
    browser.fork_button.click()
    browser.controls.fork_id.value = "panel-ctl-fork"
    browser.controls.fork_at.value = "1"
    browser.controls.fork_confirm_button.click()
    assert browser.status_text.startswith("Forked panel-ctl-src into panel-ctl-fork (its turns 1")
    assert browser.list.value == "panel-ctl-fork"
    assert "active here" in _labels(browser)["panel-ctl-src"]
    assert [turn.prompt for turn in store.history("panel-ctl-fork")] == ["one apricot"]
    assert len(store.history("panel-ctl-src")) == 2

    browser.list.value = "panel-ctl-held"
    browser.rename_button.click()
    assert browser.status_text == "Cannot rename panel-ctl-held: it is in use by another process."
    browser.fork_button.click()
    browser.controls.fork_id.value = "panel-ctl-fork"  # taken
    browser.controls.fork_confirm_button.click()
    assert browser.status_text == "Session 'panel-ctl-fork' exists already: pick another name."
    assert "\n" not in browser.status_text
    assert not any(b.disabled for b in browser.controls.buttons())
    browser.list.value = "panel-ctl-fork"
    browser.use_button.click()
    assert browser.status_text.startswith("panel-ctl-fork is now the active session (1 turn)")
