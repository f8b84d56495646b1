"""The errors copilot_magic reports to people, and how each kind is shown.

Every class here carries a message meant to be shown as one line, without a
traceback. There are two kinds:

- :class:`PersonsMistake`: a wrong id, option, reference or value. The magics show
  it as IPython shows a mistyped command, ``UsageError: ...``.
- Every other :class:`CopilotMagicError` is the environment's (the runtime, the
  model, the disk, permissions, another program holding a session): one line under
  its own name, ``RuntimeUnavailable: ...`` (IPython asks it how to show itself,
  ``_render_traceback_``).

The command line prints both on stderr, one line. Anything else that escapes is a
bug, and keeps its traceback.

A message says what happened, in words that fit every front end. When the way out is
typed differently in the notebook and on the command line (take a session over, change
a setting), the error carries it as :class:`Advice`, and each front end words it:
:mod:`copilot_magic.ui.advice` for the magics, :mod:`copilot_magic.cli.advice` for the
command line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


def one_line(text: object) -> str:
    """The first non-empty line of a message (runtime errors can span several)."""
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    return lines[0] if lines else ""


def all_on_one_line(text: object) -> str:
    """Every line of a message joined into one, its advice kept ("Could not connect …:
    Check that the service is running."), a doubled full stop made single."""
    joined = " ".join(str(text).split())
    return re.sub(r"(?<!\.)\.\.(?!\.)", ".", joined)


class Remedy(Enum):
    """A way out that each front end words in its own commands."""

    TAKE_OVER = "take the session over from the kernel that holds it"
    TAKE_BACK = "take the session back from the kernel that took it over"
    START_ANEW = "start the session anew"
    DELETE = "delete the damaged session"
    SET_SETTING = "change a setting"


@dataclass(frozen=True)
class Advice:
    """A remedy and what it needs: the session's id, or the setting's name (a field of
    :class:`~copilot_magic.config.Settings`) and the value to give it, if one is meant."""

    remedy: Remedy
    session_id: str = ""
    setting: str = ""
    value: str = ""


def with_advice(
    message: object, words: Callable[[Advice], str], advice: Advice | None = None
) -> str:
    """The one line a front end shows: what happened, then the way out as ``words`` puts it
    (``advice`` is the error's own unless given; never said twice)."""
    line = one_line(message)
    if advice is None and isinstance(message, CopilotMagicError):
        advice = message.advice
    if advice is None:
        return line
    said = words(advice)
    return line if line.endswith(said) else f"{line} {said}"


class CopilotMagicError(Exception):
    """A failure explained in one line to the person at the keyboard; ``advice`` is the way
    out that each front end words itself (``None`` when the message says all)."""

    advice: Advice | None = None

    def __init__(self, *args: object, advice: Advice | None = None) -> None:
        super().__init__(*args)
        self.advice = advice

    def _render_traceback_(self) -> list[str]:
        """How IPython shows it: one line under its own name, no traceback."""
        return [f"{type(self).__name__}: {one_line(self)}"]


class PersonsMistake(CopilotMagicError):
    """A failure that is the person's mistake, shown as IPython's ``UsageError``."""


class InvalidSessionId(PersonsMistake, ValueError):
    """A session id that breaks the id rules."""


class InvalidArgument(PersonsMistake, ValueError):
    """An option with a value that cannot be used."""


class InvalidSetting(PersonsMistake, ValueError):
    """A setting (a trait or its environment variable) with a value that cannot be used."""


class SessionNotFound(PersonsMistake, LookupError):
    """No session with that id is stored in the data directory."""


class SessionExists(PersonsMistake):
    """A new session was asked for, but the id is taken."""


class SessionBusy(CopilotMagicError):
    """The session is replying already, or held by another process."""


class SessionTakenOver(SessionBusy):
    """Another kernel took the session over; this one may not write to it."""


class SessionDamaged(CopilotMagicError):
    """The session's history file is missing or unreadable, so it cannot be resumed."""


class DataDirUnwritable(CopilotMagicError):
    """The data directory cannot be written, so no turn could be stored."""


class RuntimeUnavailable(CopilotMagicError):
    """The Copilot runtime is missing, cannot start, or stopped."""


class RuntimeRefused(RuntimeUnavailable):
    """The runtime answered a request with an error; ``detail`` is its message."""

    def __init__(self, message: str, detail: str) -> None:
        super().__init__(message)
        self.detail = detail


class RuntimeNotYours(RuntimeUnavailable):
    """What listens at the runtime's address is not the person's own (another user's, or
    one that cannot be told): nothing was sent to it."""


class TokenRefused(RuntimeUnavailable):
    """A served runtime refused the token it was given."""


class ExportFailed(CopilotMagicError):
    """The export file could not be written."""


class FileAccessFailed(CopilotMagicError):
    """The system refused to read or write a file or folder (permissions, a full disk, a
    missing folder): its words, and the path."""


class NotSignedIn(CopilotMagicError):
    """No GitHub sign-in and no model provider configured."""


class TurnFailed(CopilotMagicError):
    """The model or the runtime failed to complete a reply."""


class TurnTimedOut(TurnFailed):
    """The runtime sent nothing for longer than the reply timeout; the turn was stopped."""


class DiskFull(DataDirUnwritable, TurnFailed):
    """The disk holding the data directory is full (or nearly): a turn could not be stored."""


class TurnInterrupted(CopilotMagicError):
    """The person interrupted the reply; the partial text stays visible."""


class CellNotFound(PersonsMistake, LookupError):
    """A prompt's ``{In[n]}`` or ``{Out[n]}`` names a cell or a result this kernel does not have."""


class NameNotFound(PersonsMistake, LookupError):
    """A prompt's ``{name}`` names no variable of this kernel (a typo, most likely)."""


class NoLastError(PersonsMistake):
    """There is no last error to attach."""


class NoCode(PersonsMistake):
    """A reply has no Python code block to put into a cell."""


EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130  # a command's exit status


def exit_status(
    run: Callable[[], int],
    report: Callable[[object], None],
    report_bug: Callable[[Exception], None],
) -> int:
    """Run a command's body and return its exit status, failures reported in one line each:
    the person's mistake 2 (as argparse's own), the environment's failure 1, an interrupt
    130, and a bug 1 (``report_bug`` says so and shows where)."""
    try:
        return run()
    except PersonsMistake as error:
        report(error)
        return EXIT_USAGE
    except CopilotMagicError as error:
        report(error)
        return EXIT_FAILED
    except KeyboardInterrupt:
        report("Interrupted.")
        return EXIT_INTERRUPTED
    except Exception as error:  # noqa: BLE001 - a bug: the caller says so, and where
        report_bug(error)
        return EXIT_FAILED
