"""The words of ``%copilot_session``, ``%%copilot`` and their errors, parsed one way.

The operations have the same names as the ``copilot-magic`` command's verbs
(list, show, delete, export, cleanup): a flag each here (``--list``,
``--show``...), as IPython magics take them, a subcommand each there.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic_arguments import argument, magic_arguments
from IPython.utils.process import arg_split  # type: ignore[attr-defined]

from copilot_magic.errors import CopilotMagicError, FileAccessFailed, PersonsMistake, one_line
from copilot_magic.values import mask_secrets

NO_ACTIVE_SESSION = (
    "No active Copilot session: run %copilot_session (this notebook's own) "
    "or %copilot_session ID to create or resume one."
)
NO_NOTEBOOK = (
    "No active Copilot session, and this kernel cannot tell which notebook it runs: "
    "name one with %copilot_session ID, or set CopilotMagics.notebook_path."
)
EMPTY_CELL = "The cell is empty: write your prompt below %%copilot."
ONE_ACTION = (
    "Use one of ID, --list, --show (or --history), --delete, --export, --cleanup, --rename, "
    "--rewind, --compact, --usage, --models, --star or --unstar at a time."
)
NEEDS_ID = "--new, --model, --takeover and --fork go with a session id: %copilot_session ID --new."
BUG = (
    "This is a bug in copilot_magic ({kind}): the traceback below says where. Please report "
    "it with the traceback."
)


def _unquote(token: str) -> str:
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "\"'":
        return token[1:-1]
    return token


def parse(magic: Any, line: str) -> Any:
    """The arguments of ``magic``: quoted parts are one argument, without their quotes."""
    try:
        argv = arg_split(line, posix=False, strict=True)
    except ValueError as error:  # shlex: "No closing quotation"
        raise UsageError(f"{error} in the arguments: {line.strip()}") from None
    return magic.parser.parse_args([_unquote(token) for token in argv])


@contextlib.contextmanager
def reported(verbose: bool, secrets: Iterable[str] = ()) -> Iterator[None]:
    """The error policy: what a person sees when a command fails (README, "Errors").

    The person's mistake (a :class:`~copilot_magic.errors.PersonsMistake`) is one line,
    ``UsageError: ...``. The environment's failure (any other
    :class:`~copilot_magic.errors.CopilotMagicError`; a file the system will not read or
    write, as :class:`~copilot_magic.errors.FileAccessFailed`) is one line under its own
    name; with ``verbose``, its traceback too. Anything else is a bug: a line that says so,
    then its traceback. An interrupt goes on. No line shows a secret.
    """
    try:
        yield
    except UsageError as error:
        raise UsageError(mask_secrets(str(error), secrets)) from None
    except PersonsMistake as error:
        raise UsageError(mask_secrets(one_line(error), secrets)) from None
    except CopilotMagicError as error:
        error.args = (mask_secrets(one_line(error), secrets),)
        if verbose:
            raise _with_traceback(error) from error
        raise error from None
    except OSError as error:
        where = f" ({error.filename})" if error.filename else ""
        line = f"{error.strerror or one_line(error) or type(error).__name__}{where}."
        if verbose:
            raise
        raise FileAccessFailed(mask_secrets(line, secrets)) from None
    except Exception as error:
        print(BUG.format(kind=type(error).__name__), file=sys.stderr, flush=True)
        masked = mask_secrets(str(error), secrets)
        if masked != str(error):
            error.args = (masked,)
        raise


class _Traced(Exception):
    """An environment's failure shown with its traceback (``verbose_errors``)."""


def _with_traceback(error: CopilotMagicError) -> Exception:
    """``error`` as an exception IPython shows with its traceback (and its cause's)."""
    return _Traced(f"{type(error).__name__}: {error}")


