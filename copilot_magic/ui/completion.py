"""Tab completion of session ids after ``%copilot_session`` and ``--session``."""

from __future__ import annotations

from typing import Any

from copilot_magic.errors import CopilotMagicError
from copilot_magic.sessions.files import SessionFiles

COMMANDS = ("%copilot_session", "%%copilot")


def stored_session_ids(magics: Any) -> list[str]:
    """Ids of the sessions in the data directory, read from disk (no runtime needed)."""
    try:
        settings = magics.settings()
    except CopilotMagicError:  # a bad setting is reported by the next command, not here
        return []
    return SessionFiles(settings.data_path, settings.abstain_signal).session_ids()


def register_session_completer(ipython: Any, magics: Any) -> None:
    """Complete session ids for ``%copilot_session ID`` and ``%%copilot --session ID``."""

    def complete(_shell: Any, event: Any) -> list[str]:
        return stored_session_ids(magics)

    for command in COMMANDS:
        ipython.set_hook("complete_command", complete, str_key=command)


def unregister_session_completer(ipython: Any) -> None:
    """Remove what :func:`register_session_completer` installed (``%unload_ext``)."""
    dispatcher = getattr(ipython, "strdispatchers", {}).get("complete_command")
    for command in COMMANDS:
        if dispatcher is not None:
            dispatcher.strs.pop(command, None)
