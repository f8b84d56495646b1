"""``%copilot_sessions``: the session browser where widgets show, the list as text where not.

In a kernel (JupyterLab, Notebook 7, VS Code) it is the browser
(:class:`~copilot_magic.ui.panel.SessionBrowser`) with the static snapshot that a
saved notebook shows where the widget cannot be (:mod:`~copilot_magic.views.snapshot`).
A terminal IPython has no widgets: there it is the table ``%copilot_session --list``
returns and ``copilot-magic list`` prints. The browsers a kernel shows are told when a
``%%copilot`` turn ends (:class:`LivePanels`), so they show it without Refresh.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from IPython.display import display

from copilot_magic.views.results import SessionTable

if TYPE_CHECKING:  # ipywidgets is imported where there are widgets to show
    from copilot_magic.sessions.catalog import SessionCatalog
    from copilot_magic.ui.panel import SessionBrowser


class LivePanels:
    """The session browsers a kernel made, held weakly: when a turn ends, each one not
    closed reads its list and transcript again (one listing each, after the reply)."""

    def __init__(self) -> None:
        self._browsers: weakref.WeakSet[SessionBrowser] = weakref.WeakSet()

    def add(self, browser: SessionBrowser) -> None:
        self._browsers.add(browser)

    def turn_ended(self, session_id: str) -> None:
        """Tell the browsers still open that a turn of ``session_id`` ended."""
        for browser in list(self._browsers):
            if browser.comm is not None:  # None once closed
                browser.turn_ended(session_id)


def browse(
    catalog: SessionCatalog, *, widgets: bool, panels: LivePanels | None = None
) -> SessionBrowser | SessionTable:
    """The browser over ``catalog``, shown with its snapshot, where ``widgets`` can show
    (added to ``panels``); else the sessions as the text table."""
    if not widgets:
        return SessionTable(tuple(catalog.sessions()))
    from copilot_magic.ui.panel import SessionBrowser
    from copilot_magic.views.snapshot import snapshot_bundle

    browser = SessionBrowser(catalog)
    # What a saved notebook shows where the live browser cannot be.
    bundle = snapshot_bundle(browser.summaries)
    snapshot = display(bundle, raw=True, display_id=True)  # type: ignore[no-untyped-call]
    browser.on_sessions = lambda now: snapshot.update(snapshot_bundle(now), raw=True)
    if panels is not None:
        panels.add(browser)
    return browser
