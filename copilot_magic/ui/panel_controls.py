"""The session browser's controls of the selected session: star, rename, fork, rewind, delete.

Each control that changes or removes something asks first, in its own row, the
way Delete always did: what will happen, a confirm button and Cancel. One row is
open at a time; selecting another session closes it. A failure is one line in
the browser's status line (its guard), and while a control runs the buttons are
disabled, then enabled again whatever happened. Titles are text: escaped
wherever they appear in HTML (the list's options are text already).

Rewind asks how many of the session's last turns to remove and lists them (number
and prompt) before Confirm rewind; its row has the CSS class ``copilot-rewind``, that
list ``copilot-rewind-preview``. The details line under the list is
``copilot-session-details``.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass

import ipywidgets as widgets

from copilot_magic.errors import InvalidArgument
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
from copilot_magic.ui.panel_widgets import button, hide, text
from copilot_magic.views.text import plural

STAR, UNSTAR = "☆ Star", "★ Unstar"
PROMPT_WIDTH = 60  # a prompt in the list of turns a rewind removes: one short line


@dataclass(frozen=True)
class ControlHooks:
    """What the browser gives each control of the selected session.

    ``selected()`` is the selected session (it says "Select a session first." when
    there is none), ``say`` the status line, ``guard`` runs a callback and shows its
    failure there, ``changed(select, gone)`` reads the list again after a change (and
    selects ``select``, or the neighbour of the deleted ``gone``); ``transcript`` is the
    selected session's (Rewind lists its last turns from it).
    """

    catalog: SessionCatalog
    transcript: TranscriptPages
    selected: Callable[[], SessionSummary | None]
    say: Callable[..., None]
    guard: Callable[[Callable[[], None]], None]
    changed: Callable[[str | None, str | None], None]


class SelectedSessionControls:
    """Star, Rename, Fork, Rewind and Delete, with their rows and the details line.

    ``others`` are the browser's buttons, disabled too while a control runs.
    """

    def __init__(self, hooks: ControlHooks) -> None:
        self.catalog = hooks.catalog
        self._selected, self._say, self._guard = hooks.selected, hooks.say, hooks.guard
        self._changed = hooks.changed
        self.others: list[widgets.Button] = []
        self.details = text()
        self.details.add_class("copilot-session-details")
        self.star_button = button(STAR, tip="Star: listed first, and kept by clean-ups")
        self.rename_button = button("Rename", tip="Give the selected session a title")
        self.fork_button = button("Fork", tip="Copy the selected session into a new one")
        self.delete_button = button("Delete", "danger", "Delete the selected session")

        self.rename_text = text()
        self.title_box = widgets.Text(placeholder="New title", layout=widgets.Layout(width="40%"))
        self.rename_ok_button = button("OK", "primary", "Set the title")
        self.rename_cancel_button = button("Cancel")
        self.rename_row = widgets.HBox(
            [self.rename_text, self.title_box, self.rename_ok_button, self.rename_cancel_button]
        )
        self.fork_text = text()
        self.fork_id = widgets.Text(placeholder="New session id")
        self.fork_at = widgets.Text(
            description="up to turn", placeholder="all", layout=widgets.Layout(width="170px")
        )
        self.fork_confirm_button = button("Confirm fork", "primary")
        self.fork_cancel_button = button("Cancel")
        fork_row = [self.fork_text, self.fork_id, self.fork_at, self.fork_confirm_button]
        self.fork_row = widgets.HBox([*fork_row, self.fork_cancel_button])
        self.rewind = RewindControl(hooks, free=self._free, open_row=self._ask, close=self.close)
        self.rewind_button = self.rewind.button
        self.confirm_text = text()
        self.confirm_button = button("Confirm delete", "danger")
        self.cancel_button = button("Cancel")
        self.confirm_row = widgets.HBox(
            [self.confirm_text, self.confirm_button, self.cancel_button]
        )
        clicks: dict[widgets.Button, Callable[[], None]] = {
            self.star_button: self.toggle_star,
            self.rename_button: self.ask_rename,
            self.rename_ok_button: self.confirm_rename,
            self.fork_button: self.ask_fork,
            self.fork_confirm_button: self.confirm_fork,
            self.rewind_button: self.rewind.ask,
            self.rewind.confirm_button: self.rewind.confirm,
            self.delete_button: self.ask_delete,
            self.confirm_button: self.confirm_delete,
        }
        for cancel in self._cancels():
            clicks[cancel] = self.close
        for clicked, action in clicks.items():
            clicked.on_click(lambda _b, act=action: self._run(act))
        self.close()

    def _cancels(self) -> list[widgets.Button]:
        cancels = [self.rename_cancel_button, self.fork_cancel_button, self.rewind.cancel_button]
        return [*cancels, self.cancel_button]

    def buttons(self) -> list[widgets.Button]:
        """The buttons of the action row, left to right (after Load and Use here)."""
        return [
            self.star_button,
            self.rename_button,
            self.fork_button,
            self.rewind_button,
            self.delete_button,
        ]

    def rows(self) -> list[widgets.Widget]:
        """The rows that ask, top to bottom (hidden until asked)."""
        return [self.rename_row, self.fork_row, self.rewind.row, self.confirm_row]

    def _run(self, action: Callable[[], None]) -> None:
        """Run a control with every button disabled, and enable them again whatever happens."""
        pressable = [
            *self.others,
            *self.buttons(),
            self.rename_ok_button,
            self.fork_confirm_button,
            self.rewind.confirm_button,
            self.confirm_button,
            *self._cancels(),
        ]
        for each in pressable:
            each.disabled = True
        try:
            self._guard(action)
        finally:
            for each in pressable:
                each.disabled = False

    def show(self, summary: SessionSummary | None) -> None:
        """Draw the details line and the star button for the selected session."""
        self.details.value = details_html(summary)
        self.star_button.description = UNSTAR if summary and summary.starred else STAR

    def close(self) -> None:
        """Close every asking row."""
        for row in self.rows():
            hide(row, True)

    def _ask(self, row: widgets.Box) -> None:
        self.close()
        hide(row, False)

    def _free(self, summary: SessionSummary, doing: str) -> bool:
        """Whether the session may be changed here; if not, say why."""
        if summary.held_elsewhere:
            self._say(
                f"Cannot {doing} {summary.session_id}: it is in use by another process.",
                error=True,
            )
        return not summary.held_elsewhere

    # -- star -------------------------------------------------------------------------
    def toggle_star(self) -> None:
        """Star the selected session, or take its star away."""
        self.close()
        summary = self._selected()
        if summary is None:
            return
        session_id = summary.session_id
        self.catalog.star(session_id, not summary.starred)
        self._changed(None, None)
        if summary.starred:
            self._say(f"Took the star away from {session_id}.")
        else:
            self._say(f"Starred {session_id}: listed first, and clean-ups keep it.")

    # -- rename -----------------------------------------------------------------------
    def ask_rename(self) -> None:
        summary = self._selected()
        if summary is None or not self._free(summary, "rename"):
            return
        self.title_box.value = summary.title
        self.rename_text.value = f"Title of <b>{html.escape(summary.session_id)}</b>:&nbsp;"
        self._ask(self.rename_row)

    def confirm_rename(self) -> None:
        """Set the title typed in the box (the catalog refuses a blank or multi-line one)."""
        summary = self._selected()
        if summary is None:
            return
        title = self.catalog.rename(summary.session_id, self.title_box.value)
        self.close()
        self._changed(None, None)
        self._say(f"Renamed {summary.session_id}: {title}")

    # -- fork -------------------------------------------------------------------------
    def ask_fork(self) -> None:
        summary = self._selected()
        if summary is None:
            return
        self.fork_id.value = f"{summary.session_id}-fork"
        self.fork_at.value = ""
        self.fork_at.placeholder = f"{summary.turns} (all)"
        self.fork_text.value = (
            f"Fork <b>{html.escape(summary.session_id)}</b> "
            f"({plural(summary.turns, 'turn')}) into&nbsp;"
        )
        self._ask(self.fork_row)

    def _fork_turn(self, summary: SessionSummary) -> int | None:
        typed = self.fork_at.value.strip()
        if not typed:
            return None
        if not typed.isdigit():
            raise InvalidArgument(
                f"The last turn to keep is a number from 1 to {summary.turns}, "
                f"or blank for all; {typed!r} is not."
            )
        return int(typed)

    def confirm_fork(self) -> None:
        """Make the fork; the notebook's active session stays (Use here switches to it)."""
        summary = self._selected()
        if summary is None:
            return
        at = self._fork_turn(summary)
        handle = self.fork_id.value.strip()
        opened = self.catalog.fork(handle, summary.session_id, at)
        self.close()
        self._changed(opened.session_id, None)
        kept = f"all {plural(opened.turns, 'turn')}" if at is None else f"its turns 1 to {at}"
        self._say(
            f"Forked {summary.session_id} into {opened.session_id} ({kept}); "
            "Use here makes it this notebook's active session."
        )

    # -- delete -----------------------------------------------------------------------
    def ask_delete(self) -> None:
        """First step of a delete: show what will go, and the confirm button."""
        summary = self._selected()
        if summary is None or not self._free(summary, "delete"):
            return
        self.confirm_text.value = (
            f"Delete <b>{html.escape(summary.session_id)}</b> ({plural(summary.turns, 'turn')}) "
            "and all its data?&nbsp;"
        )
        self._ask(self.confirm_row)

    def confirm_delete(self) -> None:
        """Second step: delete the selected session for good."""
        summary = self._selected()
        self.close()
        if summary is None:
            return
        self.catalog.delete(summary.session_id)
        self._changed(None, summary.session_id)  # a neighbour selected, and its transcript
        self._say(f"Deleted {summary.session_id} and all its data.")


