"""The session browser's Rewind: it asks how many of the selected session's last turns to
remove, lists them (number and prompt) before Confirm rewind, then removes them.

The row has the CSS class ``copilot-rewind``, its list of the turns that go
``copilot-rewind-preview``.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import ipywidgets as widgets

from copilot_magic.kernel.notebook_revert import (
    NO_FRONTEND_TO_REVERT,
    NOT_REWOUND,
    OFFERED_BACK,
    Changes,
    changed_turns,
)
from copilot_magic.kernel.notebook_revert import summary as summary_of
from copilot_magic.sessions.catalog import SessionCatalog
from copilot_magic.sessions.models import SessionSummary, one_line_title
from copilot_magic.sessions.transcript import Turn
from copilot_magic.ui.panel_history import TranscriptPages
from copilot_magic.ui.panel_parts import button, text
from copilot_magic.views.text import plural

PROMPT_WIDTH = 60  # a prompt in the list of turns a rewind removes: one short line


class RewindControl:
    """The Rewind button, and the row that asks: how many turns, which ones, Confirm, Cancel.

    ``free(summary, "rewind")`` says whether the session may be changed here (and
    why not), ``open_row(row)`` shows the row and ``close()`` closes it (with the
    other questions); the rest is as in the other controls
    (:mod:`~copilot_magic.ui.panel_controls`).
    """

    def __init__(
        self,
        catalog: SessionCatalog,
        transcript: TranscriptPages,
        *,
        selected: Callable[[], SessionSummary | None],
        say: Callable[..., None],
        guard: Callable[[Callable[[], None]], None],
        changed: Callable[[str | None, str | None], None],
        free: Callable[[SessionSummary, str], bool],
        open_row: Callable[[widgets.Widget], None],
        close: Callable[[], None],
    ) -> None:
        self.catalog, self.transcript = catalog, transcript
        self._selected, self._say, self._changed = selected, say, changed
        self._free, self._open_row, self._close = free, open_row, close
        self._turns: list[Turn] = []  # the selected session's, when asked
        self.button = button("Rewind", "warning", "Remove its last turns")
        self.count = widgets.BoundedIntText(
            value=1, min=1, max=1, layout=widgets.Layout(width="80px")
        )
        self.of = text()
        self.confirm_button = button("Confirm rewind", "danger")
        self.cancel_button = button("Cancel")
        self.preview = text()
        self.preview.add_class("copilot-rewind-preview")
        question = [text("Remove the last&nbsp;"), self.count, self.of]
        self.row = widgets.VBox(
            [widgets.HBox([*question, self.confirm_button, self.cancel_button]), self.preview]
        )
        self.row.add_class("copilot-rewind")
        self.count.observe(lambda _: guard(self._show_preview), names="value")

    def ask(self) -> None:
        """First step: the number of turns to remove (1 at first), and the list of them."""
        summary = self._selected()
        if summary is None or not self._free(summary, "rewind"):
            return
        if summary.turns == 0:
            self._say(f"{summary.session_id} has no turns to rewind.", error=True)
            return
        session_id = summary.session_id
        shown = self.transcript
        loaded = shown.session_id == session_id
        self._turns = list(shown.turns) if loaded else self.catalog.history(session_id)
        self.count.max = summary.turns
        self.count.value = 1
        changed = changed_turns(self.catalog.notebook_changes(session_id, 0))
        self.of.value = (
            f"&nbsp;turn(s) of <b>{html.escape(session_id)}</b> "
            f"({plural(summary.turns, 'turn')}), from its history and from disk? "
            f"{html.escape(changed)}&nbsp;"
        )
        self._show_preview()
        self._open_row(self.row)

    def _show_preview(self) -> None:
        self.preview.value = removed_turns_html(self._turns[-int(self.count.value) :])

    def confirm(self) -> None:
        """Second step: remove the last turns, and say which prompts went."""
        summary = self._selected()
        if summary is None:
            return
        session_id = summary.session_id
        rewound = self.catalog.rewind(session_id, int(self.count.value))
        self._close()
        self._changed(None, None)  # the list and the transcript, read again
        quoted = ", ".join(f"“{one_line_title(prompt, 40)}”" for prompt in rewound.prompts)
        removed = (
            f"Removed {plural(len(rewound.prompts), 'turn')} from {session_id} ({quoted}); "
            f"{plural(rewound.turns_left, 'turn')} left."
        )
        self._say(removed)
        if rewound.changes:
            self._offer_back(removed, rewound.changes)

    def _offer_back(self, removed: str, changes: Changes) -> None:
        """Offer the rewound turns' notebook changes back on their cells, and say how it went
        (the panel waits meanwhile: the status line says where to answer)."""
        made = f"{removed} {summary_of(changes)}"
        said = self.catalog.offer_back(changes, lambda: self._say(f"{made} {OFFERED_BACK}"))
        self._say(f"{made} {' '.join([*said, NOT_REWOUND]) if said else NO_FRONTEND_TO_REVERT}")


def removed_turns_html(turns: list[Turn]) -> str:
    """The turns a rewind removes, a line each: the turn's number and its prompt, cut to
    one short line (escaped)."""
    lines = "".join(
        f"<li>turn {turn.index}: “{html.escape(one_line_title(turn.prompt, PROMPT_WIDTH))}”</li>"
        for turn in turns
    )
    return f'<div>These go, with their replies:</div><ul style="margin:2px 0 6px 0">{lines}</ul>'
