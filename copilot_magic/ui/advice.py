"""The way out of an error, in the magics' own commands.

An error says what happened; when the way out is a command, it carries it as
:class:`~copilot_magic.errors.Advice`. Here that advice becomes a sentence a
person can type in the notebook: ``%copilot_session ID --takeover``, ``%config
CopilotMagics.NAME = VALUE`` (or the setting's environment variable). The command
line words the same advice its own way (:mod:`copilot_magic.cli.advice`).
"""

from __future__ import annotations

from copilot_magic.config import declaration, kind_of
from copilot_magic.errors import Advice, Remedy, with_advice


def advice_words(advice: Advice) -> str:
    """The sentence that tells a person at the notebook what to type."""
    session = advice.session_id
    if advice.remedy is Remedy.TAKE_OVER:
        return f"Close it there, or take it over with %copilot_session {session} --takeover."
    if advice.remedy is Remedy.TAKE_BACK:
        return f"Take it back with %copilot_session {session} --takeover."
    if advice.remedy is Remedy.START_ANEW:
        return f"Start it anew with %copilot_session {session}."
    if advice.remedy is Remedy.DELETE:
        return f"Delete it with %copilot_session --delete {session}, or use another id."
    variable = declaration(advice.setting).env
    variable = f"{variable}={advice.value}" if advice.value else variable
    return f"Set it with {config_line(advice.setting, advice.value)} (or {variable})."


def config_line(setting: str, value: str = "") -> str:
    """``%config CopilotMagics.NAME = VALUE`` (quoted if it is text); ``= …`` where no value
    is meant (``%config CopilotMagics.NAME`` alone only prints the value)."""
    line = f"%config CopilotMagics.{setting}"
    if not value:
        return f"{line} = …"
    return f"{line} = {value!r}" if kind_of(setting) is str else f"{line} = {value}"


def worded(message: object, advice: Advice | None = None) -> str:
    """The one line the magics show: what happened, then the way out in its own terms."""
    return with_advice(message, advice_words, advice)
