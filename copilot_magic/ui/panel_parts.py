"""The small pieces of the session browser: list labels, the details line, buttons, the
default catalog."""

from __future__ import annotations

import html
from functools import lru_cache
from typing import Any, ClassVar

import ipywidgets as widgets
from ipywidgets.widgets.widget_string import HTMLStyle

from copilot_magic.sessions.catalog import SessionCatalog
from copilot_magic.sessions.models import CleanupPlan, SessionSummary
from copilot_magic.views.text import cleanup_headline, plural, when


@lru_cache(maxsize=4096)
def option_label(summary: SessionSummary) -> str:
    """One line of the list: id first (tests select by it), then what helps choosing.

    Cached: a list of a thousand sessions is drawn again on every filter keystroke.
    """
    parts = [summary.session_id, *(["★"] if summary.starred else [])]
    parts += [
        summary.title or "(no prompt yet)",
        f"last active {when(summary.last_active)}",
        f"created {when(summary.created, '%Y-%m-%d')}",
    ]
    parts.append(plural(summary.turns, "turn"))
    if summary.abstentions:
        parts.append(f"🛑 {summary.abstentions}")
    if summary.active:
        parts.append("● active here")
    if summary.held_elsewhere:
        parts.append("🔒 in use elsewhere")
    if summary.damage:
        parts.append(f"⚠ damaged: {summary.damage}")
    if summary.made_elsewhere:
        parts.append(f"made in {summary.made_elsewhere}")
    return "  ·  ".join(parts)


def details_html(summary: SessionSummary | None) -> str:
    """The line under the list: the selected session's id, star, title (escaped) and usage."""
    if summary is None:
        return ""
    star = " · ★ starred" if summary.starred else ""
    title = html.escape(summary.title) if summary.title else "<i>(no title yet)</i>"
    usage = html.escape(summary.usage.line() if summary.usage else "-")
    return f"<b>{html.escape(summary.session_id)}</b>{star} · {title} · usage: {usage}"


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


class _Shared:
    """One layout and one style for all the panels' buttons, and one of each for their
    HTML texts.

    Each widget's own layout and style are two more widget models, so sharing
    them builds a panel (twenty buttons, a dozen texts) about 6 ms faster. Made
    again when closed (``Widget.close_all``). None of them is hidden or sized alone.
    """

    made: ClassVar[dict[str, tuple[widgets.Layout, widgets.Widget]]] = {}

    @classmethod
    def parts(cls, kind: str) -> tuple[widgets.Layout, widgets.Widget]:
        layout, style = cls.made.get(kind, (None, None))
        if layout is None or style is None or None in (layout.comm, style.comm):
            if kind == "button":
                layout, style = widgets.Layout(width="auto"), widgets.ButtonStyle()
            else:
                layout, style = widgets.Layout(), HTMLStyle()
            cls.made[kind] = (layout, style)
        return layout, style

    @classmethod
    def is_shared(cls, layout: widgets.Layout) -> bool:
        return any(layout is shared for shared, _ in cls.made.values())


def button(
    label: str, style: str = "", tip: str = "", *, hidden_alone: bool = False
) -> widgets.Button:
    """A panel button. One that :func:`hide` hides by itself is made ``hidden_alone``: it
    gets a layout of its own, since hiding the shared one would hide every button."""
    if hidden_alone:
        return widgets.Button(
            description=label, button_style=style, tooltip=tip, layout=widgets.Layout(width="auto")
        )
    layout, look = _Shared.parts("button")
    return widgets.Button(
        description=label, button_style=style, tooltip=tip, layout=layout, style=look
    )


def text(value: str = "") -> widgets.HTML:
    """A panel's HTML text (a heading, a status line, a question): never hidden alone."""
    layout, look = _Shared.parts("html")
    return widgets.HTML(value, layout=layout, style=look)


def hide(widget: widgets.DOMWidget, hidden: bool) -> None:
    """Hide or show ``widget`` (never one sharing the panels' layout)."""
    if _Shared.is_shared(widget.layout):
        raise ValueError("this widget shares its layout: hiding it would hide the others")
    widget.layout.display = "none" if hidden else None


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