COPILOT_OPTIONS: list[tuple[tuple[str, ...], dict[str, Any]]] = [  # of %%copilot
    (
        ("--session", "-s"),
        {"metavar": "ID", "help": "Talk to this session instead of the active one."},
    ),
    (("--error", "-e"), {"action": "store_true", "help": "Attach the last error and traceback."}),
    (("--code", "-c"), {"action": "store_true", "help": "Put the reply's code in a new cell."}),
    (
        ("--again",),
        {"action": "store_true", "help": "Ask again as a new turn, though this cell asked before."},
    ),
    (
        ("--fork",),
        {
            "metavar": "NEW",
            "help": "Ask in a new session NEW holding the turns before this cell's.",
        },
    ),
]
SESSION_OPTIONS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (("session_id",), {"nargs": "?", "metavar": "ID", "help": "Session to create or resume."}),
    (("--model", "-m"), {"help": "Model for this session (overrides CopilotMagics.model)."}),
    (("--new",), {"action": "store_true", "help": "Only create: refuse an id that exists."}),
    (
        ("--takeover",),
        {
            "action": "store_true",
            "help": "Resume a session even though another kernel holds it open.",
        },
    ),
    (("--list", "-l"), {"action": "store_true", "help": "List stored sessions."}),
    (
        ("--client",),
        {
            "metavar": "NAME",
            "help": 'With --list: only sessions made by client NAME ("Jupyter AI", copilot_magic).',
        },
    ),
    (
        ("--show", "--history"),
        {
            "dest": "show",
            "nargs": "?",
            "const": "",
            "metavar": "ID",
            "help": "Show a transcript (default: the active session); --history is the same.",
        },
    ),
    (("--delete",), {"metavar": "ID", "help": "Delete a session and all its data from disk."}),
    (
        ("--cleanup",),
        {
            "type": int,
            "metavar": "DAYS",
            "help": "List the sessions idle for more than DAYS days; with --yes, delete them.",
        },
    ),
    (("--yes",), {"action": "store_true", "help": "With --cleanup: delete what it lists."}),
    (
        ("--export",),
        {
            "nargs": 2,
            "metavar": ("ID", "PATH"),
            "help": "Write a session to PATH: a notebook (.ipynb) or Markdown (.md).",
        },
    ),
    (
        ("--rename",),
        {"nargs": 2, "metavar": ("ID", "TITLE"), "help": "Give a session a title (quote it)."},
    ),
    (
        ("--fork",),
        {"metavar": "SRC", "help": "With ID: a new session ID holding SRC's conversation."},
    ),
    (
        ("--at",),
        {"type": int, "metavar": "TURN", "help": "With --fork: keep SRC's turns up to TURN."},
    ),
    (
        ("--rewind",),
        {"type": int, "metavar": "N", "help": "Remove the active session's last N turns."},
    ),
    (("--compact",), {"action": "store_true", "help": "Summarise the active session's context."}),
    (
        ("--usage",),
        {
            "nargs": "?",
            "const": "",
            "metavar": "ID",
            "help": "Tokens in and out, requests and models (default: the active session).",
        },
    ),
    (("--models",), {"action": "store_true", "help": "List the models you can use."}),
    (("--star",), {"metavar": "ID", "help": "Star a session: listed first, kept by clean-ups."}),
    (("--unstar",), {"metavar": "ID", "help": "Take a session's star away."}),
]


def _with_options(
    options: list[tuple[tuple[str, ...], dict[str, Any]]],
) -> Callable[[Callable[..., Any]], Any]:
    def decorate(magic: Callable[..., Any]) -> Any:
        for names, settings in reversed(options):
            magic = argument(*names, **settings)(magic)  # type: ignore[no-untyped-call]
        return magic_arguments()(magic)  # type: ignore[no-untyped-call]

    return decorate


# The options of ``%copilot_session`` and ``%%copilot``, declared once (``?`` lists them).
session_arguments = _with_options(SESSION_OPTIONS)
copilot_arguments = _with_options(COPILOT_OPTIONS)
