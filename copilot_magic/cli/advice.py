"""The way out of an error, in what the ``copilot-magic`` command can do.

An error says what happened; when the way out is a command, it carries it as
:class:`~copilot_magic.errors.Advice`. Here that advice becomes a sentence for a
person at a terminal. The command line has no ``--takeover``: it says to close the
session where it is open. A setting is an environment variable (the data directory
is also ``--data-dir``). The magics word the same advice their own way
(:mod:`copilot_magic.ui.advice`).
"""

from __future__ import annotations

from copilot_magic.config import declaration
from copilot_magic.errors import Advice, Remedy, with_advice


def advice_words(advice: Advice) -> str:
    """The sentence that tells a person at a terminal what to do."""
    session = advice.session_id
    if advice.remedy is Remedy.TAKE_OVER:
        return "Close it there (or stop that kernel), then run the command again."
    if advice.remedy is Remedy.TAKE_BACK:
        return "Close it in the kernel that took it over, then run the command again."
    if advice.remedy is Remedy.START_ANEW:
        return "Start it anew from a notebook."
    if advice.remedy is Remedy.DELETE:
        return f"Delete it with `copilot-magic delete {session}`."
    variable = declaration(advice.setting).env
    assignment = f"{variable}={advice.value}" if advice.value else variable
    if advice.setting == "data_dir":
        return f"Set it with --data-dir or the environment variable {assignment}."
    return f"Set it with the environment variable {assignment}."


def worded(message: object, advice: Advice | None = None) -> str:
    """The one line the command prints: what happened, then the way out in its own terms."""
    return with_advice(message, advice_words, advice)
