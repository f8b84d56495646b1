"""What the ``copilot-magic`` command prints.

Results go to stdout and errors to stderr as one line, with every secret
(the provider key, GitHub tokens) masked.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from copilot_magic.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from copilot_magic.values import mask_secrets

if TYPE_CHECKING:
    from copilot_magic.sessions.store import SessionStore

PROG = "copilot-magic"
__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "PROG", "Console", "Verb"]

Verb = Callable[[argparse.Namespace, "SessionStore", "Console"], int]


class Console:
    """Prints results on stdout and errors on stderr, with every secret masked."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = list(secrets)

    def scrub(self, text: str) -> str:
        return mask_secrets(text, self._secrets)

    def say(self, text: str) -> None:
        print(self.scrub(text), flush=True)

    def error(self, message: object) -> None:
        from copilot_magic.cli.advice import worded  # the way out, in the command's terms

        print(f"{PROG}: error: {self.scrub(worded(message))}", file=sys.stderr, flush=True)
