"""The session browser's transcript: one page of turns at a time, abstentions marked.

Its widgets keep the browser's test and theme hooks: the transcript has the
CSS class ``copilot-history``, its heading (the session shown) ``copilot-history-header``,
an abstained turn ``copilot-abstained``.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import ipywidgets as widgets

from copilot_magic.sessions.transcript import Turn
from copilot_magic.ui.panel_widgets import button, hide, text
from copilot_magic.views.render import transcript_html
from copilot_magic.views.styles import ABSTAIN_BADGE
from copilot_magic.views.text import plural

NOTHING_LOADED = "<i>Select a session and press Load.</i>"
SCROLL_HEIGHT = "640px"  # the transcript scrolls inside the panel, not the notebook


class TranscriptPages:
    """The transcript of one session, ``page_size`` turns a page, with Previous and Next."""

    def __init__(
        self, abstain_signal: str, page_size: int, guard: Callable[[Callable[[], None]], None]
    ) -> None:
        self.abstain_signal = abstain_signal
        self.page_size = page_size
        self.session_id: str | None = None
        self.turns: list[Turn] = []
        self.page = 0
        self.header = text()
        self.header.add_class("copilot-history-header")
        self.abstained_only = widgets.ToggleButton(description="Only abstentions", value=False)
        self.previous_button = button("◀ Previous")
        self.next_button = button("Next ▶")
        self.page_label = text()
        self.history = text()
        self.history.add_class("copilot-history")
        self.header_row = widgets.HBox([self.header, self.abstained_only])
        self.scroll_box = widgets.Box(
            [self.history],
            layout=widgets.Layout(max_height=SCROLL_HEIGHT, overflow="auto", width="100%"),
        )
        self._paging_rows: list[widgets.HBox] = []
        self.abstained_only.observe(lambda _: guard(self.first_page), names="value")
        self.previous_button.on_click(lambda _b: guard(lambda: self.turn_page(-1)))
        self.next_button.on_click(lambda _b: guard(lambda: self.turn_page(+1)))
        self.draw()

    def rows(self) -> list[widgets.Widget]:
        """The widgets to lay out, top to bottom: the transcript scrolls in a box of its own,
        with the page controls above and below it (the same buttons, shown twice)."""
        return [self.header_row, self.paging_row(), self.scroll_box, self.paging_row()]

    def paging_row(self) -> widgets.HBox:
        row = widgets.HBox([self.previous_button, self.page_label, self.next_button])
        self._paging_rows.append(row)
        hide(row, self.session_id is None or self.pages == 1)
        return row

    def show(self, session_id: str, turns: list[Turn]) -> None:
        """Show the session's turns: from the first page, or, read again, on the same page."""
        again = session_id == self.session_id
        self.session_id, self.turns = session_id, turns
        if again:
            self.turn_page(0)  # the page shown, or the last one if it has fewer now
        else:
            self.first_page()

    def clear(self) -> None:
        self.session_id, self.turns = None, []
        self.draw()

    def _shown_turns(self) -> list[Turn]:
        return [t for t in self.turns if t.abstained] if self.abstained_only.value else self.turns

    @property
    def pages(self) -> int:
        return max(1, -(-len(self._shown_turns()) // self.page_size))

    def first_page(self) -> None:
        self.page = 0
        self.draw()

    def turn_page(self, step: int) -> None:
        self.page = min(max(0, self.page + step), self.pages - 1)
        self.draw()

    def draw(self) -> None:
        loaded = self.session_id is not None
        hide(self.abstained_only, not loaded)
        if self.session_id is None:
            self.header.value = NOTHING_LOADED
            self.page_label.value = ""
            self.history.value = ""
            self.previous_button.disabled = self.next_button.disabled = True
            for row in self._paging_rows:
                hide(row, True)
            return
        shown = self._shown_turns()
        self.header.value = self._heading(len(shown))
        start = self.page * self.page_size
        page = shown[start : start + self.page_size]
        self.page_label.value = f"&nbsp;page {self.page + 1} of {self.pages}&nbsp;"
        self.previous_button.disabled = self.page == 0
        self.next_button.disabled = self.page >= self.pages - 1
        for row in self._paging_rows:
            hide(row, self.pages == 1)
        self.history.value = (
            transcript_html(page, self.abstain_signal) if page else "<i>No turns to show.</i>"
        )

    def _heading(self, shown: int) -> str:
        """The session, its turns (those shown, when only abstentions are) and abstentions."""
        total = len(self.turns)
        abstained = sum(t.abstained for t in self.turns)
        counted = (
            f"{shown} of {plural(total, 'turn')} shown (abstentions only)"
            if self.abstained_only.value
            else plural(total, "turn")
        )
        abstentions = (
            f'<span style="{ABSTAIN_BADGE};border-radius:9px;padding:0 7px;font-weight:600">'
            f"🛑 {abstained} abstained</span>"
            if abstained
            else "no abstentions"
        )
        return f"<b>{html.escape(str(self.session_id))}</b> · {counted} · {abstentions}"
