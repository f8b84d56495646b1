"""SessionBrowser: an ipywidgets panel to find, read, change, clean up and reopen conversations.

``%copilot_sessions`` shows it in a notebook; ``copilot_magic.SessionBrowser()``
builds it in Python. It works on any :class:`~copilot_magic.sessions.catalog.SessionCatalog`.

Stable hooks for tests and themes: the root has the CSS class
``copilot-session-browser``, the transcript ``copilot-history``, an abstained
turn ``copilot-abstained``, the status line ``copilot-status-line``, the list
``copilot-session-list``, the selected session's line ``copilot-session-details``
(the transcript's heading ``copilot-history-header``, Rewind's list ``copilot-rewind-preview``);
the buttons are labelled Refresh, Load, Use here, ☆ Star (★ Unstar), Rename
(then OK and Cancel), Fork (then Confirm fork and Cancel), Rewind (then Confirm
rewind and Cancel), Delete (then Confirm delete and Cancel), Preview clean-up
(then Confirm clean-up). This module lays the panel out and wires it: the filter
(id, title or the client that made a session), the order, the selection, Load and Use
here, and the status line. The list is :mod:`~copilot_magic.ui.session_list`, the
transcript :mod:`~copilot_magic.ui.panel_history`, the controls of the selected session
:mod:`~copilot_magic.ui.panel_controls`, the clean-up :mod:`~copilot_magic.ui.panel_cleanup`.

It opens on the kernel's active session (else the first row); the transcript
always shows the selected session, the one the controls act on; the status line
tells of the last action only.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from copilot_magic.errors import CopilotMagicError, one_line
from copilot_magic.sessions.catalog import SessionCatalog
from copilot_magic.sessions.models import SessionSummary
from copilot_magic.sessions.transcript import Turn
from copilot_magic.ui.advice import worded
from copilot_magic.ui.panel_cleanup import CleanupControl
from copilot_magic.ui.panel_controls import ControlHooks, SelectedSessionControls
from copilot_magic.ui.panel_history import TranscriptPages
from copilot_magic.ui.panel_widgets import button, text
from copilot_magic.ui.session_list import SessionList
from copilot_magic.views.text import damage_warning, plural

PAGE_SIZE = 20
_SORTS = {  # starred sessions first in either order
    "last_active": lambda s: (not s.starred, -(s.last_active.timestamp() if s.last_active else 0)),
    "id": lambda s: (not s.starred, s.session_id.casefold()),
}


def _named_client(summary: SessionSummary, query: str) -> bool:
    """Whether the client the list shows for the session (one that is not copilot_magic)
    contains ``query``, or the client is ``query`` whole, ignoring case: "ma" must not match
    every session made here, "copilot_magic" does."""
    wanted = query.casefold()
    return wanted in summary.made_elsewhere.casefold() or wanted == summary.client.casefold()


class SessionBrowser(widgets.VBox):  # type: ignore[misc]
    """Browse, read, star, rename, fork, rewind, delete, clean up and reopen Copilot sessions."""

    def __init__(self, catalog: SessionCatalog | None = None, page_size: int = PAGE_SIZE) -> None:
        self.catalog: SessionCatalog = catalog if catalog is not None else default_catalog()
        self.page_size = page_size
        self.summaries: list[SessionSummary] = []
        # Told the sessions whenever they are read again (the saved notebook's snapshot).
        self.on_sessions: Callable[[list[SessionSummary]], None] | None = None
        self._matches: tuple[str, set[str]] | None = None  # full-text search cache
        listing = self._start_listing()  # the runtime lists while the widgets are built
        self._build()
        super().__init__(children=self._layout())
        self.add_class("copilot-session-browser")
        self._guard(lambda: self._open_on(listing()))

    def _start_listing(self) -> Callable[[], list[SessionSummary]]:
        """The catalog's listing, started; a failure to start is reported when it is awaited."""
        try:
            return self.catalog.begin_sessions()
        except Exception as error:  # noqa: BLE001 - shown in the status line once it exists
            failure = error

            def report() -> list[SessionSummary]:
                raise failure

            return report

    # -- building ---------------------------------------------------------------------
    def _build(self) -> None:
        self.header = text()
        self.search = widgets.Text(
            placeholder="Filter by id, title or client",
            tooltip="Shows the sessions whose id, title or client (the program that made it) "
            "contains this",
            continuous_update=True,
            layout=widgets.Layout(width="40%"),
        )
        self.full_text = widgets.Checkbox(description="Search full text", indent=False)
        self.sort = widgets.Dropdown(
            options=[("Last active", "last_active"), ("Id", "id")],
            description="Sort",
            layout=widgets.Layout(width="180px"),
        )
        self.refresh_button = button("Refresh", tip="Read the sessions again")
        self.list = SessionList()
        self.list.add_class("copilot-session-list")
        self.load_button = button("Load", "primary", "Read the selected session's transcript again")
        self.use_button = button("Use here", "success", "Make it this notebook's active session")
        self.cleanup = CleanupControl(self.catalog, say=self.say, refresh=self.refresh)
        self.days, self.preview_button = self.cleanup.days, self.cleanup.preview_button
        self.cleanup_text, self.cleanup_button = self.cleanup.text, self.cleanup.confirm_button
        self.status = text()
        self.status.add_class("copilot-status-line")
        self.transcript = TranscriptPages(self.catalog.abstain_signal, self.page_size, self._guard)
        pages = self.transcript
        self.history_header, self.abstained_only = pages.header, pages.abstained_only
        self.previous_button, self.next_button = pages.previous_button, pages.next_button
        self.page_label, self.history = pages.page_label, pages.history
        hooks = ControlHooks(
            self.catalog, pages, self._selected, self.say, guard=self._act, changed=self._changed
        )
        self.controls = controls = SelectedSessionControls(hooks)
        controls.others = [self.refresh_button, self.load_button, self.use_button]
        controls.others += [self.preview_button, self.cleanup_button]
        self.details, self.star_button = controls.details, controls.star_button
        self.rename_button, self.fork_button = controls.rename_button, controls.fork_button
        self.rewind_button, self.delete_button = controls.rewind_button, controls.delete_button
        self.confirm_row, self.confirm_text = controls.confirm_row, controls.confirm_text
        self.confirm_button, self.cancel_button = controls.confirm_button, controls.cancel_button

        self.search.observe(lambda _: self._guard(self._show_list), names="value")
        self.full_text.observe(lambda _: self._guard(self._show_list), names="value")
        self.sort.observe(lambda _: self._guard(self._show_list), names="value")
        self.list.observe(lambda _: self._guard(self._selection_changed), names="value")
        self.days.observe(lambda _: self._guard(self.cleanup.cancel), names="value")
        clicks: dict[widgets.Button, Callable[[], None]] = {
            self.refresh_button: self.refresh,
            self.load_button: self.load,
            self.use_button: self.use_here,
            self.preview_button: self.cleanup.preview,
            self.cleanup_button: self.cleanup.confirm,
        }
        for clicked, action in clicks.items():
            clicked.on_click(lambda _b, act=action: self._act(act))

    def _layout(self) -> list[widgets.Widget]:
        return [
            self.header,
            widgets.HBox([self.search, self.full_text, self.sort, self.refresh_button]),
            self.list,
            self.details,
            widgets.HBox([self.load_button, self.use_button, *self.controls.buttons()]),
            *self.controls.rows(),
            *self.cleanup.rows(),
            self.status,
            *self.transcript.rows(),
        ]

    # -- errors -----------------------------------------------------------------------
    def _guard(self, action: Callable[[], None]) -> None:
        """Run a callback; any failure becomes one line in the status area, never a traceback."""
        try:
            action()
        except CopilotMagicError as error:
            self.say(worded(error), error=True)
        except Exception as error:  # noqa: BLE001 - the panel must stay usable
            self.say(f"Unexpected error: {type(error).__name__}: {one_line(error)}", error=True)

    def _act(self, action: Callable[[], None]) -> None:
        """Run a button's action, guarded: the status line then tells of it alone."""
        self.status.value = ""
        self._guard(action)

    def say(self, message: str, error: bool = False) -> None:
        """Show one line in the status area."""
        color = "#b71c1c" if error else "inherit"
        self.status.value = f'<span style="color:{color}">{html.escape(message)}</span>'

    @property
    def status_text(self) -> str:
        """The status line as plain text (for tests and scripts)."""
        return html.unescape(self.status.value.split(">", 1)[-1].rsplit("<", 1)[0])

    # -- the list ---------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the sessions and the selected one's transcript again; the selection stays if
        its session does."""
        self._show_sessions(self.catalog.sessions(), reread=True)

    def turn_ended(self, session_id: str) -> None:
        """A turn of ``session_id`` ended in this kernel: the list (its turns, last active)
        and the transcript are read again; a question about it, which counted the turns
        before, is closed. A failure is the status line's."""
        if self.list.value == session_id:
            self.controls.close()
        self._guard(self.refresh)

    def _open_on(self, summaries: list[SessionSummary]) -> None:
        """The first view: the kernel's active session selected (else the first row)."""
        self._show_sessions(summaries, next((s.session_id for s in summaries if s.active), None))

    def _show_sessions(
        self, summaries: list[SessionSummary], select: str | None = None, reread: bool = False
    ) -> None:
        self.summaries = summaries
        self._matches = None
        self._show_list(select, reread)
        if self.on_sessions is not None:
            self.on_sessions(summaries)

    def visible(self) -> list[SessionSummary]:
        """The sessions that pass the filter (the id, the title or the client the list names
        contains it; with full text, a prompt or reply too), in the chosen order."""
        query = self.search.value.strip()
        shown = self.summaries
        if query:
            by_name = {s.session_id for s in shown if s.names(query) or _named_client(s, query)}
            if self.full_text.value:
                by_name |= self._text_matches(query)
            shown = [s for s in shown if s.session_id in by_name]
        return sorted(shown, key=_SORTS[self.sort.value])

    def _text_matches(self, query: str) -> set[str]:
        if self._matches is None or self._matches[0] != query:
            ids = [s.session_id for s in self.summaries]
            self._matches = (query, self.catalog.search(query, ids))
        return self._matches[1]

    def _show_list(self, select: str | None = None, reread: bool = False) -> None:
        """Draw the list; the selection stays, or goes to ``select``, or to the first row.
        The transcript follows it (read again if ``reread``)."""
        shown = self.visible()
        wanted = select or self.list.value
        self.list.show(shown)
        ids = self.list.ids
        selected = wanted if wanted in ids else (ids[0] if ids else None)
        if selected != self.list.value:
            self.list.value = selected  # _selection_changed shows it
        else:
            self._show_selected(reread)
        total = len(self.summaries)
        part = f"{len(shown)} of " if len(shown) != total else ""
        self.header.value = f"<b>Copilot sessions</b> · {part}{plural(total, 'session')}"

    def _summary(self, session_id: str | None) -> SessionSummary | None:
        return next((s for s in self.summaries if s.session_id == session_id), None)

    def _selection_changed(self) -> None:
        """Another session is selected: its details and transcript; the questions and the
        status line, about the one before, are cleared."""
        self.controls.close()
        self.status.value = ""
        self._show_selected()

    def _show_selected(self, reread: bool = False) -> None:
        """The selected session's details, and its transcript (read again if ``reread``,
        else only when another session's is shown)."""
        summary = self._summary(self.list.value)
        self.controls.show(summary)
        if summary is None:
            self.transcript.clear()
        elif reread or self.transcript.session_id != summary.session_id:
            self.transcript.show(summary.session_id, self.catalog.history(summary.session_id))
            if summary.damage:
                self.say(damage_warning(summary.session_id, summary.damage), error=True)

    def _changed(self, select: str | None = None, gone: str | None = None) -> None:
        """After a control changed a session: a clean-up preview is stale; read the list again.
        ``select`` is selected then; after ``gone`` was deleted, its neighbour is (never the
        active session, which a next Delete would hit)."""
        self.cleanup.cancel()
        if gone is not None:
            select = self._neighbour(gone)
        self._show_sessions(self.catalog.sessions(), select, reread=True)

    def _neighbour(self, session_id: str) -> str | None:
        """The row after ``session_id`` (else before it) that is not the active session."""
        shown = self.visible()
        ids = [s.session_id for s in shown]
        if session_id not in ids:
            return None
        at = ids.index(session_id)
        around = shown[at + 1 :] + list(reversed(shown[:at]))
        return next((s.session_id for s in around if not s.active), None)

    def _selected(self) -> SessionSummary | None:
        summary = self._summary(self.list.value)
        if summary is None:
            self.say("Select a session first.", error=True)
        return summary

    # -- history ----------------------------------------------------------------------
    def load(self) -> None:
        """Read the selected session's transcript again (it follows the selection anyway)."""
        summary = self._selected()
        if summary is None:
            return
        self._show_selected(reread=True)
        if not summary.damage:
            self.say(f"Loaded {summary.session_id}.")

    @property
    def loaded(self) -> str | None:
        """The session whose transcript is shown, if any."""
        return self.transcript.session_id

    @property
    def turns(self) -> list[Turn]:
        return self.transcript.turns

    @property
    def page(self) -> int:
        return self.transcript.page

    @property
    def pages(self) -> int:
        return self.transcript.pages

    # -- actions ----------------------------------------------------------------------
    def use_here(self) -> None:
        """Make the selected session the notebook's active one (like ``%copilot_session ID``)."""
        summary = self._selected()
        if summary is None:
            return
        opened = self.catalog.activate(summary.session_id)
        self.cleanup.cancel()  # a preview made before may list the session now active
        self.refresh()
        self.say(
            f"{opened.session_id} is now the active session ({plural(opened.turns, 'turn')}): "
            "the next %%copilot cell continues it."
        )


def default_catalog() -> SessionCatalog:
    """The catalog of the running notebook's magics, or of the environment's settings."""
    from copilot_magic.sessions.catalog import StoreCatalog

    try:
        from IPython import get_ipython

        shell: Any = get_ipython()
    except ImportError:
        shell = None
    magics = getattr(shell, "_copilot_magics", None)
    if magics is not None:
        catalog: SessionCatalog = magics.catalog()
        return catalog
    from copilot_magic.config import Settings
    from copilot_magic.sessions.store import SessionStore

    return StoreCatalog(SessionStore(Settings.from_environment()))
