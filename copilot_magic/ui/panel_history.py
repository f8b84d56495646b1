"""The session browser's transcript: one page of turns at a time, abstentions marked.

Its widgets keep the browser's test and theme hooks: the transcript has the
CSS class ``copilot-history``, an abstained turn ``copilot-abstained``.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import ipywidgets as widgets

from copilot_magic.sessions.transcript import Turn
from copilot_magic.ui.panel_parts import button
from copilot_magic.views.render import transcript_html
from copilot_magic.views.text import plural

NOTHING_LOADED = "<i>Select a session and press Load.</i>"


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
        self.header = widgets.HTML()
        self.abstained_only = widgets.ToggleButton(description="Only abstentions", value=False)
        self.previous_button = button("◀ Previous")
        self.next_button = button("Next ▶")
        self.page_label = widgets.HTML()
        self.history = widgets.HTML()
        self.history.add_class("copilot-history")
        self.abstained_only.observe(lambda _: guard(self.first_page), names="value")
        self.previous_button.on_click(lambda _b: guard(lambda: self.turn_page(-1)))
        self.next_button.on_click(lambda _b: guard(lambda: self.turn_page(+1)))
        self.draw()

    def rows(self) -> list[widgets.Widget]:
        """The widgets to lay out, top to bottom."""
        return [
            widgets.HBox([self.header, self.abstained_only]),
            widgets.HBox([self.previous_button, self.page_label, self.next_button]),
            self.history,
        ]

    def show(self, session_id: str, turns: list[Turn]) -> None:
        self.session_id, self.turns = session_id, turns
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
        if self.session_id is None:
            self.header.value = NOTHING_LOADED
            self.page_label.value = ""
            self.history.value = ""
            self.previous_button.disabled = self.next_button.disabled = True
            return
        shown = self._shown_turns()
        abstained = sum(t.abstained for t in self.turns)
        abstentions = (
            f'<span style="color:#b71c1c">🛑 {abstained} abstained</span>'
            if abstained
            else "no abstentions"
        )
        self.header.value = (
            f"<b>{html.escape(self.session_id)}</b> · {plural(len(self.turns), 'turn')} · "
            f"{abstentions}"
        )
        start = self.page * self.page_size
        page = shown[start : start + self.page_size]
        self.page_label.value = f"&nbsp;page {self.page + 1} of {self.pages}&nbsp;"
        self.previous_button.disabled = self.page == 0
        self.next_button.disabled = self.page >= self.pages - 1
        self.history.value = (
            transcript_html(page, self.abstain_signal) if page else "<i>No turns to show.</i>"
        )
