"""Tab completion of session ids after ``%copilot_session`` and ``--session``."""

from __future__ import annotations

from typing import Any

from copilot_magic.sessions.files import SessionFiles


def stored_session_ids(magics: Any) -> list[str]:
    """Ids of the sessions in the data directory, read from disk (no runtime needed)."""
    settings = magics.settings()
    return SessionFiles(settings.data_path, settings.abstain_signal).session_ids()


def register_session_completer(ipython: Any, magics: Any) -> None:
    """Complete session ids for ``%copilot_session ID`` and ``%%copilot --session ID``."""

    def complete(_shell: Any, event: Any) -> list[str]:
        return stored_session_ids(magics)

    for command in ("%copilot_session", "%%copilot"):
        ipython.set_hook("complete_command", complete, str_key=command)
