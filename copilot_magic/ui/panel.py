"""SessionBrowser: an ipywidgets panel to find, read, change, clean up and reopen conversations.

``%copilot_sessions`` shows it in a notebook; ``copilot_magic.SessionBrowser()``
builds it in Python. It works on any :class:`~copilot_magic.sessions.catalog.SessionCatalog`.

Stable hooks for tests and themes: the root has the CSS class
``copilot-session-browser``, the transcript ``copilot-history``, an abstained
turn ``copilot-abstained``, the status line ``copilot-status-line``, the list
``copilot-session-list``, the selected session's line ``copilot-session-details``;
the buttons are labelled Refresh, Load, Use here, ☆ Star (★ Unstar), Rename
(then OK and Cancel), Fork (then Confirm fork and Cancel), Rewind (then Confirm
rewind and Cancel), Delete (then Confirm delete and Cancel), Preview clean-up
(then Confirm clean-up). The controls of the selected session are in
:mod:`~copilot_magic.ui.panel_controls`.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import ipywidgets as widgets

from copilot_magic.errors import CopilotMagicError, one_line
from copilot_magic.sessions.catalog import SessionCatalog
from copilot_magic.sessions.models import CleanupPlan, SessionSummary
from copilot_magic.sessions.transcript import Turn
from copilot_magic.ui.panel_controls import SelectedSessionControls
from copilot_magic.ui.panel_history import TranscriptPages
from copilot_magic.ui.panel_parts import button, cleanup_html, default_catalog, hide, text
from copilot_magic.ui.session_table import SessionTable
from copilot_magic.views.text import damage_warning, plural

PAGE_SIZE = 20
_SORTS = {  # starred sessions first in either order
    "last_active": lambda s: (not s.starred, -(s.last_active.timestamp() if s.last_active else 0)),
    "id": lambda s: (not s.starred, s.session_id.casefold()),
}


class SessionBrowser(widgets.VBox):  # type: ignore[misc]
    """Browse, read, star, rename, fork, rewind, delete, clean up and reopen Copilot sessions."""

    def __init__(self, catalog: SessionCatalog | None = None, page_size: int = PAGE_SIZE) -> None:
        self.catalog: SessionCatalog = catalog if catalog is not None else default_catalog()
        self.page_size = page_size
        self.summaries: list[SessionSummary] = []
        # Told the sessions whenever they are read again (the saved notebook's snapshot).
        self.on_sessions: Callable[[list[SessionSummary]], None] | None = None
        self._plan: CleanupPlan | None = None
        self._matches: tuple[str, set[str]] | None = None  # full-text search cache
        listing = self._start_listing()  # the runtime lists while the widgets are built
        self._build()
        super().__init__(children=self._layout())
        self.add_class("copilot-session-browser")
        self._guard(lambda: self._show_sessions(listing()))

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
            placeholder="Filter by id or title",
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
        self.list = SessionTable()
        self.list.add_class("copilot-session-list")
        self.load_button = button("Load", "primary", "Show the selected session's transcript")
        self.use_button = button("Use here", "success", "Make it this notebook's active session")
        self.days = widgets.BoundedIntText(
            value=30,
            min=0,
            max=36500,
            description="Older than (days)",
            style={"description_width": "initial"},
            layout=widgets.Layout(width="190px"),
        )
        self.preview_button = button("Preview clean-up", tip="List what would be deleted")
        self.cleanup_text = text()
        self.cleanup_button = button("Confirm clean-up", "danger", hidden_alone=True)
        self.status = text()
        self.status.add_class("copilot-status-line")
        self.transcript = TranscriptPages(self.catalog.abstain_signal, self.page_size, self._guard)
        pages = self.transcript
        self.history_header, self.abstained_only = pages.header, pages.abstained_only
        self.previous_button, self.next_button = pages.previous_button, pages.next_button
        self.page_label, self.history = pages.page_label, pages.history
        self.controls = controls = SelectedSessionControls(
            self.catalog,
            pages,
            selected=self._selected,
            say=self.say,
            guard=self._guard,
            changed=self._changed,
        )
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
        self.days.observe(lambda _: self._guard(self._cancel_cleanup), names="value")
        clicks: dict[widgets.Button, Callable[[], None]] = {
            self.refresh_button: self.refresh,
            self.load_button: self.load,
            self.use_button: self.use_here,
            self.preview_button: self.preview_cleanup,
            self.cleanup_button: self.confirm_cleanup,
        }
        for clicked, action in clicks.items():
            clicked.on_click(lambda _b, act=action: self._guard(act))
        hide(self.cleanup_button, True)

    def _layout(self) -> list[widgets.Widget]:
        return [
            self.header,
            widgets.HBox([self.search, self.full_text, self.sort, self.refresh_button]),
            self.list,
            self.details,
            widgets.HBox([self.load_button, self.use_button, *self.controls.buttons()]),
            *self.controls.rows(),
            widgets.HBox([self.days, self.preview_button, self.cleanup_button]),
            self.cleanup_text,
            self.status,
            *self.transcript.rows(),
        ]

    # -- errors -----------------------------------------------------------------------
    def _guard(self, action: Callable[[], None]) -> None:
        """Run a callback; any failure becomes one line in the status area, never a traceback."""
        try:
            action()
        except CopilotMagicError as error:
            self.say(one_line(error), error=True)
        except Exception as error:  # noqa: BLE001 - the panel must stay usable
            self.say(f"Unexpected error: {type(error).__name__}: {one_line(error)}", error=True)

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
        """Read the sessions again and redraw the list, keeping the selection if it still exists."""
        self._show_sessions(self.catalog.sessions())

    def _show_sessions(self, summaries: list[SessionSummary], select: str | None = None) -> None:
        self.summaries = summaries
        self._matches = None
        self._show_list(select)
        if self.on_sessions is not None:
            self.on_sessions(summaries)

    def visible(self) -> list[SessionSummary]:
        """The sessions that pass the filter, in the chosen order."""
        query = self.search.value.strip()
        shown = self.summaries
        if query:
            by_name = {s.session_id for s in shown if s.names(query)}
            if self.full_text.value:
                by_name |= self._text_matches(query)
            shown = [s for s in shown if s.session_id in by_name]
        return sorted(shown, key=_SORTS[self.sort.value])

    def _text_matches(self, query: str) -> set[str]:
        if self._matches is None or self._matches[0] != query:
            ids = [s.session_id for s in self.summaries]
            self._matches = (query, self.catalog.search(query, ids))
        return self._matches[1]

    def _show_list(self, select: str | None = None) -> None:
        """Draw the list; the selection stays, or goes to ``select``, or to the first row."""
        shown = self.visible()
        selected = select or self.list.value
        self.list.show(shown)
        ids = self.list.ids
        self.list.value = selected if selected in ids else (ids[0] if ids else None)
        self.controls.show(self._summary(self.list.value))
        total = len(self.summaries)
        count = f"{len(shown)} of {total}" if len(shown) != total else str(total)
        self.header.value = f"<b>Copilot sessions</b> · {count} session{'' if total == 1 else 's'}"

    def _summary(self, session_id: str | None) -> SessionSummary | None:
        return next((s for s in self.summaries if s.session_id == session_id), None)

    def _selection_changed(self) -> None:
        self.controls.close()
        self.controls.show(self._summary(self.list.value))

    def _changed(self, select: str | None = None, gone: str | None = None) -> None:
        """After a control changed a session: a clean-up preview is stale; read the list again.
        ``select`` is selected then; after ``gone`` was deleted, its neighbour is (never the
        active session, which a next Delete would hit)."""
        self._cancel_cleanup()
        if gone is not None:
            select = self._neighbour(gone)
        self._show_sessions(self.catalog.sessions(), select)

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
        """Show the selected session's transcript, first page."""
        summary = self._selected()
        if summary is None:
            return
        self.transcript.show(summary.session_id, self.catalog.history(summary.session_id))
        if summary.damage:
            self.say(damage_warning(summary.session_id, summary.damage), error=True)
        else:
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
        self._cancel_cleanup()  # a preview made before may list the session now active
        self.refresh()
        self.say(
            f"{opened.session_id} is now the active session ({plural(opened.turns, 'turn')}): "
            "the next %%copilot cell continues it."
        )

    def preview_cleanup(self) -> None:
        """Dry run: list the sessions a clean-up would delete, and those it keeps and why."""
        plan = self.catalog.plan_cleanup(int(self.days.value))
        self._plan = plan
        self.status.value = ""  # a line about an earlier action would read as about this one
        self.cleanup_text.value = cleanup_html(plan)
        self.cleanup_button.description = f"Confirm clean-up ({len(plan.doomed)})"
        hide(self.cleanup_button, not plan.doomed)

    def _cancel_cleanup(self) -> None:
        self._plan = None
        self.cleanup_text.value = ""
        hide(self.cleanup_button, True)

    def confirm_cleanup(self) -> None:
        """Delete what the last preview listed."""
        plan = self._plan
        self._cancel_cleanup()
        if plan is None:
            self.say("Preview the clean-up first.", error=True)
            return
        deleted = self.catalog.cleanup(plan)
        if self.loaded in deleted:
            self.transcript.clear()
        self.refresh()
        turns = sum(s.turns for s in plan.doomed if s.session_id in deleted)
        self.say(f"Clean-up deleted {plural(len(deleted), 'session')} ({plural(turns, 'turn')}).")
