"""copilot_magic: persistent GitHub Copilot conversations in Jupyter.

``%load_ext copilot_magic``, then ``%copilot_session ID`` to create or resume a
session and ``%%copilot`` cells to talk to it. Importing this package is cheap:
the magics, and the Copilot SDK behind them, load only when the extension does.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from typing import Any

__version__ = "0.1.0"
__all__ = [
    "SessionBrowser",
    "__version__",
    "load_ipython_extension",
    "unload_ipython_extension",
]

_MAGICS_ATTRIBUTE = "_copilot_magics"


def __getattr__(name: str) -> Any:
    """``copilot_magic.SessionBrowser`` is imported on first use (it needs ipywidgets)."""
    if name == "SessionBrowser":
        from copilot_magic.ui.panel import SessionBrowser

        return SessionBrowser
    raise AttributeError(f"module 'copilot_magic' has no attribute {name!r}")


def _preload() -> None:
    """Import what the first command needs in the background: ``%load_ext`` returns at once.

    The session store and the streaming display, the SDK (about a second), and
    the Markdown renderer.
    """
    for module in ("sessions.store", "sessions.catalog", "ui.asking"):
        importlib.import_module(f"copilot_magic.{module}")
    from copilot_magic.runtime import sdk

    with contextlib.suppress(ImportError):  # reported clearly when first needed
        sdk.preload()
    from copilot_magic.views.markdown import markdown_renderer

    markdown_renderer()


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%copilot_session`` and ``%%copilot`` (``%load_ext copilot_magic``)."""
    from copilot_magic.ui.completion import register_session_completer
    from copilot_magic.ui.magics import CopilotMagics

    if getattr(ipython, _MAGICS_ATTRIBUTE, None) is not None:
        return
    magics = CopilotMagics(ipython)
    ipython.register_magics(magics)
    register_session_completer(ipython, magics)
    setattr(ipython, _MAGICS_ATTRIBUTE, magics)
    threading.Thread(target=_preload, name="copilot-magic-preload", daemon=True).start()


def unload_ipython_extension(ipython: Any) -> None:
    """Stop the runtime and remove the magics (``%unload_ext copilot_magic``)."""
    magics = getattr(ipython, _MAGICS_ATTRIBUTE, None)
    if magics is None:
        return
    from copilot_magic.ui.completion import unregister_session_completer

    magics.close()
    unregister_session_completer(ipython)
    for kind in ("line", "cell"):
        for name in ("copilot_session", "copilot_sessions", "copilot", "copilot_code"):
            ipython.magics_manager.magics[kind].pop(name, None)
    ipython.magics_manager.registry.pop(type(magics).__name__, None)
    if magics in ipython.configurables:
        ipython.configurables.remove(magics)
    setattr(ipython, _MAGICS_ATTRIBUTE, None)
