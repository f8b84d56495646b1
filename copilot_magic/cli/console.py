"""What the ``copilot-magic`` command prints, and how it asks before deleting.

Results go to stdout and errors to stderr as one line, with every secret
(the provider key, GitHub tokens) masked.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from copilot_magic.errors import CopilotMagicError, PersonsMistake, one_line
from copilot_magic.values import mask_secrets

if TYPE_CHECKING:
    from copilot_magic.sessions.store import SessionStore

PROG = "copilot-magic"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
NO_TERMINAL = "Not deleting without confirmation: stdin is not a terminal; pass --yes."

Verb = Callable[[argparse.Namespace, "SessionStore", "Console"], int]


class NotConfirmed(CopilotMagicError):
    """A deletion nobody confirmed: no --yes, and no terminal to ask on or a "no"."""


USAGE_ERRORS = (PersonsMistake, NotConfirmed)  # exit status 2, as argparse's own


class Console:
    """Prints results on stdout and errors on stderr, with every secret masked."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = list(secrets)

    def scrub(self, text: str) -> str:
        return mask_secrets(text, self._secrets)

    def say(self, text: str) -> None:
        print(self.scrub(text), flush=True)

    def error(self, message: object) -> None:
        print(f"{PROG}: error: {self.scrub(one_line(message))}", file=sys.stderr, flush=True)


def confirm(question: str) -> None:
    """Ask on the terminal; raise :class:`NotConfirmed` unless the answer is yes."""
    if sys.stdin is None or not sys.stdin.isatty():
        raise NotConfirmed(NO_TERMINAL)
    try:
        answer = input(question)
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        raise NotConfirmed("Not confirmed: nothing deleted.")
