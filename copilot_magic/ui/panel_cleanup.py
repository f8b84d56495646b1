"""The session browser's clean-up: a dry run lists what sessions idle for more than N days
it would delete (and those it keeps, and why), then Confirm clean-up deletes exactly those.

The preview has the CSS class ``copilot-cleanup``.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import ipywidgets as widgets

from copilot_magic.sessions.catalog import SessionCatalog
from copilot_magic.sessions.models import CleanupPlan
from copilot_magic.ui.panel_widgets import button, hide, text
from copilot_magic.views.text import cleanup_headline, plural, when


class CleanupControl:
    """The days box, Preview clean-up, the preview and Confirm clean-up.

    ``refresh()`` reads the list again after a clean-up; ``say`` is the status line.
    A preview goes stale when the days change or a session changes (:meth:`cancel`).
    """

    def __init__(
        self,
        catalog: SessionCatalog,
        *,
        say: Callable[..., None],
        refresh: Callable[[], None],
    ) -> None:
        self.catalog, self._say, self._refresh = catalog, say, refresh
        self._plan: CleanupPlan | None = None
        self.days = widgets.BoundedIntText(
            value=30,
            min=0,
            max=36500,
            description="Older than (days)",
            style={"description_width": "initial"},
            layout=widgets.Layout(width="190px"),
        )
        self.preview_button = button("Preview clean-up", tip="List what would be deleted")
        self.text = text()
        self.confirm_button = button("Confirm clean-up", "danger", hidden_alone=True)
        hide(self.confirm_button, True)

    def rows(self) -> list[widgets.Widget]:
        """The days, the buttons, then the preview."""
        return [widgets.HBox([self.days, self.preview_button, self.confirm_button]), self.text]

    def preview(self) -> None:
        """Dry run: list the sessions a clean-up would delete, and those it keeps and why."""
        plan = self.catalog.plan_cleanup(int(self.days.value))
        self._plan = plan
        self.text.value = cleanup_html(plan)
        self.confirm_button.description = f"Confirm clean-up ({len(plan.doomed)})"
        hide(self.confirm_button, not plan.doomed)

    def cancel(self) -> None:
        """Forget the preview (it went stale)."""
        self._plan = None
        self.text.value = ""
        hide(self.confirm_button, True)

    def confirm(self) -> None:
        """Delete what the last preview listed."""
        plan = self._plan
        self.cancel()
        if plan is None:
            self._say("Preview the clean-up first.", error=True)
            return
        deleted = self.catalog.cleanup(plan)
        self._refresh()  # a deleted selection moves to the first row, with its transcript
        turns = sum(s.turns for s in plan.doomed if s.session_id in deleted)
        self._say(f"Clean-up deleted {plural(len(deleted), 'session')} ({plural(turns, 'turn')}).")


def cleanup_html(plan: CleanupPlan) -> str:
    """A clean-up preview: the sessions it would delete, a line each with their turns and
    when they were last used, then those it keeps and why; each part a block of its own."""
    head = f"<div>{html.escape(cleanup_headline(plan))}</div>"
    doomed = "".join(
        f"<li><b>{html.escape(s.session_id)}</b> · {html.escape(s.title or '(no prompt yet)')} · "
        f"{plural(s.turns, 'turn')} · last active {when(s.last_active)}</li>"
        for s in plan.doomed
    )
    kept = "".join(
        f"<li><b>{html.escape(session_id)}</b> ({html.escape(why)})</li>"
        for session_id, why in plan.spared
    )
    parts = [f'<div class="copilot-cleanup">{head}']
    parts += [f'<ul style="margin:2px 0 6px 0">{doomed}</ul>'] if doomed else []
    parts += [f'<div>Kept:</div><ul style="margin:2px 0 6px 0">{kept}</ul>'] if kept else []
    return "".join(parts) + "</div>"