class RewindControl:
    """The Rewind button, and the row that asks: how many turns, which ones, Confirm, Cancel.

    ``free(summary, "rewind")`` says whether the session may be changed here (and
    why not), ``open_row(row)`` shows the row and ``close()`` closes it (with the
    other questions).
    """

    def __init__(
        self,
        hooks: ControlHooks,
        *,
        free: Callable[[SessionSummary, str], bool],
        open_row: Callable[[widgets.Widget], None],
        close: Callable[[], None],
    ) -> None:
        self.catalog, self.transcript = hooks.catalog, hooks.transcript
        self._selected, self._say, self._changed = hooks.selected, hooks.say, hooks.changed
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
        self.count.observe(lambda _: hooks.guard(self._show_preview), names="value")

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
        """Second step: remove the last turns, and say which prompts went; nothing, if the
        session has gained or lost a turn since the list was shown (as the magic does)."""
        summary = self._selected()
        if summary is None:
            return
        session_id = summary.session_id
        now = len(self.catalog.history(session_id))
        if now != len(self._turns):
            self._close()
            self._say(
                f"{session_id} changed while you were asked ({plural(now, 'turn')} now, "
                f"{len(self._turns)} then): nothing was removed; Rewind again to see what "
                "would go now.",
                error=True,
            )
            return
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


def details_html(summary: SessionSummary | None) -> str:
    """The line under the list: the selected session's id, star, title (escaped) and usage."""
    if summary is None:
        return ""
    star = " · ★ starred" if summary.starred else ""
    title = html.escape(summary.title) if summary.title else "<i>(no title yet)</i>"
    usage = html.escape(summary.usage.line() if summary.usage else "-")
    return f"<b>{html.escape(summary.session_id)}</b>{star} · {title} · usage: {usage}"


def removed_turns_html(turns: list[Turn]) -> str:
    """The turns a rewind removes, a line each: the turn's number and its prompt, cut to
    one short line (escaped)."""
    lines = "".join(
        f"<li>turn {turn.index}: “{html.escape(one_line_title(turn.prompt, PROMPT_WIDTH))}”</li>"
        for turn in turns
    )
    return f'<div>These go, with their replies:</div><ul style="margin:2px 0 6px 0">{lines}</ul>'
