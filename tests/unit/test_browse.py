"""``%copilot_sessions`` where there are no widgets (terminal IPython): the sessions as text;
and a browser shown in a kernel, told when a ``%%copilot`` turn ends."""

from __future__ import annotations

import pytest
from IPython.core.interactiveshell import InteractiveShell

from copilot_magic.sessions.store import SessionStore
from copilot_magic.ui.browse import browse
from copilot_magic.ui.panel import SessionBrowser
from copilot_magic.views.results import SessionTable


def test_in_a_terminal_the_sessions_are_the_text_table_of_the_list_command_fake_client(
    ip: InteractiveShell, store: SessionStore, capsys: pytest.CaptureFixture[str]
) -> None:
    ip.run_line_magic("load_ext", "copilot_magic")
    ip._copilot_magics._store = store
    for session_id in ("alpha", "beta"):
        store.open(session_id)
    store.converse("alpha", "what is a NaN?")
    capsys.readouterr()
    ran = ip.run_cell("%copilot_sessions")
    shown = capsys.readouterr().out
    assert ran.success
    assert isinstance(ran.result, SessionTable)  # no widget
    listed = str(SessionTable(tuple(store.summaries())))  # what `copilot-magic list` prints
    assert listed.splitlines()[0].split()[:2] == ["ID", "TITLE"]
    assert listed in shown
    assert "what is a NaN?" in shown
    assert "Run %copilot_sessions" not in shown
    assert "SessionBrowser" not in shown
    assert "VBox" not in shown


def _row(browser: SessionBrowser, session_id: str) -> str:
    return next(text for text, value in browser.list.options if value == session_id)


def test_a_shown_browser_is_read_again_when_a_copilot_cell_ends_fake_client(
    ip: InteractiveShell, store: SessionStore
) -> None:
    ip.run_line_magic("load_ext", "copilot_magic")
    magics = ip._copilot_magics
    magics._store = store
    ip.run_line_magic("copilot_session", "beta")
    ip.run_line_magic("copilot_session", "alpha")
    browser = browse(magics.catalog(), widgets=True, panels=magics.panels)
    assert isinstance(browser, SessionBrowser)
    assert browser.list.value == browser.loaded == "alpha"
    assert "(no prompt yet)" in _row(browser, "alpha")
    ip.run_cell_magic("copilot", "", "what is a NaN?")
    assert "what is a NaN?" in _row(browser, "alpha")  # its first prompt: the row was read
    browser.close()
    ip.run_cell_magic("copilot", "--session beta", "and an inf?")
    assert "(no prompt yet)" in _row(browser, "beta")  # a closed browser is left alone
