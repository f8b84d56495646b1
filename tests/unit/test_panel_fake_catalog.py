"""The session browser panel, driven like a person would, over an in-memory fake catalog.

No browser and no runtime: the tests press buttons with ``click()`` and set
widget values, then read the widgets' values and the fake catalog's state.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import timedelta

import ipywidgets as widgets
import pytest
from fake_catalog import ABSTAIN_SIGNAL, FakeCatalog

from copilot_magic.errors import RuntimeUnavailable, SessionBusy, SessionNotFound
from copilot_magic.kernel.notebook import AppliedChange
from copilot_magic.sessions.catalog import SessionCatalog
from copilot_magic.sessions.models import Usage
from copilot_magic.ui.panel import PAGE_SIZE, SessionBrowser
from copilot_magic.ui.panel_widgets import hide

BANNER = "🛑 Copilot abstained"
SELECT_FIRST = "Select a session first."
# Newest first: idle days 0.5, 1, 40, 60, 90, 100.
NEWEST_FIRST = ["Beta-Report", "alpha-notes", "gamma", "delta-held", "epsilon-active", "zeta-old"]


@pytest.fixture
def catalog() -> FakeCatalog:
    """Six sessions: two recent, four idle for more than 30 days (one active, one held)."""
    fake = FakeCatalog()
    fake.add_session("gamma", 4, idle_days=40, abstained=[1, 3], title="Quarterly PLANNING notes")
    fake.add_session("alpha-notes", 3, idle_days=1)
    fake.add_turn("alpha-notes", "What is a kumquat?", "A small Citrus fruit.")
    fake.add_session("zeta-old", 5, idle_days=100, title="Weekly report draft")
    fake.add_session("Beta-Report", 2, idle_days=0.5, abstained=[2])
    fake.add_session("delta-held", 1, idle_days=60, held_elsewhere=True)
    fake.add_session("epsilon-active", 2, idle_days=90, active=True)
    return fake


@pytest.fixture
def browser(catalog: FakeCatalog) -> SessionBrowser:
    return SessionBrowser(catalog)


# -- helpers ----------------------------------------------------------------------------------
def listed(browser: SessionBrowser) -> list[str]:
    """The ids in the list, in the order shown."""
    return [value for _label, value in browser.list.options]


def label(browser: SessionBrowser, session_id: str) -> str:
    """The option label of one session."""
    return str(next(text for text, value in browser.list.options if value == session_id))


def shown(widget: widgets.DOMWidget) -> bool:
    return bool(widget.layout.display != "none")


def turn_blocks(history: str) -> list[str]:
    """The transcript split per turn (prompt and reply)."""
    return history.split('class="copilot-turn copilot-turn-user"')[1:]


def load(browser: SessionBrowser, session_id: str) -> None:
    browser.list.value = session_id
    browser.load_button.click()


def assert_one_line(browser: SessionBrowser) -> None:
    text = browser.status_text
    assert text
    assert "\n" not in text
    assert "\n" not in browser.status.value
    assert "Traceback" not in text


# -- the frame --------------------------------------------------------------------------------
def test_fake_catalog_satisfies_the_protocol() -> None:
    typed: SessionCatalog = FakeCatalog()
    assert typed.abstain_signal == ABSTAIN_SIGNAL == "[[POR_ABSTAIN]]"


def test_root_has_css_class_with_fake_catalog(browser: SessionBrowser) -> None:
    assert "copilot-session-browser" in browser._dom_classes
    assert "copilot-history" in browser.history._dom_classes
    assert "copilot-status-line" in browser.status._dom_classes


def test_without_sessions_no_transcript_shows_and_paging_is_disabled_with_fake_catalog() -> None:
    browser = SessionBrowser(FakeCatalog())
    assert browser.previous_button.disabled
    assert browser.next_button.disabled
    assert browser.history.value == ""
    assert browser.loaded is None


def test_confirm_rows_start_hidden_with_fake_catalog(browser: SessionBrowser) -> None:
    assert not shown(browser.confirm_row)
    assert not shown(browser.cleanup_button)
    assert browser.status_text == ""


# -- the list ---------------------------------------------------------------------------------
def test_list_shows_every_session_newest_first_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    assert listed(browser) == NEWEST_FIRST
    assert catalog.calls["sessions"] == 1
    assert "6 sessions" in browser.header.value


def test_the_panel_opens_on_the_active_session_with_its_transcript_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    assert browser.list.value == "epsilon-active"  # the fifth row
    assert "<b>epsilon-active</b>" in browser.details.value
    assert browser.loaded == "epsilon-active"
    assert "epsilon-active question 2" in browser.history.value
    assert catalog.calls["history"] == 1
    assert browser.status_text == ""


def test_without_an_active_session_the_panel_opens_on_the_first_row_with_fake_catalog(
    catalog: FakeCatalog,
) -> None:
    catalog.active = None
    browser = SessionBrowser(catalog)
    assert browser.list.value == "Beta-Report"
    assert browser.loaded == "Beta-Report"


def test_option_labels_start_with_id_and_show_details_with_fake_catalog(
    browser: SessionBrowser,
) -> None:
    for text, session_id in browser.list.options:
        assert text.startswith(session_id + " ")
    assert "4 turns" in label(browser, "gamma")
    assert "Quarterly PLANNING notes" in label(browser, "gamma")
    assert "🛑 2" in label(browser, "gamma")
    assert "🛑 1" in label(browser, "Beta-Report")
    assert "1 turn" in label(browser, "delta-held")
    assert "1 turns" not in label(browser, "delta-held")
    assert "🛑" not in label(browser, "alpha-notes")
    assert "active here" in label(browser, "epsilon-active")
    assert "in use elsewhere" in label(browser, "delta-held")
    others = [label(browser, i) for i in NEWEST_FIRST if i != "epsilon-active"]
    assert not any("active here" in text for text in others)
    others = [label(browser, i) for i in NEWEST_FIRST if i != "delta-held"]
    assert not any("in use elsewhere" in text for text in others)


def test_sort_by_id_with_fake_catalog(browser: SessionBrowser, catalog: FakeCatalog) -> None:
    browser.sort.value = "id"
    assert listed(browser) == sorted(NEWEST_FIRST, key=str.casefold)
    browser.sort.value = "last_active"
    assert listed(browser) == NEWEST_FIRST
    assert catalog.calls["sessions"] == 1


def test_search_filters_by_id_and_title_case_insensitively_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    browser.search.value = "REPORT"  # the id of Beta-Report, the title of zeta-old
    assert listed(browser) == ["Beta-Report", "zeta-old"]
    assert "2 of 6" in browser.header.value
    browser.search.value = "planning"  # a title only
    assert listed(browser) == ["gamma"]
    browser.search.value = "Alpha"  # an id only
    assert listed(browser) == ["alpha-notes"]
    browser.search.value = "citrus"  # only inside a reply: not without full text
    assert listed(browser) == []
    browser.search.value = "   "
    assert listed(browser) == NEWEST_FIRST
    assert catalog.calls["sessions"] == 1
    assert catalog.calls["search"] == 0


def test_search_matches_the_client_that_made_a_session_with_fake_catalog() -> None:
    catalog = FakeCatalog()
    catalog.add_session("made-here", 1, client="copilot_magic")
    catalog.add_session("from-chat", 1, idle_days=1, client="Jupyter AI")
    catalog.add_session("unrecorded", 1, idle_days=2)
    browser = SessionBrowser(catalog)
    browser.search.value = "jupyter"  # a part of the client's name, in any case
    assert listed(browser) == ["from-chat"]
    assert "made in Jupyter AI" in label(browser, "from-chat")
    browser.search.value = "COPILOT_MAGIC"
    assert listed(browser) == ["made-here"]
    browser.search.value = "made"  # an id still matches as before
    assert listed(browser) == ["made-here"]
    browser.search.value = "pilot"  # a part of "copilot_magic", which the list never shows
    assert listed(browser) == []
    assert catalog.calls["search"] == 0  # no full-text search for it


def test_search_keeps_a_selection_that_stays_visible_with_fake_catalog(
    browser: SessionBrowser,
) -> None:
    browser.list.value = "gamma"
    browser.search.value = "a"
    assert "gamma" in listed(browser)
    assert browser.list.value == "gamma"
    browser.search.value = "report"
    assert browser.list.value == "Beta-Report"


def test_full_text_adds_conversation_matches_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    browser.search.value = "CITRUS"
    assert listed(browser) == []
    browser.full_text.value = True
    assert listed(browser) == ["alpha-notes"]
    browser.search.value = "declines"  # abstained replies of gamma and Beta-Report
    assert listed(browser) == ["Beta-Report", "gamma"]
    browser.search.value = "report"  # by name, plus by conversation
    assert set(listed(browser)) == {"Beta-Report", "zeta-old"}
    browser.full_text.value = False
    browser.search.value = "citrus"
    assert listed(browser) == []
    assert catalog.calls["sessions"] == 1
    assert catalog.calls["search"] >= 1


def test_refresh_rereads_the_catalog_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    catalog.add_session("newest", 1, idle_days=0)
    assert "newest" not in listed(browser)
    browser.refresh_button.click()
    assert catalog.calls["sessions"] == 2
    assert listed(browser)[0] == "newest"
    assert "7 sessions" in browser.header.value


def test_refresh_keeps_the_selection_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    browser.list.value = "gamma"
    catalog.add_session("newest", 1, idle_days=0)
    browser.refresh_button.click()
    assert browser.list.value == "gamma"


# -- the transcript ---------------------------------------------------------------------------
def test_the_transcript_follows_the_selection_and_load_reads_it_again_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    browser.list.value = "gamma"
    history = browser.history.value
    assert browser.loaded == "gamma"
    assert "<b>gamma</b>" in browser.history_header.value
    assert catalog.calls["history"] == 2  # the active session's at first, then gamma's
    assert browser.status_text == ""
    catalog.add_turn("gamma", "gamma question 5", "gamma answer 5")
    browser.load_button.click()
    assert catalog.calls["history"] == 3
    assert browser.status_text == "Loaded gamma."
    assert "gamma question 5" in browser.history.value
    for number in range(1, 5):
        assert f"gamma question {number}" in history
    assert "gamma answer 2" in history
    assert "gamma answer 4" in history
    assert "gamma declines 1" in history
    assert ABSTAIN_SIGNAL not in history
    assert "POR_ABSTAIN" not in history
    blocks = turn_blocks(history)
    assert len(blocks) == 4
    for number, block in enumerate(blocks, start=1):
        abstained = number in (1, 3)
        assert ("copilot-abstained" in block) is abstained, number
        assert (BANNER in block) is abstained, number
    assert history.count("copilot-abstained") == 2
    assert history.count(BANNER) == 2


def test_load_renders_markdown_replies_sanitised_with_fake_catalog(
    catalog: FakeCatalog,
) -> None:
    catalog.add_session("markdown", idle_days=0)
    catalog.add_turn("markdown", "Format it", "Some **bold** text")
    browser = SessionBrowser(catalog)
    load(browser, "markdown")
    assert "<strong>bold</strong>" in browser.history.value
    assert "Format it" in browser.history.value


def test_load_never_lets_html_through_with_fake_catalog(catalog: FakeCatalog) -> None:
    catalog.add_session("xss", idle_days=0)
    catalog.add_turn(
        "xss",
        "<script>alert(2)</script> and <img src=y onerror=alert(2)>",
        "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>",
    )
    catalog.add_turn(
        "xss", "again", "inline <script>alert(3)</script> and <img src=x onerror=alert(3)>"
    )
    browser = SessionBrowser(catalog)
    load(browser, "xss")
    history = browser.history.value.lower()
    assert "<script" not in history
    assert "<img" not in history
    assert "&lt;script&gt;" in history  # shown as text


def test_history_header_counts_abstentions_with_fake_catalog(browser: SessionBrowser) -> None:
    load(browser, "gamma")
    header = browser.history_header.value
    assert "gamma" in header
    assert "4 turns" in header
    assert "🛑 2 abstained" in header
    load(browser, "alpha-notes")
    assert "no abstentions" in browser.history_header.value


def test_only_abstentions_toggle_with_fake_catalog(browser: SessionBrowser) -> None:
    load(browser, "gamma")
    browser.abstained_only.value = True
    history = browser.history.value
    blocks = turn_blocks(history)
    assert len(blocks) == 2
    assert all(BANNER in block and "copilot-abstained" in block for block in blocks)
    assert "gamma question 1" in history
    assert "gamma question 3" in history
    assert "gamma question 2" not in history
    assert "gamma answer 4" not in history
    assert "🛑 2 abstained" in browser.history_header.value
    browser.abstained_only.value = False
    assert len(turn_blocks(browser.history.value)) == 4


def test_only_abstentions_without_any_with_fake_catalog(browser: SessionBrowser) -> None:
    load(browser, "alpha-notes")
    browser.abstained_only.value = True
    assert turn_blocks(browser.history.value) == []
    assert "No turns to show" in browser.history.value


def test_paging_45_turns_with_fake_catalog(catalog: FakeCatalog) -> None:
    catalog.add_session("long", 45, idle_days=0)
    browser = SessionBrowser(catalog, page_size=20)
    load(browser, "long")
    assert browser.pages == 3
    assert "page 1 of 3" in browser.page_label.value
    assert len(turn_blocks(browser.history.value)) == 20
    assert "[1] You" in browser.history.value
    assert browser.previous_button.disabled
    assert not browser.next_button.disabled

    browser.next_button.click()
    assert "page 2 of 3" in browser.page_label.value
    assert "[21] You" in browser.history.value
    assert "[20] You" not in browser.history.value
    assert not browser.previous_button.disabled
    assert not browser.next_button.disabled

    browser.next_button.click()
    assert "page 3 of 3" in browser.page_label.value
    assert len(turn_blocks(browser.history.value)) == 5
    assert "[45] You" in browser.history.value
    assert browser.next_button.disabled
    assert not browser.previous_button.disabled

    browser.next_button.click()  # already at the end
    assert "page 3 of 3" in browser.page_label.value

    browser.previous_button.click()
    assert "page 2 of 3" in browser.page_label.value
    browser.previous_button.click()
    assert "page 1 of 3" in browser.page_label.value
    assert browser.previous_button.disabled
    assert not browser.next_button.disabled
    browser.previous_button.click()  # already at the start
    assert "page 1 of 3" in browser.page_label.value


def test_loading_another_session_starts_at_page_one_with_fake_catalog(
    catalog: FakeCatalog,
) -> None:
    catalog.add_session("long", 45, idle_days=0)
    browser = SessionBrowser(catalog, page_size=20)
    load(browser, "long")
    browser.next_button.click()
    load(browser, "gamma")
    assert "page 1 of 1" in browser.page_label.value
    assert browser.previous_button.disabled
    assert browser.next_button.disabled


@pytest.mark.parametrize("page_size", [PAGE_SIZE, 7])
def test_huge_session_first_page_with_fake_catalog(catalog: FakeCatalog, page_size: int) -> None:
    catalog.add_session("huge", 5000, idle_days=0, abstained=range(1, 5001, 10))
    browser = SessionBrowser(catalog, page_size=page_size)
    load(browser, "huge")
    assert len(turn_blocks(browser.history.value)) == page_size
    assert f"page 1 of {-(-5000 // page_size)}" in browser.page_label.value
    assert "5,000 turns" in browser.history_header.value
    assert "🛑 500 abstained" in browser.history_header.value


# -- deleting ---------------------------------------------------------------------------------
def test_delete_asks_first_then_deletes_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    browser.list.value = "alpha-notes"
    browser.delete_button.click()
    assert shown(browser.confirm_row)
    assert "alpha-notes" in browser.confirm_text.value
    assert "4 turns" in browser.confirm_text.value
    assert catalog.calls["delete"] == 0
    assert "alpha-notes" in catalog.session_ids()

    browser.confirm_button.click()
    assert catalog.deleted == ["alpha-notes"]
    assert "alpha-notes" not in listed(browser)
    assert len(listed(browser)) == 5
    assert not shown(browser.confirm_row)
    assert browser.status_text == "Deleted alpha-notes and all its data."


def test_delete_cancel_deletes_nothing_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    browser.list.value = "alpha-notes"
    browser.delete_button.click()
    browser.cancel_button.click()
    assert not shown(browser.confirm_row)
    assert catalog.calls["delete"] == 0
    assert catalog.deleted == []
    assert listed(browser) == NEWEST_FIRST


def test_changing_selection_hides_delete_confirmation_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    browser.list.value = "alpha-notes"
    browser.delete_button.click()
    browser.list.value = "gamma"
    assert not shown(browser.confirm_row)
    assert catalog.calls["delete"] == 0


def test_delete_held_elsewhere_is_refused_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    browser.list.value = "delta-held"
    browser.delete_button.click()
    assert not shown(browser.confirm_row)
    assert "delta-held" in browser.status_text
    assert "in use by another process" in browser.status_text
    assert_one_line(browser)
    assert catalog.calls["delete"] == 0
    assert "delta-held" in listed(browser)


def test_delete_refused_by_the_catalog_is_reported_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    browser.list.value = "alpha-notes"
    browser.delete_button.click()
    catalog.stored["alpha-notes"].held_elsewhere = True  # opened elsewhere meanwhile
    browser.confirm_button.click()
    assert "in use by another process" in browser.status_text
    assert_one_line(browser)
    assert catalog.deleted == []
    assert "alpha-notes" in listed(browser)


def test_delete_active_session_detaches_it_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    browser.list.value = "epsilon-active"
    browser.delete_button.click()
    browser.confirm_button.click()
    assert catalog.active is None
    assert "epsilon-active" not in listed(browser)
    assert not any("active here" in text for text, _value in browser.list.options)


def test_after_a_delete_the_transcript_is_the_newly_selected_sessions_with_fake_catalog(
    browser: SessionBrowser,
) -> None:
    browser.list.value = "gamma"
    browser.delete_button.click()
    browser.confirm_button.click()
    assert browser.list.value == browser.loaded == "delta-held"
    assert "delta-held question 1" in browser.history.value


def test_deleting_the_last_session_clears_the_transcript_with_fake_catalog() -> None:
    catalog = FakeCatalog()
    catalog.add_session("only", 2)
    browser = SessionBrowser(catalog)
    assert browser.loaded == "only"
    browser.delete_button.click()
    browser.confirm_button.click()
    assert browser.loaded is None
    assert browser.history.value == ""
    assert browser.previous_button.disabled
    assert browser.next_button.disabled


# -- clean-up ---------------------------------------------------------------------------------
def test_cleanup_preview_deletes_nothing_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    assert browser.days.value == 30
    browser.preview_button.click()
    text = browser.cleanup_text.value
    assert catalog.calls["plan_cleanup"] == 1
    assert catalog.calls["delete"] == catalog.calls["cleanup"] == 0
    assert catalog.deleted == []
    assert "2 sessions" in text
    assert "9 turns" in text  # gamma 4 + zeta-old 5
    assert "gamma" in text
    assert "zeta-old" in text
    assert "alpha-notes" not in text
    assert "Beta-Report" not in text
    assert "<b>delta-held</b> (in use by another process)" in text
    assert "<b>epsilon-active</b> (the active session)" in text
    assert shown(browser.cleanup_button)
    assert "(2)" in browser.cleanup_button.description


def test_cleanup_confirm_deletes_exactly_the_preview_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    browser.preview_button.click()
    catalog.add_session("older-than-all", 3, idle_days=400)  # not in the preview
    browser.cleanup_button.click()
    assert sorted(catalog.deleted) == ["gamma", "zeta-old"]
    assert catalog.session_ids() == {
        "alpha-notes",
        "Beta-Report",
        "delta-held",
        "epsilon-active",
        "older-than-all",
    }
    assert catalog.active == "epsilon-active"
    assert "gamma" not in listed(browser)
    assert "zeta-old" not in listed(browser)
    assert browser.status_text == "Clean-up deleted 2 sessions (9 turns)."
    assert not shown(browser.cleanup_button)
    assert browser.cleanup_text.value == ""


def test_cleanup_with_nothing_to_delete_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    browser.days.value = 365
    browser.preview_button.click()
    assert "0 sessions" in browser.cleanup_text.value
    assert "would be deleted (0 turns)." in browser.cleanup_text.value
    assert not shown(browser.cleanup_button)
    assert catalog.deleted == []


def rendered_lines(markup: str) -> list[str]:
    """The text of ``markup`` line by line, as a browser breaks it: a div, ul or li starts one."""
    blocks = re.sub(r"</?(div|ul|li)\b[^>]*>", "\n", markup)
    text = html.unescape(re.sub(r"<[^>]+>", "", blocks))
    return [line.strip() for line in text.splitlines() if line.strip()]


def test_cleanup_preview_shows_each_sentence_on_a_line_of_its_own_with_fake_catalog() -> None:
    catalog = FakeCatalog()
    catalog.add_session("delta-held", 1, idle_days=60, held_elsewhere=True)
    catalog.add_session("epsilon-active", 2, idle_days=90, active=True)
    browser = SessionBrowser(catalog)
    browser.preview_button.click()
    assert rendered_lines(browser.cleanup_text.value) == [
        "0 sessions idle for more than 30 days would be deleted (0 turns).",
        "Kept:",
        "delta-held (in use by another process)",
        "epsilon-active (the active session)",
    ]


def test_changing_days_after_preview_hides_confirm_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    browser.preview_button.click()
    assert shown(browser.cleanup_button)
    browser.days.value = 50
    assert not shown(browser.cleanup_button)
    assert browser.cleanup_text.value == ""
    browser.cleanup_button.click()  # a stale click does nothing
    assert browser.status_text == "Preview the clean-up first."
    assert catalog.calls["cleanup"] == 0
    assert catalog.deleted == []


def test_cleanup_uses_the_days_field_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    browser.days.value = 95
    browser.preview_button.click()
    assert "zeta-old" in browser.cleanup_text.value
    assert "gamma" not in browser.cleanup_text.value
    browser.cleanup_button.click()
    assert catalog.deleted == ["zeta-old"]


# -- use here ---------------------------------------------------------------------------------
def test_use_here_activates_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    browser.list.value = "alpha-notes"
    browser.use_button.click()
    assert catalog.calls["activate"] == 1
    assert catalog.active == "alpha-notes"
    assert browser.status_text.startswith("alpha-notes is now the active session (4 turns)")
    assert "active here" in label(browser, "alpha-notes")
    assert "active here" not in label(browser, "epsilon-active")
    assert browser.list.value == "alpha-notes"


def test_use_here_after_preview_cannot_clean_up_the_new_active_session_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    browser.preview_button.click()  # gamma is in the plan: idle for 40 days, not active
    browser.list.value = "gamma"
    browser.use_button.click()
    assert catalog.active == "gamma"
    browser.cleanup_button.click()
    assert "gamma" in catalog.session_ids()
    assert catalog.active == "gamma"


# -- errors -----------------------------------------------------------------------------------
ERRORS = [
    pytest.param(
        RuntimeUnavailable("The Copilot runtime stopped"),
        "The Copilot runtime stopped",
        id="copilot-error",
    ),
    pytest.param(
        RuntimeError("boom\nsecond line"), "Unexpected error: RuntimeError: boom", id="unexpected"
    ),
]


def _select(browser: SessionBrowser) -> None:
    browser.list.value = "gamma"  # its transcript is read


def _press_refresh(browser: SessionBrowser) -> None:
    browser.refresh_button.click()


def _press_delete(browser: SessionBrowser) -> None:
    browser.list.value = "gamma"
    browser.delete_button.click()
    browser.confirm_button.click()


def _press_use_here(browser: SessionBrowser) -> None:
    browser.list.value = "gamma"
    browser.use_button.click()


def _press_preview(browser: SessionBrowser) -> None:
    browser.preview_button.click()


def _search_full_text(browser: SessionBrowser) -> None:
    browser.full_text.value = True
    browser.search.value = "citrus"


# (the catalog method that fails, what the person does)
ACTIONS = [
    pytest.param(("history", _select), id="select"),
    pytest.param(("sessions", _press_refresh), id="refresh"),
    pytest.param(("delete", _press_delete), id="delete"),
    pytest.param(("activate", _press_use_here), id="use-here"),
    pytest.param(("plan_cleanup", _press_preview), id="preview"),
    pytest.param(("search", _search_full_text), id="full-text"),
]


@pytest.mark.parametrize(("error", "expected"), ERRORS)
@pytest.mark.parametrize("press", ACTIONS)
def test_catalog_error_is_one_status_line_with_fake_catalog(
    browser: SessionBrowser,
    catalog: FakeCatalog,
    press: tuple[str, Callable[[SessionBrowser], None]],
    error: Exception,
    expected: str,
) -> None:
    method, action = press
    catalog.fail_next(error, method)
    action(browser)
    assert browser.status_text == expected
    assert "second line" not in browser.status_text
    assert_one_line(browser)
    assert catalog.deleted == []
    assert "gamma" in listed(browser)

    load(browser, "alpha-notes")  # the panel keeps working
    assert browser.status_text == "Loaded alpha-notes."
    assert "alpha-notes question 1" in browser.history.value


def test_multiline_copilot_error_is_one_status_line_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    # The real catalog wraps the runtime's own messages, which may span lines.
    catalog.fail_next(RuntimeUnavailable("Could not delete 'gamma': boom\nat frame 1"), "delete")
    _press_delete(browser)
    assert browser.status_text.startswith("Could not delete 'gamma': boom")
    assert_one_line(browser)
    assert "gamma" in listed(browser)


@pytest.mark.parametrize(("error", "expected"), ERRORS)
def test_error_while_building_is_one_status_line_with_fake_catalog(
    catalog: FakeCatalog, error: Exception, expected: str
) -> None:
    catalog.fail_next(error, "sessions")
    browser = SessionBrowser(catalog)
    assert browser.status_text == expected
    assert_one_line(browser)
    assert listed(browser) == []
    browser.refresh_button.click()
    assert listed(browser) == NEWEST_FIRST


def test_error_during_cleanup_keeps_the_panel_working_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    browser.preview_button.click()
    catalog.fail_next(SessionBusy("Session 'gamma' is in use by another process."), "cleanup")
    browser.cleanup_button.click()
    assert browser.status_text == "Session 'gamma' is in use by another process."
    assert_one_line(browser)
    assert catalog.deleted == []
    load(browser, "gamma")
    assert browser.status_text == "Loaded gamma."


@pytest.mark.parametrize("button", ["load_button", "delete_button", "use_button", "confirm_button"])
def test_nothing_selected_says_select_first_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog, button: str
) -> None:
    browser.search.value = "no such session"
    assert browser.list.value is None
    read = catalog.calls["history"]
    getattr(browser, button).click()
    assert browser.status_text == SELECT_FIRST
    assert not shown(browser.confirm_row)
    assert catalog.calls["history"] == read
    assert catalog.calls["delete"] == catalog.calls["activate"] == 0
    assert browser.history.value == ""


@pytest.mark.parametrize("button", ["load_button", "delete_button", "use_button"])
def test_empty_catalog_says_select_first_with_fake_catalog(button: str) -> None:
    catalog = FakeCatalog()
    browser = SessionBrowser(catalog)
    assert listed(browser) == []
    assert "0 sessions" in browser.header.value
    getattr(browser, button).click()
    assert browser.status_text == SELECT_FIRST
    assert catalog.calls["history"] == catalog.calls["delete"] == catalog.calls["activate"] == 0


# -- the fake itself --------------------------------------------------------------------------
def test_fake_catalog_fail_next_raises_once() -> None:
    catalog = FakeCatalog()
    catalog.add_session("one", 1)
    catalog.fail_next(RuntimeError("boom"), "history")
    assert catalog.sessions()[0].session_id == "one"  # another method is not affected
    with pytest.raises(RuntimeError, match="boom"):
        catalog.history("one")
    assert len(catalog.history("one")) == 1


# -- the controls: star, rename, fork, rewind -------------------------------------------------
XSS_TITLE = '<img src=x onerror="alert(1)"> <b>Plan</b> & co'


def html_values(widget: widgets.Widget) -> list[str]:
    """The value of every HTML widget in the panel, however deep."""
    found = [str(widget.value)] if isinstance(widget, widgets.HTML) else []
    for child in getattr(widget, "children", ()):
        found += html_values(child)
    return found


def control_buttons(browser: SessionBrowser) -> list[widgets.Button]:
    controls = browser.controls
    return [
        browser.refresh_button,
        browser.load_button,
        browser.use_button,
        *controls.buttons(),
        controls.rename_ok_button,
        controls.fork_confirm_button,
        controls.rewind.confirm_button,
        controls.confirm_button,
    ]


def asking_rows(browser: SessionBrowser) -> list[bool]:
    return [shown(row) for row in browser.controls.rows()]


def test_control_rows_start_hidden_and_the_details_line_shows_the_selection_with_fake_catalog(
    browser: SessionBrowser,
) -> None:
    assert asking_rows(browser) == [False, False, False, False]
    assert browser.star_button.description == "☆ Star"
    assert "<b>epsilon-active</b>" in browser.details.value
    assert "usage: -" in browser.details.value
    browser.list.value = "gamma"
    assert "Quarterly PLANNING notes" in browser.details.value
    assert "copilot-session-details" in browser.details._dom_classes


def test_usage_is_shown_for_the_selected_session_with_fake_catalog(catalog: FakeCatalog) -> None:
    spent = Usage(input_tokens=1204, output_tokens=310, requests=3, models=("echo",))
    catalog.add_session("costly", 1, idle_days=0, usage=spent)
    browser = SessionBrowser(catalog)
    browser.list.value = "costly"
    assert "usage: 1,204 in · 310 out · 3 requests (echo)" in browser.details.value
    browser.list.value = "gamma"
    assert "usage: -" in browser.details.value


def test_star_toggles_and_lists_the_session_first_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    browser.list.value = "gamma"
    browser.star_button.click()
    assert catalog.stored["gamma"].starred
    assert listed(browser) == ["gamma", *[i for i in NEWEST_FIRST if i != "gamma"]]
    assert label(browser, "gamma").startswith("gamma  ·  ★  ·  Quarterly")
    assert "★" not in label(browser, "alpha-notes")
    assert browser.list.value == "gamma"
    assert browser.star_button.description == "★ Unstar"
    assert "★ starred" in browser.details.value
    assert browser.status_text == "Starred gamma: listed first, and clean-ups keep it."
    browser.sort.value = "id"  # starred first in either order
    assert listed(browser) == ["gamma", "alpha-notes", "Beta-Report", "delta-held", *OLDEST]

    browser.star_button.click()
    assert not catalog.stored["gamma"].starred
    assert browser.status_text == "Took the star away from gamma."
    assert browser.star_button.description == "☆ Star"
    browser.sort.value = "last_active"
    assert listed(browser) == NEWEST_FIRST


OLDEST = ["epsilon-active", "zeta-old"]


def test_a_starred_session_is_kept_by_clean_up_and_a_star_cancels_a_preview_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    browser.preview_button.click()
    assert "gamma" in browser.cleanup_text.value
    browser.list.value = "gamma"
    browser.star_button.click()
    assert not shown(browser.cleanup_button), "the preview would delete a starred session"
    browser.preview_button.click()
    assert "<b>gamma</b> (starred)" in browser.cleanup_text.value
    browser.cleanup_button.click()
    assert catalog.deleted == ["zeta-old"]


def test_rename_asks_then_shows_the_new_title_with_html_inert_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    browser.list.value = "gamma"
    browser.rename_button.click()
    assert asking_rows(browser) == [True, False, False, False]
    assert browser.controls.title_box.value == "Quarterly PLANNING notes"
    browser.controls.title_box.value = f"  {XSS_TITLE}  "
    assert catalog.calls["rename"] == 0
    browser.controls.rename_ok_button.click()

    assert catalog.stored["gamma"].title == XSS_TITLE
    assert XSS_TITLE in label(browser, "gamma")  # an <option>'s text: never parsed as HTML
    assert browser.status_text == f"Renamed gamma: {XSS_TITLE}"
    assert "&lt;img src=x" in browser.details.value
    assert not shown(browser.controls.rename_row)
    browser.rename_button.click()  # the asking row shows the id; the box holds the title as text
    browser.delete_button.click()
    everything = "".join(html_values(browser))
    assert "<img" not in everything
    assert "<b>Plan</b>" not in everything
    assert "&lt;b&gt;Plan&lt;/b&gt; &amp; co" in everything


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("   ", "A title needs at least one visible character."),
        ("two\nlines", "A title is one line of text, without control characters."),
        ("x" * 101, "A title has at most 100 characters (101 given)."),
    ],
)
def test_rename_with_a_bad_title_is_one_error_line_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog, title: str, expected: str
) -> None:
    browser.list.value = "gamma"
    browser.rename_button.click()
    browser.controls.title_box.value = title
    browser.controls.rename_ok_button.click()
    assert browser.status_text == expected
    assert_one_line(browser)
    assert catalog.stored["gamma"].title == "Quarterly PLANNING notes"
    assert shown(browser.controls.rename_row), "the box stays open to fix the title"
    assert not any(b.disabled for b in control_buttons(browser))
    browser.controls.rename_cancel_button.click()
    assert asking_rows(browser) == [False, False, False, False]


def test_fork_asks_then_creates_it_and_keeps_the_active_session_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    browser.list.value = "gamma"
    browser.fork_button.click()
    controls = browser.controls
    assert asking_rows(browser) == [False, True, False, False]
    assert "Fork <b>gamma</b> (4 turns)" in controls.fork_text.value
    assert controls.fork_id.value == "gamma-fork"
    controls.fork_id.value = "gamma-two"
    controls.fork_at.value = " 2 "
    assert catalog.calls["fork"] == 0
    assert "gamma-two" not in catalog.session_ids()

    controls.fork_confirm_button.click()
    assert [t.prompt for t in catalog.stored["gamma-two"].turns] == [
        "gamma question 1",
        "gamma question 2",
    ]
    assert len(catalog.stored["gamma"].turns) == 4
    assert catalog.active == "epsilon-active"
    assert browser.list.value == "gamma-two"
    assert "2 turns" in label(browser, "gamma-two")
    assert "Quarterly PLANNING notes (fork)" in label(browser, "gamma-two")
    assert browser.status_text == (
        "Forked gamma into gamma-two (its turns 1 to 2); "
        "Use here makes it this notebook's active session."
    )
    assert not shown(controls.fork_row)

    browser.list.value = "alpha-notes"
    browser.fork_button.click()
    controls.fork_confirm_button.click()  # the suggested id, every turn
    assert len(catalog.stored["alpha-notes-fork"].turns) == 4
    assert "(all 4 turns)" in browser.status_text


@pytest.mark.parametrize(
    ("new_id", "at", "expected"),
    [
        ("g2", "two", "The last turn to keep is a number from 1 to 4, or blank for all; 'two'"),
        ("g2", "-1", "The last turn to keep is a number from 1 to 4"),
        ("g2", "9", "--at takes a turn of 'gamma', which has 4 turns."),
        ("g2", "0", "--at takes a turn of 'gamma', which has 4 turns."),
        ("alpha-notes", "", "Session 'alpha-notes' exists already: pick another name."),
        ("", "", "Empty session id"),
        ("has space", "", "Invalid session id 'has space'"),
    ],
)
def test_fork_with_a_bad_turn_or_id_is_one_error_line_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog, new_id: str, at: str, expected: str
) -> None:
    before = catalog.session_ids()
    browser.list.value = "gamma"
    browser.fork_button.click()
    browser.controls.fork_id.value = new_id
    browser.controls.fork_at.value = at
    browser.controls.fork_confirm_button.click()
    assert browser.status_text.startswith(expected)
    assert_one_line(browser)
    assert catalog.session_ids() == before
    assert not any(b.disabled for b in control_buttons(browser))
    assert listed(browser) == NEWEST_FIRST


def test_rewind_asks_then_removes_the_last_turns_and_says_which_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    load(browser, "gamma")
    browser.rewind_button.click()
    controls = browser.controls
    assert asking_rows(browser) == [False, False, True, False]
    assert "<b>gamma</b> (4 turns)" in controls.rewind.of.value
    assert controls.rewind.count.max == 4
    controls.rewind.count.value = 2
    assert catalog.calls["rewind"] == 0

    controls.rewind.confirm_button.click()
    assert [t.prompt for t in catalog.stored["gamma"].turns] == [
        "gamma question 1",
        "gamma question 2",
    ]
    assert browser.status_text == (
        "Removed 2 turns from gamma (“gamma question 3”, “gamma question 4”); 2 turns left."
    )
    assert "2 turns" in label(browser, "gamma")
    assert len(turn_blocks(browser.history.value)) == 2, "the loaded transcript is read again"
    assert "gamma question 3" not in browser.history.value
    assert not shown(controls.rewind.row)


def test_rewind_removes_nothing_when_the_session_changed_while_asked_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    load(browser, "gamma")
    browser.rewind_button.click()
    catalog.add_turn("gamma", "asked in another kernel", "meanwhile")
    browser.controls.rewind.confirm_button.click()
    assert catalog.calls["rewind"] == 0
    assert len(catalog.stored["gamma"].turns) == 5
    assert browser.status_text == (
        "gamma changed while you were asked (5 turns now, 4 then): nothing was removed; "
        "Rewind again to see what would go now."
    )
    assert not shown(browser.controls.rewind.row)


def test_the_panel_rewind_offers_notebook_changes_back_where_a_frontend_answers_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    edit = AppliedChange("edit", "plot", "x = 1", "x = 2")
    catalog.changes["gamma"] = [(3, edit), (4, edit)]
    load(browser, "gamma")
    browser.rewind_button.click()
    assert "Turns 3, 4 changed notebook cells: the changes of the turns removed are then " in (
        browser.controls.rewind.of.value
    )
    browser.controls.rewind.confirm_button.click()
    assert browser.status_text.endswith(
        "3 turns left. In the notebook, turn 4 edited cell plot. They stay as they are: no "
        "notebook frontend answers here to put them back (JupyterLab's undo, or by hand)."
    )
    assert catalog.offered_back == [[(4, edit)]]
    assert catalog.notebook_changes("gamma", 0) == [(3, edit)]
    catalog.frontend_says = ["↩ turn 3 edited cell plot: put back as it was"]
    browser.rewind_button.click()
    browser.controls.rewind.confirm_button.click()
    assert browser.status_text.endswith(
        "In the notebook, turn 3 edited cell plot. ↩ turn 3 edited cell plot: put back as it "
        "was The kernel's variables are not rewound: what those turns ran still holds."
    )


def test_rewind_cancel_and_refusals_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    browser.list.value = "gamma"
    browser.rewind_button.click()
    browser.controls.rewind.cancel_button.click()
    assert asking_rows(browser) == [False, False, False, False]
    browser.rewind_button.click()
    browser.list.value = "alpha-notes"  # a new selection closes the question
    assert asking_rows(browser) == [False, False, False, False]

    browser.list.value = "delta-held"
    browser.rewind_button.click()
    assert browser.status_text == "Cannot rewind delta-held: it is in use by another process."
    catalog.add_session("empty", 0, idle_days=0)
    browser.refresh_button.click()
    browser.list.value = "empty"
    browser.rewind_button.click()
    assert browser.status_text == "empty has no turns to rewind."
    assert asking_rows(browser) == [False, False, False, False]
    assert catalog.calls["rewind"] == 0
    assert len(catalog.stored["gamma"].turns) == 4


def _star(browser: SessionBrowser) -> None:
    browser.star_button.click()


def _rename(browser: SessionBrowser) -> None:
    browser.rename_button.click()
    browser.controls.title_box.value = "A new title"
    browser.controls.rename_ok_button.click()


def _fork(browser: SessionBrowser) -> None:
    browser.fork_button.click()
    browser.controls.fork_confirm_button.click()


def _rewind(browser: SessionBrowser) -> None:
    browser.rewind_button.click()
    browser.controls.rewind.confirm_button.click()


@pytest.mark.parametrize(
    "error",
    [
        SessionBusy("Session 'gamma' is in use by another process; close it there first."),
        SessionNotFound("No session 'gamma' in /data.\nsecond line"),
        RuntimeUnavailable("The Copilot runtime stopped"),
    ],
    ids=["busy", "vanished", "runtime-down"],
)
@pytest.mark.parametrize(
    ("method", "press"),
    [("star", _star), ("rename", _rename), ("fork", _fork), ("rewind", _rewind)],
    ids=["star", "rename", "fork", "rewind"],
)
def test_a_failing_control_is_one_line_and_the_panel_stays_usable_with_fake_catalog(
    browser: SessionBrowser,
    catalog: FakeCatalog,
    method: str,
    press: Callable[[SessionBrowser], None],
    error: Exception,
) -> None:
    browser.list.value = "gamma"
    catalog.fail_next(error, method)
    press(browser)
    assert browser.status_text == str(error).splitlines()[0]
    assert_one_line(browser)
    assert catalog.calls[method] == 1
    assert not any(b.disabled for b in control_buttons(browser))
    assert catalog.session_ids() == set(NEWEST_FIRST)
    assert len(catalog.stored["gamma"].turns) == 4
    assert not catalog.stored["gamma"].starred
    assert catalog.stored["gamma"].title == "Quarterly PLANNING notes"
    assert listed(browser) == NEWEST_FIRST

    press(browser)  # the same control works next time
    assert "gamma" in browser.status_text
    assert not browser.status.value.startswith('<span style="color:#b71c1c">')
    load(browser, "alpha-notes")
    assert browser.status_text == "Loaded alpha-notes."


@pytest.mark.parametrize("button", ["star_button", "rename_button", "fork_button", "rewind_button"])
def test_controls_with_nothing_selected_say_select_first_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog, button: str
) -> None:
    browser.search.value = "no such session"
    getattr(browser, button).click()
    assert browser.status_text == SELECT_FIRST
    assert asking_rows(browser) == [False, False, False, False]
    assert browser.details.value == ""


def test_after_a_delete_a_neighbour_is_selected_never_the_active_session_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    browser.list.value = "gamma"
    browser.delete_button.click()
    browser.confirm_button.click()
    assert browser.list.value == "delta-held"  # the next row

    browser.list.value = "zeta-old"  # the last row: the one before is the active session
    browser.delete_button.click()
    browser.confirm_button.click()
    assert catalog.deleted == ["gamma", "zeta-old"]
    assert browser.list.value == "delta-held"
    assert browser.list.value != catalog.active


def test_the_list_is_a_table_of_plain_cells_with_times_and_titles_on_hover_with_fake_catalog(
    browser: SessionBrowser,
) -> None:
    rows = {row["id"]: row for row in browser.list.rows}
    assert list(rows) == NEWEST_FIRST
    alpha = rows["alpha-notes"]
    assert str(alpha["last"]).endswith("ago") or alpha["last"] in ("just now", "yesterday")
    assert str(alpha["last_tip"]).startswith("last active 20")
    assert alpha["turns"] == "4"
    assert rows["epsilon-active"]["state"] == "● active here"
    assert rows["delta-held"]["state"] == "🔒 in use elsewhere"
    for row in rows.values():
        assert all(isinstance(value, str) for value in row.values())


def test_a_session_used_in_the_last_hour_is_never_offered_for_clean_up_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    catalog.stored["gamma"].last_active = catalog.now - timedelta(minutes=10)
    browser.status.value = "Deleted something earlier."
    browser.days.value = 0
    browser.preview_button.click()
    preview = browser.cleanup_text.value
    assert "<li><b>gamma</b> (used in the last hour)</li>" in preview
    assert "<li><b>zeta-old</b> ·" in preview  # idle for days: offered, with its turns
    assert "5 turns · last active" in preview
    assert browser.status_text == ""  # no stale line under the preview


def test_transcript_controls_show_once_a_session_is_shown_with_fake_catalog(
    catalog: FakeCatalog,
) -> None:
    empty = SessionBrowser(FakeCatalog())  # no session: no transcript to page through
    assert not shown(empty.abstained_only)
    assert not any(shown(row) for row in empty.transcript._paging_rows)
    catalog.add_session("long", 45, idle_days=0)
    browser = SessionBrowser(catalog, page_size=20)
    paging = browser.transcript._paging_rows
    assert len(paging) == 2  # above and below the transcript
    load(browser, "gamma")  # one page: no paging
    assert shown(browser.abstained_only)
    assert not any(shown(row) for row in paging)
    load(browser, "long")
    assert all(shown(row) for row in paging)
    assert paging[0].children == paging[1].children  # the same buttons, twice


def test_only_abstentions_header_counts_the_turns_shown_with_fake_catalog(
    browser: SessionBrowser,
) -> None:
    load(browser, "gamma")
    browser.abstained_only.value = True
    assert "2 of 4 turns shown (abstentions only)" in browser.history_header.value


def test_buttons_share_one_layout_yet_the_clean_up_button_hides_alone_with_fake_catalog(
    catalog: FakeCatalog,
) -> None:
    browser = SessionBrowser(catalog)
    assert browser.load_button.layout is browser.delete_button.layout
    assert browser.status.layout is browser.header.layout
    assert not shown(browser.cleanup_button)  # hidden alone: the other buttons still show
    assert shown(browser.load_button)
    assert shown(browser.delete_button)
    with pytest.raises(ValueError, match="shares its layout"):
        hide(browser.load_button, True)
    widgets.Widget.close_all()  # what a notebook's "clear widgets" does: panels still build
    again = SessionBrowser(catalog)
    assert again.load_button.layout.comm is not None
    assert again.load_button.layout is not browser.load_button.layout


# -- the transcript is the selection's, the status line the last action's --------------------
def test_the_rewind_and_delete_questions_name_the_session_the_transcript_shows_with_fake_catalog(
    browser: SessionBrowser,
) -> None:
    browser.list.value = "gamma"
    browser.rewind_button.click()
    assert "<b>gamma</b>" in browser.controls.rewind.of.value
    assert browser.loaded == "gamma"
    assert "<b>gamma</b>" in browser.history_header.value
    browser.list.value = "alpha-notes"
    assert browser.loaded == "alpha-notes"
    assert "What is a kumquat?" in browser.history.value
    browser.delete_button.click()
    assert "<b>alpha-notes</b>" in browser.confirm_text.value
    assert "<b>alpha-notes</b>" in browser.history_header.value


def test_rewind_lists_the_turns_it_would_remove_before_confirm_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    catalog.add_turn("gamma", "<b>Why</b>\nis   the sky blue " + "and so on " * 20, "Rayleigh.")
    browser.list.value = "gamma"
    browser.rewind_button.click()
    preview = browser.controls.rewind.preview.value
    assert "turn 5: “&lt;b&gt;Why&lt;/b&gt; is the sky blue and so on" in preview
    assert "…”" in preview  # cut to one short line
    assert "\n" not in preview
    assert "turn 4" not in preview
    browser.controls.rewind.count.value = 3
    preview = browser.controls.rewind.preview.value
    assert [f"turn {n}:" in preview for n in (2, 3, 4, 5)] == [False, True, True, True]
    assert "“gamma question 3”" in preview
    assert catalog.calls["rewind"] == 0
    assert shown(browser.controls.rewind.preview)


def test_the_status_line_is_cleared_when_an_action_starts_or_another_row_is_chosen_fake_catalog(
    browser: SessionBrowser,
) -> None:
    browser.list.value = "gamma"
    browser.star_button.click()
    assert browser.status_text.startswith("Starred gamma")
    browser.rewind_button.click()  # asks: nothing to say yet
    assert browser.status_text == ""
    browser.controls.rewind.cancel_button.click()
    browser.star_button.click()
    assert browser.status_text.startswith("Took the star away from gamma")
    browser.list.value = "alpha-notes"
    assert browser.status_text == ""
    browser.list.value = "delta-held"
    browser.delete_button.click()
    assert browser.status_text.startswith("Cannot delete delta-held")
    browser.refresh_button.click()
    assert browser.status_text == ""


def test_a_turn_ending_in_the_kernel_updates_the_row_and_the_transcript_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    assert browser.loaded == "epsilon-active"
    browser.rewind_button.click()
    catalog.add_turn("epsilon-active", "A new question", "A new answer")
    catalog.stored["epsilon-active"].last_active = catalog.now
    browser.turn_ended("epsilon-active")
    assert "3 turns" in label(browser, "epsilon-active")
    assert listed(browser)[0] == "epsilon-active"  # last active now: first
    assert browser.list.value == browser.loaded == "epsilon-active"
    assert "A new question" in browser.history.value
    assert "3 turns" in browser.history_header.value
    assert asking_rows(browser) == [False, False, False, False]  # it counted 2 turns


def test_a_turn_of_another_session_updates_its_row_and_keeps_the_selection_with_fake_catalog(
    browser: SessionBrowser, catalog: FakeCatalog
) -> None:
    browser.list.value = "gamma"
    browser.rewind_button.click()
    catalog.add_turn("zeta-old", "Another question", "Another answer")
    catalog.fail_next(RuntimeUnavailable("The Copilot runtime stopped"), "sessions")
    browser.turn_ended("zeta-old")
    assert browser.status_text == "The Copilot runtime stopped"
    browser.turn_ended("zeta-old")
    assert "6 turns" in label(browser, "zeta-old")
    assert browser.list.value == browser.loaded == "gamma"
    assert asking_rows(browser) == [False, False, True, False]  # gamma's question stays
