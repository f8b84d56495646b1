"""Tab completion after ``%copilot_session`` and ``%%copilot``: session ids and options.

An id is completed from the session folders on disk (no runtime needed); a word
that starts with ``-`` is completed from the command's own options, and only
from them (not from Python names, which IPython would otherwise offer).
"""

from __future__ import annotations

from typing import Any

from IPython.core.completer import CompletionContext, SimpleCompletion, context_matcher

from copilot_magic.errors import CopilotMagicError
from copilot_magic.sessions.files import SessionFiles
from copilot_magic.sessions.marks import SessionMarks
from copilot_magic.ui.arguments import COPILOT_OPTIONS, SESSION_OPTIONS

COMMANDS = ("%copilot_session", "%%copilot")
OPTIONS = {
    "%copilot_session": tuple(n for names, _ in SESSION_OPTIONS for n in names if n[0] == "-"),
    "%%copilot": tuple(n for names, _ in COPILOT_OPTIONS for n in names),
}


def stored_session_ids(magics: Any) -> list[str]:
    """Ids of the sessions in the data directory, read from disk (no runtime needed)."""
    try:
        settings = magics.settings()
    except CopilotMagicError:  # a bad setting is reported by the next command, not here
        return []
    handles = SessionMarks(settings.data_path).handles()  # a fork is offered by its handle
    found = SessionFiles(settings.data_path, settings.abstain_signal).session_ids()
    return sorted(handles.get(session_id, session_id) for session_id in found)


def options_for(line: str, token: str) -> list[str]:
    """The options of the command that ``line`` starts with that begin with ``token``."""
    words = line.split(None, 1)
    if not token.startswith("-") or not words or words[0] not in OPTIONS:
        return []
    return [option for option in OPTIONS[words[0]] if option.startswith(token)]


@context_matcher(identifier="copilot_magic_options")  # type: ignore[untyped-decorator]
def complete_options(context: CompletionContext) -> dict[str, Any]:
    """An IPython matcher: the options, suppressing every other matcher when it has some."""
    found = options_for(context.line_with_cursor, context.token)
    return {
        "completions": [SimpleCompletion(option, type="option") for option in found],
        "suppress": bool(found),
    }


def register_session_completer(ipython: Any, magics: Any) -> None:
    """Complete ids and options for ``%copilot_session`` and ``%%copilot``."""

    def complete(_shell: Any, event: Any) -> list[str]:
        return stored_session_ids(magics)

    for command in COMMANDS:
        ipython.set_hook("complete_command", complete, str_key=command)
    matchers = ipython.Completer.custom_matchers
    if complete_options not in matchers:
        matchers.append(complete_options)


def unregister_session_completer(ipython: Any) -> None:
    """Remove what :func:`register_session_completer` installed (``%unload_ext``)."""
    dispatcher = getattr(ipython, "strdispatchers", {}).get("complete_command")
    for command in COMMANDS:
        if dispatcher is not None:
            dispatcher.strs.pop(command, None)
    matchers = getattr(getattr(ipython, "Completer", None), "custom_matchers", [])
    if complete_options in matchers:
        matchers.remove(complete_options)
