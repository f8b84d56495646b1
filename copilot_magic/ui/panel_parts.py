"""The small pieces of the session browser: list labels, the details line, buttons, the
default catalog."""

from __future__ import annotations

import html
from functools import lru_cache
from typing import Any

import ipywidgets as widgets

from copilot_magic.sessions.catalog import SessionCatalog
from copilot_magic.sessions.models import CleanupPlan, SessionSummary
from copilot_magic.views.text import plural, when


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
    when they were last used, then those it keeps and why."""
    head = (
        f"<b>{plural(len(plan.doomed), 'session')}</b> idle for more than "
        f"{plural(plan.older_than_days, 'day')} would be deleted "
        f"({plural(plan.turns, 'turn')})" + (":" if plan.doomed else ": none.")
    )
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
    parts += [f'Kept:<ul style="margin:2px 0 6px 0">{kept}</ul>'] if kept else []
    return "".join(parts) + "</div>"


def button(label: str, style: str = "", tip: str = "") -> widgets.Button:
    return widgets.Button(
        description=label, button_style=style, tooltip=tip, layout=widgets.Layout(width="auto")
    )


def hide(widget: widgets.DOMWidget, hidden: bool) -> None:
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
