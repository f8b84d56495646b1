"""The panel's buttons and texts: one layout and one style model shared by all of each, and
:func:`hide` for the widgets that have a layout of their own."""

from __future__ import annotations

from typing import ClassVar

import ipywidgets as widgets
from ipywidgets.widgets.widget_string import HTMLStyle


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
